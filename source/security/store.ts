/**
 * The trust store: one JSON file per collector under `<home>/known_collectors/`, extra CA
 * certificates under `<home>/cas/`, and under `<home>/known_tls/` one record per collector once read
 * over verified TLS (its "TLS memory", so that a later plain-text answer can be seen as a
 * downgrade). One file per collector because conf's single-file read-modify-write loses concurrent
 * updates (docs/node.md#conf: 256 of 600 entries survived).
 *
 * Nothing can be planted in it (home.ts, after OpenSSH's StrictModes): its directories and files
 * must be the user's own and not writable by group or others, links are never followed, and only
 * regular files of bounded size are read.
 *
 * Writes are atomic (temp file in the same dir, fsync, then link or rename). A new pin is put in
 * place with link(2), which fails if the name exists, so when two processes pin the same collector
 * at once the second one sees the first one's pin instead of overwriting it. A corrupt pin file is
 * an error, never "no pin": treating it as absent would silently downgrade trust to first use.
 */
import {createHash, randomBytes, X509Certificate} from 'node:crypto';
import {
	closeSync, fsyncSync, linkSync, lstatSync, openSync, readdirSync, renameSync, unlinkSync, writeSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {SecmonError} from '../errors.js';
import {safeText} from '../safe-text.js';
import {shellQuote} from '../shell.js';
import {describeCertificate, splitPemBundle} from './certificate.js';
import {
	checkPrivateDir, ensurePrivateDir, errnoCode, readPrivateFile,
} from './home.js';
import type {Pin, Target} from './types.js';

const pinFormat = 'secmon-pin/1';
const tlsFormat = 'secmon-tls/1';
/**
 * A pin holds one PEM certificate (1-2 KiB usually; even one with hundreds of SANs stays under
 * 20 KiB, JSON-escaped) and a dozen short fields: 64 KiB is far above any real pin and small
 * enough to read without thinking. A TLS memory record (no certificate) gets the same cap.
 */
export const maxPinFileBytes = 64 * 1024;
/** A CA file may be a bundle put there by hand; Mozilla's whole root bundle is about 220 KiB. */
export const maxCaFileBytes = 1024 * 1024;
const fingerprintPattern = /^(?:[\dA-F]{2}:){31}[\dA-F]{2}$/v;
const sha1Pattern = /^(?:[\dA-F]{2}:){19}[\dA-F]{2}$/v;

/** Host as compared in the store: lowercase names, IPv6 in canonical compressed form, no brackets. */
export function normalizeHost(host: string): string {
	let value = host.trim();
	if (value.startsWith('[') && value.endsWith(']')) {
		value = value.slice(1, -1);
	}

	// The colon test first: net.isIPv6 compiles a large regular expression on first use
	// (~10 ms of a one-shot run's start-up, bench/startup.mjs), and only IPv6 has colons.
	if (value.includes(':') && net.isIPv6(value)) {
		try {
			// The WHATWG URL serializer compresses IPv6 (0:0:0:0:0:0:0:1 → ::1).
			return new URL(`http://[${value}]/`).hostname.slice(1, -1);
		} catch {
			// Zone ids (fe80::1%eth0) are not valid in URLs; fall through.
		}
	}

	return value.toLowerCase();
}

/** "host:port", with IPv6 literals in brackets ("[::1]:44321"), as users type it in commands. */
export function formatTarget(target: Target): string {
	const host = normalizeHost(target.host);
	return host.includes(':') ? `[${host}]:${target.port}` : `${host}:${target.port}`;
}

function checkTarget(target: Target): void {
	if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) {
		throw new SecmonError('USAGE', `invalid port ${String(target.port)} for host ${JSON.stringify(target.host)}`, 'Give a port between 1 and 65535, e.g. collector:44321');
	}

	if (normalizeHost(target.host) === '') {
		throw new SecmonError('USAGE', 'empty host name', 'Give a host name or address, e.g. collector:44321');
	}
}

/**
 * File name for a target's pin: `<host>_<port>.json` where every byte of the host outside
 * [a-z0-9.-] is %XX-escaped (IPv6 colons, '/', '_', '%', '\0'…) and a leading dot is escaped, so a
 * hostile host string can neither leave the directory nor hide a file. Over-long names are hashed.
 */
export function pinFileName(target: Target): string {
	checkTarget(target);
	const host = normalizeHost(target.host);
	// The usual name (lower-case letters, digits, '.', '-') is its own encoding; only other bytes are
	// escaped. Tested per byte, without a regular expression per character: a fleet names a pin
	// file per collector, twice per connection (issue 18's profile).
	let encoded = '';
	if (/^[a-z\d.\-]*$/v.test(host)) {
		encoded = host;
	} else {
		for (const byte of Buffer.from(host, 'utf8')) {
			const plain = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2E || byte === 0x2D;
			encoded += plain ? String.fromCodePoint(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
		}
	}

	if (encoded.startsWith('.')) {
		encoded = `%2E${encoded.slice(1)}`;
	}

	if (encoded.length > 180) {
		encoded = `sha256-${createHash('sha256').update(host).digest('hex').slice(0, 40)}`;
	}

	return `${encoded}_${target.port}.json`;
}

function storeError(message: string, hint: string, cause?: unknown): SecmonError {
	return new SecmonError('STORE', message, hint, cause === undefined ? undefined : {cause});
}

function corruptPin(file: string, detail: string, target?: Target, cause?: unknown): SecmonError {
	const removal = target ? `secmon certs remove ${formatTarget(target)}` : 'secmon certs remove HOST:PORT';
	return storeError(
		`the pin file ${file} is corrupt (${detail}); refusing to treat the collector as unknown`,
		`Look at the file; if you do not need it, remove the pin with: ${removal}\n(or delete ${file}), then connect again to pin the collector anew`,
		cause,
	);
}

function corruptTls(file: string, detail: string, target: Target, cause?: unknown): SecmonError {
	return storeError(
		`the TLS memory record ${file} is corrupt (${detail}); refusing to forget that the collector spoke TLS`,
		`Look at the file; if the collector really no longer speaks TLS, forget it with: secmon certs remove ${formatTarget(target)}\n(or delete ${file})`,
		cause,
	);
}

/** How to get rid of a store file that cannot be used, for readPrivateFile's hints. */
function removalHint(file: string, target?: Target): string {
	return target
		? `Remove it with: secmon certs remove ${formatTarget(target)} (or: rm ${shellQuote(file)})`
		: `Delete it: rm ${shellQuote(file)}`;
}

function isPinnedBy(value: string): value is Pin['pinnedBy'] {
	return value === 'prompt' || value === 'accept-new' || value === 'fingerprint' || value === 'import-nss';
}

function parsePin(text: string, file: string, expected?: Target): Pin {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		throw corruptPin(file, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, expected, error);
	}

	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw corruptPin(file, 'not a JSON object', expected);
	}

	const record = new Map(Object.entries(data));
	const field = (name: string): string => {
		const value: unknown = record.get(name);
		if (typeof value !== 'string') {
			throw corruptPin(file, `field "${name}" is missing or not a string`, expected);
		}

		return value;
	};

	const port: unknown = record.get('port');
	if (typeof port !== 'number') {
		throw corruptPin(file, 'field "port" is missing or not a number', expected);
	}

	const pinnedBy = field('pinnedBy');
	if (!isPinnedBy(pinnedBy)) {
		throw corruptPin(file, `field "pinnedBy" has unknown value ${JSON.stringify(pinnedBy)}`, expected);
	}

	const pin: Pin = {
		host: field('host'),
		port,
		sha256: field('sha256'),
		sha1: field('sha1'),
		spkiSha256: field('spkiSha256'),
		// Shown by certs and the changed-certificate banner: inert for a terminal even if the file was planted.
		subject: safeText(field('subject')),
		issuer: safeText(field('issuer')),
		notAfter: field('notAfter'),
		pinnedAt: field('pinnedAt'),
		pinnedBy,
		pem: field('pem'),
		...(typeof record.get('renewedAt') === 'string' ? {renewedAt: field('renewedAt')} : {}),
	};
	if (!fingerprintPattern.test(pin.sha256)) {
		throw corruptPin(file, 'field "sha256" is not a SHA-256 fingerprint', expected);
	}

	if (!sha1Pattern.test(pin.sha1)) {
		throw corruptPin(file, 'field "sha1" is not a SHA-1 fingerprint', expected);
	}

	// The file name must belong to the host:port inside, or a renamed file would pin another collector.
	try {
		if (path.basename(file) !== pinFileName({host: pin.host, port: pin.port})) {
			throw new Error('mismatch');
		}
	} catch (error) {
		throw corruptPin(file, `it holds a pin for ${pin.host}:${String(pin.port)}, which does not match its file name`, expected, error);
	}

	return pin;
}

/** What the store remembers of a collector once read over verified TLS. */
export type TlsMemory = {
	host: string;
	port: number;
	/** ISO time of the first verified TLS read (for a pin: when it was pinned). */
	firstSeen: string;
	sha256: string;
	subject: string;
	/** ISO */
	notAfter: string;
	/** Why that certificate was trusted: 'ca', 'pinned', … ('pinned' for a pin). */
	basis: string;
	source: 'pin' | 'record';
};

/** A known_tls/ file: TlsMemory without `source`, plus the format tag. */
type TlsRecord = Omit<TlsMemory, 'source'> & {format: string};

const basisPattern = /^[a-z][a-z\d\-]{0,31}$/v;

function isIsoTime(value: string): boolean {
	const time = Date.parse(value);
	return !Number.isNaN(time) && new Date(time).toISOString() === value;
}

function parseTlsRecord(text: string, file: string, target: Target): TlsMemory {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		throw corruptTls(file, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, target, error);
	}

	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw corruptTls(file, 'not a JSON object', target);
	}

	const record = new Map(Object.entries(data));
	const field = (name: string): string => {
		const value: unknown = record.get(name);
		if (typeof value !== 'string') {
			throw corruptTls(file, `field "${name}" is missing or not a string`, target);
		}

		return value;
	};

	const format = field('format');
	if (format !== tlsFormat) {
		throw corruptTls(file, `format ${JSON.stringify(format)} is not ${tlsFormat}`, target);
	}

	const port: unknown = record.get('port');
	if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
		throw corruptTls(file, 'field "port" is missing or not a port number', target);
	}

	const memory: TlsMemory = {
		host: field('host'),
		port,
		firstSeen: field('firstSeen'),
		sha256: field('sha256'),
		subject: field('subject'),
		notAfter: field('notAfter'),
		basis: field('basis'),
		source: 'record',
	};
	if (!fingerprintPattern.test(memory.sha256)) {
		throw corruptTls(file, 'field "sha256" is not a SHA-256 fingerprint', target);
	}

	for (const name of ['firstSeen', 'notAfter'] as const) {
		if (!isIsoTime(memory[name])) {
			throw corruptTls(file, `field "${name}" is not an ISO time`, target);
		}
	}

	if (!basisPattern.test(memory.basis)) {
		throw corruptTls(file, `field "basis" has an unexpected value ${JSON.stringify(memory.basis)}`, target);
	}

	// As for pins: the file name must belong to the host:port inside, and to the target asked for.
	let name: string | undefined;
	try {
		name = pinFileName({host: memory.host, port: memory.port});
	} catch {
		// An empty host; reported below.
	}

	if (name !== path.basename(file) || name !== pinFileName(target)) {
		throw corruptTls(file, `it holds a record for ${memory.host}:${String(memory.port)}, which does not match its file name`, target);
	}

	return memory;
}

function fsyncDir(dir: string): void {
	try {
		const fd = openSync(dir, 'r');
		try {
			fsyncSync(fd);
		} finally {
			closeSync(fd);
		}
	} catch {
		// Some file systems do not allow fsync on a directory; the rename is still atomic.
	}
}

/**
 * Write `data` to a new temp file (mode 0600, O_EXCL) in `dir`, fsync it and return its path.
 * Every byte or an error: write(2) may write less than asked (a file size limit, a full disk),
 * so it loops; on an error the temp file is removed, and the caller's target is untouched.
 */
function writeTemporary(dir: string, data: string): string {
	const file = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
	const fd = openSync(file, 'wx', 0o600);
	try {
		const bytes = Buffer.from(data);
		for (let written = 0; written < bytes.length;) {
			written += writeSync(fd, bytes, written, bytes.length - written);
		}

		fsyncSync(fd);
	} catch (error) {
		closeSync(fd);
		unlinkQuietly(file);
		throw error;
	}

	closeSync(fd);
	return file;
}

/**
 * Atomically replace `file` with `data` (mode 0600): temp file in the same directory, fsync, rename.
 * Readers see the old or the new content, never a torn file.
 */
export function writeFileAtomic(file: string, data: string): void {
	const dir = path.dirname(file);
	const temporary = writeTemporary(dir, data);
	try {
		renameSync(temporary, file);
	} catch (error) {
		unlinkQuietly(temporary);
		throw error;
	}

	fsyncDir(dir);
}

/**
 * Atomically create `file` with `data` unless it exists: temp file, then link(2), which fails with
 * EEXIST instead of replacing. Returns false if the file already existed.
 */
function createFileAtomic(file: string, data: string): boolean {
	const dir = path.dirname(file);
	const temporary = writeTemporary(dir, data);
	try {
		linkSync(temporary, file);
	} catch (error) {
		if (errnoCode(error) === 'EEXIST') {
			return false;
		}

		if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(errnoCode(error) ?? '')) {
			throw error;
		}

		// No hard links on this file system: O_EXCL create. A reader racing with this write can see a short file and report it as corrupt, never as absent.
		try {
			const fd = openSync(file, 'wx', 0o600);
			try {
				writeSync(fd, data);
				fsyncSync(fd);
			} finally {
				closeSync(fd);
			}
		} catch (error_) {
			if (errnoCode(error_) === 'EEXIST') {
				return false;
			}

			throw error_;
		}
	} finally {
		unlinkQuietly(temporary);
	}

	fsyncDir(dir);
	return true;
}

function unlinkQuietly(file: string): void {
	try {
		unlinkSync(file);
	} catch {
		// Already gone.
	}
}

function parses(pem: string): boolean {
	try {
		return new X509Certificate(pem).raw.length > 0;
	} catch {
		return false;
	}
}

export type PinProblem = {file: string; error: SecmonError};

const shared = new Map<string, TrustStore>();
/** A pin file is at most 64 KiB: 4096 of them stay under 256 MiB even if every one were that big. */
const maxParsedPins = 4096;

export class TrustStore {
	/** The store of `home` shared by every collector of a run (protocols/shared/tls-options.ts). */
	static for(home: string): TrustStore {
		let store = shared.get(home);
		if (!store) {
			store = new TrustStore(home);
			shared.set(home, store);
		}

		return store;
	}

	/** The secmon home directory, e.g. ~/.pki/secmon */
	readonly home: string;
	/** The last pin parsed per file: the file is read every time, parsed again only when it changed. */
	private readonly parsedPins = new Map<string, {text: string; pin: Pin}>();

	constructor(home: string) {
		this.home = home;
	}

	get knownDir(): string {
		return path.join(this.home, 'known_collectors');
	}

	get casDir(): string {
		return path.join(this.home, 'cas');
	}

	/** Where the pin for `target` lives (whether or not it exists). */
	pinPath(target: Target): string {
		return path.join(this.knownDir, pinFileName(target));
	}

	get knownTlsDir(): string {
		return path.join(this.home, 'known_tls');
	}

	/** Where the TLS memory record for `target` lives (whether or not it exists). */
	tlsPath(target: Target): string {
		return path.join(this.knownTlsDir, pinFileName(target));
	}

	/**
	 * The pin for `target`, undefined if none. Throws SecmonError('STORE') if the store or the file
	 * is unsafe (home.ts), cannot be read or is corrupt.
	 */
	get(target: Target): Pin | undefined {
		const file = this.pinPath(target);
		if (!this.hasDir(this.knownDir)) {
			return undefined;
		}

		const text = readPrivateFile(file, {what: 'pin file', maxBytes: maxPinFileBytes, removal: removalHint(file, target)});
		if (text === undefined) {
			return undefined;
		}

		const known = this.parsedPins.get(file);
		if (known?.text === text) {
			return {...known.pin};
		}

		const pin = parsePin(text, file, target);
		if (this.parsedPins.size >= maxParsedPins) {
			this.parsedPins.clear();
		}

		this.parsedPins.set(file, {text, pin: {...pin}});
		return pin;
	}

	/**
	 * Save a pin. If a pin already exists for the same host:port: the same certificate → returns the
	 * stored pin unchanged; a different certificate → throws SecmonError('CERT_CHANGED'), unless
	 * `replace` is set (the explicit `--fingerprint` replacement path).
	 */
	add(pin: Pin, options: {replace?: boolean} = {}): Pin {
		const target = {host: pin.host, port: pin.port};
		const file = this.pinPath(target);
		const data = JSON.stringify({format: pinFormat, ...pin}, undefined, '\t') + '\n';
		try {
			ensurePrivateDir(this.home);
			ensurePrivateDir(this.knownDir);
			if (options.replace) {
				writeFileAtomic(file, data);
				return pin;
			}

			if (createFileAtomic(file, data)) {
				return pin;
			}
		} catch (error) {
			if (error instanceof SecmonError) {
				throw error;
			}

			throw storeError(
				`cannot save the pin file ${file} (${errnoCode(error) ?? String(error)})`,
				`Check that ${this.knownDir} is yours and writable (mode 0700), or set SECMON_HOME to another directory`,
				error,
			);
		}

		// Someone (another secmon process, perhaps) pinned this collector first.
		const existing = this.get(target);
		if (existing?.sha256 === pin.sha256) {
			return existing;
		}

		if (!existing) {
			// It was removed between our link and our read; try once more.
			return this.add(pin, options);
		}

		throw new SecmonError(
			'CERT_CHANGED',
			`a different certificate is already pinned for ${formatTarget(target)} in ${file}`,
			`Nothing was replaced. If the collector's certificate really changed, remove the old pin with: secmon certs remove ${formatTarget(target)}`,
		);
	}

	/** Remove the pin for `target` (not its TLS memory: forgetTls). Returns false if there was none. */
	remove(target: Target): boolean {
		return this.unlinkIn(this.knownDir, this.pinPath(target), 'pin file');
	}

	/**
	 * What the store remembers of `target` having been read over verified TLS: its pin (source
	 * 'pin', first seen when pinned), else its record in known_tls/ (source 'record'), else
	 * undefined. A corrupt or unsafe pin or record is a SecmonError('STORE'), never "not seen".
	 */
	tlsMemory(target: Target): TlsMemory | undefined {
		const pin = this.get(target);
		if (pin) {
			return {
				host: pin.host,
				port: pin.port,
				firstSeen: pin.pinnedAt,
				sha256: pin.sha256,
				subject: pin.subject,
				notAfter: pin.notAfter,
				basis: 'pinned',
				source: 'pin',
			};
		}

		const file = this.tlsPath(target);
		if (!this.hasDir(this.knownTlsDir)) {
			return undefined;
		}

		const text = readPrivateFile(file, {what: 'TLS memory record', maxBytes: maxPinFileBytes, removal: removalHint(file, target)});
		return text === undefined ? undefined : parseTlsRecord(text, file, target);
	}

	/**
	 * Remember that `target` was read over verified TLS, unless a record already exists (the first
	 * sighting is kept, never rewritten). Costs one lstat when the record exists. A new record is
	 * written as a new pin is (temp file, fsync, link(2); 0600 in a 0700 directory), so two
	 * processes remembering at once leave one whole record; losing that race is not an error.
	 */
	rememberTls(target: Target, seen: {sha256: string; subject: string; notAfter: Date; basis: string}, now = new Date()): void {
		const file = this.tlsPath(target);
		try {
			lstatSync(file);
			return;
		} catch (error) {
			if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') {
				throw storeError(`cannot look at the TLS memory record ${file} (${errnoCode(error) ?? String(error)})`, `Check that ${this.knownTlsDir} is yours (mode 0700)`, error);
			}
		}

		const record: TlsRecord = {
			format: tlsFormat,
			host: normalizeHost(target.host),
			port: target.port,
			firstSeen: now.toISOString(),
			sha256: seen.sha256,
			subject: seen.subject,
			notAfter: seen.notAfter.toISOString(),
			basis: seen.basis,
		};
		// Validate what we write as strictly as what we read: a bad caller must not leave a record that every later run refuses.
		try {
			parseTlsRecord(JSON.stringify(record), file, target);
		} catch (error) {
			throw new SecmonError('INTERNAL', `refusing to remember an invalid TLS record for ${formatTarget(target)}: ${error instanceof Error ? error.message : String(error)}`, undefined, {cause: error});
		}

		ensurePrivateDir(this.home);
		ensurePrivateDir(this.knownTlsDir);
		try {
			createFileAtomic(file, JSON.stringify(record, undefined, '\t') + '\n');
		} catch (error) {
			throw storeError(
				`cannot save the TLS memory record ${file} (${errnoCode(error) ?? String(error)})`,
				`Check that ${this.knownTlsDir} is yours and writable (mode 0700), or set SECMON_HOME to another directory`,
				error,
			);
		}
	}

	/** Forget that `target` spoke TLS: remove its record (not its pin). Returns false if there was none. */
	forgetTls(target: Target): boolean {
		return this.unlinkIn(this.knownTlsDir, this.tlsPath(target), 'TLS memory record');
	}

	/**
	 * Whether store directory `dir` (with the home above it) exists; SecmonError('STORE') if either
	 * is unsafe (home.ts checkPrivateDir).
	 */
	/** Checked at every read (two lstat calls, microseconds), so a store made unsafe during a long run is refused at once. */
	private hasDir(dir: string): boolean {
		return checkPrivateDir(this.home) && checkPrivateDir(dir);
	}

	private unlinkIn(dir: string, file: string, what: string): boolean {
		if (!this.hasDir(dir)) {
			return false;
		}

		try {
			unlinkSync(file);
		} catch (error) {
			if (errnoCode(error) === 'ENOENT') {
				return false;
			}

			throw storeError(`cannot remove the ${what} ${file} (${errnoCode(error) ?? String(error)})`, `Check that ${dir} is yours and writable`, error);
		}

		fsyncDir(dir);
		return true;
	}

	/** Every pin, sorted by host then port, plus the files that could not be read (never hidden). */
	scan(): {pins: Pin[]; problems: PinProblem[]} {
		if (!this.hasDir(this.knownDir)) {
			return {pins: [], problems: []};
		}

		let names: string[];
		try {
			names = readdirSync(this.knownDir);
		} catch (error) {
			throw storeError(`cannot list ${this.knownDir} (${errnoCode(error) ?? String(error)})`, 'Check that the directory is yours (mode 0700)', error);
		}

		const pins: Pin[] = [];
		const problems: PinProblem[] = [];
		for (const name of names.toSorted()) {
			if (!name.endsWith('.json') || name.startsWith('.')) {
				continue;
			}

			const file = path.join(this.knownDir, name);
			try {
				const text = readPrivateFile(file, {what: 'pin file', maxBytes: maxPinFileBytes, removal: removalHint(file)});
				if (text === undefined) {
					continue; // Removed while listing.
				}

				pins.push(parsePin(text, file));
			} catch (error) {
				problems.push({
					file,
					error: error instanceof SecmonError
						? error
						: storeError(`cannot read the pin file ${file} (${errnoCode(error) ?? String(error)})`, `Check its owner and permissions, or delete ${file}`, error),
				});
			}
		}

		pins.sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
		return {pins, problems};
	}

	/** Every pin; throws the first problem (a corrupt file is never skipped silently). */
	list(): Pin[] {
		const {pins, problems} = this.scan();
		if (problems[0]) {
			throw problems[0].error;
		}

		return pins;
	}

	/**
	 * Extra trusted CA certificates: every certificate in the `*.pem` / `*.crt` files of
	 * `<home>/cas/`, as PEM blocks. An unparsable file is an error naming it.
	 */
	trustedCas(): string[] {
		const blocks: string[] = [];
		for (const {file, text} of this.caFiles()) {
			const found = splitPemBundle(text);
			if (found.length === 0) {
				throw storeError(`the CA file ${file} holds no PEM certificate`, `Replace it with a PEM certificate, or delete ${file}`);
			}

			for (const block of found) {
				// Parse now so a broken file is named here, not as an opaque TLS error later.
				if (!parses(block)) {
					throw storeError(`the CA file ${file} holds a certificate that cannot be parsed`, `Replace it, or delete ${file}`);
				}

				blocks.push(block);
			}
		}

		return blocks;
	}

	/**
	 * The `*.pem` / `*.crt` files of `<home>/cas/` (sorted by name) and their text, each read under
	 * the store's rules (readPrivateFile, at most maxCaFileBytes).
	 */
	caFiles(): Array<{file: string; text: string}> {
		if (!this.hasDir(this.casDir)) {
			return [];
		}

		let names: string[];
		try {
			names = readdirSync(this.casDir);
		} catch (error) {
			throw storeError(`cannot list ${this.casDir} (${errnoCode(error) ?? String(error)})`, 'Check that the directory is yours (mode 0700)', error);
		}

		const files: Array<{file: string; text: string}> = [];
		for (const name of names.toSorted()) {
			if (!/\.(?:pem|crt)$/iv.test(name) || name.startsWith('.')) {
				continue;
			}

			const file = path.join(this.casDir, name);
			const text = readPrivateFile(file, {what: 'CA file', maxBytes: maxCaFileBytes, removal: removalHint(file)});
			if (text !== undefined) {
				files.push({file, text});
			}
		}

		return files;
	}

	/**
	 * Add a CA certificate (PEM) to `<home>/cas/` as `<sha256 prefix>.pem` (atomic, 0600).
	 * Returns the file path. Adding the same CA twice rewrites the same file.
	 */
	addTrustedCa(pem: string): string {
		const [block, ...rest] = splitPemBundle(pem);
		if (!block || rest.length > 0) {
			throw new SecmonError('USAGE', 'expected exactly one PEM certificate', 'Give a file with a single CA certificate (-----BEGIN CERTIFICATE-----)');
		}

		const info = describeCertificate(block);
		ensurePrivateDir(this.home);
		ensurePrivateDir(this.casDir);
		const file = path.join(this.casDir, `${info.sha256.replaceAll(':', '').slice(0, 16).toLowerCase()}.pem`);
		writeFileAtomic(file, info.pem);
		return file;
	}
}
