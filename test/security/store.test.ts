import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {
	chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {
	afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi,
} from 'vitest';
import {isSecmonError, type SecmonError} from '../../source/errors.js';
import {colonHex} from '../../source/security/certificate.js';
import {
	formatTarget, normalizeHost, pinFileName, TrustStore,
} from '../../source/security/store.js';
import type {Pin} from '../../source/security/types.js';
import {testPki} from '../helpers/certs.js';
import {transpileTree} from '../helpers/transpile.js';

let home: string;
let store: TrustStore;

beforeEach(() => {
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-store-'));
	vi.stubEnv('SECMON_HOME', home);
	store = new TrustStore(path.join(home, 'secmon'));
});

afterEach(() => {
	vi.unstubAllEnvs();
	rmSync(home, {recursive: true, force: true});
});

function fakePin(host: string, port: number, seed: string): Pin {
	return {
		host,
		port,
		sha256: colonHex(createHash('sha256').update(seed).digest('hex')),
		sha1: colonHex(createHash('sha1').update(seed).digest('hex')),
		spkiSha256: createHash('sha256').update(`spki ${seed}`).digest('base64'),
		subject: 'CN=collector',
		issuer: 'CN=collector',
		notAfter: '2046-11-23T22:58:40.000Z',
		pinnedAt: '2026-11-23T23:00:00.000Z',
		pinnedBy: 'accept-new',
		pem: `-----BEGIN CERTIFICATE-----\n${seed}\n-----END CERTIFICATE-----\n`,
	};
}

function caught(fn: () => unknown): SecmonError {
	try {
		fn();
	} catch (error) {
		if (isSecmonError(error)) {
			return error;
		}

		throw error;
	}

	throw new Error('expected a SecmonError');
}

function mode(file: string): number {
	return statSync(file).mode & 0o777;
}

describe('pin file names', () => {
	it('are host_port.json for plain names, case-insensitive', () => {
		expect(pinFileName({host: 'collector', port: 44_321})).toBe('collector_44321.json');
		expect(pinFileName({host: 'Collector.Example', port: 1})).toBe('collector.example_1.json');
	});

	it('escape every byte outside [a-z0-9.-] as %XX, whatever the rest of the name', () => {
		// The escaping as first written, one byte at a time: the faster form must give the same names.
		const reference = (host: string) => [...Buffer.from(normalizeHost(host), 'utf8')]
			.map(byte => (/^[a-z\d.\-]$/v.test(String.fromCodePoint(byte)) ? String.fromCodePoint(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
			.join('');
		const hosts = ['a.b-c.0', 'A_b', 'x y', 'naïve', 'host%41', '../etc', 'ok\u0000nul', 'zz', ...Array.from({length: 256}, (_, byte) => `h${String.fromCodePoint(byte)}`)];
		for (const host of hosts) {
			let expected = reference(host);
			if (expected.startsWith('.')) {
				expected = `%2E${expected.slice(1)}`;
			}

			expect(pinFileName({host, port: 7})).toBe(`${expected}_7.json`);
		}
	});

	it('canonicalise and escape IPv6 literals', () => {
		const name = pinFileName({host: '::1', port: 44_321});
		expect(name).toBe('%3A%3A1_44321.json');
		expect(pinFileName({host: '0:0:0:0:0:0:0:1', port: 44_321})).toBe(name);
		expect(pinFileName({host: '[::1]', port: 44_321})).toBe(name);
		expect(normalizeHost('[0:0::1]')).toBe('::1');
		expect(formatTarget({host: '::1', port: 44_321})).toBe('[::1]:44321');
		expect(formatTarget({host: '127.0.0.1', port: 44_321})).toBe('127.0.0.1:44321');
	});

	it('cannot escape the directory, hide a file, or collide through the separator', () => {
		for (const host of ['../../etc/passwd', '..', '.', '/abs', 'a/b', 'a\\b', 'x\u0000y', '.hidden', 'ü.example']) {
			const file = store.pinPath({host, port: 1});
			expect(path.dirname(file)).toBe(store.knownDir);
			expect(path.basename(file).startsWith('.')).toBe(false);
			expect(path.basename(file)).toMatch(/^[\w.%\-]+_1\.json$/v);
		}

		expect(pinFileName({host: 'a_1', port: 2})).not.toBe(pinFileName({host: 'a', port: 12}));
	});

	it('hash over-long hosts to stay under the file-name limit', () => {
		const name = pinFileName({host: 'x'.repeat(300), port: 1});
		expect(name.length).toBeLessThan(100);
		expect(name).not.toBe(pinFileName({host: 'x'.repeat(301), port: 1}));
	});

	it('refuse bad ports and empty hosts as usage errors', () => {
		expect(caught(() => pinFileName({host: 'a', port: 0})).code).toBe('USAGE');
		expect(caught(() => pinFileName({host: 'a', port: 65_536})).code).toBe('USAGE');
		expect(caught(() => pinFileName({host: 'a', port: 1.5})).code).toBe('USAGE');
		expect(caught(() => pinFileName({host: ' ', port: 1})).code).toBe('USAGE');
	});
});

describe('TrustStore', () => {
	it('round-trips a pin, with dirs 0700 and files 0600 and no temp files left', () => {
		const old = process.umask(0o002);
		try {
			const pin = fakePin('collector', 44_321, 'a');
			expect(store.get({host: 'collector', port: 44_321})).toBeUndefined();
			expect(store.add(pin)).toEqual(pin);
			expect(store.get({host: 'COLLECTOR', port: 44_321})).toEqual(pin);
			expect(mode(store.home)).toBe(0o700);
			expect(mode(store.knownDir)).toBe(0o700);
			expect(mode(store.pinPath(pin))).toBe(0o600);
			expect(readdirSync(store.knownDir)).toEqual(['collector_44321.json']);
			const json: unknown = JSON.parse(readFileSync(store.pinPath(pin), 'utf8'));
			expect(json).toMatchObject({format: 'secmon-pin/1', sha256: pin.sha256});
		} finally {
			process.umask(old);
		}
	});

	it('accepts the same pin twice but never replaces a different one silently', () => {
		const first = fakePin('collector', 1, 'a');
		store.add(first);
		expect(store.add({...first, pinnedAt: 'later'})).toEqual(first);
		const error = caught(() => store.add(fakePin('collector', 1, 'b')));
		expect(error.code).toBe('CERT_CHANGED');
		expect(error.exitCode).toBe(4);
		expect(error.message).toContain(store.pinPath(first));
		expect(error.hint).toContain('secmon certs remove collector:1');
		expect(store.get(first)?.sha256).toBe(first.sha256);
	});

	it('replaces only when asked to (the --fingerprint path)', () => {
		store.add(fakePin('collector', 1, 'a'));
		const second = fakePin('collector', 1, 'b');
		store.add(second, {replace: true});
		expect(store.get(second)?.sha256).toBe(second.sha256);
		expect(mode(store.pinPath(second))).toBe(0o600);
		expect(readdirSync(store.knownDir)).toHaveLength(1);
	});

	it('removes pins', () => {
		const pin = fakePin('::1', 2, 'a');
		store.add(pin);
		expect(store.remove({host: '0:0::1', port: 2})).toBe(true);
		expect(store.remove(pin)).toBe(false);
		expect(store.get(pin)).toBeUndefined();
	});

	it('lists pins sorted, and reports corrupt files instead of hiding them', () => {
		store.add(fakePin('b', 1, 'b'));
		store.add(fakePin('a', 2, 'a2'));
		store.add(fakePin('a', 1, 'a1'));
		expect(store.list().map(pin => formatTarget(pin))).toEqual(['a:1', 'a:2', 'b:1']);
		writeFileSync(store.pinPath({host: 'c', port: 1}), '{"host": "c"');
		expect(caught(() => store.list()).code).toBe('STORE');
		const {pins, problems} = store.scan();
		expect(pins).toHaveLength(3);
		expect(problems.map(problem => path.basename(problem.file))).toEqual(['c_1.json']);
	});

	it.each([
		['not JSON', '{"host":', /not valid JSON/v],
		['not an object', '[]', /not a JSON object/v],
		['missing field', JSON.stringify({host: 'collector', port: 44_321}), /field "pinnedBy"|field "host"|field "sha256"/v],
		['bad fingerprint', JSON.stringify({...fakePin('collector', 44_321, 'a'), sha256: 'AB:CD'}), /"sha256" is not a SHA-256/v],
		['another host inside', JSON.stringify(fakePin('evil', 44_321, 'a')), /does not match its file name/v],
		['empty file', '', /not valid JSON/v],
	])('a corrupt pin file (%s) is a STORE error naming the file and the fix, never "no pin"', (_name, content, pattern) => {
		const target = {host: 'collector', port: 44_321};
		mkdirSync(store.knownDir, {recursive: true});
		writeFileSync(store.pinPath(target), content);
		const error = caught(() => store.get(target));
		expect(error.code).toBe('STORE');
		expect(error.message).toMatch(pattern);
		expect(error.message).toContain(store.pinPath(target));
		expect(error.hint).toContain('secmon certs remove collector:44321');
		expect(error.hint).toContain(`delete ${store.pinPath(target)}`);
		// Adding over it is refused too: the corrupt file is not silently replaced.
		expect(caught(() => store.add(fakePin('collector', 44_321, 'x'))).code).toBe('STORE');
	});

	it('a directory in place of a pin is a STORE error naming it', () => {
		const target = {host: 'collector', port: 1};
		mkdirSync(store.pinPath(target), {recursive: true});
		const error = caught(() => store.get(target));
		expect(error.code).toBe('STORE');
		expect(error.message).toBe(`the pin file ${store.pinPath(target)} is a directory, not a regular file`);
		expect(error.hint).toContain(`mv ${store.pinPath(target)} `);
	});

	it('a store directory it cannot create is a STORE error that says what to do', () => {
		writeFileSync(path.join(home, 'blocker'), '');
		const blocked = new TrustStore(path.join(home, 'blocker', 'secmon'));
		const error = caught(() => blocked.add(fakePin('a', 1, 'a')));
		expect(error.code).toBe('STORE');
		expect(error.hint).toContain('SECMON_HOME');
	});

	it('trustedCas reads every certificate of <home>/cas/*.pem, and names a broken file', async () => {
		const pki = await testPki();
		expect(store.trustedCas()).toEqual([]);
		const file = store.addTrustedCa(pki.ca.cert);
		expect(path.dirname(file)).toBe(store.casDir);
		expect(mode(store.casDir)).toBe(0o700);
		writeFileSync(path.join(store.casDir, 'bundle.crt'), `${pki.otherCa.cert}\n${pki.ca.cert}`);
		writeFileSync(path.join(store.casDir, 'notes.txt'), 'ignored');
		expect(store.trustedCas()).toHaveLength(3);
		writeFileSync(path.join(store.casDir, 'broken.pem'), 'garbage');
		const error = caught(() => store.trustedCas());
		expect(error.code).toBe('STORE');
		expect(error.message).toContain(path.join(store.casDir, 'broken.pem'));
		expect(() => store.addTrustedCa(`${pki.ca.cert}${pki.otherCa.cert}`)).toThrow(/exactly one/v);
	});
});

describe('TLS memory', () => {
	const target = {host: 'collector', port: 44_321};
	const seen = (seed: string, basis = 'ca') => ({
		sha256: fakePin('collector', 44_321, seed).sha256, subject: `CN=${seed}`, notAfter: new Date('2046-01-02T03:04:05.000Z'), basis,
	});
	const now = new Date('2026-05-06T07:08:09.000Z');

	it('is undefined for a collector never read over TLS, and remembered as a record, 0600 in a 0700 dir', () => {
		const old = process.umask(0o002);
		try {
			expect(store.tlsMemory(target)).toBeUndefined();
			store.rememberTls({host: 'Collector', port: 44_321}, seen('a'), now);
			expect(store.tlsMemory(target)).toEqual({
				host: 'collector', port: 44_321, firstSeen: '2026-05-06T07:08:09.000Z', sha256: seen('a').sha256, subject: 'CN=a', notAfter: '2046-01-02T03:04:05.000Z', basis: 'ca', source: 'record',
			});
			expect(store.tlsPath(target)).toBe(path.join(store.home, 'known_tls', 'collector_44321.json'));
			expect(mode(store.knownTlsDir)).toBe(0o700);
			expect(mode(store.tlsPath(target))).toBe(0o600);
			expect(JSON.parse(readFileSync(store.tlsPath(target), 'utf8'))).toMatchObject({format: 'secmon-tls/1'});
			expect(readdirSync(store.knownTlsDir)).toEqual(['collector_44321.json']);
			// No pin was made, and pins know nothing of it.
			expect(store.get(target)).toBeUndefined();
		} finally {
			process.umask(old);
		}
	});

	it('keeps the first sighting: remembering again (another certificate, later) changes nothing', () => {
		store.rememberTls(target, seen('a'), now);
		store.rememberTls(target, seen('b', 'pinned'), new Date('2027-01-01T00:00:00.000Z'));
		expect(store.tlsMemory(target)).toMatchObject({sha256: seen('a').sha256, firstSeen: now.toISOString(), basis: 'ca'});
	});

	it('does not read an existing record when remembering (one lstat): even a corrupt one is left for tlsMemory to report', () => {
		mkdirSync(store.knownTlsDir, {recursive: true});
		writeFileSync(store.tlsPath(target), '{', {mode: 0o600});
		store.rememberTls(target, seen('a'), now);
		expect(readFileSync(store.tlsPath(target), 'utf8')).toBe('{');
		expect(caught(() => store.tlsMemory(target)).code).toBe('STORE');
	});

	it('a pin counts as TLS memory (source "pin", first seen when pinned), before any record', () => {
		const pin = fakePin('collector', 44_321, 'p');
		store.add(pin);
		expect(store.tlsMemory(target)).toEqual({
			host: 'collector', port: 44_321, firstSeen: pin.pinnedAt, sha256: pin.sha256, subject: pin.subject, notAfter: pin.notAfter, basis: 'pinned', source: 'pin',
		});
		store.rememberTls(target, seen('a'), now);
		expect(store.tlsMemory(target)?.source).toBe('pin');
		store.remove(target);
		expect(store.tlsMemory(target)?.source).toBe('record');
	});

	it('forgetTls removes the record, not the pin', () => {
		expect(store.forgetTls(target)).toBe(false);
		store.add(fakePin('collector', 44_321, 'p'));
		store.rememberTls(target, seen('a'), now);
		expect(store.forgetTls({host: 'COLLECTOR', port: 44_321})).toBe(true);
		expect(store.forgetTls(target)).toBe(false);
		expect(existsSync(store.tlsPath(target))).toBe(false);
		expect(store.get(target)).toBeDefined();
	});

	it('canonicalises IPv6 hosts as pins do', () => {
		store.rememberTls({host: '0:0:0:0:0:0:0:1', port: 1}, seen('a'), now);
		expect(store.tlsMemory({host: '[::1]', port: 1})).toMatchObject({host: '::1', port: 1});
	});

	const good = {
		format: 'secmon-tls/1', host: 'collector', port: 44_321, firstSeen: now.toISOString(), sha256: seen('a').sha256, subject: 'CN=a', notAfter: '2046-01-02T03:04:05.000Z', basis: 'ca',
	};
	it.each([
		['not JSON', '{"host":', /not valid JSON/v],
		['not an object', '[]', /not a JSON object/v],
		['no format tag', JSON.stringify({...good, format: undefined}), /field "format" is missing/v],
		['another format', JSON.stringify({...good, format: 'secmon-pin/1'}), /format "secmon-pin\/1" is not secmon-tls\/1/v],
		['bad fingerprint', JSON.stringify({...good, sha256: 'AB:CD'}), /"sha256" is not a SHA-256/v],
		['bad time', JSON.stringify({...good, firstSeen: 'yesterday'}), /"firstSeen" is not an ISO time/v],
		['bad port', JSON.stringify({...good, port: 0}), /"port" is missing or not a port/v],
		['odd basis', JSON.stringify({...good, basis: 'CA; rm -rf'}), /"basis" has an unexpected value/v],
		['another host inside', JSON.stringify({...good, host: 'evil'}), /record for evil:44321, which does not match its file name/v],
		['empty file', '', /not valid JSON/v],
	])('a corrupt record (%s) is a STORE error naming the file and the fix, never "not seen"', (_name, content, pattern) => {
		mkdirSync(store.knownTlsDir, {recursive: true});
		writeFileSync(store.tlsPath(target), content, {mode: 0o600});
		const error = caught(() => store.tlsMemory(target));
		expect(error.code).toBe('STORE');
		expect(error.message).toMatch(pattern);
		expect(error.message).toContain(`the TLS memory record ${store.tlsPath(target)} is corrupt`);
		expect(error.hint).toContain('secmon certs remove collector:44321');
	});

	it('a record under the store rules: a link in its place is refused (and not followed by rememberTls), a group-writable known_tls/ too', () => {
		mkdirSync(store.knownTlsDir, {recursive: true, mode: 0o700});
		const outside = path.join(home, 'outside.json');
		writeFileSync(outside, JSON.stringify(good), {mode: 0o600});
		symlinkSync(outside, store.tlsPath(target));
		expect(caught(() => store.tlsMemory(target)).message).toBe(`the TLS memory record ${store.tlsPath(target)} is a symbolic link; secmon never follows links in its store`);
		store.rememberTls(target, seen('b'), now);
		expect(JSON.parse(readFileSync(outside, 'utf8'))).toEqual(good);
		expect(store.forgetTls(target)).toBe(true);
		chmodSync(store.knownTlsDir, 0o770);
		expect(caught(() => store.tlsMemory(target)).message).toContain(`${store.knownTlsDir} is writable by group (mode 0770)`);
		expect(caught(() => {
			store.rememberTls(target, seen('a'), now);
		}).message).toContain('writable by group');
	});

	it('refuses to write an invalid record (a caller bug) instead of leaving one every run would refuse', () => {
		const error = caught(() => {
			store.rememberTls(target, {...seen('a'), sha256: 'not a fingerprint'}, now);
		});
		expect(error.code).toBe('INTERNAL');
		expect(existsSync(store.tlsPath(target))).toBe(false);
	});
});

describe('TrustStore with concurrent processes', () => {
	let build: string;
	let worker: string;

	beforeAll(() => {
		build = mkdtempSync(path.join(os.tmpdir(), 'secmon-store-build-'));
		const storeModule = transpileTree('source/security/store.ts', build);
		worker = path.join(build, 'worker.mjs');
		// Protocol: print "ready", wait for "go" on stdin (so all workers start together), then run
		// the job and print one JSON line per result.
		writeFileSync(worker, `
import {createHash} from 'node:crypto';
import {TrustStore} from ${JSON.stringify(pathToFileURL(storeModule).href)};
const [home, job, ...args] = process.argv.slice(2);
const store = new TrustStore(home);
const hex = (algorithm, seed) => createHash(algorithm).update(seed).digest('hex').toUpperCase().match(/../g).join(':');
const pin = (host, port, seed, extra = '') => ({
	host, port, sha256: hex('sha256', seed), sha1: hex('sha1', seed), spkiSha256: 'x', subject: 'CN=' + seed,
	issuer: 'CN=' + seed, notAfter: '2046-01-01T00:00:00.000Z', pinnedAt: new Date().toISOString(), pinnedBy: 'accept-new',
	pem: seed + extra,
});
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
	const results = [];
	if (job === 'distinct') {
		const [id, count] = args;
		for (let i = 0; i < Number(count); i++) {
			store.add(pin('host-' + id + '-' + i, 1000 + i, 'seed-' + id + '-' + i));
			results.push('ok');
		}
	} else if (job === 'same') {
		const [id, count] = args;
		for (let i = 0; i < Number(count); i++) {
			const mine = pin('shared-' + i, 2000, 'seed-' + id + '-' + i);
			try {
				const stored = store.add(mine);
				results.push({i, won: stored.sha256 === mine.sha256, sha256: mine.sha256});
			} catch (error) {
				results.push({i, won: false, code: error.code, sha256: mine.sha256});
			}
		}
	} else if (job === 'remember') {
		const [id, count] = args;
		for (let i = 0; i < Number(count); i++) {
			store.rememberTls({host: 'remembered-' + i, port: 4000}, {sha256: hex('sha256', 'seed-' + id + '-' + i), subject: 'CN=' + id, notAfter: new Date('2046-01-01T00:00:00.000Z'), basis: 'ca'});
			results.push(hex('sha256', 'seed-' + id + '-' + i));
		}
	} else if (job === 'rewrite') {
		const [count] = args;
		for (let i = 0; i < Number(count); i++) {
			store.add(pin('rewritten', 3000, 'seed-' + (i % 2), 'x'.repeat(i % 2 ? 60000 : 10)), {replace: true});
		}
	}
	process.stdout.write(JSON.stringify(results) + '\\n');
	process.exit(0);
});
`);
	});

	afterAll(() => {
		rmSync(build, {recursive: true, force: true});
	});

	type Worker = {ready: Promise<void>; done: Promise<unknown[]>; go: () => void};

	function startWorker(args: string[]): Worker {
		const child = spawn(process.execPath, [worker, store.home, ...args], {stdio: ['pipe', 'pipe', 'pipe']});
		let output = '';
		let errors = '';
		let markReady: () => void;
		const ready = new Promise<void>(resolve => {
			markReady = resolve;
		});
		child.stdout.setEncoding('utf8');
		child.stdout.on('data', (chunk: string) => {
			output += chunk;
			if (output.startsWith('ready\n')) {
				markReady();
			}
		});
		child.stderr.on('data', (chunk: Buffer) => {
			errors += chunk.toString();
		});
		const done = new Promise<unknown[]>((resolve, reject) => {
			child.on('close', code => {
				if (code === 0) {
					const parsed: unknown = JSON.parse(output.slice('ready\n'.length));
					resolve(Array.isArray(parsed) ? parsed : []);
				} else {
					reject(new Error(`worker pid ${child.pid ?? '?'} exited ${String(code)}: ${errors}`));
				}
			});
		});
		return {
			ready,
			done,
			go() {
				child.stdin.end('go\n');
			},
		};
	}

	type RaceResult = {won: boolean; code?: string; sha256: string};

	function raceResult(value: unknown): RaceResult {
		if (typeof value !== 'object' || value === null || !('won' in value) || !('sha256' in value) || typeof value.won !== 'boolean' || typeof value.sha256 !== 'string') {
			throw new Error(`unexpected worker result ${JSON.stringify(value)}`);
		}

		return {won: value.won, sha256: value.sha256, ...('code' in value && typeof value.code === 'string' ? {code: value.code} : {})};
	}

	async function runTogether(jobs: string[][]): Promise<unknown[][]> {
		const workers = jobs.map(args => startWorker(args));
		await Promise.all(workers.map(async worker => worker.ready));
		for (const worker of workers) {
			worker.go();
		}

		return Promise.all(workers.map(async worker => worker.done));
	}

	it('8 processes pinning different collectors at once lose no entry', async () => {
		const perWorker = 25;
		await runTogether(Array.from({length: 8}, (_, id) => ['distinct', String(id), String(perWorker)]));
		const pins = store.list();
		expect(pins).toHaveLength(8 * perWorker);
		for (let id = 0; id < 8; id++) {
			for (let i = 0; i < perWorker; i++) {
				expect(store.get({host: `host-${id}-${i}`, port: 1000 + i})?.subject).toBe(`CN=seed-${id}-${i}`);
			}
		}

		expect(readdirSync(store.knownDir).filter(name => name.startsWith('.'))).toEqual([]);
	});

	it('2 processes pinning the same collectors with different certificates: exactly one wins each, the other sees its pin', async () => {
		const count = 40;
		const [a, b] = await runTogether([['same', 'a', String(count)], ['same', 'b', String(count)]]);
		expect(a).toHaveLength(count);
		expect(b).toHaveLength(count);
		for (let i = 0; i < count; i++) {
			const resultA = raceResult(a?.[i]);
			const resultB = raceResult(b?.[i]);
			expect(resultA.won !== resultB.won).toBe(true);
			const winner = resultA.won ? resultA : resultB;
			const loser = resultA.won ? resultB : resultA;
			expect(loser.code).toBe('CERT_CHANGED');
			expect(store.get({host: `shared-${i}`, port: 2000})?.sha256).toBe(winner.sha256);
		}

		expect(store.scan().problems).toEqual([]);
		expect(readdirSync(store.knownDir).filter(name => name.startsWith('.'))).toEqual([]);
	});

	it('2 processes remembering TLS for the same collectors at once: neither fails, one whole record each', async () => {
		const count = 40;
		const [a, b] = await runTogether([['remember', 'a', String(count)], ['remember', 'b', String(count)]]);
		for (let i = 0; i < count; i++) {
			const memory = store.tlsMemory({host: `remembered-${i}`, port: 4000});
			expect(memory?.source).toBe('record');
			expect([a?.[i], b?.[i]]).toContain(memory?.sha256);
			expect(memory?.subject).toBe(memory?.sha256 === a?.[i] ? 'CN=a' : 'CN=b');
		}

		expect(readdirSync(store.knownTlsDir)).toHaveLength(count);
		expect(readdirSync(store.knownTlsDir).filter(name => name.startsWith('.'))).toEqual([]);
	});

	it('readers never see a torn pin while another process keeps replacing it', async () => {
		store.add(fakePin('rewritten', 3000, 'start'), {replace: true});
		const writer = startWorker(['rewrite', '300']);
		await writer.ready;
		writer.go();
		const state = {finished: false};
		const done = writer.done.finally(() => {
			state.finished = true;
		});
		let reads = 0;
		while (!state.finished) {
			expect(store.get({host: 'rewritten', port: 3000})?.host).toBe('rewritten');
			reads++;
			if (reads % 50 === 0) {
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			}
		}

		await done;
		expect(reads).toBeGreaterThan(10);
		expect(existsSync(store.pinPath({host: 'rewritten', port: 3000}))).toBe(true);
		expect(readdirSync(store.knownDir).filter(name => name.startsWith('.'))).toEqual([]);
	});
});

describe('permissions as a normal user', () => {
	it.skipIf(process.getuid?.() === 0)('an unreadable pin file is a STORE error', () => {
		const pin = fakePin('collector', 1, 'a');
		store.add(pin);
		chmodSync(store.pinPath(pin), 0o000);
		expect(caught(() => store.get(pin)).code).toBe('STORE');
	});
});
