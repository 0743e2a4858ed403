/**
 * Downgrade memory, as HSTS does for the web (RFC 6797) and none of pminfo, zabbix_get or
 * stunnel does: once a collector (host:port) has been read over verified TLS — pinned, or
 * verified by a CA and recorded in the store — secmon never reads it in plain text again unless
 * told to for one run. A man in the middle can clear the TLS bit in pmcd's greeting (libpcp
 * src/libpcp/src/pdu.c: the features are plain bits of the first, unauthenticated PDU); this is
 * what makes that attack fail after first contact.
 */
import {SecmonError, exitCodes} from '../errors.js';
import {formatDate} from './messages.js';
import {formatTarget, type TlsMemory, type TrustStore} from './store.js';
import type {
	SecureMode, SecureModeSource, Target, TlsFacts,
} from './types.js';

/** Collectors read over verified TLS by this process (a certificate accepted once is not in the store). */
const seenThisRun = new Map<string, TlsMemory>();

/**
 * Remember a verified TLS session: always for the rest of this run, and in the store when a CA
 * verified it (a pin is a memory already; a certificate accepted once is not saved).
 */
export function rememberVerifiedTls(store: TrustStore | undefined, target: Target, facts: TlsFacts, persist = true, now = new Date()): void {
	const key = formatTarget(target);
	if (!seenThisRun.has(key)) {
		seenThisRun.set(key, {
			host: target.host,
			port: target.port,
			firstSeen: now.toISOString(),
			sha256: facts.sha256,
			subject: facts.subject,
			notAfter: facts.validTo.toISOString(),
			basis: facts.basis,
			source: 'record',
		});
	}

	if (persist && store && facts.basis === 'ca') {
		store.rememberTls(target, {
			sha256: facts.sha256, subject: facts.subject, notAfter: facts.validTo, basis: facts.basis,
		}, now);
	}
}

export type PlainCheck = {
	store: TrustStore | undefined;
	target: Target;
	/** "PMCD at 127.0.0.1:44321", "mon://host:2583": how messages name the collector. */
	collector: string;
	mode: SecureMode;
	modeSource: SecureModeSource;
	/** The first option given that implies TLS (`--ca-file` …), if any. */
	tlsRequiredBy?: string;
	/** Why this session would be plain text: "offers no TLS" (PCP's greeting), "is asked for with --secure off"… */
	plainBecause: string;
	/** The hint commands: `secmon … --secure off` for this run only. */
	rerunPlain?: string;
	warn: (message: string) => void;
};

function describeMemory(memory: TlsMemory): string {
	const how = memory.source === 'pin' ? 'pinned certificate' : (memory.basis === 'ca' ? 'certificate verified by a CA' : 'certificate');
	return `first read over verified TLS on ${formatDate(new Date(memory.firstSeen))}, ${how} SHA-256 ${memory.sha256}${memory.subject ? ` (${memory.subject})` : ''}`;
}

/**
 * Called when a session is about to go on in plain text. Throws TLS_REQUIRED (exit 5) when an
 * option implies TLS, or when the collector was read over verified TLS before and the mode is
 * not an explicit `off`; in `off` it warns loudly instead.
 */
export function checkPlainAllowed(check: PlainCheck): void {
	const where = formatTarget(check.target);
	if (check.mode !== 'off' && check.tlsRequiredBy !== undefined) {
		throw new SecmonError(
			'TLS_REQUIRED',
			`${check.collector} ${check.plainBecause}, but ${check.tlsRequiredBy} needs TLS; refusing plain text`,
			`Turn TLS on at the collector, or drop ${check.tlsRequiredBy} to read it in plain text.`,
			{exitCode: exitCodes.tlsRequired},
		);
	}

	const memory = seenThisRun.get(where) ?? check.store?.tlsMemory(check.target);
	if (memory === undefined) {
		return;
	}

	if (check.mode === 'off') {
		check.warn(`secmon: WARNING: ${check.collector} was read over verified TLS before (${describeMemory(memory)}); --secure off reads it in PLAIN TEXT now: not encrypted, not authenticated, and possibly an attacker stripping TLS.`);
		return;
	}

	throw new SecmonError(
		'TLS_REQUIRED',
		`${check.collector} was read over verified TLS before, but now ${check.plainBecause}; refusing to read it in plain text\n`
		+ `  ${describeMemory(memory)}\n`
		+ '  Someone on the path may be stripping TLS from the connection (a man in the middle can clear the TLS offer).',
		'If TLS was really turned off on the collector, make secmon forget it:\n'
		+ `  secmon certs remove ${where}\n`
		+ 'To read it in plain text for this run only (not encrypted, not authenticated):\n'
		+ `  ${check.rerunPlain ?? `secmon --host ${where} --secure off …`}`,
		{exitCode: exitCodes.tlsRequired},
	);
}

/** For tests: forget what this process has seen. */
export function forgetSeenThisRun(): void {
	seenThisRun.clear();
}
