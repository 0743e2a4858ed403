/**
 * Pins and trusted CAs as `certs list` and `certs show` present them (text and --json).
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {paintProblem} from '../../color.js';
import type {SecmonError} from '../../errors.js';
import {describeCertificate, spkiPin} from '../../security/certificate.js';
import {expiryOf, type Expiry} from '../../security/expiry.js';
import {formatDate, pinHow} from '../../security/messages.js';
import {formatTarget, type TrustStore} from '../../security/store.js';
import {listTrustedCas, type TrustedCa} from '../../security/trusted-cas.js';
import type {CertificateInfo, Pin, Target} from '../../security/types.js';

export type Entry = {
	kind: 'pin' | 'ca';
	/** host:port, or the CA's name */
	label: string;
	target?: Target;
	file: string;
	info: CertificateInfo;
	trustedAt?: string;
	/** Pins: when the collector last renewed its certificate with the same key (trust.ts). */
	renewedAt?: string;
	/** In words: "--accept-new", "secmon certs trust-ca /path/ca.pem", … */
	trustedHow: string;
	/** Stable value for --json */
	trustedBy: string;
	importedFrom?: string;
};

function pinHowWithSource(pinnedBy: Pin['pinnedBy'], importedFrom: string | undefined): string {
	return importedFrom === undefined ? pinHow(pinnedBy) : `imported from NSS (${importedFrom})`;
}

/** The optional "importedFrom" a pin file may carry (written by import-nss; store.ts ignores it). */
function importedFromOf(file: string): string | undefined {
	try {
		const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
		return typeof data['importedFrom'] === 'string' ? data['importedFrom'] : undefined;
	} catch {
		return undefined;
	}
}

export function pinEntry(store: TrustStore, pin: Pin): Entry {
	const file = store.pinPath(pin);
	const importedFrom = importedFromOf(file);
	return {
		kind: 'pin',
		label: formatTarget(pin),
		target: {host: pin.host, port: pin.port},
		file,
		info: describeCertificate(pin.pem),
		trustedAt: pin.pinnedAt,
		...(pin.renewedAt === undefined ? {} : {renewedAt: pin.renewedAt}),
		trustedHow: pinHowWithSource(pin.pinnedBy, importedFrom),
		trustedBy: importedFrom === undefined ? pin.pinnedBy : 'import-nss',
		...(importedFrom === undefined ? {} : {importedFrom}),
	};
}

export function caEntry(ca: TrustedCa): Entry {
	const {record} = ca;
	let how = `file in ${path.dirname(ca.file)} (no record of how it got there)`;
	if (record?.how === 'trust-ca') {
		how = `with secmon certs trust-ca${record.source ? ` ${record.source}` : ''}`;
	} else if (record?.how === 'import-nss') {
		how = `imported from NSS${record.source ? ` (${record.source})` : ''}`;
	}

	return {
		kind: 'ca',
		label: ca.name,
		file: ca.file,
		info: ca.info,
		...(record ? {trustedAt: record.addedAt} : {}),
		trustedHow: how,
		trustedBy: record?.how ?? 'file',
	};
}

export function expiryText(expiry: Expiry, color: boolean, now: Date): string {
	const date = formatDate(expiry.validTo);
	switch (expiry.state) {
		case 'expired': {
			return paintProblem(`${date} (EXPIRED ${Math.max(1, Math.ceil((now.getTime() - expiry.validTo.getTime()) / 86_400_000))} day(s) ago)`, 'error', color);
		}

		case 'expiring': {
			return paintProblem(`${date} (${expiry.daysLeft} day(s) left: renew it soon)`, 'warn', color);
		}

		case 'not-yet-valid': {
			return paintProblem(`${date} (NOT YET VALID: check the clocks)`, 'error', color);
		}

		case 'unknown': {
			return 'unknown';
		}

		case 'ok': {
			return `${date} (${expiry.daysLeft} days left)`;
		}
	}
}

export function entryJson(entry: Entry, now: Date, withPem: boolean): Record<string, unknown> {
	const expiry = expiryOf(entry.info, now);
	return {
		kind: entry.kind,
		...(entry.target ? {host: entry.target.host, port: entry.target.port, target: entry.label} : {name: entry.label}),
		subject: entry.info.subject,
		issuer: entry.info.issuer,
		sha256: entry.info.sha256,
		...(withPem
			? {
				sha1: entry.info.sha1,
				spkiSha256: entry.info.spkiSha256,
				spkiPin: spkiPin(entry.info),
				subjectAltNames: entry.info.subjectAltNames,
				serialNumber: entry.info.serialNumber,
				selfSigned: entry.info.selfSigned,
				validFrom: entry.info.validFrom.toISOString(),
			}
			: {}),
		validTo: entry.info.validTo.toISOString(),
		daysLeft: Number.isNaN(expiry.daysLeft) ? null : expiry.daysLeft,
		expiry: expiry.state,
		trustedAt: entry.trustedAt ?? null,
		trustedBy: entry.trustedBy,
		...(entry.kind === 'pin' ? {renewedAt: entry.renewedAt ?? null} : {}),
		...(entry.importedFrom === undefined ? {} : {importedFrom: entry.importedFrom}),
		file: entry.file,
		...(withPem ? {pem: entry.info.pem} : {}),
	};
}

export function trustedLine(entry: Entry): string {
	const renewed = entry.renewedAt === undefined ? '' : `; renewed with the same key ${formatDate(new Date(entry.renewedAt))}`;
	return `${entry.trustedAt ? `${formatDate(new Date(entry.trustedAt))}, ` : ''}${entry.trustedHow}${renewed}`;
}

export function loadAll(store: TrustStore): {pins: Pin[]; problems: Array<{file: string; error: SecmonError}>; cas: TrustedCa[]} {
	const {pins, problems} = store.scan();
	return {pins, problems, cas: listTrustedCas(store)};
}
