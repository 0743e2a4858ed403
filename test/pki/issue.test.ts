import {X509Certificate} from 'node:crypto';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {initCa, type Ca} from '../../source/pki/ca.js';
import {pemBlocks} from '../../source/pki/der.js';
import {issueCertificate, writeIssued} from '../../source/pki/issue.js';
import {parseSan} from '../../source/pki/x509.js';
import {
	cleanTempDirs, opensslVerify, run, tempDir,
} from './helpers.js';

let rsaCa: Ca;
let ecCa: Ca;
let base: string;

beforeAll(async () => {
	base = tempDir('issue');
	[rsaCa, ecCa] = await Promise.all([
		initCa({dir: path.join(base, 'rsa-ca'), algorithm: 'rsa2048', cn: 'issue test CA'}),
		initCa({dir: path.join(base, 'ec-ca'), algorithm: 'ecdsa-p256', cn: 'issue test EC CA'}),
	]);
});

afterAll(() => {
	cleanTempDirs();
});

describe('issueCertificate + openssl verify', () => {
	const cases = [['rsa', 'rsa2048'], ['rsa', 'ecdsa-p256'], ['ec', 'ecdsa-p256'], ['ec', 'rsa2048']] as const;
	it.each(cases)('server, client and both certificates (%s CA, %s key) verify for their purpose only', async (caName, algorithm) => {
		const ca = caName === 'rsa' ? rsaCa : ecCa;
		const dir = path.join(base, `verify-${caName}-${algorithm}`);
		const [server, client, both] = await Promise.all([
			issueCertificate({
				ca, cn: 'collector.example.org', sans: [parseSan('IP:192.0.2.10')], usage: 'server', algorithm,
			}),
			issueCertificate({
				ca, cn: 'secmon client', usage: 'client', algorithm,
			}),
			issueCertificate({
				ca, cn: 'node1', usage: 'both', algorithm,
			}),
		]);
		const files = {
			server: await writeIssued(server, dir, 'server', false),
			client: await writeIssued(client, dir, 'client', false),
			both: await writeIssued(both, dir, 'both', false),
		};
		expect((await opensslVerify(ca.certificatePath, files.server.certificatePath, 'sslserver')).stdout).toContain(': OK');
		expect((await opensslVerify(ca.certificatePath, files.client.certificatePath, 'sslclient')).stdout).toContain(': OK');
		expect((await opensslVerify(ca.certificatePath, files.both.certificatePath, 'sslserver')).stdout).toContain(': OK');
		expect((await opensslVerify(ca.certificatePath, files.both.certificatePath, 'sslclient')).stdout).toContain(': OK');
		// The purpose is enforced: a server certificate is no client certificate and vice versa.
		const wrongPurpose = await opensslVerify(ca.certificatePath, files.server.certificatePath, 'sslclient');
		expect(wrongPurpose.code).not.toBe(0);
		expect(wrongPurpose.stdout + wrongPurpose.stderr).toContain('unsuitable certificate purpose');
		expect((await opensslVerify(ca.certificatePath, files.client.certificatePath, 'sslserver')).code).not.toBe(0);
		// And a different CA does not verify it.
		const other = ca === rsaCa ? ecCa : rsaCa;
		expect((await opensslVerify(other.certificatePath, files.server.certificatePath)).code).not.toBe(0);

		const text = (await run('openssl', ['x509', '-in', files.server.certificatePath, '-noout', '-text'])).stdout;
		expect(text).toContain(`Signature Algorithm: ${caName === 'rsa' ? 'sha512WithRSAEncryption' : 'ecdsa-with-SHA512'}`);
		expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
		expect(text).toMatch(algorithm === 'rsa2048' ? /Key Usage: critical\s+Digital Signature, Key Encipherment/ : /Key Usage: critical\s+Digital Signature\n/);
		expect(text).toContain('DNS:collector.example.org, IP Address:192.0.2.10');
		expect(text).toContain('Authority Key Identifier');
		const node = new X509Certificate(readFileSync(files.server.certificatePath));
		expect(node.checkIssued(ca.certificate)).toBe(true);
		expect(node.verify(ca.certificate.publicKey)).toBe(true);
		expect(node.checkHost('collector.example.org')).toBe('collector.example.org');
		expect(node.checkIP('192.0.2.10')).toBe('192.0.2.10');
	});

	it('writes key 0600, certificate, combined PEM (key, certificate, CA) 0600 and the CA, and never overwrites without force', async () => {
		const dir = path.join(base, 'files');
		const issued = await issueCertificate({ca: rsaCa, cn: 'site', usage: 'server'});
		const files = await writeIssued(issued, dir, 'site', false);
		expect(statSync(dir).mode & 0o777).toBe(0o700);
		expect(statSync(files.keyPath).mode & 0o777).toBe(0o600);
		expect(statSync(files.combinedPath).mode & 0o777).toBe(0o600);
		expect(statSync(files.certificatePath).mode & 0o777).toBe(0o644);
		const blocks = pemBlocks(readFileSync(files.combinedPath, 'utf8'));
		expect(blocks.map(block => block.type)).toEqual(['PRIVATE KEY', 'CERTIFICATE', 'CERTIFICATE']);
		expect(blocks[1]!.text).toBe(readFileSync(files.certificatePath, 'utf8'));
		expect(blocks[2]!.text).toBe(readFileSync(rsaCa.certificatePath, 'utf8'));
		expect(readFileSync(files.caPath, 'utf8')).toBe(rsaCa.certificatePem);
		// The combined file is a whole chain for OpenSSL (Checkmk site pem layout).
		expect((await run('openssl', ['verify', '-CAfile', rsaCa.certificatePath, '-untrusted', files.combinedPath, files.combinedPath])).stdout).toContain(': OK');
		expect((await run('openssl', ['pkey', '-in', files.combinedPath, '-noout'])).code).toBe(0);

		const again = await issueCertificate({ca: rsaCa, cn: 'site', usage: 'server'});
		let error: unknown;
		try {
			await writeIssued(again, dir, 'site', false);
		} catch (error_) {
			error = error_;
		}

		expect(isSecmonError(error) && error.message.includes('already exists')).toBe(true);
		expect(readFileSync(files.certificatePath, 'utf8')).toBe(issued.certificatePem);
		await writeIssued(again, dir, 'site', true);
		expect(readFileSync(files.certificatePath, 'utf8')).toBe(again.certificatePem);
		expect(statSync(files.keyPath).mode & 0o777).toBe(0o600);
	});

	it('refuses a directory holding another CA certificate', async () => {
		const dir = path.join(base, 'other-ca-file');
		const issued = await issueCertificate({ca: rsaCa, cn: 'x', usage: 'server'});
		await writeIssued(issued, dir, 'x', false);
		writeFileSync(path.join(dir, 'ca.pem'), ecCa.certificatePem);
		const next = await issueCertificate({ca: rsaCa, cn: 'y', usage: 'server'});
		await expect(writeIssued(next, dir, 'y', false)).rejects.toThrow(/holds a different CA certificate/);
		expect(() => statSync(path.join(dir, 'y.key'))).toThrow();
	});
});

describe('validity', () => {
	it('issues one-day and already-expired certificates for expiry tests', async () => {
		const dir = path.join(base, 'validity');
		const day = await issueCertificate({
			ca: rsaCa, cn: 'short', usage: 'server', days: 1,
		});
		const hours = (new Date(day.certificate.validTo).getTime() - Date.now()) / 3_600_000;
		expect(hours).toBeGreaterThan(23);
		expect(hours).toBeLessThanOrEqual(24);
		const expired = await issueCertificate({
			ca: rsaCa, cn: 'expired', usage: 'server', notBefore: new Date(Date.now() - (10 * 86_400_000)), notAfter: new Date(Date.now() - 86_400_000),
		});
		const files = await writeIssued(expired, dir, 'expired', false);
		const result = await opensslVerify(rsaCa.certificatePath, files.certificatePath, 'sslserver');
		expect(result.code).not.toBe(0);
		expect(result.stdout + result.stderr).toContain('certificate has expired');
	});

	it('never outlives the CA, and says so', async () => {
		const shortCa = await initCa({
			dir: path.join(base, 'short-ca'), algorithm: 'rsa2048', days: 30, cn: 'short CA',
		});
		const issued = await issueCertificate({
			ca: shortCa, cn: 'long', usage: 'server', days: 3650,
		});
		expect(issued.certificate.validTo).toBe(shortCa.certificate.validTo);
		expect(issued.notes.join(' ')).toContain('shortened');
	});

	it('refuses a window that ends before it starts', async () => {
		await expect(issueCertificate({
			ca: rsaCa, cn: 'x', notBefore: new Date('2030-01-02'), notAfter: new Date('2030-01-01'),
		})).rejects.toThrow(/expire before it becomes valid/);
	});
});
