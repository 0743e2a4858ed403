/**
 * Issuing leaf certificates from the CA (`secmon pki issue`) and writing them out in the layouts
 * the collectors want: separate key and certificate (pmcd, Zabbix, Icinga 2) and one combined
 * PEM with key, certificate and chain (Checkmk's etc/ssl/sites/SITE.pem, stunnel's `cert =`;
 * docs/icinga-livestatus-mon.md#checkmk-tls).
 */
import {type X509Certificate} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {SecmonError} from '../errors.js';
import {backdateMs, type Ca} from './ca.js';
import {
	encode, encodeName, nameOids, type NameAttribute,
} from './der.js';
import {
	ensureDir, exists, publicMode, safeBaseName, secretMode, writeFileAtomic,
} from './files.js';
import {describeKey, generateKey, type KeyAlgorithm} from './keys.js';
import {
	authorityKeyIdentifier,
	basicConstraints,
	buildCertificate,
	certificatePem,
	defaultSans,
	extendedKeyUsage,
	formatSan,
	keyUsage,
	parseCertificatePem,
	randomSerial,
	sansOf,
	subjectAltName,
	subjectKeyIdentifier,
	type CertificateUsage,
	type Extension,
	type KeyUsageName,
	type SubjectAltName,
} from './x509.js';

/** 397 days, what Icinga 2 gives its node certificates and what browsers accept at most. */
export const defaultLeafDays = 397;
/** RSA 2048: the Debian zabbix_agentd (GnuTLS) refuses ECDSA agent certificates (docs/zabbix.md#tls-versions-and-suites). */
export const defaultLeafAlgorithm: KeyAlgorithm = 'rsa2048';
const dayMs = 24 * 60 * 60 * 1000;

export type Validity = {
	days?: number;
	/** For tests of expiry handling: explicit bounds (notAfter may be in the past). */
	notBefore?: Date;
	notAfter?: Date;
};

export type SignedCertificate = {
	certificatePem: string;
	certificate: X509Certificate;
	/** Remarks for the user, e.g. that the validity was cut to the CA's. */
	notes: string[];
};

export type IssuedCertificate = SignedCertificate & {
	keyPem: string;
	/** Key, certificate and CA certificate in one file (Checkmk site pem layout). */
	combinedPem: string;
	/** The CA certificate (the chain above the leaf). */
	chainPem: string;
};

export type IssueOptions = Validity & {
	ca: Ca;
	cn: string;
	/** Extra SANs; the CN itself is added when it is a host name or IP address. */
	sans?: SubjectAltName[];
	usage?: CertificateUsage;
	algorithm?: KeyAlgorithm;
	/** Optional O= attribute (Zabbix pins compare the whole subject, docs/zabbix.md#issuer-and-subject). */
	organization?: string;
};

/** The validity window of a new leaf, never beyond the CA's own notAfter. */
export function leafValidity(ca: Ca, validity: Validity, now = Date.now()): {notBefore: Date; notAfter: Date; notes: string[]} {
	const notes: string[] = [];
	const notBefore = validity.notBefore ?? new Date(now - backdateMs);
	let notAfter = validity.notAfter ?? new Date(now + ((validity.days ?? defaultLeafDays) * dayMs));
	const caEnd = new Date(ca.certificate.validTo);
	if (notAfter.getTime() > caEnd.getTime()) {
		notAfter = caEnd;
		notes.push(`the validity was shortened to end with the CA's, on ${caEnd.toISOString()}; renew the CA (secmon pki init --force) before then`);
	}

	return {notBefore, notAfter, notes};
}

export function leafExtensions(ca: Ca, spki: Buffer, usage: CertificateUsage, sans: SubjectAltName[], keyType: string | undefined): Extension[] {
	// keyEncipherment only means something for RSA key transport (RFC 5280 §4.2.1.3).
	const usages: KeyUsageName[] = keyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
	return [
		basicConstraints(false),
		keyUsage(usages),
		extendedKeyUsage(usage),
		...(sans.length > 0 ? [subjectAltName(sans)] : []),
		subjectKeyIdentifier(spki),
		authorityKeyIdentifier(ca.keyId),
	];
}

function uniqueSans(sans: SubjectAltName[]): SubjectAltName[] {
	const seen = new Set<string>();
	return sans.filter(san => {
		const key = formatSan(san).toLowerCase();
		if (seen.has(key)) {
			return false;
		}

		seen.add(key);
		return true;
	});
}

export async function issueCertificate(options: IssueOptions): Promise<IssuedCertificate> {
	const cn = options.cn.trim();
	if (cn === '' || cn.length > 64) {
		throw new SecmonError('USAGE', `the common name must have 1 to 64 characters, got ${JSON.stringify(options.cn)}`, 'e.g. --cn collector.example.org');
	}

	const usage = options.usage ?? 'server';
	const sans = uniqueSans([...defaultSans(cn), ...(options.sans ?? [])]);
	const keyPair = await generateKey(options.algorithm ?? defaultLeafAlgorithm);
	const subject: NameAttribute[][] = [];
	if (options.organization?.trim()) {
		subject.push([{oid: nameOids.O, value: options.organization.trim()}]);
	}

	subject.push([{oid: nameOids.CN, value: cn}]);
	const {notBefore, notAfter, notes} = leafValidity(options.ca, options);
	const der = buildCertificate({
		serial: randomSerial(),
		issuer: options.ca.parts.subject,
		subject: encode(encodeName(subject)),
		notBefore,
		notAfter,
		spki: keyPair.spki,
		extensions: leafExtensions(options.ca, keyPair.spki, usage, sans, keyPair.publicKey.asymmetricKeyType),
		signingKey: options.ca.key,
	});
	const pem = certificatePem(der);
	const chainPem = options.ca.certificatePem;
	return {
		certificatePem: pem,
		certificate: parseCertificatePem(pem, 'the new certificate'),
		keyPem: keyPair.privateKeyPem,
		combinedPem: keyPair.privateKeyPem + pem + chainPem,
		chainPem,
		notes,
	};
}

export type IssuedFiles = {
	dir: string;
	keyPath: string;
	certificatePath: string;
	combinedPath: string;
	caPath: string;
};

/** Where `secmon pki issue --cn NAME` writes by default: <ca>/issued/<NAME>/. */
export function defaultIssueDir(ca: Ca, cn: string): string {
	return path.join(ca.dir, 'issued', safeBaseName(cn));
}

export function issuedPaths(dir: string, base: string): IssuedFiles {
	return {
		dir,
		keyPath: path.join(dir, `${base}.key`),
		certificatePath: path.join(dir, `${base}.pem`),
		combinedPath: path.join(dir, `${base}.combined.pem`),
		caPath: path.join(dir, 'ca.pem'),
	};
}

/**
 * Writes NAME.key (0600), NAME.pem, NAME.combined.pem (0600: it holds the key) and ca.pem to
 * `dir`. Existing files are refused unless `overwrite`.
 */
export async function writeIssued(issued: IssuedCertificate, dir: string, base: string, overwrite: boolean): Promise<IssuedFiles> {
	await ensureDir(dir);
	const files = issuedPaths(path.resolve(dir), base);
	const existingCa = await fs.readFile(files.caPath, 'utf8').catch(() => undefined);
	if (!overwrite) {
		// Check everything first, so a refusal leaves no half-written set behind.
		for (const file of [files.keyPath, files.certificatePath, files.combinedPath]) {
			if (await exists(file)) {
				throw new SecmonError('STORE', `${file} already exists; secmon does not overwrite it`, 'move it away first, pass --force to replace the set, or choose another directory with --out');
			}
		}

		if (existingCa !== undefined && existingCa !== issued.chainPem) {
			throw new SecmonError('STORE', `${files.caPath} holds a different CA certificate`, 'choose another directory with --out, or pass --force to replace it');
		}
	}

	await writeFileAtomic(files.keyPath, issued.keyPem, {mode: secretMode, overwrite});
	await writeFileAtomic(files.certificatePath, issued.certificatePem, {mode: publicMode, overwrite});
	await writeFileAtomic(files.combinedPath, issued.combinedPem, {mode: secretMode, overwrite});
	// The CA certificate next to them makes the directory a complete bundle to copy to a collector;
	// the same CA file already there is fine, a different one is only replaced with --force.
	if (existingCa !== issued.chainPem) {
		await writeFileAtomic(files.caPath, issued.chainPem, {mode: publicMode, overwrite});
	}

	return files;
}

/** Lines describing a certificate for command output. */
export function describeCertificate(certificate: X509Certificate): string[] {
	const sans = sansOf(certificate);
	return [
		`subject:     ${certificate.subject.replaceAll('\n', ', ')}`,
		`issuer:      ${certificate.issuer.replaceAll('\n', ', ')}`,
		...(sans.length > 0 ? [`names:       ${sans.join(', ')}`] : []),
		`key:         ${describeKey(certificate.publicKey)}`,
		`valid:       ${new Date(certificate.validFrom).toISOString()} to ${new Date(certificate.validTo).toISOString()}`,
		`SHA-256:     ${certificate.fingerprint256}`,
	];
}
