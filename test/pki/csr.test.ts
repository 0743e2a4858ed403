import {execFileSync} from 'node:child_process';
import {
	chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {initCa, type Ca} from '../../source/pki/ca.js';
import {parseCsr, signCsr} from '../../source/pki/csr.js';
import {pemBlocks, pemEncode} from '../../source/pki/der.js';
import {
	cleanTempDirs, opensslVerify, run, tempDir,
} from './helpers.js';

let ca: Ca;
let base: string;

beforeAll(async () => {
	base = tempDir('csr');
	ca = await initCa({dir: path.join(base, 'ca'), algorithm: 'ecdsa-p256', cn: 'csr test CA'});
});

afterAll(() => {
	cleanTempDirs();
});

/** openssl req -new with a fresh key; returns the CSR path. */
async function makeCsr(name: string, keyArgs: string[], extra: string[] = []): Promise<string> {
	const csr = path.join(base, `${name}.csr`);
	const result = await run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', path.join(base, `${name}.key`), '-out', csr, ...extra]);
	expect(result.code, result.stderr).toBe(0);
	return csr;
}

async function errorOf(action: () => unknown): Promise<{code: string; message: string}> {
	try {
		await action();
	} catch (error) {
		if (isSecmonError(error)) {
			return {code: error.code, message: error.message};
		}

		throw error;
	}

	throw new Error('expected an error');
}

describe('signCsr', () => {
	it('signs RSA, ECDSA (P-256, P-384) and Ed25519 requests and copies the requested names', async () => {
		const cases = [
			['rsa', ['-newkey', 'rsa:2048']],
			['p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
			['p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384']],
			['ed25519', ['-newkey', 'ed25519']],
		] as const;
		for (const [name, keyArgs] of cases) {
			const csr = await makeCsr(name, [...keyArgs], ['-subj', `/O=Acme, Inc./CN=agent-${name}`, '-addext', 'subjectAltName=DNS:agent.example,IP:10.0.0.1,IP:fe80::1,email:ops@example.org']);
			const signed = await signCsr({ca, csrPem: readFileSync(csr, 'utf8'), usage: 'client'});
			const certFile = path.join(base, `${name}.pem`);
			writeFileSync(certFile, signed.certificatePem);
			expect((await opensslVerify(ca.certificatePath, certFile, 'sslclient')).stdout, name).toContain(': OK');
			const text = (await run('openssl', ['x509', '-in', certFile, '-noout', '-subject', '-ext', 'subjectAltName,extendedKeyUsage,basicConstraints'])).stdout;
			expect(text).toContain('subject=O = "Acme, Inc.", CN = agent-' + name);
			expect(text).toContain('DNS:agent.example, IP Address:10.0.0.1, IP Address:FE80:0:0:0:0:0:0:1, email:ops@example.org');
			expect(text).toContain('TLS Web Client Authentication');
			// The certificate carries the requester's key: it matches the requester's private key.
			const modulus = await run('openssl', ['x509', '-in', certFile, '-noout', '-pubkey']);
			const fromKey = await run('openssl', ['pkey', '-in', path.join(base, `${name}.key`), '-pubout']);
			expect(modulus.stdout).toBe(fromKey.stdout);
			expect(signed.notes).toEqual([]);
		}
	});

	it('takes DER input and notes a request without names', async () => {
		const csr = await makeCsr('der', ['-newkey', 'rsa:2048'], ['-subj', '/CN=plain', '-outform', 'DER']);
		const signed = await signCsr({ca, csrPem: readFileSync(csr)});
		expect(signed.certificate.subject).toBe('CN=plain');
		expect(signed.notes.join(' ')).toContain('no subjectAltName');
	});

	it('never copies a requested CA:TRUE or key usage', async () => {
		const csr = await makeCsr('wants-ca', ['-newkey', 'rsa:2048'], ['-subj', '/CN=sneaky', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign']);
		const signed = await signCsr({ca, csrPem: readFileSync(csr, 'utf8'), usage: 'server'});
		expect(signed.certificate.ca).toBe(false);
		const certFile = path.join(base, 'sneaky.pem');
		writeFileSync(certFile, signed.certificatePem);
		const text = (await run('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'basicConstraints,keyUsage'])).stdout;
		expect(text).toMatch(/CA:FALSE/);
		expect(text).not.toContain('Certificate Sign');
	});

	it('refuses altered requests, weak keys, SHA-1 signatures and things that are not requests', async () => {
		const good = readFileSync(await makeCsr('tamper', ['-newkey', 'rsa:2048'], ['-subj', '/CN=agent1.example']), 'utf8');
		const [block] = pemBlocks(good);
		const der = Buffer.from(block!.der);
		const at = der.indexOf('agent1');
		der.write('agent2', at, 'latin1');
		const altered = await errorOf(() => parseCsr(pemEncode('CERTIFICATE REQUEST', der)));
		expect(altered).toEqual({code: 'CERT_INVALID', message: expect.stringContaining('does not verify') as string});

		const weak = await errorOf(async () => parseCsr(readFileSync(await makeCsr('weak', ['-newkey', 'rsa:1024'], ['-subj', '/CN=w']), 'utf8')));
		expect(weak.message).toContain('1024 bits');
		const sha1 = await errorOf(async () => parseCsr(readFileSync(await makeCsr('sha1', ['-newkey', 'rsa:2048', '-sha1'], ['-subj', '/CN=s']), 'utf8')));
		expect(sha1.message).toContain('SHA-1');
		const notCsr = await errorOf(() => parseCsr(ca.certificatePem));
		expect(notCsr.message).toContain('found "CERTIFICATE"');
		const garbage = await errorOf(() => parseCsr(Buffer.from([0x30, 0x82, 0x01])));
		expect(garbage.message).toContain('not valid DER');
	});
});

describe('with the real icinga2', () => {
	it('signs a CSR made by "icinga2 pki new-cert", and "icinga2 pki verify" accepts the result', async () => {
		// icinga2 drops to user nagios when run as root (docs/icinga-livestatus-mon.md#running-icinga2): give it a directory it owns.
		const dir = path.join(base, 'icinga');
		mkdirSync(dir, {mode: 0o755});
		chmodSync(base, 0o755);
		if (process.getuid?.() === 0) {
			const uid = Number(execFileSync('id', ['-u', 'nagios'], {encoding: 'utf8'}).trim());
			const gid = Number(execFileSync('id', ['-g', 'nagios'], {encoding: 'utf8'}).trim());
			chownSync(dir, uid, gid);
		}

		const made = await run('icinga2', ['pki', 'new-cert', '--cn', 'agent1.example', '--key', path.join(dir, 'agent.key'), '--csr', path.join(dir, 'agent.csr')]);
		expect(made.code, made.stdout + made.stderr).toBe(0);
		const signed = await signCsr({ca, csrPem: readFileSync(path.join(dir, 'agent.csr'), 'utf8'), usage: 'both'});
		expect(signed.request.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
		writeFileSync(path.join(dir, 'agent.crt'), signed.certificatePem, {mode: 0o644});
		copyFileSync(ca.certificatePath, path.join(dir, 'ca.crt'));
		chmodSync(path.join(dir, 'ca.crt'), 0o644);
		const verified = await run('icinga2', ['pki', 'verify', '--cert', path.join(dir, 'agent.crt'), '--cacert', path.join(dir, 'ca.crt')]);
		expect(verified.code, verified.stdout + verified.stderr).toBe(0);
		expect(verified.stdout + verified.stderr).toContain('is signed by CA');
		const cn = await run('icinga2', ['pki', 'verify', '--cert', path.join(dir, 'agent.crt'), '--cn', 'agent1.example']);
		expect(cn.code).toBe(0);
		// And a certificate from another CA is refused by icinga2 itself (the test can fail).
		const other = await initCa({dir: path.join(base, 'other'), algorithm: 'rsa2048', cn: 'other'});
		copyFileSync(other.certificatePath, path.join(dir, 'other.crt'));
		chmodSync(path.join(dir, 'other.crt'), 0o644);
		const refused = await run('icinga2', ['pki', 'verify', '--cert', path.join(dir, 'agent.crt'), '--cacert', path.join(dir, 'other.crt')]);
		expect(refused.code).not.toBe(0);
		expect(refused.stdout + refused.stderr).toContain('NOT signed by CA');
	});
});
