/**
 * The cryptographic floor with the real secmon binary: Node TLS servers on loopback present weak
 * certificates, offer only a non-forward-secret suite, or ask to renegotiate; a real pmcd serves a
 * SHA-1-signed certificate. Livestatus is TLS from the first byte, so every refusal happens before
 * a Livestatus byte is exchanged. No refusal may say "UNSPECIFIED".
 */
import {execFileSync} from 'node:child_process';
import {
	copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import tls from 'node:tls';
import {
	afterAll, afterEach, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd} from '../helpers/pmcd.js';
import {runSecmon, tempHome, type SecmonResult} from '../helpers/secmon.js';
import {
	ecCert, rsaCert, type MadeCert,
} from '../helpers/weak-certs.js';

const day = 24 * 60 * 60 * 1000;
const servers: tls.Server[] = [];
const homes: Array<ReturnType<typeof tempHome>> = [];

type ServerOptions = tls.TlsOptions & {onSecure?: (socket: tls.TLSSocket) => void};

/** A TLS server that accepts anything the test allows (security level 0) and answers nothing. */
async function serve(made: MadeCert, options: ServerOptions = {}): Promise<number> {
	const {onSecure, ...tlsOptions} = options;
	const server = tls.createServer({
		cert: made.cert, key: made.key, ciphers: 'DEFAULT@SECLEVEL=0', ...tlsOptions,
	}, socket => {
		socket.on('error', () => undefined);
		onSecure?.(socket);
	});
	server.on('tlsClientError', () => undefined);
	servers.push(server);
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return (server.address() as {port: number}).port;
}

function home(): string {
	const made = tempHome();
	homes.push(made);
	return made.dir;
}

function pins(dir: string): string[] {
	try {
		return readdirSync(path.join(dir, 'known_collectors'));
	} catch {
		return [];
	}
}

async function acceptNew(port: number, dir: string): Promise<SecmonResult> {
	return runSecmon(['--host', `livestatus://127.0.0.1:${port}`, '--query', 'GET status', '--accept-new', '--timeout', '3s'], {env: {SECMON_HOME: dir}});
}

function expectFloorRefusal(result: SecmonResult, reason: string, dir: string): void {
	expect(result.signal).toBeNull();
	expect(result.code).toBe(3);
	expect(result.stderr).toContain(`was refused: ${reason}`);
	expect(result.stderr).toContain('secmon pki issue --cn NAME --server');
	expect(result.stderr).not.toContain('UNSPECIFIED');
	expect(pins(dir)).toEqual([]);
}

let certs: Record<'rsa512' | 'rsa1024' | 'rsa2048' | 'sha1' | 'md5' | 'p256' | 'p224' | 'notYet' | 'expired', MadeCert>;

beforeAll(async () => {
	const [rsa512, rsa1024, rsa2048, sha1, md5, notYet, expired] = await Promise.all([
		rsaCert({bits: 512}),
		rsaCert({bits: 1024}),
		rsaCert(),
		rsaCert({digest: 'sha1'}),
		rsaCert({digest: 'md5'}),
		rsaCert({notBefore: new Date('2099-01-01T00:00:00Z'), notAfter: new Date('2100-01-01T00:00:00Z')}),
		rsaCert({notBefore: new Date(Date.now() - (30 * day)), notAfter: new Date('2025-06-01T12:00:00Z')}),
	]);
	certs = {
		rsa512,
		rsa1024,
		rsa2048,
		sha1,
		md5,
		p256: ecCert('P-256'),
		p224: ecCert('secp224r1'),
		notYet,
		expired,
	};
}, 60_000);

afterAll(() => {
	for (const server of servers) {
		server.close();
	}
});

afterEach(() => {
	for (const made of homes.splice(0)) {
		made.remove();
	}
});

describe('weak certificates are refused at --accept-new (exit 3, a reason, nothing pinned)', () => {
	it('RSA-512 over TLS 1.2 (OpenSSL\'s own verdict is "UNSPECIFIED")', async () => {
		const dir = home();
		const port = await serve(certs.rsa512, {maxVersion: 'TLSv1.2'});
		expectFloorRefusal(await acceptNew(port, dir), 'RSA key of 512 bits (secmon requires at least 2048)', dir);
	});

	it('RSA-1024', async () => {
		const dir = home();
		const port = await serve(certs.rsa1024);
		expectFloorRefusal(await acceptNew(port, dir), 'RSA key of 1024 bits (secmon requires at least 2048)', dir);
	});

	it('a SHA-1-signed and an MD5-signed leaf', async () => {
		const dir = home();
		expectFloorRefusal(await acceptNew(await serve(certs.sha1), dir), 'signature algorithm SHA-1 (sha1WithRSAEncryption)', dir);
		expectFloorRefusal(await acceptNew(await serve(certs.md5), dir), 'signature algorithm MD5 (md5WithRSAEncryption)', dir);
	});

	it('an EC secp224r1 key cannot even be negotiated: a clear handshake failure, nothing pinned', async () => {
		const dir = home();
		const result = await acceptNew(await serve(certs.p224, {maxVersion: 'TLSv1.2'}), dir);
		expect(result.code).not.toBe(0);
		expect(result.stderr).toContain('no cipher suite or key in common with secmon');
		expect(result.stderr).not.toContain('UNSPECIFIED');
		expect(pins(dir)).toEqual([]);
	});

	it('secmon verify names the weak key instead of OpenSSL\'s "UNSPECIFIED"', async () => {
		const dir = home();
		const port = await serve(certs.rsa512, {maxVersion: 'TLSv1.2'});
		const result = await runSecmon(['verify', `livestatus://127.0.0.1:${port}`], {env: {SECMON_HOME: dir}});
		expect(result.code).toBe(3);
		expect(`${result.stdout}${result.stderr}`).toContain('RSA key of 512 bits');
		expect(result.stdout).toContain('Trust today   REFUSED below secmon\'s cryptographic floor (exit 3)');
		expect(`${result.stdout}${result.stderr}`).not.toContain('UNSPECIFIED');
	});
});

describe('strong certificates still pass', () => {
	it.each(['rsa2048', 'p256'] as const)('%s is pinned by --accept-new', async name => {
		const dir = home();
		const port = await serve(certs[name], {
			onSecure(socket) {
				socket.end();
			},
		});
		const result = await acceptNew(port, dir);
		expect(result.stderr).not.toContain('was refused');
		expect(pins(dir)).toEqual([`127.0.0.1_${port}.json`]);
	});
});

describe('--accept-new and validity', () => {
	it('refuses a not-yet-valid certificate with its dates (exit 3)', async () => {
		const dir = home();
		const result = await acceptNew(await serve(certs.notYet), dir);
		expect(result.code).toBe(3);
		expect(result.stderr).toContain('it is not valid until 2099-01-01 00:00:00 UTC');
		expect(pins(dir)).toEqual([]);
	});

	it('refuses an expired certificate with its dates (exit 3)', async () => {
		const dir = home();
		const result = await acceptNew(await serve(certs.expired), dir);
		expect(result.code).toBe(3);
		expect(result.stderr).toContain('it expired on 2025-06-01 12:00:00 UTC');
		expect(pins(dir)).toEqual([]);
	});
});

describe('TLS parameters', () => {
	it('a TLS 1.2 server that offers only AES128-SHA (no forward secrecy) is refused with a clear message', async () => {
		const dir = home();
		const port = await serve(certs.rsa2048, {maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA'});
		const result = await acceptNew(port, dir);
		expect(result.code).not.toBe(0);
		expect(result.stderr).toContain('no cipher suite or key in common with secmon');
		expect(result.stderr).toContain('ECDHE or DHE with AES-GCM or ChaCha20-Poly1305');
		expect(pins(dir)).toEqual([]);
	});

	it('server-initiated renegotiation on TLS 1.2 is refused, not hung on', async () => {
		const dir = home();
		const port = await serve(certs.rsa2048, {
			maxVersion: 'TLSv1.2',
			onSecure(socket) {
				socket.renegotiate({}, () => undefined);
			},
		});
		const result = await acceptNew(port, dir);
		expect(result.signal).toBeNull();
		expect(result.code).not.toBe(0);
		expect(result.stderr).toContain('collector 127.0.0.1:' + String(port) + ' asked to renegotiate the TLS session; secmon refuses renegotiation');
	});

	it('TLS 1.3 still works with the restricted suite list', async () => {
		const dir = home();
		const port = await serve(certs.rsa2048, {
			minVersion: 'TLSv1.3',
			onSecure(socket) {
				socket.end();
			},
		});
		const result = await runSecmon(['verify', `livestatus://127.0.0.1:${port}`], {env: {SECMON_HOME: dir}});
		expect(result.stdout).toMatch(/TLS\s+TLSv1\.3, TLS_AES_\d+_GCM_SHA\d+/v);
	});
});

describe('a real pmcd with a SHA-1-signed certificate', () => {
	let certsDir: string;
	beforeAll(() => {
		certsDir = mkdtempSync(path.join(os.tmpdir(), 'secmon-weak-pki-'));
	});
	afterAll(() => {
		rmSync(certsDir, {recursive: true, force: true});
	});

	it('is refused at first use with the reason (exit 3)', async () => {
		// The peer PKI of test/peers/certs.sh, with server.pem replaced by a SHA-1 self-signed one
		// (pmcd's OpenSSL loads it: a self-signed certificate's signature is not checked).
		// Copied from the shared one when it exists, so certs.sh has no key to make.
		const shared = process.env['SECMON_TEST_CERTS'] ?? path.join(os.tmpdir(), `secmon-peer-pki-${process.getuid?.() ?? 'user'}`);
		for (const file of existsSync(shared) ? readdirSync(shared).filter(name => /\.(?:pem|key)$/v.test(name)) : []) {
			copyFileSync(path.join(shared, file), path.join(certsDir, file));
		}

		execFileSync('bash', [path.join(import.meta.dirname, '../peers/certs.sh'), certsDir], {stdio: 'pipe'});
		const weak = await rsaCert({digest: 'sha1'});
		writeFileSync(path.join(certsDir, 'server.pem'), weak.cert);
		writeFileSync(path.join(certsDir, 'server.key'), weak.key, {mode: 0o600});
		process.env['SECMON_TEST_CERTS'] = certsDir;
		const pmcd = await startPmcd('offer');
		try {
			const dir = home();
			const result = await runSecmon(['-h', `pcps://${pmcd.address}`, '-f', 'hinv.ncpu', '--accept-new'], {env: {SECMON_HOME: dir}});
			expectFloorRefusal(result, 'signature algorithm SHA-1 (sha1WithRSAEncryption)', dir);
		} finally {
			await pmcd.stop();
			delete process.env['SECMON_TEST_CERTS'];
		}
	});
});
