/**
 * Keys for the PKI: generation with node:crypto's async generateKeyPair (runs on the thread
 * pool: ~70 ms for RSA 2048, docs/node.md#node-forge; forge's pure-JS path is ~10x slower and
 * cannot make EC keys at all), and the signature algorithm a key signs with.
 */
import {
	createPrivateKey,
	createPublicKey,
	generateKeyPair,
	type KeyObject,
} from 'node:crypto';
import {promisify} from 'node:util';
import {SecmonError} from '../errors.js';
import {
	nullValue, oid, sequence, type Asn1,
} from './der.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const keyAlgorithms = ['rsa2048', 'rsa4096', 'ecdsa-p256'] as const;
export type KeyAlgorithm = (typeof keyAlgorithms)[number];

export function isKeyAlgorithm(value: string): value is KeyAlgorithm {
	return (keyAlgorithms as readonly string[]).includes(value);
}

export type KeyPair = {
	privateKey: KeyObject;
	publicKey: KeyObject;
	/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), read by OpenSSL, GnuTLS (Zabbix), stunnel, pmcd, Icinga 2. */
	privateKeyPem: string;
	/** SubjectPublicKeyInfo DER. */
	spki: Buffer;
};

export async function generateKey(algorithm: KeyAlgorithm): Promise<KeyPair> {
	const {publicKey, privateKey} = algorithm === 'ecdsa-p256'
		? await generateKeyPairAsync('ec', {namedCurve: 'prime256v1'})
		: await generateKeyPairAsync('rsa', {modulusLength: algorithm === 'rsa4096' ? 4096 : 2048, publicExponent: 0x1_00_01});
	return {
		privateKey,
		publicKey,
		privateKeyPem: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
		spki: publicKey.export({type: 'spki', format: 'der'}),
	};
}

/** Reads a PEM private key (PKCS#8, PKCS#1 or SEC1); encrypted keys get a clear refusal. */
export function loadPrivateKey(pem: string, path: string): KeyObject {
	if (pem.includes('ENCRYPTED')) {
		throw new SecmonError(
			'CERT_INVALID',
			`the private key ${path} is encrypted with a passphrase`,
			`secmon cannot prompt for key passphrases; decrypt a copy with: openssl pkey -in ${path} -out KEY.decrypted (keep it mode 0600)`,
		);
	}

	try {
		return createPrivateKey({key: pem, format: 'pem'});
	} catch (error) {
		throw new SecmonError(
			'CERT_INVALID',
			`cannot read the private key ${path}: ${(error as Error).message}`,
			`check that ${path} is a PEM private key (it should start with "-----BEGIN PRIVATE KEY-----")`,
			{cause: error},
		);
	}
}

export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
	return createPublicKey({key: Buffer.from(spki), format: 'der', type: 'spki'});
}

/** "RSA 2048", "ECDSA P-256", "Ed25519" — for messages. */
export function describeKey(key: KeyObject): string {
	const details = key.asymmetricKeyDetails ?? {};
	switch (key.asymmetricKeyType) {
		case 'rsa':
		case 'rsa-pss': {
			return `${key.asymmetricKeyType === 'rsa' ? 'RSA' : 'RSA-PSS'} ${details.modulusLength ?? '?'}`;
		}

		case 'ec': {
			const curves: Record<string, string> = {prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521'};
			return `ECDSA ${curves[details.namedCurve ?? ''] ?? details.namedCurve ?? '?'}`;
		}

		default: {
			return key.asymmetricKeyType === 'ed25519' ? 'Ed25519' : (key.asymmetricKeyType === 'ed448' ? 'Ed448' : String(key.asymmetricKeyType));
		}
	}
}

/**
 * Refuses public keys too weak to certify: RSA under 2048 bits, EC curves other than the NIST
 * P-curves (what OpenSSL, GnuTLS and Node all accept in TLS).
 */
export function assertAcceptablePublicKey(key: KeyObject, what: string): void {
	const type = key.asymmetricKeyType;
	const details = key.asymmetricKeyDetails ?? {};
	if (type === 'rsa') {
		if ((details.modulusLength ?? 0) < 2048) {
			throw new SecmonError(
				'CERT_INVALID',
				`${what} has an RSA key of ${details.modulusLength ?? '?'} bits; secmon certifies RSA keys of 2048 bits or more`,
				'make a new key and request, e.g.: openssl req -new -newkey rsa:2048 -nodes -keyout KEY -out CSR -subj /CN=NAME',
			);
		}

		return;
	}

	if (type === 'ec') {
		if (!['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '')) {
			throw new SecmonError(
				'CERT_INVALID',
				`${what} uses the elliptic curve ${details.namedCurve ?? '?'}, which TLS peers do not generally accept`,
				'make the key on P-256, e.g.: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout KEY -out CSR -subj /CN=NAME',
			);
		}

		return;
	}

	if (type === 'ed25519' || type === 'ed448') {
		return;
	}

	throw new SecmonError(
		'CERT_INVALID',
		`${what} has a ${String(type)} key, which secmon does not certify`,
		'use an RSA (2048 bits or more) or ECDSA P-256 key',
	);
}

export type SignatureAlgorithm = {
	/** OID of the AlgorithmIdentifier. */
	oid: string;
	/** Digest for crypto.sign/verify; null for EdDSA. */
	hash: 'sha256' | 'sha384' | 'sha512' | null;
	name: string;
};

const rsaSha512: SignatureAlgorithm = {oid: '1.2.840.113549.1.1.13', hash: 'sha512', name: 'sha512WithRSAEncryption'};
const ecdsaSha512: SignatureAlgorithm = {oid: '1.2.840.10045.4.3.4', hash: 'sha512', name: 'ecdsa-with-SHA512'};

/** Signature algorithms secmon accepts on a CSR (SHA-1 and MD5 are refused). */
export const verifiableSignatureAlgorithms: SignatureAlgorithm[] = [
	{oid: '1.2.840.113549.1.1.11', hash: 'sha256', name: 'sha256WithRSAEncryption'},
	{oid: '1.2.840.113549.1.1.12', hash: 'sha384', name: 'sha384WithRSAEncryption'},
	rsaSha512,
	{oid: '1.2.840.10045.4.3.2', hash: 'sha256', name: 'ecdsa-with-SHA256'},
	{oid: '1.2.840.10045.4.3.3', hash: 'sha384', name: 'ecdsa-with-SHA384'},
	ecdsaSha512,
	{oid: '1.3.101.112', hash: null, name: 'Ed25519'},
	{oid: '1.3.101.113', hash: null, name: 'Ed448'},
];

/** The algorithm a CA key signs with: SHA-512 with RSA or ECDSA (the issue asks SHA-512 throughout). */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
	switch (key.asymmetricKeyType) {
		case 'rsa': {
			return rsaSha512;
		}

		case 'ec': {
			return ecdsaSha512;
		}

		default: {
			throw new SecmonError(
				'CERT_INVALID',
				`a CA with a ${String(key.asymmetricKeyType)} key cannot sign here`,
				'make a new CA with: secmon pki init --algorithm rsa4096|rsa2048|ecdsa-p256 --force',
			);
		}
	}
}

/** AlgorithmIdentifier: RSA PKCS#1 algorithms carry NULL parameters, ECDSA and EdDSA none (RFC 5758, RFC 8410). */
export function algorithmIdentifier(algorithm: SignatureAlgorithm): Asn1 {
	return algorithm.oid.startsWith('1.2.840.113549.1.1.')
		? sequence([oid(algorithm.oid), nullValue()])
		: sequence([oid(algorithm.oid)]);
}
