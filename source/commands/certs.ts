/**
 * `secmon certs …`: show and manage what the user trusts — the pinned collectors
 * (`<home>/known_collectors`, store.ts) and the trusted CAs (`<home>/cas`, trusted-cas.ts) — the
 * way `certutil -L/-A/-D` does for an NSS database, plus `import-nss` so that moving from pminfo
 * (whose NSS era saved accepted certificates in ~/.pki/nssdb) loses no trust.
 * argv is what follows "certs" on the command line.
 */
import {execFile} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {colorWanted, paintProblem} from '../color.js';
import type {Io} from '../io.js';
import {
	errorJson, exitCodes, formatError, isSecmonError, SecmonError,
} from '../errors.js';
import {
	describeCertificate, fingerprintArgument, isSpkiPin, matchesFingerprint, normalizeFingerprint, spkiPin, splitPemBundle,
} from '../security/certificate.js';
import {expiryOf, expiryWarningDays, type Expiry} from '../security/expiry.js';
import {secmonHome} from '../security/home.js';
import {formatDate, pinHow, validityNote} from '../security/messages.js';
import {formatTarget, normalizeHost, TrustStore} from '../security/store.js';
import {
	addTrustedCa, isCaCertificate, listTrustedCas, removeTrustedCa, type TrustedCa,
} from '../security/trusted-cas.js';
import type {CertificateInfo, Pin, Target} from '../security/types.js';
import {parseHostSpec} from '../target.js';
import {safeJson} from '../safe-text.js';
import {parseArgs} from './args.js';

export const certsHelp = `
Usage
  $ secmon certs list [--json]
  $ secmon certs show HOST[:PORT]|FINGERPRINT|CA-NAME [--json]
  $ secmon certs trust-ca FILE [--name NAME] [--fingerprint SHA256]
  $ secmon certs remove HOST[:PORT]|FINGERPRINT|CA-NAME
  $ secmon certs export HOST[:PORT]|FINGERPRINT|CA-NAME [--out FILE] [--force]
  $ secmon certs import-nss [DIR] [--port N] [--dry-run]

  list        every pinned collector and trusted CA: host:port or CA name, subject, SHA-256,
              expiry (days left; under ${expiryWarningDays} days is highlighted), when and how it was trusted
  show        full details of a pin or CA, with its subjectAltNames and PEM. HOST without a
              port shows every pin of that host
  trust-ca    trust a CA for every collector whose certificate it signed (chain and host name
              are checked, no pin needed): the way one CA serves many collectors. With
              --fingerprint, only a CA with that SHA-256 (or sha256//… public-key pin) is added
  remove      forget a pin (the next connection asks again) or stop trusting a CA; HOST:PORT
              also forgets that the collector spoke TLS (do this when it really turned TLS off)
  export      the PEM certificate, to stdout or --out FILE
  import-nss  import what PCP's pminfo (NSS era) accepted into DIR (default ~/.pki/nssdb), read
              with certutil (libnss3-tools): certificates trusted as peers (P) become pins for
              the host:port in their nickname, else for each name in their subjectAltName at
              --port (default 44321, pmcd's); trusted CAs (C) become trusted CAs

Options
  --json        machine-readable output (list, show)
  --name NAME   trust-ca: the CA's name (default its CN)
  --fingerprint SHA256
                trust-ca: the CA's SHA-256 as its owner gave it (or its sha256//BASE64
                public-key pin); a CA file that does not match is refused (exit 3)
  --out FILE    export: write here instead of stdout; --force replaces an existing file
  --port N      import-nss: the port for pins derived from subjectAltNames (default 44321)
  --dry-run     import-nss: show what would be imported, change nothing

The store is ~/.pki/secmon (SECMON_HOME moves it). Exit codes: 0 ok, 1 failure or nothing
matched, 2 usage.
`;

function usage(message: string, hint = 'see: secmon certs --help'): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

function stringFlag(flags: Record<string, unknown>, name: string): string | undefined {
	const value = flags[name];
	return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------
// What the user names on the command line

type Selector = {text: string; fingerprint?: string; host?: string; port?: number};

/**
 * HOST[:PORT] (as `secmon certs remove` is printed by every refusal: "collector:44321",
 * "[::1]:44321"), a URL (pcps://collector), a SHA-256 fingerprint in any usual form, or a CA name.
 */
export function parseSelector(text: string): Selector {
	const value = text.trim();
	if (value === '') {
		throw usage('empty name', 'Give HOST:PORT, a SHA-256 fingerprint or a CA name (see: secmon certs list)');
	}

	try {
		return {text: value, fingerprint: normalizeFingerprint(value)};
	} catch {
		// Not a fingerprint.
	}

	if (/^[a-z][a-z\d+.\-]*:\/\//iv.test(value)) {
		const spec = parseHostSpec(value);
		return {text: value, host: spec.host, port: spec.port};
	}

	const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/v.exec(value);
	if (bracketed) {
		return {text: value, host: bracketed[1]!, ...(bracketed[2] === undefined ? {} : {port: Number(bracketed[2])})};
	}

	if (net.isIPv6(value)) {
		return {text: value, host: value};
	}

	const hostPort = /^([^\s:\/]+):(\d{1,5})$/v.exec(value);
	if (hostPort) {
		return {text: value, host: hostPort[1]!, port: Number(hostPort[2])};
	}

	// A bare host, or a CA name (which may hold spaces and anything else).
	return /^[^\s:\/]+$/v.test(value) ? {text: value, host: value} : {text: value};
}

type Matches = {pins: Pin[]; cas: TrustedCa[]};

function findMatches(selector: Selector, pins: Pin[], cas: TrustedCa[]): Matches {
	if (selector.fingerprint !== undefined) {
		return {
			pins: pins.filter(pin => matchesFingerprint(selector.fingerprint!, pin)),
			cas: cas.filter(ca => matchesFingerprint(selector.fingerprint!, ca.info)),
		};
	}

	const host = selector.host === undefined ? undefined : normalizeHost(selector.host);
	return {
		pins: host === undefined ? [] : pins.filter(pin => normalizeHost(pin.host) === host && (selector.port === undefined || pin.port === selector.port)),
		cas: cas.filter(ca => ca.name.toLowerCase() === selector.text.toLowerCase()),
	};
}

function nothingMatches(selector: Selector, store: TrustStore): SecmonError {
	const what = selector.fingerprint === undefined ? `"${selector.text}"` : (isSpkiPin(selector.fingerprint) ? `public-key pin ${selector.fingerprint}` : `SHA-256 ${selector.fingerprint}`);
	return new SecmonError(
		'USAGE',
		`no pinned collector or trusted CA matches ${what} in ${store.home}`,
		'See what is there with: secmon certs list   (give HOST:PORT, a SHA-256 fingerprint or a CA name)',
		{exitCode: exitCodes.failure},
	);
}

// ---------------------------------------------------------------------------
// Entries as shown by list and show

type Entry = {
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

function pinEntry(store: TrustStore, pin: Pin): Entry {
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

function caEntry(ca: TrustedCa): Entry {
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

function expiryText(expiry: Expiry, color: boolean, now: Date): string {
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

function entryJson(entry: Entry, now: Date, withPem: boolean): Record<string, unknown> {
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

function trustedLine(entry: Entry): string {
	const renewed = entry.renewedAt === undefined ? '' : `; renewed with the same key ${formatDate(new Date(entry.renewedAt))}`;
	return `${entry.trustedAt ? `${formatDate(new Date(entry.trustedAt))}, ` : ''}${entry.trustedHow}${renewed}`;
}

// ---------------------------------------------------------------------------
// list

function loadAll(store: TrustStore): {pins: Pin[]; problems: Array<{file: string; error: SecmonError}>; cas: TrustedCa[]} {
	const {pins, problems} = store.scan();
	return {pins, problems, cas: listTrustedCas(store)};
}

async function runList(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs list', argv, {json: {type: 'boolean'}});
	if (input.length > 0) {
		throw usage(`secmon certs list takes no arguments, got: ${input.join(' ')}`, 'to look at one entry: secmon certs show HOST:PORT');
	}

	const store = new TrustStore(secmonHome(io.env));
	const now = new Date();
	const {pins, problems, cas} = loadAll(store);
	const pinEntries = pins.map(pin => pinEntry(store, pin));
	const caEntries = cas.map(ca => caEntry(ca));
	if (flags['json'] === true) {
		io.stdout.write(safeJson({
			home: store.home,
			pins: pinEntries.map(entry => entryJson(entry, now, false)),
			cas: caEntries.map(entry => entryJson(entry, now, false)),
			problems: problems.map(problem => ({file: problem.file, message: problem.error.message, hint: problem.error.hint ?? null})),
		}) + '\n');
		return problems.length > 0 ? exitCodes.failure : exitCodes.ok;
	}

	const color = colorWanted(io.stdout, io.env);
	const lines: string[] = [];
	const block = (entry: Entry) => {
		lines.push(
			`  ${entry.label}`,
			`    subject  ${entry.info.subject}`,
			`    SHA-256  ${entry.info.sha256}`,
			`    expires  ${expiryText(expiryOf(entry.info, now), color, now)}`,
			`    trusted  ${trustedLine(entry)}`,
		);
	};

	if (pinEntries.length === 0 && caEntries.length === 0 && problems.length === 0) {
		io.stdout.write(`No pinned collectors and no trusted CAs in ${store.home}.\n`
			+ 'A collector is pinned when you first trust it (at the prompt, with --accept-new or --fingerprint);\n'
			+ 'trust a CA for all the collectors it signs with: secmon certs trust-ca CA.pem\n');
		return exitCodes.ok;
	}

	lines.push(`Pinned collectors (${pinEntries.length}), in ${store.knownDir}:`);
	for (const entry of pinEntries) {
		block(entry);
	}

	if (pinEntries.length === 0) {
		lines.push('  (none)');
	}

	lines.push(`Trusted CAs (${caEntries.length}), in ${store.casDir}:`);
	for (const entry of caEntries) {
		block(entry);
	}

	if (caEntries.length === 0) {
		lines.push('  (none: only the system CAs; add one with secmon certs trust-ca CA.pem)');
	}

	io.stdout.write(lines.join('\n') + '\n');
	for (const problem of problems) {
		io.stderr.write(`${formatError(problem.error)}\n`);
	}

	return problems.length > 0 ? exitCodes.failure : exitCodes.ok;
}

// ---------------------------------------------------------------------------
// show

function showLines(entry: Entry, now: Date, color: boolean): string[] {
	const {info} = entry;
	const note = validityNote(info, now);
	return [
		`${entry.label}  (${entry.kind === 'pin' ? 'pinned collector' : 'trusted CA'})`,
		`  Subject:       ${info.subject}`,
		`  Issuer:        ${info.issuer}${info.selfSigned ? ' (self-signed)' : ''}`,
		`  Names (SAN):   ${info.subjectAltNames.length > 0 ? info.subjectAltNames.join(', ') : '(none)'}`,
		`  Serial:        ${info.serialNumber}`,
		`  Valid:         ${paintProblem(note.text, note.level, color)}`,
		`  SHA-256:       ${info.sha256}`,
		`  SHA-1:         ${info.sha1}`,
		`  SPKI SHA-256:  ${info.spkiSha256}`,
		`  SPKI pin:      ${spkiPin(info)}  (curl --pinnedpubkey, secmon --fingerprint)`,
		`  Trusted:       ${trustedLine(entry)}`,
		`  File:          ${entry.file}`,
		...info.pem.trimEnd().split('\n'),
	];
}

async function runShow(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs show', argv, {json: {type: 'boolean'}});
	if (input.length !== 1) {
		throw usage('secmon certs show needs one HOST[:PORT], SHA-256 fingerprint or CA name', 'e.g. secmon certs show collector:44321 (see them all with: secmon certs list)');
	}

	const selector = parseSelector(input[0]!);
	const store = new TrustStore(secmonHome(io.env));
	const {pins, problems, cas} = loadAll(store);
	const matches = findMatches(selector, pins, cas);
	const entries = [...matches.pins.map(pin => pinEntry(store, pin)), ...matches.cas.map(ca => caEntry(ca))];
	if (entries.length === 0) {
		for (const problem of problems) {
			io.stderr.write(`${formatError(problem.error)}\n`);
		}

		throw nothingMatches(selector, store);
	}

	const now = new Date();
	if (flags['json'] === true) {
		io.stdout.write(safeJson(entries.map(entry => entryJson(entry, now, true))) + '\n');
	} else {
		io.stdout.write(entries.map(entry => showLines(entry, now, colorWanted(io.stdout, io.env)).join('\n')).join('\n\n') + '\n');
	}

	return exitCodes.ok;
}

// ---------------------------------------------------------------------------
// trust-ca

async function runTrustCa(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs trust-ca', argv, {name: {type: 'string'}, fingerprint: {type: 'string'}});
	if (input.length !== 1) {
		throw usage('secmon certs trust-ca needs one file with the CA certificate (PEM)', 'e.g. secmon certs trust-ca /etc/pcp/tls/ca.crt --name "monitoring CA"');
	}

	const file = path.resolve(input[0]!);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		throw new SecmonError('USAGE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Check the path and its permissions');
	}

	const blocks = splitPemBundle(text);
	if (blocks.length === 0) {
		throw new SecmonError('USAGE', `${file} holds no PEM certificate`, 'Give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----); convert DER with: openssl x509 -inform der -in CA.der -out CA.pem');
	}

	const name = stringFlag(flags, 'name');
	if (name !== undefined && blocks.length > 1) {
		throw usage(`${file} holds ${blocks.length} certificates; --name names only one`, 'Trust them without --name (each is named by its CN), or split the file');
	}

	const now = new Date();
	const infos = blocks.map(block => describeCertificate(block));
	const checked = stringFlag(flags, 'fingerprint') !== undefined;
	checkCaFingerprint(file, infos, stringFlag(flags, 'fingerprint'));
	for (const [index, info] of infos.entries()) {
		if (!isCaCertificate(blocks[index]!)) {
			throw new SecmonError(
				'CERT_INVALID',
				`${file}: ${info.subject} is not a CA certificate (no basicConstraints CA:TRUE); nothing was trusted`,
				'To trust one collector\'s own certificate, pin it instead:\n'
				+ `  secmon --host HOST:PORT --fingerprint ${fingerprintArgument(info.sha256)}`,
			);
		}

		const expiry = expiryOf(info, now);
		if (expiry.state === 'expired') {
			throw new SecmonError(
				'CERT_INVALID',
				`the CA certificate ${info.subject} in ${file} expired on ${formatDate(info.validTo)}; nothing was trusted`,
				'An expired CA verifies no collector. Get the renewed CA certificate from its owner',
			);
		}
	}

	const store = new TrustStore(secmonHome(io.env));
	for (const info of infos) {
		const {ca, replaced} = addTrustedCa(store, info.pem, {
			...(name === undefined ? {} : {name}), how: 'trust-ca', source: file, now,
		});
		const note = validityNote(info, now);
		io.stdout.write(`${replaced ? 'Still trusting' : 'Trusted'} the CA "${ca.name}"\n`
			+ `  subject  ${info.subject}\n`
			+ `  SHA-256  ${info.sha256}\n`
			+ `  valid    ${note.text}\n`
			+ (checked ? '  checked  matches --fingerprint\n' : '')
			+ `  saved    ${ca.file}\n`);
		if (note.level !== 'ok') {
			io.stderr.write(`secmon: warning: the CA certificate "${ca.name}" ${note.text}\n`);
		}
	}

	io.stdout.write('secmon now trusts every collector whose certificate this CA signed and whose name matches it; no pin is needed.\n'
		+ (checked ? '' : 'Check the SHA-256 above with the CA\'s owner: whoever holds its key can pose as any collector to you.\n')
		+ `Undo with: secmon certs remove "${name ?? addTrustedNameHint(infos)}"\n`);
	return exitCodes.ok;
}

/**
 * `--fingerprint`: a CA file fetched over an untrusted path is trusted only if it is the CA its
 * owner named, as `step ca bootstrap --fingerprint` does (smallstep cli, command/ca/bootstrap.go).
 */
function checkCaFingerprint(file: string, infos: CertificateInfo[], fingerprint: string | undefined): void {
	if (fingerprint === undefined) {
		return;
	}

	const expected = normalizeFingerprint(fingerprint);
	if (infos.length !== 1) {
		throw usage(`${file} holds ${infos.length} certificates; --fingerprint names only one`, 'Split the file so that it holds the one CA certificate the fingerprint belongs to');
	}

	const info = infos[0]!;
	if (matchesFingerprint(expected, info)) {
		return;
	}

	const spki = isSpkiPin(expected);
	throw new SecmonError(
		'CERT_INVALID',
		`the CA certificate in ${file} (${info.subject}) does not match --fingerprint; nothing was trusted\n`
		+ (spki
			? `  expected public-key pin ${expected}\n  actual   public-key pin ${spkiPin(info)}\n  actual   SHA-256        ${info.sha256}`
			: `  expected SHA-256 ${expected}\n  actual   SHA-256 ${info.sha256}`),
		'Someone may have replaced the file on its way to you. Get the CA certificate again over a path you trust, and compare its\n'
		+ `SHA-256 with its owner (on the CA: openssl x509 -noout -fingerprint -sha256 -in ${path.basename(file)})`,
		{exitCode: exitCodes.untrusted},
	);
}

function addTrustedNameHint(infos: CertificateInfo[]): string {
	return infos.length === 1 ? (/(?:^|, )CN=([^,]+)/v.exec(infos[0]!.subject)?.[1] ?? infos[0]!.sha256) : 'NAME';
}

// ---------------------------------------------------------------------------
// remove

async function runRemove(argv: string[], io: Io): Promise<number> {
	const {input} = parseArgs('certs remove', argv, {});
	if (input.length !== 1) {
		throw usage('secmon certs remove needs one HOST:PORT, SHA-256 fingerprint or CA name', 'e.g. secmon certs remove collector:44321 (see them all with: secmon certs list)');
	}

	const selector = parseSelector(input[0]!);
	const store = new TrustStore(secmonHome(io.env));
	let pins: Pin[] = [];
	let cas: TrustedCa[] = [];
	if (selector.host !== undefined && selector.port !== undefined) {
		// Exactly HOST:PORT, as every refusal prints it: works even when the pin file is corrupt.
		const target = {host: selector.host, port: selector.port};
		let sha256 = '';
		try {
			sha256 = `SHA-256 ${store.get(target)?.sha256 ?? '?'}, `;
		} catch {
			// A corrupt pin file is removed all the same: that is what the refusal told the user to do.
		}

		// Its TLS memory goes too: this is the documented way on when a collector really turned TLS off.
		const forgotTls = store.forgetTls(target) ? ` Forgot that it spoke TLS (${store.tlsPath(target)}).` : '';
		if (store.remove(target)) {
			io.stdout.write(`Removed the pin for ${formatTarget(target)} (${sha256}${store.pinPath(target)}).${forgotTls}\n`
				+ 'The next connection to it will ask (or refuse without a terminal) as for a new collector.\n');
			return exitCodes.ok;
		}

		if (forgotTls) {
			io.stdout.write(`Forgot that ${formatTarget(target)} spoke TLS (${store.tlsPath(target)}); it had no pin.\n`);
			return exitCodes.ok;
		}
	} else {
		({pins, cas} = loadAll(store));
	}

	const matches = findMatches(selector, pins, cas);
	if (matches.pins.length === 0 && matches.cas.length === 0) {
		throw nothingMatches(selector, store);
	}

	if (selector.fingerprint === undefined && (matches.pins.length > 1 || (matches.pins.length > 0 && matches.cas.length > 0))) {
		const names = [...matches.pins.map(pin => formatTarget(pin)), ...matches.cas.map(ca => `CA "${ca.name}"`)];
		throw usage(`"${selector.text}" matches ${names.length} entries: ${names.join(', ')}; nothing was removed`, 'Name one: secmon certs remove HOST:PORT (or its SHA-256 fingerprint, which removes every entry with that certificate)');
	}

	for (const pin of matches.pins) {
		store.remove(pin);
		io.stdout.write(`Removed the pin for ${formatTarget(pin)} (SHA-256 ${pin.sha256}).\n`);
	}

	for (const ca of matches.cas) {
		removeTrustedCa(store, ca);
		io.stdout.write(`Removed the trusted CA "${ca.name}" (SHA-256 ${ca.info.sha256}); collectors it signed are no longer trusted through it (their pins, if any, stay).\n`);
	}

	return exitCodes.ok;
}

// ---------------------------------------------------------------------------
// export

async function runExport(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs export', argv, {out: {type: 'string'}, force: {type: 'boolean'}});
	if (input.length !== 1) {
		throw usage('secmon certs export needs one HOST:PORT, SHA-256 fingerprint or CA name', 'e.g. secmon certs export collector:44321 --out collector.pem');
	}

	const selector = parseSelector(input[0]!);
	const store = new TrustStore(secmonHome(io.env));
	const {pins, cas} = loadAll(store);
	const matches = findMatches(selector, pins, cas);
	const pems = [...new Set([...matches.pins.map(pin => describeCertificate(pin.pem).pem), ...matches.cas.map(ca => ca.info.pem)])];
	if (pems.length === 0) {
		throw nothingMatches(selector, store);
	}

	if (pems.length > 1) {
		const names = [...matches.pins.map(pin => formatTarget(pin)), ...matches.cas.map(ca => `CA "${ca.name}"`)];
		throw usage(`"${selector.text}" matches ${names.length} different certificates: ${names.join(', ')}`, 'Name one: secmon certs export HOST:PORT');
	}

	const pem = pems[0]!;
	const out = stringFlag(flags, 'out');
	if (out === undefined) {
		io.stdout.write(pem);
		return exitCodes.ok;
	}

	const file = path.resolve(out);
	try {
		// A certificate is public: 0644 like any .pem; never replace a file unless asked to.
		writeFileSync(file, pem, {mode: 0o644, flag: flags['force'] === true ? 'w' : 'wx'});
	} catch (error) {
		const {code} = (error as NodeJS.ErrnoException);
		if (code === 'EEXIST') {
			throw new SecmonError('USAGE', `${file} exists; nothing was written`, 'Choose another --out file, or add --force to replace it');
		}

		throw new SecmonError('USAGE', `cannot write ${file} (${code ?? String(error)})`, 'Check the directory and its permissions', {exitCode: exitCodes.failure});
	}

	io.stdout.write(`Wrote ${file} (SHA-256 ${describeCertificate(pem).sha256}).\n`);
	return exitCodes.ok;
}

// ---------------------------------------------------------------------------
// import-nss

export type NssEntry = {
	/** As certutil -L prints it (with a token prefix when the nickname holds a colon). */
	nickname: string;
	/** The SSL column: P trusted peer, C trusted CA, c valid CA, p distrusted, u own cert with key… */
	ssl: string;
	trust: string;
};

/** Parse `certutil -L` output: a header, then "nickname<spaces>SSL,S/MIME,JAR/XPI" per line. */
export function parseCertutilList(text: string): NssEntry[] {
	const entries: NssEntry[] = [];
	for (const line of text.split('\n')) {
		const match = /^(.*\S)\s+([A-Za-z]*,[A-Za-z]*,[A-Za-z]*)\s*$/v.exec(line);
		if (!match || /^Certificate Nickname\b/v.test(line)) {
			continue;
		}

		entries.push({nickname: match[1]!, ssl: match[2]!.split(',')[0]!, trust: match[2]!});
	}

	return entries;
}

const tokenPrefix = /^(?:NSS Certificate DB|NSS FIPS 140-2 Certificate DB|Builtin Object Token|NSS Generic Crypto Services):/v;

/** The host:port a nickname names ("collector:44321", "[::1]:44321", token prefix allowed), if any. */
export function targetFromNickname(nickname: string): Target | undefined {
	const bare = nickname.replace(tokenPrefix, '');
	const match = /^(?:\[([^\]]+)\]|([A-Za-z\d.\-]+)):(\d{1,5})$/v.exec(bare);
	if (!match) {
		return undefined;
	}

	const port = Number(match[3]);
	if (port < 1 || port > 65_535) {
		return undefined;
	}

	return {host: match[1] ?? match[2]!, port};
}

/** The names a certificate is valid for (DNS and IP subjectAltNames, else a host-like CN), for pins. */
export function hostNamesOf(info: CertificateInfo): string[] {
	const names: string[] = [];
	for (const san of info.subjectAltNames) {
		const dns = /^DNS:(.+)$/v.exec(san)?.[1];
		if (dns !== undefined && !dns.includes('*') && /^[A-Za-z\d.\-]+$/v.test(dns)) {
			names.push(dns.toLowerCase());
		}

		const ip = /^IP Address:(.+)$/v.exec(san)?.[1];
		if (ip !== undefined && net.isIP(ip) !== 0) {
			names.push(normalizeHost(ip));
		}
	}

	if (info.subjectAltNames.length === 0) {
		const cn = /(?:^|, )CN=([^,]+)/v.exec(info.subject)?.[1]?.trim();
		if (cn !== undefined && (net.isIP(cn) !== 0 || /^[A-Za-z\d](?:[A-Za-z\d\-]*[A-Za-z\d])?(?:\.[A-Za-z\d](?:[A-Za-z\d\-]*[A-Za-z\d])?)*$/v.test(cn))) {
			names.push(cn.toLowerCase());
		}
	}

	return [...new Set(names)];
}

async function certutil(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('certutil', args, {
			env: {...env, LC_ALL: 'C'}, timeout: 20_000, maxBuffer: 16 * 1024 * 1024,
		}, (error, stdout, stderr) => {
			if (error) {
				const {code} = (error as NodeJS.ErrnoException);
				if (code === 'ENOENT') {
					reject(new SecmonError(
						'USAGE',
						'certutil is not installed; it is needed to read an NSS database',
						'Install it: apt-get install libnss3-tools (Debian, Ubuntu), dnf install nss-tools (Fedora, RHEL)',
						{exitCode: exitCodes.failure},
					));
					return;
				}

				reject(new SecmonError(
					'STORE',
					`certutil ${args.join(' ')} failed: ${(stderr.trim() || error.message).split('\n')[0]}`,
					'Check that the directory is an NSS database you can read (certutil -L -d sql:DIR)',
				));
				return;
			}

			resolve(stdout);
		});
	});
}

function nssDatabase(input: string | undefined, env: NodeJS.ProcessEnv): {spec: string; dir: string} {
	const raw = input ?? path.join(env['HOME'] ?? os.homedir(), '.pki', 'nssdb');
	const prefixed = /^(sql|dbm):(.*)$/v.exec(raw);
	const dir = path.resolve(prefixed ? prefixed[2]! : raw);
	if (prefixed) {
		return {spec: `${prefixed[1]!}:${dir}`, dir};
	}

	if (existsSync(path.join(dir, 'cert9.db'))) {
		return {spec: `sql:${dir}`, dir};
	}

	if (existsSync(path.join(dir, 'cert8.db'))) {
		return {spec: `dbm:${dir}`, dir};
	}

	throw new SecmonError(
		'USAGE',
		`no NSS database in ${dir} (neither cert9.db nor cert8.db)`,
		input === undefined
			? 'pminfo keeps accepted certificates in ~/.pki/nssdb; give another directory with: secmon certs import-nss DIR'
			: 'Give the directory that holds cert9.db, e.g. secmon certs import-nss ~/.pki/nssdb',
		{exitCode: exitCodes.failure},
	);
}

type ImportSummary = {pinned: number; already: number; conflicts: number; superseded: number; cas: number; casAlready: number; manual: number; skipped: number};

type NssCertificate = {entry: NssEntry; pem: string; info: CertificateInfo; targets: Target[]; why: string};

async function runImportNss(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs import-nss', argv, {port: {type: 'string'}, dryRun: {type: 'boolean'}});
	if (input.length > 1) {
		throw usage('secmon certs import-nss takes one NSS database directory', 'e.g. secmon certs import-nss ~/.pki/nssdb');
	}

	const portText = stringFlag(flags, 'port') ?? '44321';
	if (!/^\d{1,5}$/v.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) {
		throw usage(`--port must be a port number, got "${portText}"`, 'e.g. --port 44321 (pmcd)');
	}

	const port = Number(portText);
	const dryRun = flags['dryRun'] === true;
	const database = nssDatabase(input[0], io.env);
	const entries = parseCertutilList(await certutil(['-L', '-d', database.spec], io.env));
	const store = new TrustStore(secmonHome(io.env));
	const now = new Date();
	const summary: ImportSummary = {
		pinned: 0, already: 0, conflicts: 0, superseded: 0, cas: 0, casAlready: 0, manual: 0, skipped: 0,
	};
	const out: string[] = [`${dryRun ? 'Would import' : 'Importing'} from the NSS database ${database.spec}:`];

	// 1. Every certificate, once. PCP saved all accepted certificates as "PCP Collector certificate",
	// so one nickname can stand for several, and certutil -L lists that nickname once per certificate.
	const certificates: NssCertificate[] = [];
	const seen = new Set<string>();
	const fetched = new Set<string>();
	for (const entry of entries) {
		const peer = entry.ssl.includes('P');
		const ca = entry.ssl.includes('C');
		if (!peer && !ca) {
			const why = entry.ssl.includes('p')
				? 'explicitly distrusted in NSS (p)'
				: (entry.ssl.includes('u') ? 'your own certificate (u: it has a private key), not a collector\'s' : 'not trusted for TLS servers in NSS (neither P nor C)');
			out.push(`  ${entry.nickname}  [${entry.trust}]: skipped, ${why}`);
			summary.skipped++;
			continue;
		}

		if (fetched.has(`${entry.nickname}\n${entry.trust}`)) {
			continue;
		}

		fetched.add(`${entry.nickname}\n${entry.trust}`);
		for (const pem of splitPemBundle(await certutil(['-L', '-d', database.spec, '-n', entry.nickname, '-a'], io.env))) {
			const info = describeCertificate(pem);
			if (seen.has(`${entry.trust} ${info.sha256}`)) {
				continue;
			}

			seen.add(`${entry.trust} ${info.sha256}`);
			const fromNickname = targetFromNickname(entry.nickname);
			certificates.push({
				entry,
				pem,
				info,
				targets: peer ? (fromNickname ? [fromNickname] : hostNamesOf(info).map(host => ({host, port}))) : [],
				why: fromNickname ? 'from its nickname' : `from its subjectAltName, port ${port}`,
			});
		}
	}

	// 2. Two trusted certificates for one host:port (a renewal accepted twice): NSS trusts both, a pin
	// holds one, so the newest one is pinned.
	const winners = new Map<string, NssCertificate>();
	for (const certificate of certificates) {
		for (const target of certificate.targets) {
			const key = formatTarget(target);
			const current = winners.get(key);
			if (!current || certificate.info.validFrom.getTime() > current.info.validFrom.getTime()) {
				winners.set(key, certificate);
			}
		}
	}

	// 3. Import.
	for (const certificate of certificates) {
		const {entry, info} = certificate;
		const source = `${database.spec}, nickname "${entry.nickname}"`;
		out.push(`  ${entry.nickname}  [${entry.trust}] ${info.subject}, SHA-256 ${info.sha256}`);
		const note = validityNote(info, now);
		if (note.level !== 'ok') {
			out.push(`    note: ${note.text}`);
		}

		if (entry.ssl.includes('C')) {
			importCa(store, certificate, {
				dryRun, source, now, out, summary,
			});
		}

		if (!entry.ssl.includes('P')) {
			continue;
		}

		if (certificate.targets.length === 0) {
			out.push(
				'    NOT pinned: neither its nickname nor its subjectAltName names a host. Pin it for the collector it belongs to with:',
				`      secmon --host pcps://HOST:${port} --fingerprint ${fingerprintArgument(info.sha256)}`,
			);
			summary.manual++;
			continue;
		}

		for (const target of certificate.targets) {
			const winner = winners.get(formatTarget(target));
			if (winner && winner !== certificate) {
				out.push(`    not pinned ${formatTarget(target)}: the newer certificate SHA-256 ${winner.info.sha256} from this database is pinned for it`);
				summary.superseded++;
				continue;
			}

			pinOne(store, target, info, {
				dryRun, why: certificate.why, source, now, out, summary,
			});
		}
	}

	const parts = [
		`${summary.pinned} pin(s)`,
		`${summary.cas} CA(s)`,
		...(summary.already + summary.casAlready > 0 ? [`${summary.already + summary.casAlready} already trusted`] : []),
		...(summary.skipped > 0 ? [`${summary.skipped} skipped`] : []),
	];
	out.push(`${dryRun ? 'Would import' : 'Imported'} ${parts.join(', ')}.`);
	if (summary.manual > 0) {
		out.push(`${summary.manual} certificate(s) need you to pin them by hand (see above).`);
	}

	if (summary.conflicts > 0) {
		out.push(`${summary.conflicts} pin(s) were NOT imported because a different certificate is already pinned there; compare with: secmon certs show HOST:PORT`);
	}

	if (!dryRun && summary.pinned + summary.cas > 0) {
		out.push('See them with: secmon certs list');
	}

	io.stdout.write(out.join('\n') + '\n');
	return summary.conflicts > 0 ? exitCodes.failure : exitCodes.ok;
}

function importCa(store: TrustStore, certificate: NssCertificate, context: {
	dryRun: boolean; source: string; now: Date; out: string[]; summary: ImportSummary;
}): void {
	const {info, pem, entry} = certificate;
	const {out, summary} = context;
	if (!isCaCertificate(pem)) {
		out.push('    skipped as a CA: trusted as one in NSS, but it is not a CA certificate (no basicConstraints CA:TRUE)');
		summary.skipped++;
		return;
	}

	const known = listTrustedCas(store).find(ca => ca.info.sha256 === info.sha256);
	if (known) {
		out.push(`    already a trusted CA ("${known.name}")`);
		summary.casAlready++;
		return;
	}

	if (context.dryRun) {
		out.push('    would become a trusted CA');
		summary.cas++;
		return;
	}

	const {ca} = addTrustedCa(store, pem, {
		name: uniqueCaName(store, entry.nickname.replace(tokenPrefix, ''), info), how: 'import-nss', source: context.source, now: context.now,
	});
	out.push(`    trusted CA "${ca.name}"`);
	summary.cas++;
}

function uniqueCaName(store: TrustStore, nickname: string, info: CertificateInfo): string {
	const taken = new Set(listTrustedCas(store).filter(ca => ca.info.sha256 !== info.sha256).map(ca => ca.name.toLowerCase()));
	if (!taken.has(nickname.toLowerCase())) {
		return nickname;
	}

	return `${nickname} (${info.sha256.slice(0, 11)})`;
}

function pinOne(store: TrustStore, target: Target, info: CertificateInfo, context: {
	dryRun: boolean; why: string; source: string; now: Date; out: string[]; summary: ImportSummary;
}): void {
	const {out, summary} = context;
	const where = formatTarget(target);
	let existing: Pin | undefined;
	try {
		existing = store.get(target);
	} catch (error) {
		out.push(`    NOT pinned ${where}: ${isSecmonError(error) ? error.message : String(error)}`);
		summary.conflicts++;
		return;
	}

	if (existing?.sha256 === info.sha256) {
		out.push(`    already pinned ${where}`);
		summary.already++;
		return;
	}

	if (existing) {
		out.push(`    NOT pinned ${where}: a different certificate is already pinned there (SHA-256 ${existing.sha256}); nothing was replaced`);
		summary.conflicts++;
		return;
	}

	if (context.dryRun) {
		out.push(`    would pin ${where} (${context.why})`);
		summary.pinned++;
		return;
	}

	// pinnedBy is "prompt": the user accepted it at pminfo's prompt (Pin has no "import" value yet);
	// importedFrom (ignored by store.ts, shown by certs list) says where it really came from.
	const pin: Pin & {importedFrom: string} = {
		host: target.host,
		port: target.port,
		sha256: info.sha256,
		sha1: info.sha1,
		spkiSha256: info.spkiSha256,
		subject: info.subject,
		issuer: info.issuer,
		notAfter: info.validTo.toISOString(),
		pinnedAt: context.now.toISOString(),
		pinnedBy: 'import-nss',
		pem: info.pem,
		importedFrom: context.source,
	};
	try {
		store.add(pin);
		out.push(`    pinned ${where} (${context.why})`);
		summary.pinned++;
	} catch (error) {
		if (isSecmonError(error) && error.code === 'CERT_CHANGED') {
			out.push(`    NOT pinned ${where}: a different certificate was pinned there meanwhile; nothing was replaced`);
			summary.conflicts++;
			return;
		}

		throw error;
	}
}

// ---------------------------------------------------------------------------

const runners: Record<string, (argv: string[], io: Io) => Promise<number>> = {
	list: runList,
	show: runShow,
	'trust-ca': runTrustCa,
	remove: runRemove,
	export: runExport,
	'import-nss': runImportNss,
};

export async function certsCommand(argv: string[], io: Io): Promise<number> {
	const [subcommand, ...rest] = argv;
	if (subcommand === undefined || subcommand === '--help' || subcommand === 'help' || subcommand === '-h') {
		(subcommand === undefined ? io.stderr : io.stdout).write(certsHelp.replace(/^\n/v, ''));
		return subcommand === undefined ? exitCodes.usage : exitCodes.ok;
	}

	const runner = runners[subcommand];
	if (!runner) {
		io.stderr.write(`secmon: unknown certs command "${subcommand}"\nchoose one of: ${Object.keys(runners).join(', ')} (see: secmon certs --help)\n`);
		return exitCodes.usage;
	}

	if (rest.includes('--help')) {
		io.stdout.write(certsHelp.replace(/^\n/v, ''));
		return exitCodes.ok;
	}

	const json = rest.includes('--json');
	try {
		return await runner(rest, io);
	} catch (error) {
		if (json) {
			io.stdout.write(safeJson(errorJson(error)) + '\n');
		}

		io.stderr.write(`${formatError(error)}\n`);
		return isSecmonError(error) ? error.exitCode : exitCodes.failure;
	}
}
