/**
 * What the user names on the certs command line: usage errors, string flags, and a selector
 * (HOST[:PORT], a URL, a SHA-256 fingerprint or a CA name) with what it matches in the store.
 */
import net from 'node:net';
import {exitCodes, SecmonError} from '../../errors.js';
import {isSpkiPin, matchesFingerprint, normalizeFingerprint} from '../../security/certificate.js';
import {normalizeHost, type TrustStore} from '../../security/store.js';
import type {TrustedCa} from '../../security/trusted-cas.js';
import type {Pin} from '../../security/types.js';
import {parseHostSpec} from '../../target.js';

export function usage(message: string, hint = 'see: secmon certs --help'): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

export function stringFlag(flags: Record<string, unknown>, name: string): string | undefined {
	const value = flags[name];
	return typeof value === 'string' ? value : undefined;
}

export type Selector = {text: string; fingerprint?: string; host?: string; port?: number};

/**
 * HOST[:PORT] (as `secmon certs remove` is printed by every refusal: "collector:44321",
 * "[::1]:44321"), a URL (pcps://collector), a SHA-256 fingerprint in any usual form, or a CA name.
 */
export function parseSelector(text: string): Selector {
	const value = text.trim();
	if (value === '') {
		throw usage('empty name', 'Give HOST:PORT, a SHA-256 fingerprint or a CA name (see: secmon certs list)');
	}

	try {
		return {text: value, fingerprint: normalizeFingerprint(value)};
	} catch {
		// Not a fingerprint.
	}

	if (/^[a-z][a-z\d+.\-]*:\/\//iv.test(value)) {
		const spec = parseHostSpec(value);
		return {text: value, host: spec.host, port: spec.port};
	}

	const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/v.exec(value);
	if (bracketed) {
		return {text: value, host: bracketed[1]!, ...(bracketed[2] === undefined ? {} : {port: Number(bracketed[2])})};
	}

	if (net.isIPv6(value)) {
		return {text: value, host: value};
	}

	const hostPort = /^([^\s:\/]+):(\d{1,5})$/v.exec(value);
	if (hostPort) {
		return {text: value, host: hostPort[1]!, port: Number(hostPort[2])};
	}

	// A bare host, or a CA name (which may hold spaces and anything else).
	return /^[^\s:\/]+$/v.test(value) ? {text: value, host: value} : {text: value};
}

export type Matches = {pins: Pin[]; cas: TrustedCa[]};

export function findMatches(selector: Selector, pins: Pin[], cas: TrustedCa[]): Matches {
	if (selector.fingerprint !== undefined) {
		return {
			pins: pins.filter(pin => matchesFingerprint(selector.fingerprint!, pin)),
			cas: cas.filter(ca => matchesFingerprint(selector.fingerprint!, ca.info)),
		};
	}

	const host = selector.host === undefined ? undefined : normalizeHost(selector.host);
	return {
		pins: host === undefined ? [] : pins.filter(pin => normalizeHost(pin.host) === host && (selector.port === undefined || pin.port === selector.port)),
		cas: cas.filter(ca => ca.name.toLowerCase() === selector.text.toLowerCase()),
	};
}

export function nothingMatches(selector: Selector, store: TrustStore): SecmonError {
	const what = selector.fingerprint === undefined ? `"${selector.text}"` : (isSpkiPin(selector.fingerprint) ? `public-key pin ${selector.fingerprint}` : `SHA-256 ${selector.fingerprint}`);
	return new SecmonError(
		'USAGE',
		`no pinned collector or trusted CA matches ${what} in ${store.home}`,
		'See what is there with: secmon certs list   (give HOST:PORT, a SHA-256 fingerprint or a CA name)',
		{exitCode: exitCodes.failure},
	);
}
