import {execFileSync} from 'node:child_process';
import {createHash, X509Certificate} from 'node:crypto';
import {
	existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {certsCommand} from '../../../source/commands/certs/command.js';
import {initCa} from '../../../source/pki/ca.js';
import {describeCertificate, fingerprintArgument, spkiPin} from '../../../source/security/certificate.js';
import {TrustStore} from '../../../source/security/store.js';
import {testPki} from '../../helpers/certs.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {runSecmon, type SecmonResult} from '../../helpers/secmon.js';
import {checkJsonOutput} from '../../helpers/json-lines.js';

/** How the one --json sample says its collector was trusted. */
function trustOf(stdout: string): string {
	return (JSON.parse(stdout.trim()) as {tls: {trust: string}}).tls.trust;
}

const temporary: string[] = [];
function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), `secmon-certs-${prefix}-`));
	temporary.push(dir);
	return dir;
}

function sink(isTTY = false): {stream: Writable; text: () => string} {
	let text = '';
	const stream = new Writable({
		write(chunk: Uint8Array | string, _encoding, callback) {
			text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
			callback();
		},
	});
	Object.assign(stream, {isTTY});
	return {stream, text: () => text};
}

/** certsCommand in this process (for terminal colours and usage errors). */
async function certs(home: string, argv: string[], options: {tty?: boolean; env?: Record<string, string>} = {}): Promise<{code: number; stdout: string; stderr: string}> {
	const stdout = sink(options.tty);
	const stderr = sink();
	const code = await certsCommand(argv, {stdout: stdout.stream, stderr: stderr.stream, env: {SECMON_HOME: home, ...options.env}});
	checkJsonOutput(['certs', ...argv], stdout.text());
	return {code, stdout: stdout.text(), stderr: stderr.text()};
}

/** The real CLI, as a user runs it. */
async function secmon(home: string, args: string[]): Promise<SecmonResult> {
	return runSecmon(args, {env: {SECMON_HOME: home}});
}

function sha256Of(file: string): string {
	return new X509Certificate(readFileSync(file)).fingerprint256;
}

let offer: PmcdPeer;

beforeAll(async () => {
	offer = await startPmcd('offer');
});

afterAll(async () => {
	await offer?.stop();
	for (const dir of temporary) {
		rmSync(dir, {recursive: true, force: true});
	}
});

describe('usage', () => {
	it('prints help, and exits 2 with what to do next on misuse', async () => {
		const home = tempDir('usage');
		expect((await certs(home, [])).code).toBe(2);
		expect((await certs(home, ['--help'])).stdout).toContain('secmon certs import-nss [DIR]');
		const cases: Array<[string[], RegExp]> = [
			[['frobnicate'], /unknown certs command "frobnicate"/],
			[['list', '--bogus'], /unknown option --bogus for secmon certs list/],
			[['show'], /needs one HOST\[:PORT], SHA-256 fingerprint or CA name/],
			[['remove', 'a', 'b'], /needs one HOST:PORT/],
			[['trust-ca'], /needs one file with the CA certificate/],
			[['import-nss', '--port', 'x'], /--port must be a port number/],
			[['trust-ca', path.join(home, 'missing.pem')], /cannot read .*missing\.pem \(ENOENT\)/],
		];
		for (const [argv, pattern] of cases) {
			const result = await certs(home, argv);
			expect(result.code, argv.join(' ')).toBe(2);
			expect(result.stderr, argv.join(' ')).toMatch(pattern);
		}

		const nothing = await certs(home, ['show', 'nowhere:1']);
		expect(nothing.code).toBe(1);
		expect(nothing.stderr).toContain('no pinned collector or trusted CA matches "nowhere:1"');
		expect(nothing.stderr).toContain('secmon certs list');
		const empty = await certs(home, ['list']);
		expect(empty.code).toBe(0);
		expect(empty.stdout).toContain('No pinned collectors and no trusted CAs');
		// Listing never creates the store.
		expect(readdirSync(home)).toEqual([]);
	});
});

describe('a corrupt pin file', () => {
	it('is listed as a problem (exit 1), never hidden, and remove HOST:PORT still deletes it', async () => {
		const home = tempDir('corrupt');
		const store = new TrustStore(home);
		const pki = await testPki();
		const info = describeCertificate(pki.server.cert);
		store.add({
			host: 'good', port: 1, sha256: info.sha256, sha1: info.sha1, spkiSha256: info.spkiSha256, subject: info.subject, issuer: info.issuer, notAfter: info.validTo.toISOString(), pinnedAt: new Date().toISOString(), pinnedBy: 'accept-new', pem: info.pem,
		});
		writeFileSync(store.pinPath({host: 'broken', port: 2}), '{not json', {mode: 0o600});
		const list = await certs(home, ['list']);
		expect(list.code).toBe(1);
		expect(list.stdout).toContain('  good:1\n');
		expect(list.stderr).toContain(`the pin file ${store.pinPath({host: 'broken', port: 2})} is corrupt`);
		const json = JSON.parse((await certs(home, ['list', '--json'])).stdout) as {problems: Array<{file: string}>};
		expect(json.problems).toEqual([expect.objectContaining({file: store.pinPath({host: 'broken', port: 2})})]);
		const removed = await certs(home, ['remove', 'broken:2']);
		expect(removed.code, removed.stderr).toBe(0);
		expect((await certs(home, ['list'])).code).toBe(0);
	});
});

describe('remove HOST:PORT and the TLS memory', () => {
	const target = {host: 'collector', port: 44_321};
	const seen = async () => {
		const info = describeCertificate((await testPki()).server.cert);
		return {
			info, memory: {
				sha256: info.sha256, subject: info.subject, notAfter: info.validTo, basis: 'ca',
			},
		};
	};

	it('forgets the memory with the pin, and says so', async () => {
		const home = tempDir('tls-both');
		const store = new TrustStore(home);
		const {info, memory} = await seen();
		store.add({
			...target, sha256: info.sha256, sha1: info.sha1, spkiSha256: info.spkiSha256, subject: info.subject, issuer: info.issuer, notAfter: info.validTo.toISOString(), pinnedAt: new Date().toISOString(), pinnedBy: 'accept-new', pem: info.pem,
		});
		store.rememberTls(target, memory);
		const removed = await certs(home, ['remove', 'collector:44321']);
		expect(removed.code, removed.stderr).toBe(0);
		expect(removed.stdout).toContain(`Removed the pin for collector:44321 (SHA-256 ${info.sha256}, ${store.pinPath(target)}). Forgot that it spoke TLS (${store.tlsPath(target)}).\n`);
		expect(store.tlsMemory(target)).toBeUndefined();
	});

	it('with only a memory record and no pin, removes the record and succeeds; then there is nothing to remove', async () => {
		const home = tempDir('tls-only');
		const store = new TrustStore(home);
		store.rememberTls(target, (await seen()).memory);
		const removed = await certs(home, ['remove', 'collector:44321']);
		expect(removed.code, removed.stderr).toBe(0);
		expect(removed.stdout).toBe(`Forgot that collector:44321 spoke TLS (${store.tlsPath(target)}); it had no pin.\n`);
		expect(store.tlsMemory(target)).toBeUndefined();
		const again = await certs(home, ['remove', 'collector:44321']);
		expect(again.code).toBe(1);
		expect(again.stderr).toContain('no pinned collector or trusted CA matches "collector:44321"');
	});

	it('a pin alone is removed as before, with no word about TLS memory', async () => {
		const home = tempDir('tls-none');
		const store = new TrustStore(home);
		const {info} = await seen();
		store.add({
			...target, sha256: info.sha256, sha1: info.sha1, spkiSha256: info.spkiSha256, subject: info.subject, issuer: info.issuer, notAfter: info.validTo.toISOString(), pinnedAt: new Date().toISOString(), pinnedBy: 'accept-new', pem: info.pem,
		});
		const removed = await certs(home, ['remove', 'collector:44321']);
		expect(removed.code, removed.stderr).toBe(0);
		expect(removed.stdout).not.toContain('TLS');
	});
});

describe('pins made by real secmon runs against a real pmcd', () => {
	let home: string;
	const target = () => `127.0.0.1:${offer.port}`;

	beforeAll(async () => {
		home = tempDir('pins');
		const pinned = await secmon(home, ['--host', `pcps://${target()}`, '-f', 'hinv.ncpu', '--accept-new']);
		expect(pinned.code, pinned.stderr).toBe(0);
	});

	it('list shows host:port, subject, SHA-256, expiry with days left, and how it was trusted', async () => {
		const result = await secmon(home, ['certs', 'list']);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toContain(`Pinned collectors (1), in ${path.join(home, 'known_collectors')}:`);
		expect(result.stdout).toContain(`  ${target()}\n    subject  CN=collector\n    SHA-256  ${sha256Of(offer.servedCert!)}\n`);
		expect(result.stdout).toMatch(/ {4}expires {2}\d{4}-\d\d-\d\d [\d:]+ UTC \(\d{4} days left\)\n {4}trusted {2}\d{4}-\d\d-\d\d [\d:]+ UTC, by --accept-new\n/);
		expect(result.stdout).not.toContain('\u001B[');
		const json = JSON.parse((await secmon(home, ['certs', 'list', '--json'])).stdout) as {pins: Array<Record<string, unknown>>; cas: unknown[]};
		expect(json.cas).toEqual([]);
		expect(json.pins).toHaveLength(1);
		expect(json.pins[0]).toMatchObject({
			kind: 'pin', host: '127.0.0.1', port: offer.port, target: target(), subject: 'CN=collector', sha256: sha256Of(offer.servedCert!), trustedBy: 'accept-new', expiry: 'ok',
		});
		expect(json.pins[0]!['daysLeft']).toBeGreaterThan(3000);
	});

	it('show gives the full details and the PEM, by host:port, host, or fingerprint', async () => {
		const byTarget = await secmon(home, ['certs', 'show', target()]);
		expect(byTarget.code, byTarget.stderr).toBe(0);
		expect(byTarget.stdout).toContain(`${target()}  (pinned collector)`);
		expect(byTarget.stdout).toMatch(/Names \(SAN\): {3}DNS:localhost, IP Address:127\.0\.0\.1/);
		expect(byTarget.stdout).toContain(`SHA-1:         ${new X509Certificate(readFileSync(offer.servedCert!)).fingerprint}`);
		expect(byTarget.stdout).toContain(new X509Certificate(readFileSync(offer.servedCert!)).toString().trim());
		const byHost = await secmon(home, ['certs', 'show', '127.0.0.1']);
		expect(byHost.stdout).toBe(byTarget.stdout);
		const byFingerprint = await secmon(home, ['certs', 'show', fingerprintArgument(sha256Of(offer.servedCert!)), '--json']);
		const [entry] = JSON.parse(byFingerprint.stdout) as Array<Record<string, unknown>>;
		expect(entry).toMatchObject({target: target(), subjectAltNames: expect.arrayContaining(['DNS:localhost', 'IP Address:127.0.0.1']) as unknown});
		expect(new X509Certificate(entry!['pem'] as string).fingerprint256).toBe(sha256Of(offer.servedCert!));
	});

	it('show gives the public-key pin in curl\'s sha256//BASE64 form (text and --json), and finds the pin by it', async () => {
		const pin = `sha256//${createHash('sha256').update(new X509Certificate(readFileSync(offer.servedCert!)).publicKey.export({type: 'spki', format: 'der'})).digest('base64')}`;
		const text = await secmon(home, ['certs', 'show', target()]);
		expect(text.stdout).toContain(`  SPKI pin:      ${pin}  (curl --pinnedpubkey, secmon --fingerprint)\n`);
		const json = await secmon(home, ['certs', 'show', pin, '--json']);
		expect(json.code, json.stderr).toBe(0);
		const [entry] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
		expect(entry).toMatchObject({target: target(), spkiPin: pin, renewedAt: null});
	});

	it('--fingerprint sha256//BASE64 pins a collector whose public key matches; a mismatch is exit 3 showing the presented pin', async () => {
		const pinHome = tempDir('spki');
		const info = describeCertificate(readFileSync(offer.servedCert!, 'utf8'));
		const other = describeCertificate(readFileSync(offer.rotatedCert, 'utf8'));
		const wrong = await secmon(pinHome, ['--host', `pcps://${target()}`, '-f', 'hinv.ncpu', '--fingerprint', spkiPin(other)]);
		expect(wrong.code).toBe(3);
		expect(wrong.stderr).toContain(`expected  public-key pin ${spkiPin(other)}`);
		expect(wrong.stderr).toContain(`presented public-key pin ${spkiPin(info)}`);
		expect(existsSync(path.join(pinHome, 'known_collectors'))).toBe(false);
		const right = await secmon(pinHome, ['--host', `pcps://${target()}`, '-f', 'hinv.ncpu', '--json', '--fingerprint', spkiPin(info)]);
		expect(right.code, right.stderr).toBe(0);
		expect(trustOf(right.stdout)).toBe('fingerprint');
		expect(new TrustStore(pinHome).get({host: '127.0.0.1', port: offer.port})).toMatchObject({sha256: info.sha256, pinnedBy: 'fingerprint'});
	});

	it('export writes the pinned PEM to stdout or a file (never over an existing one without --force)', async () => {
		const stdout = await secmon(home, ['certs', 'export', target()]);
		expect(stdout.code).toBe(0);
		expect(new X509Certificate(stdout.stdout).fingerprint256).toBe(sha256Of(offer.servedCert!));
		const file = path.join(tempDir('export'), 'collector.pem');
		expect((await secmon(home, ['certs', 'export', target(), '--out', file])).code).toBe(0);
		expect(sha256Of(file)).toBe(sha256Of(offer.servedCert!));
		const again = await secmon(home, ['certs', 'export', target(), '--out', file]);
		expect(again.code).toBe(2);
		expect(again.stderr).toContain('exists; nothing was written');
		expect((await secmon(home, ['certs', 'export', target(), '--out', file, '--force'])).code).toBe(0);
		// openssl agrees on the fingerprint of what was exported.
		expect(execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file], {encoding: 'utf8'}).trim())
			.toBe(`sha256 Fingerprint=${sha256Of(offer.servedCert!)}`);
	});

	it('remove HOST:PORT (as refusals print it) forgets the pin: the next non-interactive run is refused (exit 3)', async () => {
		const removeHome = tempDir('remove');
		expect((await secmon(removeHome, ['--host', `pcps://${target()}`, '-f', 'hinv.ncpu', '--accept-new'])).code).toBe(0);
		const removed = await secmon(removeHome, ['certs', 'remove', target()]);
		expect(removed.code, removed.stderr).toBe(0);
		expect(removed.stdout).toContain(`Removed the pin for ${target()} (SHA-256 ${sha256Of(offer.servedCert!)}`);
		expect((await secmon(removeHome, ['certs', 'list', '--json'])).stdout).toContain('"pins":[]');
		const refused = await secmon(removeHome, ['--host', `pcps://${target()}`, '-f', 'hinv.ncpu']);
		expect(refused.code).toBe(3);
		const gone = await secmon(removeHome, ['certs', 'remove', target()]);
		expect(gone.code).toBe(1);
		expect(gone.stderr).toContain('no pinned collector or trusted CA matches');
	});

	it('remove by fingerprint removes every pin of that certificate; a bare host that matches several is refused', async () => {
		const multi = tempDir('multi');
		const store = new TrustStore(multi);
		const info = describeCertificate(readFileSync(offer.servedCert!, 'utf8'));
		for (const port of [1001, 1002]) {
			store.add({
				host: 'collector', port, sha256: info.sha256, sha1: info.sha1, spkiSha256: info.spkiSha256, subject: info.subject, issuer: info.issuer, notAfter: info.validTo.toISOString(), pinnedAt: new Date().toISOString(), pinnedBy: 'prompt', pem: info.pem,
			});
		}

		const ambiguous = await certs(multi, ['remove', 'collector']);
		expect(ambiguous.code).toBe(2);
		expect(ambiguous.stderr).toContain('"collector" matches 2 entries: collector:1001, collector:1002; nothing was removed');
		const byFingerprint = await certs(multi, ['remove', info.sha256]);
		expect(byFingerprint.code, byFingerprint.stderr).toBe(0);
		expect(byFingerprint.stdout.match(/Removed the pin/g)).toHaveLength(2);
		expect(store.list()).toEqual([]);
	});
});

describe('trust-ca', () => {
	it('a CA from the test PKI makes a real fetch trusted by "ca", with no pin; remove undoes it', async () => {
		const home = tempDir('trust-ca');
		const url = `pcps://127.0.0.1:${offer.port}`;
		expect((await secmon(home, ['--host', url, '-f', 'hinv.ncpu'])).code).toBe(3);
		const trusted = await secmon(home, ['certs', 'trust-ca', offer.caFile]);
		expect(trusted.code, trusted.stderr).toBe(0);
		expect(trusted.stdout).toContain('Trusted the CA "secmon test CA"');
		expect(trusted.stdout).toContain(`SHA-256  ${sha256Of(offer.caFile)}`);
		expect(trusted.stdout).toContain('Undo with: secmon certs remove "secmon test CA"');

		const fetched = await secmon(home, ['--host', url, '-f', 'hinv.ncpu', '--json']);
		expect(fetched.code, fetched.stderr).toBe(0);
		expect(JSON.parse(fetched.stdout.trim())).toMatchObject({metric: 'hinv.ncpu', tls: {trust: 'ca', sha256: sha256Of(offer.servedCert!)}});
		expect(existsSync(path.join(home, 'known_collectors'))).toBe(false);

		const list = await secmon(home, ['certs', 'list']);
		expect(list.stdout).toContain('Trusted CAs (1)');
		expect(list.stdout).toContain(`  secmon test CA\n    subject  CN=secmon test CA\n    SHA-256  ${sha256Of(offer.caFile)}\n`);
		expect(list.stdout).toContain(`with secmon certs trust-ca ${offer.caFile}`);
		// The index is conf's file, private like the rest of the store; the PEM is its own file.
		expect(statSync(path.join(home, 'trusted-cas.json')).mode & 0o777).toBe(0o600);
		expect(statSync(home).mode & 0o777).toBe(0o700);
		const index = JSON.parse(readFileSync(path.join(home, 'trusted-cas.json'), 'utf8')) as Record<string, {name: string; how: string}>;
		expect(index[sha256Of(offer.caFile)]).toMatchObject({name: 'secmon test CA', how: 'trust-ca', source: offer.caFile});
		expect(readdirSync(path.join(home, 'cas'))).toHaveLength(1);

		const exported = await secmon(home, ['certs', 'export', 'secmon test CA']);
		expect(new X509Certificate(exported.stdout).fingerprint256).toBe(sha256Of(offer.caFile));

		const removed = await secmon(home, ['certs', 'remove', 'secmon test CA']);
		expect(removed.code, removed.stderr).toBe(0);
		expect(removed.stdout).toContain('Removed the trusted CA "secmon test CA"');
		expect(readdirSync(path.join(home, 'cas'))).toEqual([]);
		expect(JSON.parse(readFileSync(path.join(home, 'trusted-cas.json'), 'utf8'))).toEqual({});
		expect((await secmon(home, ['--host', url, '-f', 'hinv.ncpu'])).code).toBe(3);
	});

	it('names: --name, a clash with another CA, the same CA again; refuses non-CA and expired certificates', async () => {
		const home = tempDir('names');
		expect((await secmon(home, ['certs', 'trust-ca', offer.caFile, '--name', 'fleet'])).code).toBe(0);
		const clash = await secmon(home, ['certs', 'trust-ca', offer.otherCaFile, '--name', 'FLEET']);
		expect(clash.code).toBe(2);
		expect(clash.stderr).toContain('another trusted CA is already called "FLEET"');
		const again = await secmon(home, ['certs', 'trust-ca', offer.caFile]);
		expect(again.stdout).toContain('Still trusting the CA "fleet"');
		expect((await secmon(home, ['certs', 'show', 'fleet'])).stdout).toContain('fleet  (trusted CA)');

		const leaf = await secmon(home, ['certs', 'trust-ca', offer.servedCert!]);
		expect(leaf.code).toBe(1);
		expect(leaf.stderr).toContain('CN=collector is not a CA certificate (no basicConstraints CA:TRUE); nothing was trusted');
		expect(leaf.stderr).toContain(`--fingerprint ${fingerprintArgument(sha256Of(offer.servedCert!))}`);

		const dir = tempDir('expired-ca');
		const expired = await initCa({
			dir, algorithm: 'ecdsa-p256', cn: 'old CA', notBefore: new Date(Date.now() - (20 * 86_400_000)), notAfter: new Date(Date.now() - 86_400_000),
		});
		const refused = await secmon(home, ['certs', 'trust-ca', expired.certificatePath]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/the CA certificate CN=old CA in .* expired on \d{4}-/);
		expect((await secmon(home, ['certs', 'list', '--json'])).stdout.match(/"kind":"ca"/g)).toHaveLength(1);
	});
});

describe('trust-ca --fingerprint (bootstrap a site CA safely, as step ca bootstrap does)', () => {
	it('adds the CA when its SHA-256 or public-key pin matches, refuses it (exit 3, nothing trusted) when not', async () => {
		const home = tempDir('bootstrap');
		const ca = describeCertificate(readFileSync(offer.caFile, 'utf8'));
		const other = describeCertificate(readFileSync(offer.otherCaFile, 'utf8'));
		const wrong = await secmon(home, ['certs', 'trust-ca', offer.caFile, '--fingerprint', fingerprintArgument(other.sha256)]);
		expect(wrong.code).toBe(3);
		expect(wrong.stderr).toContain('does not match --fingerprint; nothing was trusted');
		expect(wrong.stderr).toContain(`expected SHA-256 ${other.sha256}`);
		expect(wrong.stderr).toContain(`actual   SHA-256 ${ca.sha256}`);
		const wrongPin = await secmon(home, ['certs', 'trust-ca', offer.caFile, '--fingerprint', spkiPin(other)]);
		expect(wrongPin.code).toBe(3);
		expect(wrongPin.stderr).toContain(`expected public-key pin ${spkiPin(other)}`);
		expect(wrongPin.stderr).toContain(`actual   public-key pin ${spkiPin(ca)}`);
		expect(existsSync(path.join(home, 'cas'))).toBe(false);
		const typo = await secmon(home, ['certs', 'trust-ca', offer.caFile, '--fingerprint', 'abc']);
		expect(typo.code).toBe(2);

		const right = await secmon(home, ['certs', 'trust-ca', offer.caFile, '--fingerprint', ca.sha256.toLowerCase()]);
		expect(right.code, right.stderr).toBe(0);
		expect(right.stdout).toContain('Trusted the CA "secmon test CA"');
		expect(right.stdout).toContain('  checked  matches --fingerprint\n');
		expect(readdirSync(path.join(home, 'cas'))).toHaveLength(1);
		const byPin = await secmon(home, ['certs', 'trust-ca', offer.caFile, '--fingerprint', spkiPin(ca)]);
		expect(byPin.code, byPin.stderr).toBe(0);
		expect(byPin.stdout).toContain('Still trusting the CA "secmon test CA"');
	});
});

describe('expiry highlighting', () => {
	it('highlights under 30 days only on a terminal, and never with NO_COLOR', async () => {
		const home = tempDir('colour');
		const pki = await testPki();
		const info = describeCertificate(pki.expiring.cert);
		new TrustStore(home).add({
			host: 'soon', port: 44_321, sha256: info.sha256, sha1: info.sha1, spkiSha256: info.spkiSha256, subject: info.subject, issuer: info.issuer, notAfter: info.validTo.toISOString(), pinnedAt: new Date().toISOString(), pinnedBy: 'fingerprint', pem: info.pem,
		});
		const tty = await certs(home, ['list'], {tty: true});
		expect(tty.stdout).toMatch(/expires {2}\u001B\[33m\d{4}-\d\d-\d\d [\d:]+ UTC \((?:9|10) day\(s\) left: renew it soon\)\u001B\[39m/);
		expect(tty.stdout).toContain('by --fingerprint');
		const noColor = await certs(home, ['list'], {tty: true, env: {NO_COLOR: '1'}});
		expect(noColor.stdout).not.toContain('\u001B[');
		expect(noColor.stdout).toContain('day(s) left: renew it soon');
		const pipe = await certs(home, ['list']);
		expect(pipe.stdout).not.toContain('\u001B[');
		expect((JSON.parse((await certs(home, ['list', '--json'])).stdout) as {pins: unknown[]}).pins[0]).toMatchObject({expiry: 'expiring', target: 'soon:44321'});
	});
});
