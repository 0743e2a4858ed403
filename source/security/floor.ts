/**
 * The cryptographic floor: keys and signatures secmon refuses in a collector's chain, whatever
 * else would trust it (a CA, a pin, --fingerprint, --accept-new, the prompt). Pure: it reads
 * certificates and returns a reason a person can act on, or undefined.
 *
 * The numbers follow NIST SP 800-57 part 1 (112-bit security at least: RSA 2048, EC 224 is below
 * the 128-bit curves TLS 1.3 negotiates, RFC 8446 §4.2.7) and the deprecation of MD5 and SHA-1
 * signatures (RFC 6151, RFC 9155; SHA-1 collisions: SHAttered 2017).
 */
import {constants as cryptoConstants, X509Certificate} from 'node:crypto';
import {readChildren, readTlv} from '../pki/tlv.js';
import type {CertificateInfo, PublicKeyFacts} from './types.js';

export const minimumRsaBits = 2048;
export const minimumEcBits = 256;

/** EC curve sizes by OpenSSL name (asymmetricKeyDetails.namedCurve); other names carry the size in their digits. */
const curveBits: Record<string, number> = {
	prime192v1: 192,
	prime239v1: 239,
	prime256v1: 256,
	secp384r1: 384,
	secp521r1: 521,
};

function ecBits(curve: string): number | undefined {
	const digits = /\d{3}/v.exec(curve)?.[0];
	return curveBits[curve] ?? (digits === undefined ? undefined : Number(digits));
}

/** Key type, size and curve of a certificate's public key, from node:crypto. */
export function publicKeyFacts(x509: X509Certificate): PublicKeyFacts {
	const key = x509.publicKey;
	const details = key.asymmetricKeyDetails ?? {};
	const type = key.asymmetricKeyType ?? 'unknown';
	const curve = details.namedCurve;
	const bits = details.modulusLength ?? (curve ? ecBits(curve) : undefined);
	return {type, ...(bits === undefined ? {} : {bits}), ...(curve === undefined ? {} : {curve})};
}

// RFC 8017 appendix A.2.4, RFC 5758 §3.1-3.2, RFC 3279 §2.2, RFC 8410 §3.
const signatureNames: Record<string, string> = {
	'1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
	'1.2.840.113549.1.1.3': 'md4WithRSAEncryption',
	'1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
	'1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
	'1.2.840.113549.1.1.10': 'RSASSA-PSS',
	'1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
	'1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
	'1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
	'1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
	'1.2.840.10045.4.1': 'ecdsa-with-SHA1',
	'1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
	'1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
	'1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
	'1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
	'1.2.840.10040.4.3': 'dsa-with-sha1',
	'2.16.840.1.101.3.4.3.1': 'dsa-with-sha224',
	'2.16.840.1.101.3.4.3.2': 'dsa-with-sha256',
	'1.3.101.112': 'Ed25519',
	'1.3.101.113': 'Ed448',
};

// Hash algorithms inside RSASSA-PSS parameters (RFC 8017 appendix A.2.3; absent means SHA-1).
const hashNames: Record<string, string> = {
	'1.2.840.113549.2.5': 'md5',
	'1.3.14.3.2.26': 'sha1',
	'2.16.840.1.101.3.4.2.1': 'sha256',
	'2.16.840.1.101.3.4.2.2': 'sha384',
	'2.16.840.1.101.3.4.2.3': 'sha512',
	'2.16.840.1.101.3.4.2.4': 'sha224',
};

/** Dotted form of a DER OBJECT IDENTIFIER's content (X.690 §8.19). */
export function decodeOid(content: Uint8Array): string {
	const arcs: number[] = [];
	let value = 0;
	for (const byte of content) {
		value = (value * 128) + (byte & 0x7F);
		if ((byte & 0x80) === 0) {
			arcs.push(value);
			value = 0;
		}
	}

	const first = arcs.shift() ?? 0;
	const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
	return [...head, ...arcs].join('.');
}

/**
 * The outer signatureAlgorithm of a certificate (RFC 5280 §4.1.1.2), by name, e.g.
 * "sha256WithRSAEncryption"; RSASSA-PSS is named with its hash ("RSASSA-PSS with sha1").
 */
export function signatureAlgorithm(der: Uint8Array): string {
	const certificate = readTlv(der, 0);
	const [, algorithm] = readChildren(der, certificate);
	if (!algorithm) {
		throw new Error('certificate without a signatureAlgorithm');
	}

	const [oidTlv, parameters] = readChildren(der, algorithm);
	if (oidTlv?.tag !== 0x06) {
		throw new Error('signatureAlgorithm without an OID');
	}

	const oid = decodeOid(der.subarray(oidTlv.contentStart, oidTlv.end));
	const name = signatureNames[oid] ?? oid;
	if (name !== 'RSASSA-PSS') {
		return name;
	}

	// RSASSA-PSS-params: hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1.
	let hash = 'sha1';
	const hashField = parameters?.tag === 0x30 ? readChildren(der, parameters).find(child => child.tag === 0xA0) : undefined;
	if (hashField) {
		const [hashAlgorithm] = readChildren(der, hashField);
		const [hashOid] = hashAlgorithm ? readChildren(der, hashAlgorithm) : [];
		if (hashOid?.tag === 0x06) {
			const dotted = decodeOid(der.subarray(hashOid.contentStart, hashOid.end));
			hash = hashNames[dotted] ?? dotted;
		}
	}

	return `RSASSA-PSS with ${hash}`;
}

/** What the floor needs of one certificate. */
export type FloorFacts = {
	publicKey: PublicKeyFacts;
	signatureAlgorithm: string;
	selfSigned: boolean;
	subject: string;
};

function isSelfSigned(x509: X509Certificate): boolean {
	try {
		return x509.subject === x509.issuer && x509.verify(x509.publicKey);
	} catch {
		return false;
	}
}

function factsOf(cert: X509Certificate | CertificateInfo): FloorFacts | undefined {
	if (cert instanceof X509Certificate) {
		return {
			publicKey: publicKeyFacts(cert),
			signatureAlgorithm: signatureAlgorithm(cert.raw),
			selfSigned: isSelfSigned(cert),
			subject: cert.subject.split('\n').toReversed().join(', '),
		};
	}

	// Described by certificate.ts; a CertificateInfo built by hand (an old pin, a test) has no key facts.
	if (cert.publicKey === undefined || cert.signatureAlgorithm === undefined) {
		return undefined;
	}

	return {
		publicKey: cert.publicKey, signatureAlgorithm: cert.signatureAlgorithm, selfSigned: cert.selfSigned, subject: cert.subject,
	};
}

/** Why this key is below the floor, or undefined. */
export function keyViolation(key: PublicKeyFacts): string | undefined {
	switch (key.type) {
		case 'rsa':
		case 'rsa-pss': {
			return key.bits !== undefined && key.bits >= minimumRsaBits
				? undefined
				: `RSA key of ${key.bits ?? 'unknown'} bits (secmon requires at least ${minimumRsaBits})`;
		}

		case 'ec': {
			return key.bits !== undefined && key.bits >= minimumEcBits
				? undefined
				: `EC key on curve ${key.curve ?? 'unknown'} of ${key.bits ?? 'unknown'} bits (secmon requires at least ${minimumEcBits}, e.g. P-256)`;
		}

		case 'dsa': {
			return 'DSA key (secmon accepts RSA of at least 2048 bits, ECDSA P-256 or larger, Ed25519)';
		}

		case 'ed25519':
		case 'ed448': {
			return undefined;
		}

		default: {
			return `unsupported key type ${key.type}`;
		}
	}
}

/** Why this signature algorithm is below the floor (MD2, MD4, MD5, SHA-1), or undefined. */
export function signatureViolation(algorithm: string): string | undefined {
	const lower = algorithm.toLowerCase();
	if (/md[245]/v.test(lower)) {
		return `signature algorithm ${/md[245]/v.exec(lower)![0].toUpperCase()} (${algorithm})`;
	}

	if (/sha-?1(?!\d)/v.test(lower) || lower === 'dsa-with-sha1') {
		return `signature algorithm SHA-1 (${algorithm})`;
	}

	return undefined;
}

export type FloorViolation = {
	/** Position in the presented chain, 0 = the collector's own certificate. */
	index: number;
	subject: string;
	/** e.g. "RSA key of 1024 bits (secmon requires at least 2048)" */
	reason: string;
};

/**
 * The first certificate of the presented chain (leaf first) below the floor. Every key counts;
 * every signature counts except a self-signed root's own (nobody relies on it), but a
 * self-signed collector certificate is the leaf, and its signature counts.
 */
export function floorViolation(chain: ReadonlyArray<X509Certificate | CertificateInfo>): FloorViolation | undefined {
	for (const [index, cert] of chain.entries()) {
		let facts: FloorFacts | undefined;
		try {
			facts = factsOf(cert);
		} catch (error) {
			return {index, subject: '', reason: `unreadable certificate (${error instanceof Error ? error.message : String(error)})`};
		}

		if (!facts) {
			continue;
		}

		const reason = keyViolation(facts.publicKey)
			?? (index > 0 && facts.selfSigned ? undefined : signatureViolation(facts.signatureAlgorithm));
		if (reason) {
			return {index, subject: facts.subject, reason};
		}
	}

	return undefined;
}

/** One line for messages: the leaf's reason as is, an issuer's with its name. */
export function describeViolation(violation: FloorViolation): string {
	return violation.index === 0 ? violation.reason : `${violation.reason} in its issuer ${violation.subject}`;
}

/** What to do about it (commands that work when pasted). */
export const floorHint = 'Re-issue the collector\'s certificate with an RSA key of at least 2048 bits or an ECDSA P-256 key, signed with SHA-256, e.g.\n'
	+ '  secmon pki issue --cn NAME --server\n'
	+ 'or: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 825 -subj /CN=NAME -addext subjectAltName=DNS:NAME -keyout collector.key -out collector.pem\n'
	+ 'Nothing was saved: no pin, --fingerprint or --accept-new lowers this floor.';

/**
 * The cipher suites secmon offers on every certificate-based TLS connection. TLS 1.2 only with
 * forward secrecy (ECDHE/DHE key exchange: a stolen server key does not decrypt recorded
 * sessions) and AEAD (GCM, ChaCha20-Poly1305: no CBC padding oracles such as Lucky13), as
 * Mozilla's "intermediate" profile and RFC 9325 §4.2 recommend. TLS 1.3 suites all qualify
 * (RFC 8446 has only those); they must be named here, since a Node cipher list without TLS 1.3
 * suites turns TLS 1.3 off. Zabbix PSK keeps its own list (protocols/zabbix/tls-context.ts).
 * Used by security/tls.ts (every protocol) and the Zabbix certificate modes.
 */
export const secureCiphers = [
	'TLS_AES_256_GCM_SHA384',
	'TLS_CHACHA20_POLY1305_SHA256',
	'TLS_AES_128_GCM_SHA256',
	'ECDHE-ECDSA-AES128-GCM-SHA256',
	'ECDHE-RSA-AES128-GCM-SHA256',
	'ECDHE-ECDSA-AES256-GCM-SHA384',
	'ECDHE-RSA-AES256-GCM-SHA384',
	'ECDHE-ECDSA-CHACHA20-POLY1305',
	'ECDHE-RSA-CHACHA20-POLY1305',
	'DHE-RSA-AES128-GCM-SHA256',
	'DHE-RSA-AES256-GCM-SHA384',
	'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * OpenSSL options for every client context: no renegotiation (a HelloRequest from the collector
 * is answered with a no_renegotiation alert, RFC 5746 §4.2; renegotiation was the way in for
 * CVE-2009-3555 and triple handshake attacks, and TLS 1.3 dropped it).
 */
export const secureOptions = cryptoConstants.SSL_OP_NO_RENEGOTIATION;
