/**
 * The trust decision (docs/design.md#security-semantics). Knows nothing of
 * sockets, protocols or React: it takes the presented chain, what the TLS layer verified, the
 * store and the user's options, and returns how the collector came to be trusted, or throws.
 *
 * Order: CA chain + host name → existing pin → --fingerprint → --accept-new → prompt → refuse.
 * Without --ca-file, a pinned collector's handshake carries no CA set (security/tls.ts
 * loadCredentials), so its chain is never "verified" and the pin decides alone.
 * A --fingerprint that does not match the presented certificate is refused before all of these.
 */
import {exitCodes, isSecmonError, SecmonError} from '../errors.js';
import {
	describeCertificate, fingerprintArgument, isSpkiPin, matchesFingerprint, normalizeFingerprint, spkiPin,
} from './certificate.js';
import {
	describeViolation, floorHint, floorViolation, type FloorViolation,
} from './floor.js';
import {
	changedBanner, changedHint, changedSummary, formatDate, untrustedMessage,
} from './messages.js';
import {formatTarget, type TrustStore} from './store.js';
import type {
	Ask, CertificateInfo, Pin, Target, TrustBasis,
} from './types.js';

export type TrustInput = {
	target: Target;
	/** Presented chain, leaf first. */
	chain: CertificateInfo[];
	/** Did the chain verify against the CA set (the --ca-file, else system roots + the store's CAs)? */
	chainVerified: {ok: boolean; reason?: string};
	/** Did the leaf match the host name (SAN)? */
	hostnameOk: boolean;
	/** e.g. "certificate is for DNS:wrong.example, not 127.0.0.1" */
	hostnameReason?: string;
	/** --ca-file given: the CA decision is final (no pin, no prompt). */
	caFileGiven: boolean;
	store: TrustStore;
	/**
	 * The pin as read when the connection was prepared (security/tls.ts prepareTls, which chose the
	 * TLS context by it), so one connection reads its pin once and decides by what it connected
	 * with; null: there was none. Absent: read from the store here. A pin removed or replaced in
	 * the seconds between (TCP connect, greeting, handshake) counts from the next connection on, as
	 * ssh reads known_hosts once per connection; a pin saved meanwhile by another process still
	 * meets store.add's exclusive create.
	 */
	pin?: Pin | null;
	/** --fingerprint as typed (any accepted form). */
	fingerprint?: string;
	/** --accept-new */
	acceptNew: boolean;
	/** Interactive prompt; absent when nobody can be asked. */
	ask?: Ask;
	/** How to re-run the command, for hints (default "secmon --host HOST:PORT …"). */
	rerunCommand?: string;
	now?: Date;
	/** Decide without writing (secmon verify): a renewal is still accepted, but the pin is left as it is. */
	dryRun?: boolean;
};

export type TrustDecision = {
	basis: TrustBasis;
	/** Set when a pin was written: where (for "Permanently added …" notices). */
	pinFile?: string;
	/** Things the user should see even though the connection goes ahead (e.g. an expired pinned certificate). */
	warnings: string[];
};

/** Why a certificate is not trusted by CA: for the prompt and the refusal. */
export function untrustedReason(input: Pick<TrustInput, 'chain' | 'chainVerified' | 'hostnameOk' | 'hostnameReason'>): string {
	const leaf = input.chain[0];
	const reasons: string[] = [];
	if (!input.chainVerified.ok) {
		if (leaf?.selfSigned) {
			reasons.push('self-signed certificate');
		} else {
			reasons.push(`issuer not trusted: ${describeChainError(input.chainVerified.reason, input.chain)}`);
		}
	}

	if (!input.hostnameOk) {
		reasons.push(input.hostnameReason ?? 'certificate does not match the host name');
	}

	return reasons.join('; ') || 'not verified';
}

/** Refusal of a certificate below the cryptographic floor (security/floor.ts). */
export function floorError(target: Target, leaf: CertificateInfo, violation: FloorViolation, failed?: {tlsError: string; cause: unknown}): SecmonError {
	return new SecmonError(
		'CERT_INVALID',
		`the certificate of collector ${formatTarget(target)} was refused: ${describeViolation(violation)}${failed ? ` (TLS error: ${failed.tlsError})` : ''}\n  subject ${leaf.subject}, issuer ${leaf.issuer}\n  SHA-256 ${leaf.sha256}`,
		floorHint,
		{exitCode: exitCodes.untrusted, ...(failed ? {cause: failed.cause} : {})},
	);
}

/** --accept-new saves only a certificate valid now (OpenSSH has no dates; a certificate does). */
function refuseOutsideValidity(target: Target, leaf: CertificateInfo, now: Date): void {
	const early = leaf.validFrom.getTime() > now.getTime();
	if (!early && leaf.validTo.getTime() >= now.getTime()) {
		return;
	}

	const dates = early
		? `it is not valid until ${formatDate(leaf.validFrom)}`
		: `it expired on ${formatDate(leaf.validTo)}`;
	throw new SecmonError(
		'CERT_INVALID',
		`--accept-new refused the certificate of collector ${formatTarget(target)}: ${dates} (now ${formatDate(now)})\n  valid ${formatDate(leaf.validFrom)} → ${formatDate(leaf.validTo)}, subject ${leaf.subject}\n  SHA-256 ${leaf.sha256}`,
		early
			? 'Nothing was saved. Check the clock of this machine and of the collector (a certificate from the future often means one of them is wrong), or re-issue the certificate'
			: 'Nothing was saved. Renew the collector\'s certificate (e.g. secmon pki issue --cn NAME --server --force), install it and restart the collector',
		{exitCode: exitCodes.untrusted},
	);
}

/**
 * OpenSSL verify codes in words (node:tls authorizationError.code). OpenSSL reports some
 * refusals opaquely ("UNSPECIFIED" for an RSA-512 key, CA_MD_TOO_WEAK, EE_KEY_TOO_SMALL at a
 * security level): with the chain, they are named by the floor.
 */
export function describeChainError(reason: string | undefined, chain: readonly CertificateInfo[] = []): string {
	const weak = floorViolation(chain);
	if (weak && (reason === undefined || opaqueVerifyCodes.test(reason))) {
		return `${describeViolation(weak)}${reason && reason !== 'UNSPECIFIED' ? ` (${reason})` : ''}`;
	}

	switch (reason) {
		case undefined: {
			return 'unknown reason';
		}

		case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
		case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
		case 'UNABLE_TO_GET_ISSUER_CERT': {
			return `unknown CA (${reason})`;
		}

		case 'SELF_SIGNED_CERT_IN_CHAIN': {
			return `chain ends in an untrusted root (${reason})`;
		}

		case 'DEPTH_ZERO_SELF_SIGNED_CERT': {
			return `self-signed certificate (${reason})`;
		}

		case 'CERT_HAS_EXPIRED': {
			return `certificate has expired (${reason})`;
		}

		case 'CERT_NOT_YET_VALID': {
			return `certificate is not yet valid (${reason})`;
		}

		case 'UNSPECIFIED': {
			return 'OpenSSL refused the certificate without naming a reason';
		}

		default: {
			return reason;
		}
	}
}

/** Verify codes that can stand for a weak key or signature (OpenSSL x509_vfy.c, ssl/t1_lib.c). */
export const opaqueVerifyCodes = /^(?:UNSPECIFIED|CA_MD_TOO_WEAK|CA_KEY_TOO_SMALL|EE_KEY_TOO_SMALL|CERT_SIGNATURE_FAILURE|UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY|SUITE_B_.*)$/v;

function makePin(target: Target, cert: CertificateInfo, pinnedBy: Pin['pinnedBy'], now: Date): Pin {
	return {
		host: target.host,
		port: target.port,
		sha256: cert.sha256,
		sha1: cert.sha1,
		spkiSha256: cert.spkiSha256,
		subject: cert.subject,
		issuer: cert.issuer,
		notAfter: cert.validTo.toISOString(),
		pinnedAt: now.toISOString(),
		pinnedBy,
		pem: cert.pem,
	};
}

function changedError(input: TrustInput, pin: Pin, leaf: CertificateInfo, notRenewal?: string): SecmonError {
	return new SecmonError(
		'CERT_CHANGED',
		`${changedSummary(input.target)}\n${changedBanner({
			target: input.target, pin, current: leaf, pinFile: input.store.pinPath(input.target), now: input.now, notRenewal,
		})}`,
		changedHint({target: input.target, current: leaf, ...(input.rerunCommand === undefined ? {} : {rerunCommand: input.rerunCommand})}),
		{
			exitCode: exitCodes.changed,
			// The banner's facts for --json (errors.ts ErrorFacts): the banner itself stays on stderr.
			facts: {
				pinnedSha256: pin.sha256,
				presentedSha256: leaf.sha256,
				pinnedAt: pin.pinnedAt,
				pinnedBy: pin.pinnedBy,
				pinFile: input.store.pinPath(input.target),
				fix: [
					`secmon certs remove ${formatTarget(input.target)}`,
					`${input.rerunCommand ?? `secmon --host ${formatTarget(input.target)} …`} --fingerprint ${fingerprintArgument(leaf.sha256)}`,
				],
			},
		},
	);
}

/** Save a new pin; if another process pinned a different certificate meanwhile, refuse like a changed one. */
function savePin(input: TrustInput, leaf: CertificateInfo, pinnedBy: Pin['pinnedBy'], replace = false): string {
	const now = input.now ?? new Date();
	try {
		input.store.add(makePin(input.target, leaf, pinnedBy, now), {replace});
	} catch (error) {
		if (isSecmonError(error) && error.code === 'CERT_CHANGED') {
			const existing = input.store.get(input.target);
			if (existing) {
				throw changedError(input, existing, leaf);
			}
		}

		throw error;
	}

	return input.store.pinPath(input.target);
}

/**
 * Is `leaf` a renewal of the pinned certificate: the same public key (so the same holder, whatever
 * the CA says), valid now, and issued for at least the names the pinned one covered? Returns why
 * not, or undefined when it is. Like an HPKP/curl --pinnedpubkey pin (RFC 7469 §2.4), the key is
 * the identity; the certificate around it may be re-issued.
 */
export function notARenewal(pin: Pin, leaf: CertificateInfo, now: Date): string | undefined {
	if (pin.spkiSha256 !== leaf.spkiSha256) {
		return 'a different public key';
	}

	if (leaf.validFrom.getTime() > now.getTime()) {
		return `same key, but the new certificate is not valid before ${formatDate(leaf.validFrom)} (check the clocks)`;
	}

	if (leaf.validTo.getTime() < now.getTime()) {
		return `same key, but the new certificate expired on ${formatDate(leaf.validTo)}`;
	}

	let pinnedNames: string[];
	try {
		pinnedNames = describeCertificate(pin.pem).subjectAltNames;
	} catch {
		return 'same key, but the pinned certificate in the pin file cannot be parsed to compare names';
	}

	// Node prints both lists the same way; DNS names compare without case (RFC 4343).
	const covered = new Set(leaf.subjectAltNames.map(name => name.toLowerCase()));
	const missing = pinnedNames.filter(name => !covered.has(name.toLowerCase()));
	if (missing.length > 0) {
		return `same key, but the new certificate does not cover ${missing.join(', ')}`;
	}

	return undefined;
}

/** Replace the pin with its renewal (atomic rename, store.ts), keeping how it was first pinned. */
function renewPin(input: TrustInput, pin: Pin, leaf: CertificateInfo, now: Date): string {
	const renewed: Pin = {
		...makePin(input.target, leaf, pin.pinnedBy, now),
		pinnedAt: pin.pinnedAt,
		renewedAt: now.toISOString(),
	};
	if (!input.dryRun) {
		input.store.add(renewed, {replace: true});
	}

	return `secmon: note: ${formatTarget(input.target)} renewed its certificate with the same key; ${input.dryRun ? 'the next connection updates the pin' : 'pin updated'} `
		+ `(old SHA-256 ${pin.sha256}, expires ${formatDate(new Date(pin.notAfter))}; new SHA-256 ${leaf.sha256}, expires ${formatDate(leaf.validTo)})`;
}

function expiryWarnings(target: Target, leaf: CertificateInfo, now: Date): string[] {
	if (leaf.validTo.getTime() < now.getTime()) {
		return [`warning: the certificate of ${formatTarget(target)} expired on ${formatDate(leaf.validTo)}; it is trusted because it is pinned, but the collector should renew it`];
	}

	return [];
}

/** The connection's pin: as prepared (TrustInput.pin), else read from the store now. */
function pinOf(input: TrustInput): Pin | undefined {
	return input.pin === undefined ? input.store.get(input.target) : (input.pin ?? undefined);
}

export async function decideTrust(input: TrustInput): Promise<TrustDecision> {
	const leaf = input.chain[0];
	const where = formatTarget(input.target);
	const now = input.now ?? new Date();
	if (!leaf) {
		throw new SecmonError('TLS_FAILED', `collector ${where} presented no certificate`, 'The collector must be configured with a server certificate for TLS');
	}

	// The expected fingerprint is checked for syntax first: a typo is a usage error whatever happens next.
	const expected = input.fingerprint === undefined ? undefined : normalizeFingerprint(input.fingerprint);

	// The floor comes before every way of trusting: a weak key or signature is refused even pinned.
	const weak = floorViolation(input.chain);
	if (weak) {
		throw floorError(input.target, leaf, weak);
	}

	// --fingerprint is a promise about this exact certificate: a mismatch is refused even when the CA
	// path would succeed (like curl --pinnedpubkey). A changed pin still gets the louder banner.
	if (expected !== undefined && !matchesFingerprint(expected, leaf)) {
		const pin = input.caFileGiven ? undefined : pinOf(input);
		if (pin && pin.sha256 !== leaf.sha256) {
			const why = notARenewal(pin, leaf, now);
			if (why !== undefined) {
				throw changedError(input, pin, leaf, why);
			}
		}

		const spki = isSpkiPin(expected);
		throw new SecmonError(
			'CERT_INVALID',
			spki
				? `the public key of collector ${where} does not match --fingerprint\n  expected  public-key pin ${expected}\n  presented public-key pin ${spkiPin(leaf)} (certificate SHA-256 ${leaf.sha256})`
				: `the certificate of collector ${where} does not match --fingerprint\n  expected  SHA-256 ${expected}\n  presented SHA-256 ${leaf.sha256}`,
			'Nothing was saved. Check the fingerprint you were given (and where it came from); someone may be intercepting the connection.\n'
			+ `If the presented certificate is the right one, re-run with --fingerprint ${spki ? spkiPin(leaf) : fingerprintArgument(leaf.sha256)}`,
			{exitCode: exitCodes.untrusted},
		);
	}

	// (a) CA chain and host name.
	if (input.chainVerified.ok && input.hostnameOk) {
		return {basis: 'ca', warnings: []};
	}

	if (input.caFileGiven) {
		// --ca-file is strict: no pin or prompt can override the CA the user named.
		const which = input.chainVerified.ok
			? (input.hostnameReason ?? 'certificate does not match the host name')
			: `not signed by the given CA: ${describeChainError(input.chainVerified.reason, input.chain)}`;
		throw new SecmonError(
			'CERT_INVALID',
			`the certificate of collector ${where} was refused: ${which}\n  subject ${leaf.subject}, issuer ${leaf.issuer}\n  SHA-256 ${leaf.sha256}`,
			input.chainVerified.ok
				? 'Connect with a name the certificate is issued for (see its subjectAltName), or have the collector\'s certificate re-issued with this name'
				: 'Check that --ca-file names the CA that issued the collector\'s certificate; without --ca-file secmon falls back to pinning (trust on first use)',
			{exitCode: exitCodes.untrusted},
		);
	}

	// (b) An existing pin decides.
	const pin = pinOf(input);
	if (pin) {
		if (pin.sha256 === leaf.sha256) {
			return {basis: 'pinned', warnings: expiryWarnings(input.target, leaf, now)};
		}

		// The one explicit replacement path: --fingerprint equal to the new certificate (checked out of band).
		if (expected !== undefined) {
			const pinFile = savePin(input, leaf, 'fingerprint', true);
			return {
				basis: 'fingerprint',
				pinFile,
				warnings: [`warning: replaced the pinned certificate of ${where} (was SHA-256 ${pin.sha256}) as requested by --fingerprint`],
			};
		}

		// A renewal (same key, valid now, the same names or more) updates the pin, said once on stderr.
		const why = notARenewal(pin, leaf, now);
		if (why === undefined) {
			return {basis: 'pinned', warnings: [renewPin(input, pin, leaf, now)]};
		}

		throw changedError(input, pin, leaf, why);
	}

	// (c) The user said which certificate to expect (a mismatch was refused above).
	if (expected !== undefined) {
		return {basis: 'fingerprint', pinFile: savePin(input, leaf, 'fingerprint'), warnings: []};
	}

	// (d) --accept-new: OpenSSH's accept-new (save without asking, still refuse changes later).
	if (input.acceptNew) {
		refuseOutsideValidity(input.target, leaf, now);
		return {basis: 'accept-new', pinFile: savePin(input, leaf, 'accept-new'), warnings: []};
	}

	const reason = untrustedReason(input);

	// (e) Ask the person at the terminal.
	if (input.ask) {
		const answer = await input.ask({target: input.target, certificate: leaf, reason});
		switch (answer) {
			case 'save': {
				return {basis: 'accepted', pinFile: savePin(input, leaf, 'prompt'), warnings: []};
			}

			case 'once': {
				return {basis: 'accepted-once', warnings: []};
			}

			case 'reject': {
				throw new SecmonError(
					'TRUST_REJECTED',
					`you did not trust the certificate of collector ${where}; connection refused`,
					`Nothing was saved. To trust it later, re-run and answer yes, or pass --fingerprint ${fingerprintArgument(leaf.sha256)}`,
					{exitCode: exitCodes.untrusted},
				);
			}
		}

		// Fail closed on anything a front end might return by mistake.
		throw new SecmonError(
			'INTERNAL',
			`unexpected answer from the trust prompt: ${JSON.stringify(answer)}`,
			'Nothing was saved; this is a bug in secmon, please report it',
			{exitCode: exitCodes.untrusted},
		);
	}

	// (f) Nobody to ask: refuse with the exact commands that would trust it.
	const {message, hint} = untrustedMessage({
		target: input.target, certificate: leaf, reason, rerunCommand: input.rerunCommand,
	});
	const command = input.rerunCommand ?? `secmon --host ${formatTarget(input.target)} …`;
	throw new SecmonError('TRUST_REQUIRED', message, hint, {
		exitCode: exitCodes.untrusted,
		facts: {
			subject: leaf.subject,
			issuer: leaf.issuer,
			sha256: leaf.sha256,
			sha1: leaf.sha1,
			fix: [`${command} --fingerprint ${fingerprintArgument(leaf.sha256)}`, `${command} --accept-new`],
		},
	});
}
