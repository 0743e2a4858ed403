import {X509Certificate} from 'node:crypto';
import {
	chmodSync, readFileSync, statSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
	afterAll, describe, expect, it,
} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {defaultCaDir, initCa, loadCa} from '../../source/pki/ca.js';
import {
	cleanTempDirs, opensslVerify, run, tempDir,
} from './helpers.js';

afterAll(() => {
	cleanTempDirs();
});

async function rejection(promise: Promise<unknown>): Promise<{code: string; message: string; hint?: string}> {
	try {
		await promise;
	} catch (error) {
		if (isSecmonError(error)) {
			return {code: error.code, message: error.message, ...(error.hint ? {hint: error.hint} : {})};
		}

		throw error;
	}

	throw new Error('expected a rejection');
}

describe('initCa', () => {
	// RSA 4096 key generation is a prime search: seconds, and far more on a loaded CI machine.
	it('makes a 0700 directory, a 0600 key and a CA certificate OpenSSL accepts (RSA 4096 default, SHA-512)', {timeout: 120_000}, async () => {
		const dir = path.join(tempDir('ca'), 'nested', 'ca');
		const ca = await initCa({dir, cn: 'ACME monitoring CA'});
		expect(statSync(dir).mode & 0o777).toBe(0o700);
		expect(statSync(ca.keyPath).mode & 0o777).toBe(0o600);
		expect(statSync(ca.certificatePath).mode & 0o777).toBe(0o644);
		const text = await run('openssl', ['x509', '-in', ca.certificatePath, '-noout', '-text']);
		expect(text.stdout).toContain('Signature Algorithm: sha512WithRSAEncryption');
		expect(text.stdout).toContain('Public-Key: (4096 bit)');
		expect(text.stdout).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
		expect(text.stdout).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
		expect(text.stdout).toContain('Subject Key Identifier');
		expect(text.stdout).toContain('Subject: CN = ACME monitoring CA');
		// Self-signed root: verifies against itself; serial positive and 17 bytes.
		expect((await opensslVerify(ca.certificatePath, ca.certificatePath)).stdout).toContain(': OK');
		const certificate = new X509Certificate(readFileSync(ca.certificatePath));
		expect(certificate.serialNumber).toMatch(/^01[\dA-F]{32}$/);
		const years = (new Date(certificate.validTo).getTime() - Date.now()) / (365 * 24 * 3600 * 1000);
		expect(years).toBeGreaterThan(9.9);
		expect(years).toBeLessThan(10.1);
		// The key file is PKCS#8 and matches the certificate.
		expect(readFileSync(ca.keyPath, 'utf8')).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}\n/);
		expect((await run('openssl', ['pkey', '-in', ca.keyPath, '-noout'])).code).toBe(0);
	});

	it('makes ECDSA P-256 and RSA 2048 CAs, and long ones with a GeneralizedTime notAfter', async () => {
		const base = tempDir('ca-algos');
		const ec = await initCa({
			dir: path.join(base, 'ec'), algorithm: 'ecdsa-p256', days: 30, cn: 'ec',
		});
		const ecText = await run('openssl', ['x509', '-in', ec.certificatePath, '-noout', '-text']);
		expect(ecText.stdout).toContain('Signature Algorithm: ecdsa-with-SHA512');
		expect(ecText.stdout).toContain('NIST CURVE: P-256');
		const long = await initCa({
			dir: path.join(base, 'long'), algorithm: 'rsa2048', days: 50 * 365, cn: 'long',
		});
		const longText = await run('openssl', ['asn1parse', '-in', long.certificatePath]);
		expect(longText.stdout).toMatch(/UTCTIME/);
		expect(longText.stdout).toMatch(/GENERALIZEDTIME\s*:20[7-9]\d/);
		expect(new Date(long.certificate.validTo).getUTCFullYear()).toBeGreaterThanOrEqual(2070);
		expect((await opensslVerify(long.certificatePath, long.certificatePath)).stdout).toContain(': OK');
	});

	it('refuses to replace an existing CA unless forced', async () => {
		const dir = tempDir('ca-force');
		const first = await initCa({dir, algorithm: 'rsa2048', cn: 'first'});
		const refused = await rejection(initCa({dir, algorithm: 'rsa2048', cn: 'second'}));
		expect(refused.code).toBe('STORE');
		expect(refused.message).toContain('a CA already exists');
		expect(refused.hint).toContain('--force');
		expect(readFileSync(first.certificatePath, 'utf8')).toBe(first.certificatePem);
		const second = await initCa({
			dir, algorithm: 'rsa2048', cn: 'second', force: true,
		});
		expect(second.certificate.fingerprint256).not.toBe(first.certificate.fingerprint256);
		expect(statSync(second.keyPath).mode & 0o777).toBe(0o600);
		expect((await loadCa(dir)).certificate.subject).toBe('CN=second');
	});

	it('defaults to <SECMON_HOME>/pki', () => {
		expect(defaultCaDir({SECMON_HOME: '/tmp/x'})).toBe('/tmp/x/pki');
	});
});

describe('loadCa', () => {
	it('explains a missing CA, a key that does not match, a non-CA certificate, an expired CA and an open key file', async () => {
		const base = tempDir('ca-load');
		const missing = await rejection(loadCa(path.join(base, 'nothing')));
		expect(missing.message).toContain('does not exist');
		expect(missing.hint).toContain('secmon pki init');

		const [a, b] = await Promise.all([
			initCa({dir: path.join(base, 'a'), algorithm: 'rsa2048', cn: 'a'}),
			initCa({dir: path.join(base, 'b'), algorithm: 'ecdsa-p256', cn: 'b'}),
		]);
		writeFileSync(a.keyPath, readFileSync(b.keyPath));
		const mismatch = await rejection(loadCa(a.dir));
		expect(mismatch.message).toContain('is not the private key of');

		const leafDir = path.join(base, 'leaf');
		await run('mkdir', ['-p', leafDir]);
		await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=leaf', '-addext', 'basicConstraints=critical,CA:FALSE', '-keyout', path.join(leafDir, 'ca.key'), '-out', path.join(leafDir, 'ca.pem')]);
		const notCa = await rejection(loadCa(leafDir));
		expect(notCa.message).toContain('is not a CA certificate');

		const expired = await initCa({
			dir: path.join(base, 'old'), algorithm: 'rsa2048', cn: 'old', notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01'),
		});
		const expiredError = await rejection(loadCa(expired.dir));
		expect(expiredError.message).toContain('expired on 2021-01-01');

		chmodSync(b.keyPath, 0o644);
		const loaded = await loadCa(b.dir);
		expect(loaded.warnings.join('\n')).toMatch(/accessible by group or others.*chmod 600/);
	});

	it('reads a CA made by openssl with ca.crt (Icinga 2 layout)', async () => {
		const dir = tempDir('ca-openssl');
		const result = await run('openssl', ['req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-subj',
			'/CN=Icinga CA',
			'-days',
			'10',
			'-addext',
			'basicConstraints=critical,CA:TRUE',
			'-addext',
			'keyUsage=critical,keyCertSign,cRLSign',
			'-keyout',
			path.join(dir, 'ca.key'),
			'-out',
			path.join(dir, 'ca.crt')]);
		expect(result.code, result.stderr).toBe(0);
		const ca = await loadCa(dir);
		expect(ca.certificatePath).toBe(path.join(dir, 'ca.crt'));
		expect(ca.keyId).toHaveLength(20);
	});
});
