/**
 * Checks of an agent's certificate the Zabbix way, for --tls-ca-file (docs/zabbix.md#agent-certificates):
 * the chain against that CA (with an optional CRL, without the serverAuth purpose and without a
 * host-name match, as the agents' own GnuTLS/OpenSSL code does), secmon's cryptographic floor, and
 * the exact --tls-server-cert-issuer/--tls-server-cert-subject strings (dn.ts).
 */
import type tls from 'node:tls';
import type {X509Certificate} from 'node:crypto';
import {describeViolation, floorHint, floorViolation} from '../../security/floor.js';
import {certificateChain} from '../../security/tls.js';
import {verifyIssuerSubject} from './dn.js';
import type {ZabbixEndpoint} from './endpoint.js';
import {tlsError} from './errors.js';
import type {Prepared} from './tls-context.js';

function validNow(cert: X509Certificate, now: number): boolean {
	return new Date(cert.validFrom).getTime() <= now && now <= new Date(cert.validTo).getTime();
}

/**
 * Chain check without the purpose (EKU) rule, used only when OpenSSL's sole complaint was
 * INVALID_PURPOSE (docs/zabbix.md#agent-certificates: GnuTLS/Zabbix accept agent certificates without serverAuth).
 * OpenSSL keeps only the LAST verification error, and chain building runs before the purpose
 * check, so "INVALID_PURPOSE" alone does not prove that the issuer was trusted: check it here.
 */
export function chainTrustedIgnoringPurpose(chain: X509Certificate[], cas: X509Certificate[], now = Date.now()): boolean {
	let current = chain[0];
	const intermediates = chain.slice(1);
	for (let depth = 0; current && depth < 10; depth++) {
		if (!validNow(current, now)) {
			return false;
		}

		const subject = current;
		const anchor = cas.find(ca => subject.checkIssued(ca) && subject.verify(ca.publicKey) && validNow(ca, now) && (ca.ca || ca.raw.equals(subject.raw)));
		if (anchor) {
			return true;
		}

		if (cas.some(ca => ca.raw.equals(subject.raw))) {
			return true;
		}

		const next = intermediates.find(cert => cert.ca && subject.checkIssued(cert) && subject.verify(cert.publicKey));
		if (!next || next.raw.equals(subject.raw)) {
			return false;
		}

		current = next;
	}

	return false;
}

/** OpenSSL verify codes (socket.authorizationError) in words. */
const verifyTexts: Record<string, string> = {
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate issuer is unknown (not in --tls-ca-file)',
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate issuer is unknown (not in --tls-ca-file)',
	UNABLE_TO_GET_ISSUER_CERT: 'the certificate issuer is unknown (not in --tls-ca-file)',
	SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a root that is not in --tls-ca-file',
	DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not in --tls-ca-file',
	CERT_HAS_EXPIRED: 'the certificate has expired',
	CERT_NOT_YET_VALID: 'the certificate is not yet valid',
	CERT_REVOKED: 'the certificate has been revoked (--tls-crl-file)',
	UNABLE_TO_GET_CRL: 'no CRL from the certificate\'s issuer in --tls-crl-file',
	CRL_HAS_EXPIRED: 'the CRL in --tls-crl-file has expired',
	CRL_NOT_YET_VALID: 'the CRL in --tls-crl-file is not yet valid',
	CERT_SIGNATURE_FAILURE: 'the certificate signature is invalid',
	INVALID_PURPOSE: 'the certificate is not valid for this purpose and its issuer is not trusted',
};

/** --tls-ca-file: throws unless the agent's certificate passes the checks above (CERT_INVALID, or TLS_FAILED without a certificate). */
export function verifyWithCa(endpoint: ZabbixEndpoint, socket: tls.TLSSocket, prepared: Extract<Prepared, {kind: 'cert-ca'}>): void {
	// Typed as Error, but Node stores the OpenSSL verify code string ("UNABLE_TO_VERIFY_LEAF_SIGNATURE").
	const reasonCode = socket.authorizationError as unknown;
	const code = typeof reasonCode === 'string' ? reasonCode : (reasonCode as NodeJS.ErrnoException | undefined)?.code;
	// The chain as verified, completed from --tls-ca-file: the floor also judges the CA of an agent
	// that sends only its leaf (the usual TLSCertFile; test/protocols/zabbix/certificate-checks.test.ts).
	const chain = certificateChain(socket, {completed: true});
	const leaf = chain[0];
	if (!leaf) {
		throw tlsError(endpoint, 'the agent presented no certificate', 'Configure TLSCertFile on the agent');
	}

	const weak = floorViolation(chain);
	if (weak) {
		throw tlsError(endpoint, `the agent's certificate was refused: ${describeViolation(weak)}`, floorHint.replace('collector', 'agent'), {code: 'CERT_INVALID'});
	}

	// INVALID_PURPOSE is the last error OpenSSL recorded; revocation, signature and validity checks run
	// after the purpose check and would have replaced it, chain building runs before: re-check that.
	const ok = socket.authorized || (code === 'INVALID_PURPOSE' && chainTrustedIgnoringPurpose(chain, prepared.caCerts));
	if (!ok) {
		const text = verifyTexts[code ?? ''] ?? code ?? 'unknown verification error';
		throw tlsError(
			endpoint,
			`invalid peer certificate: ${text}${code ? ` (${code})` : ''}`,
			`The agent's certificate (subject ${leaf.subject.split('\n').toReversed().join(',')}) does not verify against --tls-ca-file. Check that --tls-ca-file holds the CA that issued the agent's TLSCertFile.`,
			{code: 'CERT_INVALID', agentLevel: true},
		);
	}

	checkIssuerSubject(endpoint, leaf, prepared);
}

/** --tls-server-cert-issuer/--tls-server-cert-subject: the leaf's names must be exactly these strings (dn.ts). */
export function checkIssuerSubject(endpoint: ZabbixEndpoint, leaf: X509Certificate, names: {issuer?: string; subject?: string}): void {
	const mismatch = verifyIssuerSubject(leaf.raw, {
		...(names.issuer ? {issuer: names.issuer} : {}),
		...(names.subject ? {subject: names.subject} : {}),
	});
	if (mismatch) {
		throw tlsError(endpoint, mismatch, 'The agent\'s certificate is not the one named by --tls-server-cert-issuer/--tls-server-cert-subject. Copy the "peer" string if that certificate is the right one (Zabbix compares the strings exactly).', {code: 'CERT_INVALID'});
	}
}

