/**
 * `secmon serve` options, the PKI it makes on first start (checked with
 * openssl), and the embedded collector behind `secmon` with no --host.
 */
import {execFileSync} from 'node:child_process';
import {createPrivateKey, X509Certificate} from 'node:crypto';
import {
	mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {serveCommand, startEmbeddedCollector} from '../../source/serve/command.js';
import {
	canonicalIp, ensureServePki, requiredSans, servePkiDir,
} from '../../source/serve/pki.js';
import {runPminfo} from '../helpers/pminfo.js';
import {
	Capture, clientTlsConf, servePort, startCollector,
} from './helpers.js';

describe('serveCommand', () => {
	test('serveCommand: --help exits 0, bad usage exits 2 with a hint', async () => {
		const out = new Capture();
		const err = new Capture();
		expect(await serveCommand(['--help'], {stdout: out, stderr: err, env: {}})).toBe(0);
		expect(out.text).toContain('secmon serve [--listen ADDR:PORT]');
		for (const flag of ['--max-clients N', '--max-per-address N', '--idle-timeout TIME', '--handshake-timeout TIME']) {
			expect(out.text).toContain(flag);
		}

		expect(out.text).toContain('(default 15min)');
		expect(await serveCommand(['--tls', 'sometimes'], {stdout: out, stderr: err, env: {}})).toBe(2);
		expect(err.text).toContain('secmon: --tls sometimes: expected require, offer or off');
	});

	test('serveCommand runs until stopped, and a port in use is a clear error', async () => {
		const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-cmd-'));
		const port = await servePort();
		const out = new Capture();
		const err = new Capture();
		const controller = new AbortController();
		const io = {stdout: out, stderr: err, env: {SECMON_HOME: home}};
		const running = serveCommand(['--listen', `127.0.0.1:${port}`, '--tls', 'off'], io, {signal: controller.signal});
		try {
			for (let i = 0; i < 100 && !out.text.includes('listening'); i++) {
				await new Promise(resolve => {
					setTimeout(resolve, 50);
				});
			}

			expect(out.text).toContain(`listening on 127.0.0.1:${port} (plain text, no TLS)`);
			expect(err.text).toContain('warning: --tls off sends metric names and values unencrypted');
			const second = new Capture();
			expect(await serveCommand(['--listen', `127.0.0.1:${port}`, '--tls', 'off'], {stdout: new Capture(), stderr: second, env: {SECMON_HOME: home}})).toBe(1);
			expect(second.text).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
			expect(second.text).toContain('--listen ADDR:PORT');
		} finally {
			controller.abort();
			expect(await running).toBe(0);
			rmSync(home, {recursive: true, force: true});
		}
	});
});

function opensslText(file: string): string {
	return execFileSync('openssl', ['x509', '-noout', '-text', '-in', file], {encoding: 'utf8'});
}

describe('the collector PKI', () => {
	let home: string;

	beforeAll(() => {
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-pki-'));
	});

	afterAll(() => {
		rmSync(home, {recursive: true, force: true});
	});

	test('first start: a local CA and a server certificate, RSA 2048 + SHA-512, private keys 0600 in a 0700 directory', async () => {
		const pki = await ensureServePki({home, sans: requiredSans(['127.0.0.1', '127.0.0.5'])});
		expect(pki.createdCa).toBe(true);
		expect(pki.issuedServerCert).toBe(true);
		const dir = servePkiDir(home);
		expect(statSync(dir).mode & 0o777).toBe(0o700);
		expect(statSync(path.join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
		expect(statSync(pki.keyFile).mode & 0o777).toBe(0o600);

		const ca = opensslText(pki.caFile);
		expect(ca).toContain('Signature Algorithm: sha512WithRSAEncryption');
		expect(ca).toContain('Public-Key: (2048 bit)');
		expect(ca).toMatch(/CA:TRUE/v);
		const server = opensslText(pki.certFile);
		expect(server).toContain('Signature Algorithm: sha512WithRSAEncryption');
		expect(server).toContain('Public-Key: (2048 bit)');
		expect(server).toContain('TLS Web Server Authentication');
		for (const name of ['IP Address:127.0.0.1', 'IP Address:127.0.0.5', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:localhost', `DNS:${os.hostname()}`]) {
			expect(server).toContain(name);
		}

		const caCert = new X509Certificate(readFileSync(pki.caFile));
		const leaf = new X509Certificate(readFileSync(pki.certFile));
		expect(leaf.verify(caCert.publicKey)).toBe(true);
		const years = (date: string) => (new Date(date).getTime() - Date.now()) / (365 * 24 * 3600 * 1000);
		expect(years(caCert.validTo)).toBeGreaterThan(9.9);
		expect(years(leaf.validTo)).toBeGreaterThan(9.9);
		execFileSync('openssl', ['verify', '-CAfile', pki.caFile, pki.certFile]);
	});

	test('a second start reuses everything; a new listen address gets a new server certificate from the same CA', async () => {
		const caBefore = readFileSync(path.join(servePkiDir(home), 'ca.pem'), 'utf8');
		const certBefore = readFileSync(path.join(servePkiDir(home), 'server.pem'), 'utf8');
		const again = await ensureServePki({home, sans: requiredSans(['127.0.0.1'])});
		expect(again.createdCa).toBe(false);
		expect(again.issuedServerCert).toBe(false);
		expect(readFileSync(again.certFile, 'utf8')).toBe(certBefore);

		const wider = await ensureServePki({home, sans: requiredSans(['127.0.0.9'])});
		expect(wider.issuedServerCert).toBe(true);
		expect(readFileSync(wider.caFile, 'utf8')).toBe(caBefore);
		const text = opensslText(wider.certFile);
		// Old names stay, so clients that used them keep working.
		expect(text).toContain('IP Address:127.0.0.5');
		expect(text).toContain('IP Address:127.0.0.9');
	});

	test('a damaged server key is replaced, never used', async () => {
		writeFileSync(path.join(servePkiDir(home), 'server.key'), 'garbage');
		const repaired = await ensureServePki({home, sans: requiredSans(['127.0.0.1'])});
		expect(repaired.issuedServerCert).toBe(true);
		const key = readFileSync(repaired.keyFile, 'utf8');
		expect(new X509Certificate(readFileSync(repaired.certFile)).checkPrivateKey(createPrivateKey(key))).toBe(true);
	});

	test('several starts at once (file lock) share one CA', async () => {
		const fresh = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-race-'));
		try {
			const results = await Promise.all(Array.from({length: 4}, async () => ensureServePki({home: fresh, sans: requiredSans(['127.0.0.1'])})));
			expect(results.filter(result => result.createdCa)).toHaveLength(1);
			const cas = new Set(results.map(result => readFileSync(result.caFile, 'utf8')));
			expect(cas.size).toBe(1);
		} finally {
			rmSync(fresh, {recursive: true, force: true});
		}
	});

	test('IPv6 SANs compare in one canonical form', () => {
		expect(canonicalIp('::1')).toBe('0:0:0:0:0:0:0:1');
		expect(canonicalIp('fe80::0a:1')).toBe('fe80:0:0:0:0:0:a:1');
		expect(canonicalIp('::ffff:127.0.0.1')).toBe('0:0:0:0:0:ffff:7f00:1');
		expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
	});

	test('--cert/--key: a key that does not belong to the certificate is refused', async () => {
		const dir = servePkiDir(home);
		const collector = startCollector(['--cert', path.join(dir, 'ca.pem'), '--key', path.join(dir, 'server.key')], {home});
		await expect(collector).rejects.toThrow(/is not the private key of/v);
	});
});

describe('the embedded collector (secmon with no --host)', () => {
	test('loopback, ephemeral port, TLS required, CA from the secmon home', async () => {
		const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-embedded-'));
		const embedded = await startEmbeddedCollector({home});
		try {
			expect(embedded.host).toBe('127.0.0.1');
			expect(embedded.port).toBeGreaterThan(0);
			expect(embedded.caFile).toBe(path.join(home, 'serve', 'ca.pem'));
			const address = `${embedded.host}:${embedded.port}`;
			const conf = clientTlsConf(home, 'verify.conf', {ca: embedded.caFile});
			const secure = await runPminfo(['-h', address, '-f', 'kernel.all.load'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
			expect(secure.stderr).toBe('');
			expect(secure.stdout).toContain('inst [1 or "1 minute"] value');
			const plain = await runPminfo(['-h', address, '-f', 'kernel.all.load']);
			expect(plain.code).toBe(1);
			expect(plain.stderr).toContain('No permission to perform requested operation');
		} finally {
			await embedded.close();
			rmSync(home, {recursive: true, force: true});
		}
	});
});
