/**
 * Certificate facts for people and pins. Parsing and fingerprints use node:crypto's
 * X509Certificate (docs/node.md#x509certificate); node-forge is only needed to create certificates.
 */
import {createHash, X509Certificate} from 'node:crypto';
import {SecmonError} from '../errors.js';
import {safeText} from '../safe-text.js';
import {publicKeyFacts, signatureAlgorithm} from './floor.js';
import type {CertificateInfo} from './types.js';

/**
 * Node prints a distinguished name one RDN per line, in encoded order ("O=secmon\nCN=collector").
 * RFC 4514 writes the most specific RDN first, on one line: "CN=collector, O=secmon".
 * Node escapes control characters in values (ASN1_STRFLGS_ESC_CTRL), so splitting on \n is safe.
 */
export function oneLineName(multiline: string): string {
	return multiline
		.split('\n')
		.map(part => part.trim())
		.filter(part => part !== '')
		.toReversed()
		.join(', ');
}

/**
 * Split Node's subjectAltName string ("DNS:a, IP Address:127.0.0.1"). Since Node 17.3.1 a value
 * that contains ", " is JSON-quoted (`DNS:"a, b"`), so split only outside quotes.
 */
export function splitAltNames(subjectAltName: string | undefined): string[] {
	if (!subjectAltName) {
		return [];
	}

	const names: string[] = [];
	let current = '';
	let quoted = false;
	for (let index = 0; index < subjectAltName.length; index++) {
		const char = subjectAltName[index]!;
		if (char === '\\' && quoted) {
			current += char + (subjectAltName[index + 1] ?? '');
			index++;
		} else if (char === '"') {
			quoted = !quoted;
			current += char;
		} else if (char === ',' && !quoted) {
			names.push(current.trim());
			current = '';
		} else {
			current += char;
		}
	}

	if (current.trim() !== '') {
		names.push(current.trim());
	}

	return names;
}

function isSelfSigned(x509: X509Certificate): boolean {
	try {
		// Not checkIssued(): OpenSSL's check also demands keyCertSign, which a self-signed leaf lacks.
		return x509.subject === x509.issuer && x509.verify(x509.publicKey);
	} catch {
		return false;
	}
}

/** Parse a certificate (X509Certificate, PEM string, or PEM/DER Buffer) into what people and pins need. */
export function describeCertificate(cert: X509Certificate | Buffer | string): CertificateInfo {
	let x509: X509Certificate;
	try {
		x509 = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
	} catch (error) {
		throw new SecmonError(
			'CERT_INVALID',
			`cannot parse certificate: ${error instanceof Error ? error.message : String(error)}`,
			'Check that the file or peer provides an X.509 certificate in PEM or DER form',
			{cause: error},
		);
	}

	// The same certificate again (a fleet's collectors often share one, and every reconnect
	// presents it anew): the facts already read are reused (issue 18). SHA-256 names the DER
	// exactly, so the facts are those of this certificate.
	const sha256 = x509.fingerprint256;
	const known = described.get(sha256);
	if (known) {
		return known;
	}

	// Each fact is read from the certificate when first used, then kept: every connection
	// describes its whole chain, but a --json fetch under a CA reads four facts of the leaf
	// and none of the issuer (~1 ms of the start-up path, core issue part 7).
	const facts: {[K in keyof CertificateInfo]: () => CertificateInfo[K]} = {
		sha256: () => sha256,
		sha1: () => x509.fingerprint,
		// Peer text: made inert for a terminal here, once, for every display (prompt, refusals, certs, verify).
		subject: () => safeText(oneLineName(x509.subject)),
		issuer: () => safeText(oneLineName(x509.issuer)),
		subjectAltNames: () => splitAltNames(x509.subjectAltName).map(name => safeText(name)),
		// Node 20 has no validToDate (docs/node.md#x509certificate); the strings are "Nov 23 22:58:40 2046 GMT".
		validFrom: () => new Date(x509.validFrom),
		validTo: () => new Date(x509.validTo),
		serialNumber: () => x509.serialNumber,
		pem: () => x509.toString(),
		spkiSha256: () => createHash('sha256').update(x509.publicKey.export({type: 'spki', format: 'der'})).digest('base64'),
		selfSigned: () => isSelfSigned(x509),
		publicKey: () => publicKeyFacts(x509),
		signatureAlgorithm: () => signatureAlgorithm(x509.raw),
	};
	const info = {};
	// After the first read (or a write) the fact is a plain data property.
	const settle = (name: string, value: unknown) => Object.defineProperty(info, name, {value, enumerable: true, writable: true});
	for (const [name, compute] of Object.entries(facts)) {
		Object.defineProperty(info, name, {
			enumerable: true,
			configurable: true,
			get() {
				const value: unknown = compute();
				settle(name, value);
				return value;
			},
			set(value: unknown) {
				settle(name, value);
			},
		});
	}

	if (described.size >= maxDescribed) {
		described.clear();
	}

	described.set(sha256, info as CertificateInfo);
	return info as CertificateInfo;
}

/** Facts per certificate (by SHA-256) for this run; a few KiB each. */
const described = new Map<string, CertificateInfo>();
const maxDescribed = 4096;

/** Colon-separated uppercase hex, as openssl and Node print fingerprints. */
export function colonHex(hex: string): string {
	return hex.toUpperCase().match(/.{2}/gv)?.join(':') ?? '';
}

// Invisible characters that ride along with copy/paste (syncthing#2692): zero-width, BOM, NBSP…
const invisible = /[\s\u00A0\u00AD\u180E\u200B-\u200F\u2028-\u202F\u205F-\u2064\u3000\uFEFF]/gv;

/**
 * Normalise a SHA-256 certificate fingerprint typed or pasted by a person into the stored form
 * (uppercase colon hex). Accepts colons or not, any case, spaces, dashes, a `SHA256:`/`sha256:`/
 * `SHA256 Fingerprint=` prefix, and OpenSSH-style base64 after `SHA256:`. A public-key pin in
 * curl's form (`sha256//BASE64`) is returned as `sha256//BASE64`: see matchesFingerprint.
 * Throws SecmonError('USAGE') for anything that is not a SHA-256 fingerprint.
 */
export function normalizeFingerprint(input: string): string {
	const compact = input.replaceAll(invisible, '');
	// curl --pinnedpubkey's form: base64 of the SHA-256 of the SubjectPublicKeyInfo (kept exact).
	if (/^sha256\/\//iv.test(compact)) {
		return normalizeSpkiPin(compact.slice('sha256//'.length), input);
	}

	const withoutPrefix = compact.replace(/^sha-?256(?:fingerprint)?[:=]?/iv, '');
	const hex = withoutPrefix.replaceAll(/[:\-.]/gv, '');
	if (/^[\da-f]{64}$/iv.test(hex)) {
		return colonHex(hex);
	}

	// OpenSSH prints SHA256:<base64 without padding>.
	if (withoutPrefix !== compact && /^[A-Za-z\d+\/]{43}=?$/v.test(withoutPrefix)) {
		return colonHex(Buffer.from(withoutPrefix, 'base64').toString('hex'));
	}

	const hint = 'Give the SHA-256 fingerprint of the collector certificate, 64 hex digits with or without colons,\n'
		+ 'e.g. from: openssl x509 -noout -fingerprint -sha256 -in collector.pem';
	if (/^[\da-f]{40}$/iv.test(hex)) {
		throw new SecmonError('USAGE', 'that is a SHA-1 fingerprint; secmon pins certificates by SHA-256', hint);
	}

	throw new SecmonError('USAGE', `not a SHA-256 fingerprint: ${JSON.stringify(input.slice(0, 120))}`, hint);
}

/**
 * The base64 after `sha256//`: exactly 32 bytes in canonical padded base64, compared byte for byte
 * (base64 is case-sensitive). curl's lib/vtls/vtls.c Curl_pin_peer_pubkey compares the same string.
 */
function normalizeSpkiPin(base64: string, input: string): string {
	if (/^[A-Za-z\d+\/]{43}=$/v.test(base64) && Buffer.from(base64, 'base64').toString('base64') === base64) {
		return `${spkiPinPrefix}${base64}`;
	}

	throw new SecmonError(
		'USAGE',
		`not a SHA-256 public-key pin: ${JSON.stringify(input.slice(0, 120))}`,
		'A public-key pin is sha256// followed by 44 characters of base64 (curl --pinnedpubkey form), as shown by: secmon certs show HOST:PORT\n'
		+ 'or: openssl x509 -in collector.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64',
	);
}

const spkiPinPrefix = 'sha256//';

/** The SPKI pin of a certificate in curl's --pinnedpubkey form: "sha256//BASE64". */
export function spkiPin(cert: Pick<CertificateInfo, 'spkiSha256'>): string {
	return `${spkiPinPrefix}${cert.spkiSha256}`;
}

/** Is a normalised --fingerprint a public-key pin (sha256//…) rather than a certificate fingerprint? */
export function isSpkiPin(normalized: string): boolean {
	return normalized.startsWith(spkiPinPrefix);
}

/** Does the certificate match a normalised fingerprint: its SHA-256, or for sha256//… its public key? */
export function matchesFingerprint(normalized: string, cert: Pick<CertificateInfo, 'sha256' | 'spkiSha256'>): boolean {
	return isSpkiPin(normalized) ? normalized === spkiPin(cert) : normalized === cert.sha256;
}

/** Lowercase hex without colons: the compact form used in copy-paste commands (`--fingerprint …`). */
export function fingerprintArgument(sha256: string): string {
	return sha256.replaceAll(':', '').toLowerCase();
}

/** Short form for status lines: the first and last four bytes, e.g. "8E:91:60:8F…A6:F7:84:BB". */
export function shortFingerprint(sha256: string): string {
	const bytes = sha256.split(':');
	if (bytes.length <= 8) {
		return sha256;
	}

	return `${bytes.slice(0, 4).join(':')}…${bytes.slice(-4).join(':')}`;
}

/** Split a PEM bundle into its certificate blocks. */
export function splitPemBundle(text: string): string[] {
	return text.match(/-{5}BEGIN CERTIFICATE-{5}[\s\S]*?-{5}END CERTIFICATE-{5}/gv) ?? [];
}
