/**
 * The CAs a user trusts with `secmon certs trust-ca` (or imported from NSS): the certificates stay
 * one PEM file each in `<home>/cas/` (store.ts), and those files alone decide trust (tls.ts adds
 * them next to the system roots). This module adds a small index of names and provenance —
 * name, SHA-256, when and how it was added — in `<home>/trusted-cas.json`, kept with conf.
 *
 * Pins do NOT use conf: its set() is an unlocked read-modify-write of the whole file, and in a test
 * three concurrent processes kept 256 of 600 entries (docs/node.md#conf). A lost pin would turn a
 * known collector into an unknown one (or hide a change); a lost index entry only loses a CA's
 * display name, so conf is good enough here and pins keep their one-file-per-collector store.
 */
import {X509Certificate} from 'node:crypto';
import {unlinkSync} from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import {SecmonError} from '../errors.js';
import {shellQuote} from '../shell.js';
import {describeCertificate, splitPemBundle} from './certificate.js';
import {
	checkPrivateDir, ensurePrivateDir, errnoCode, readPrivateFile,
} from './home.js';
import {maxCaFileBytes, type TrustStore} from './store.js';
import type {CertificateInfo} from './types.js';

export type CaHow = 'trust-ca' | 'import-nss';

/** One entry of trusted-cas.json, keyed by SHA-256. */
export type CaRecord = {
	name: string;
	sha256: string;
	subject: string;
	notAfter: string;
	/** ISO timestamp */
	addedAt: string;
	how: CaHow;
	/** The file given to trust-ca, or the NSS database and nickname. */
	source?: string;
};

export type TrustedCa = {
	/** The index name, else the certificate's CN, else its file name. */
	name: string;
	file: string;
	info: CertificateInfo;
	/** From the index; undefined for a PEM file put into cas/ by hand. */
	record?: CaRecord;
};

type Index = Record<string, CaRecord>;

/** An entry is a few hundred bytes: 1 MiB holds thousands of CAs, and is still cheap to refuse unread. */
const maxIndexBytes = 1024 * 1024;

function openIndex(home: string, create: boolean): Conf<Index> {
	if (create) {
		// Conf would create a missing directory with mode 0755 (docs/node.md#conf): make it 0700 first.
		ensurePrivateDir(home);
	}

	try {
		return new Conf<Index>({
			cwd: home,
			configName: 'trusted-cas',
			configFileMode: 0o600,
			// SHA-256 keys are colon hex, and names may hold dots: no dot-notation paths.
			accessPropertiesByDotNotation: false,
			projectName: 'secmon',
		});
	} catch (error) {
		throw indexError(home, error);
	}
}

function indexError(home: string, error: unknown): SecmonError {
	const file = path.join(home, 'trusted-cas.json');
	return new SecmonError(
		'STORE',
		`cannot read the trusted-CA index ${file} (${errnoCode(error) ?? (error instanceof Error ? error.message : String(error))})`,
		`It only holds names and dates; the CA certificates in ${path.join(home, 'cas')} still decide trust. Fix or delete ${file} (the names fall back to each CA's CN)`,
		{cause: error},
	);
}

function readIndex(home: string): Index {
	const file = path.join(home, 'trusted-cas.json');
	// Under the store's rules (no link, regular file, ours, bounded), as conf would not check them.
	const text = checkPrivateDir(home)
		? readPrivateFile(file, {what: 'trusted-CA index', maxBytes: maxIndexBytes, removal: `Delete it (it only holds names; the CA files decide trust): rm ${shellQuote(file)}`})
		: undefined;
	if (text === undefined) {
		return {};
	}

	// Read without conf so that listing never creates or rewrites anything.
	try {
		const data: unknown = JSON.parse(text);
		if (typeof data !== 'object' || data === null || Array.isArray(data)) {
			throw new Error('not a JSON object');
		}

		const index: Index = {};
		for (const [key, value] of Object.entries(data)) {
			if (typeof value === 'object' && value !== null && typeof (value as CaRecord).name === 'string') {
				index[key] = value as CaRecord;
			}
		}

		return index;
	} catch (error) {
		throw indexError(home, error);
	}
}

function commonName(info: CertificateInfo): string | undefined {
	return /(?:^|, )CN=([^,]+)/v.exec(info.subject)?.[1]?.trim();
}

/**
 * Every CA certificate in `<home>/cas/`, with its index entry. Unreadable or unparsable files are
 * errors naming the file (the TLS layer would refuse them too).
 */
export function listTrustedCas(store: TrustStore): TrustedCa[] {
	const files = store.caFiles();
	if (files.length === 0) {
		return [];
	}

	const index = readIndex(store.home);
	const cas: TrustedCa[] = [];
	for (const {file, text} of files) {
		for (const block of splitPemBundle(text)) {
			const info = describeCertificate(block);
			const record = index[info.sha256];
			cas.push({
				name: record?.name ?? commonName(info) ?? path.basename(file),
				file,
				info,
				...(record ? {record} : {}),
			});
		}
	}

	return cas.toSorted((a, b) => a.name.localeCompare(b.name));
}

/** Is this certificate a CA (basicConstraints CA:TRUE)? */
export function isCaCertificate(pem: string): boolean {
	try {
		return new X509Certificate(pem).ca;
	} catch {
		return false;
	}
}

/**
 * Trust a CA: its PEM into `<home>/cas/` (atomic, 0600), its name into the index. The caller has
 * checked that it is a CA. A name used by another CA is refused; the same CA again keeps its file
 * and takes the new name.
 */
export function addTrustedCa(store: TrustStore, pem: string, options: {name?: string; how: CaHow; source?: string; now?: Date}): {ca: TrustedCa; replaced: boolean} {
	const info = describeCertificate(pem);
	const existing = listTrustedCas(store);
	const previous = existing.find(ca => ca.info.sha256 === info.sha256);
	const name = (options.name ?? previous?.name ?? commonName(info) ?? info.sha256.slice(0, 11)).trim();
	if (name === '') {
		throw new SecmonError('USAGE', 'the CA name is empty', 'Give a name with --name NAME');
	}

	const clash = existing.find(ca => ca.name.toLowerCase() === name.toLowerCase() && ca.info.sha256 !== info.sha256);
	if (clash) {
		throw new SecmonError(
			'USAGE',
			`another trusted CA is already called "${name}" (SHA-256 ${clash.info.sha256})`,
			`Choose another name with --name NAME, or remove the other one first: secmon certs remove "${name}"`,
		);
	}

	const file = store.addTrustedCa(info.pem);
	// Trusting the same CA again keeps when and how it was first trusted; only the name may change.
	const record: CaRecord = previous?.record
		? {...previous.record, name}
		: {
			name,
			sha256: info.sha256,
			subject: info.subject,
			notAfter: info.validTo.toISOString(),
			addedAt: (options.now ?? new Date()).toISOString(),
			how: options.how,
			...(options.source === undefined ? {} : {source: options.source}),
		};
	try {
		openIndex(store.home, true).set(info.sha256, record);
	} catch (error) {
		throw error instanceof SecmonError ? error : indexError(store.home, error);
	}

	return {
		ca: {
			name, file, info, record,
		},
		replaced: previous !== undefined,
	};
}

/**
 * Stop trusting a CA: remove its PEM file and index entry. A file that holds other certificates
 * too (a bundle put there by hand) is not edited: that is an error saying which file to edit.
 */
export function removeTrustedCa(store: TrustStore, ca: TrustedCa): void {
	const blocks = splitPemBundle(readPrivateFile(ca.file, {what: 'CA file', maxBytes: maxCaFileBytes, removal: `Delete it: rm ${shellQuote(ca.file)}`}) ?? '');
	if (blocks.length > 1) {
		throw new SecmonError(
			'STORE',
			`the CA "${ca.name}" is one of ${blocks.length} certificates in ${ca.file}; secmon does not edit bundles it did not write`,
			`Remove its PEM block from ${ca.file} by hand (SHA-256 ${ca.info.sha256}), or delete the whole file`,
		);
	}

	try {
		unlinkSync(ca.file);
	} catch (error) {
		if (errnoCode(error) !== 'ENOENT') {
			throw new SecmonError('STORE', `cannot remove ${ca.file} (${errnoCode(error) ?? String(error)})`, `Check that ${store.casDir} is yours and writable`, {cause: error});
		}
	}

	if (Object.hasOwn(readIndex(store.home), ca.info.sha256)) {
		try {
			openIndex(store.home, true).delete(ca.info.sha256);
		} catch (error) {
			throw error instanceof SecmonError ? error : indexError(store.home, error);
		}
	}
}
