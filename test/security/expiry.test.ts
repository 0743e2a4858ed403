import {
	copyFileSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {initCa} from '../../source/pki/ca.js';
import {issueCertificate} from '../../source/pki/issue.js';
import {parseSan} from '../../source/pki/x509.js';
import {
	expiryOf, expiryWarning, relativeDays, warnIfExpiring,
} from '../../source/security/expiry.js';
import {TrustStore} from '../../source/security/store.js';
import {connectTls} from '../../source/security/tls.js';
import type {TlsFacts} from '../../source/security/types.js';
import {testPki, type TestPki} from '../helpers/certs.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runSecmon} from '../helpers/secmon.js';

const day = 24 * 60 * 60 * 1000;
const now = new Date('2030-06-15T12:00:00Z');
const at = (days: number) => new Date(now.getTime() + (days * day));

/** How the one --json sample says its collector was trusted. */
function trustOf(stdout: string): string {
	return (JSON.parse(stdout.trim()) as {tls: {trust: string}}).tls.trust;
}

const temporary: string[] = [];
function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), `secmon-expiry-${prefix}-`));
	temporary.push(dir);
	return dir;
}

afterAll(() => {
	for (const dir of temporary) {
		rmSync(dir, {recursive: true, force: true});
	}
});

describe('expiryOf / expiryWarning', () => {
	it('classifies by days left, with the 30-day threshold', () => {
		expect(expiryOf({validTo: at(400)}, now)).toMatchObject({state: 'ok', daysLeft: 400});
		expect(expiryOf({validTo: at(30)}, now)).toMatchObject({state: 'ok', daysLeft: 30});
		expect(expiryOf({validTo: at(29.9)}, now)).toMatchObject({state: 'expiring', daysLeft: 29});
		expect(expiryOf({validTo: at(0.5)}, now)).toMatchObject({state: 'expiring', daysLeft: 0});
		expect(expiryOf({validTo: at(-2)}, now)).toMatchObject({state: 'expired', daysLeft: -2});
		expect(expiryOf({validTo: at(100), validFrom: at(1)}, now).state).toBe('not-yet-valid');
		expect(expiryOf({validTo: new Date(Number.NaN)}, now).state).toBe('unknown');
	});

	it('says nothing for a certificate with 30 days or more left', () => {
		expect(expiryWarning({validTo: at(30)}, now, 'collector:44321')).toBeUndefined();
		expect(expiryWarning({validTo: at(3000)}, now)).toBeUndefined();
		expect(expiryWarning({validTo: new Date(Number.NaN)}, now)).toBeUndefined();
	});

	it('names the collector, the date and what to do under 30 days', () => {
		const text = expiryWarning({validTo: at(10), subject: 'CN=collector'}, now, 'collector:44321');
		expect(text).toBe('secmon: warning: the certificate of collector:44321 (CN=collector) expires in 10 days, on 2030-06-25 12:00:00 UTC; '
			+ 'renew it on the collector before then, or connections will be refused; details: secmon verify --host collector:44321');
		expect(expiryWarning({validTo: at(1.5)}, now)).toContain('the certificate of the collector expires in 1 day,');
		expect(expiryWarning({validTo: at(0.2)}, now)).toContain('expires within a day');
	});

	it('says EXPIRED for an expired certificate', () => {
		const text = expiryWarning({validTo: at(-3), subject: 'CN=old'}, now, '[::1]:44321');
		expect(text).toMatch(/^secmon: warning: the certificate of \[::1]:44321 \(CN=old\) EXPIRED 3 days ago, on 2030-06-12 12:00:00 UTC; renew it on the collector/);
		expect(relativeDays({daysLeft: -1, validTo: at(-0.5)}, now)).toBe('less than a day ago');
	});

	it('warnIfExpiring does not repeat what the trust decision said about an expired pinned certificate', () => {
		const facts = (basis: TlsFacts['basis'], validTo: Date): TlsFacts => ({
			version: 'TLSv1.3', cipher: 'x', basis, sha256: 'AA', sha1: 'BB', subject: 'CN=c', validTo,
		});
		const seen: string[] = [];
		const warn = (message: string) => seen.push(message);
		warnIfExpiring(undefined, 'c:1', warn, now);
		warnIfExpiring(facts('pinned', at(-1)), 'c:1', warn, now);
		expect(seen).toEqual([]);
		warnIfExpiring(facts('ca', at(-1)), 'c:1', warn, now);
		warnIfExpiring(facts('pinned', at(5)), 'c:1', warn, now);
		warnIfExpiring(facts('accept-new', at(50)), 'c:1', warn, now);
		expect(seen).toHaveLength(2);
		expect(seen[0]).toContain('EXPIRED 1 day ago');
		expect(seen[1]).toContain('expires in 5 days');
	});
});

describe('with a real short-lived certificate over TLS', () => {
	let pki: TestPki;
	let server: tls.Server;
	let port: number;
	let home: string;

	beforeAll(async () => {
		pki = await testPki();
		server = tls.createServer({key: pki.expiring.key, cert: pki.expiring.cert}, socket => {
			socket.on('error', () => undefined);
			socket.end();
		});
		await new Promise<void>(resolve => {
			server.listen(0, '127.0.0.1', resolve);
		});
		port = (server.address() as {port: number}).port;
		home = tempDir('home');
	});

	afterAll(async () => {
		await new Promise(resolve => {
			server.close(resolve);
		});
	});

	it('the facts of a real connection to a 10-day certificate produce the warning', async () => {
		const {stream, facts} = await connectTls({
			target: {host: '127.0.0.1', port}, acceptNew: true, store: new TrustStore(home),
		});
		stream.destroy();
		const seen: string[] = [];
		warnIfExpiring(facts, `127.0.0.1:${port}`, message => seen.push(message));
		expect(seen).toHaveLength(1);
		expect(seen[0]).toMatch(new RegExp(`^secmon: warning: the certificate of 127\\.0\\.0\\.1:${port} \\(CN=collector, O=secmon\\) expires in (?:9|10) days, on \\d{4}-`));
		// The long-lived server certificate of the same PKI is not warned about.
		expect(expiryWarning({validTo: new Date(Date.now() + (3000 * day))})).toBeUndefined();
	});
});

describe('normal fetch runs against a real pmcd with a certificate issued by secmon pki for 10 days', () => {
	let peer: PmcdPeer | undefined;
	let caFile: string;
	const savedCerts = process.env['SECMON_TEST_CERTS'];

	beforeAll(async () => {
		const dir = tempDir('pki');
		const ca = await initCa({dir: path.join(dir, 'ca'), algorithm: 'rsa2048', cn: 'secmon expiry test CA'});
		const server = await issueCertificate({
			ca,
			cn: 'collector',
			sans: ['DNS:localhost', 'IP:127.0.0.1'].map(item => parseSan(item)),
			algorithm: 'rsa2048',
			notAfter: new Date(Date.now() + (10 * day)),
		});
		// pmcd.sh takes $SECMON_TEST_CERTS/{ca,server}.{pem,key} and makes only what is missing.
		const certs = tempDir('certs');
		copyFileSync(ca.certificatePath, path.join(certs, 'ca.pem'));
		copyFileSync(ca.keyPath, path.join(certs, 'ca.key'));
		writeFileSync(path.join(certs, 'server.pem'), server.certificatePem);
		writeFileSync(path.join(certs, 'server.key'), server.keyPem, {mode: 0o600});
		caFile = ca.certificatePath;
		process.env['SECMON_TEST_CERTS'] = certs;
		peer = await startPmcd('offer');
	});

	afterAll(async () => {
		await peer?.stop();
		if (savedCerts === undefined) {
			delete process.env['SECMON_TEST_CERTS'];
		} else {
			process.env['SECMON_TEST_CERTS'] = savedCerts;
		}
	});

	const warning = (address: string) => new RegExp(`secmon: warning: the certificate of ${address.replaceAll('.', '\\.')} \\(CN=collector\\) expires in (?:9|10) days, on \\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC; renew it`);

	it('warns on stderr whether trusted by pin (first use and later) or by CA, and still fetches', async () => {
		const home = tempDir('home');
		const url = `pcps://${peer!.address}`;
		const first = await runSecmon(['--host', url, '-f', 'hinv.ncpu', '--accept-new'], {env: {SECMON_HOME: home}});
		expect(first.code, first.stderr).toBe(0);
		expect(first.stdout).toMatch(/hinv\.ncpu\n\s+value \d+/);
		expect(first.stderr).toMatch(warning(peer!.address));

		const pinned = await runSecmon(['--host', url, '-f', 'hinv.ncpu', '--json'], {env: {SECMON_HOME: home}});
		expect(pinned.code, pinned.stderr).toBe(0);
		expect(trustOf(pinned.stdout)).toBe('pinned');
		expect(pinned.stderr).toMatch(warning(peer!.address));

		const byCa = await runSecmon(['--host', url, '-f', 'hinv.ncpu', '--json', '--ca-file', caFile], {env: {SECMON_HOME: tempDir('home')}});
		expect(byCa.code, byCa.stderr).toBe(0);
		expect(trustOf(byCa.stdout)).toBe('ca');
		expect(byCa.stderr).toMatch(warning(peer!.address));
		// Once per run, not once per request.
		expect(byCa.stderr.match(/expires in/g)).toHaveLength(1);
	});

	it('secmon verify shows the days left, passes (exit 0) and says to renew', async () => {
		const result = await runSecmon(['verify', '--host', peer!.address, '--ca-file', caFile], {env: {SECMON_HOME: tempDir('home')}});
		expect(result.code, result.stdout + result.stderr).toBe(0);
		expect(result.stdout).toMatch(/Expires\s+\d{4}-\d\d-\d\d [\d:]+ UTC \(only (?:9|10) day\(s\) left\)/);
		expect(result.stdout).toContain('renew it on the collector (e.g. secmon pki issue --cn collector --force');
		const json = await runSecmon(['verify', '--host', peer!.address, '--ca-file', caFile, '--json'], {env: {SECMON_HOME: tempDir('home')}});
		const report = JSON.parse(json.stdout) as {expiry: {state: string; daysLeft: number; warning: string}; ok: boolean};
		expect(report.ok).toBe(true);
		expect(report.expiry.state).toBe('expiring');
		expect(report.expiry.daysLeft).toBeGreaterThanOrEqual(9);
		expect(report.expiry.warning).toMatch(warning(peer!.address));
	});
});
