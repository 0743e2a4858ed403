/**
 * The collector CA: `secmon pki init` makes it, everything else loads it.
 *
 * Layout of a CA directory (mode 0700): ca.pem (certificate, 0644), ca.key (PKCS#8, 0600) and
 * issued/<name>/ for what `secmon pki issue` writes. A CA made by other tools can be used as
 * well: ca.crt instead of ca.pem is accepted (Icinga 2's lib/ca layout, docs/icinga-livestatus-mon.md#running-icinga2).
 */
import {type KeyObject, type X509Certificate} from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {SecmonError} from '../errors.js';
import {checkKeyFileMode, ensurePrivateDir, secmonHome} from '../security/home.js';
import {encode, encodeName, nameOids} from './der.js';
import {
	exists, publicMode, readText, secretMode, writeFileAtomic,
} from './files.js';
import {
	describeKey, generateKey, loadPrivateKey, type KeyAlgorithm,
} from './keys.js';
import {
	authorityKeyIdentifier,
	basicConstraints,
	buildCertificate,
	certificatePem,
	certificateParts,
	keyIdentifier,
	keyUsage,
	parseCertificatePem,
	randomSerial,
	subjectKeyIdentifier,
	type CertificateParts,
} from './x509.js';

/** Checkmk-like long life for the CA: 10 years (Icinga 2 uses 15). */
export const defaultCaDays = 3650;
/** RSA 4096 like Icinga 2's `pki new-ca`; the CA lives long and signs rarely. */
export const defaultCaAlgorithm: KeyAlgorithm = 'rsa4096';
/** How far notBefore is set back, so a collector whose clock is a little behind accepts it. */
export const backdateMs = 60 * 60 * 1000;
const dayMs = 24 * 60 * 60 * 1000;

export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(secmonHome(env), 'pki');
}

export function defaultCaName(): string {
	return `secmon CA ${os.hostname()}`;
}

export type Ca = {
	dir: string;
	certificatePath: string;
	keyPath: string;
	certificatePem: string;
	certificate: X509Certificate;
	key: KeyObject;
	parts: CertificateParts;
	/** The CA's key identifier, used as authorityKeyIdentifier of what it signs. */
	keyId: Buffer;
	/** Warnings found while loading (e.g. a key file readable by others). */
	warnings: string[];
};

export type InitCaOptions = {
	dir: string;
	algorithm?: KeyAlgorithm;
	days?: number;
	cn?: string;
	/** Replace an existing CA (everything it issued stops being trusted by peers that get the new one). */
	force?: boolean;
	/** For tests: a fixed validity window. */
	notBefore?: Date;
	notAfter?: Date;
};

export function caPaths(dir: string): {certificatePath: string; keyPath: string} {
	return {certificatePath: path.join(dir, 'ca.pem'), keyPath: path.join(dir, 'ca.key')};
}

/** Creates a self-signed CA in `dir`: SHA-512, basicConstraints CA critical (pathlen 0), keyUsage keyCertSign+cRLSign, SKI. */
export async function initCa(options: InitCaOptions): Promise<Ca> {
	const dir = path.resolve(options.dir);
	const {certificatePath, keyPath} = caPaths(dir);
	const days = options.days ?? defaultCaDays;
	assertDays(days);
	const cn = (options.cn ?? defaultCaName()).trim();
	if (cn === '') {
		throw new SecmonError('USAGE', 'the CA name (--cn) is empty', 'give the CA a name, e.g. --cn "ACME monitoring CA"');
	}

	if (!options.force) {
		for (const file of [certificatePath, keyPath, path.join(dir, 'ca.crt')]) {
			if (await exists(file)) {
				throw new SecmonError(
					'STORE',
					`a CA already exists in ${dir} (${path.basename(file)}); secmon does not replace it`,
					`use it as it is (secmon pki issue --ca ${dir} …), pick another directory, or pass --force to replace it; every certificate the old CA issued stops being trusted where the new CA replaces it`,
				);
			}
		}
	}

	ensurePrivateDir(dir);
	const keyPair = await generateKey(options.algorithm ?? defaultCaAlgorithm);
	const now = Date.now();
	const notBefore = options.notBefore ?? new Date(now - backdateMs);
	const notAfter = options.notAfter ?? new Date(now + (days * dayMs));
	const name = encode(encodeName([[{oid: nameOids.CN, value: cn}]]));
	const keyId = keyIdentifier(keyPair.spki);
	const der = buildCertificate({
		serial: randomSerial(),
		issuer: name,
		subject: name,
		notBefore,
		notAfter,
		spki: keyPair.spki,
		extensions: [
			basicConstraints(true, 0),
			keyUsage(['keyCertSign', 'cRLSign']),
			subjectKeyIdentifier(keyPair.spki),
			authorityKeyIdentifier(keyId),
		],
		signingKey: keyPair.privateKey,
	});
	const pem = certificatePem(der);
	// Key first: a certificate without its key would be a CA nobody can use.
	await writeFileAtomic(keyPath, keyPair.privateKeyPem, {mode: secretMode, overwrite: options.force ?? false});
	await writeFileAtomic(certificatePath, pem, {mode: publicMode, overwrite: options.force ?? false});
	const certificate = parseCertificatePem(pem, certificatePath);
	return {
		dir,
		certificatePath,
		keyPath,
		certificatePem: pem,
		certificate,
		key: keyPair.privateKey,
		parts: certificateParts(certificate),
		keyId,
		warnings: [],
	};
}

export function assertDays(days: number): void {
	if (!Number.isInteger(days) || days < 1 || days > 36_500) {
		throw new SecmonError('USAGE', `--days must be a whole number of days from 1 to 36500, got ${days}`, 'e.g. --days 397 for a year and a month');
	}
}

/** Loads the CA in `dir` (ca.pem or ca.crt, and ca.key) and checks that it can sign. */
export async function loadCa(dir: string): Promise<Ca> {
	const resolved = path.resolve(dir);
	let {certificatePath, keyPath} = caPaths(resolved);
	if (!(await exists(certificatePath)) && await exists(path.join(resolved, 'ca.crt'))) {
		certificatePath = path.join(resolved, 'ca.crt');
	}

	const missingHint = `make one with: secmon pki init ${resolved}   (or point --ca at the directory holding ca.pem and ca.key)`;
	const certificateText = await readText(certificatePath, 'the CA certificate', missingHint);
	const keyText = await readText(keyPath, 'the CA key', `${missingHint}; secmon needs the CA's private key to sign`);
	const warnings: string[] = [];
	const modeWarning = checkKeyFileMode(keyPath);
	if (modeWarning) {
		warnings.push(modeWarning);
	}

	const certificate = parseCertificatePem(certificateText, certificatePath);
	const key = loadPrivateKey(keyText, keyPath);
	if (!certificate.ca) {
		throw new SecmonError(
			'CERT_INVALID',
			`${certificatePath} is not a CA certificate (basicConstraints CA:TRUE is missing)`,
			`point --ca at a CA directory, or make a CA with: secmon pki init ${resolved}`,
		);
	}

	if (!certificate.checkPrivateKey(key)) {
		throw new SecmonError(
			'CERT_INVALID',
			`${keyPath} is not the private key of ${certificatePath}`,
			'restore the matching ca.key (from your backup), or make a new CA with: secmon pki init --force',
		);
	}

	if (new Date(certificate.validTo).getTime() <= Date.now()) {
		throw new SecmonError(
			'CERT_INVALID',
			`the CA certificate ${certificatePath} expired on ${new Date(certificate.validTo).toISOString()}`,
			`make a new CA with: secmon pki init ${resolved} --force, then re-issue and redeploy every certificate`,
		);
	}

	const parts = certificateParts(certificate);
	return {
		dir: resolved,
		certificatePath,
		keyPath,
		certificatePem: certificate.toString(),
		certificate,
		key,
		parts,
		keyId: parts.subjectKeyId ?? keyIdentifier(parts.spki),
		warnings,
	};
}

/** A one-paragraph description of a CA for `pki init` output. */
export function describeCa(ca: Ca): string[] {
	return [
		`subject:     ${ca.certificate.subject.replaceAll('\n', ', ')}`,
		`key:         ${describeKey(ca.key)}`,
		`valid:       ${new Date(ca.certificate.validFrom).toISOString()} to ${new Date(ca.certificate.validTo).toISOString()}`,
		`SHA-256:     ${ca.certificate.fingerprint256}`,
	];
}
