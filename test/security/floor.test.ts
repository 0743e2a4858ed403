import {X509Certificate} from 'node:crypto';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {describeCertificate} from '../../source/security/certificate.js';
import {
	decodeOid, floorViolation, keyViolation, signatureAlgorithm, signatureViolation,
} from '../../source/security/floor.js';
import {promptLines} from '../../source/security/messages.js';
import {TrustStore} from '../../source/security/store.js';
import {decideTrust, describeChainError, type TrustInput} from '../../source/security/trust.js';
import {
	ecCert, rsaCert, type MadeCert,
} from '../helpers/weak-certs.js';

const day = 24 * 60 * 60 * 1000;
const target = {host: '127.0.0.1', port: 44_321};

let certs: Record<'rsa512' | 'rsa1024' | 'rsa2048' | 'sha1' | 'md5' | 'p256' | 'p224' | 'weakCa' | 'underWeakCa' | 'sha1Ca' | 'underSha1Ca' | 'notYet' | 'expired', MadeCert>;
let home: string;

beforeAll(async () => {
	const [rsa512, rsa1024, rsa2048, sha1, md5, weakCa, sha1Ca, notYet, expired] = await Promise.all([
		rsaCert({bits: 512}),
		rsaCert({bits: 1024}),
		rsaCert(),
		rsaCert({digest: 'sha1'}),
		rsaCert({digest: 'md5'}),
		rsaCert({bits: 1024, isCa: true, cn: 'weak CA'}),
		rsaCert({digest: 'sha1', isCa: true, cn: 'sha1 root'}),
		rsaCert({notBefore: new Date('2099-01-01T00:00:00Z'), notAfter: new Date('2100-01-01T00:00:00Z')}),
		rsaCert({notBefore: new Date(Date.now() - (30 * day)), notAfter: new Date(Date.now() - day)}),
	]);
	certs = {
		rsa512,
		rsa1024,
		rsa2048,
		sha1,
		md5,
		p256: ecCert('P-256'),
		p224: ecCert('secp224r1'),
		weakCa,
		underWeakCa: await rsaCert({issuer: weakCa}),
		sha1Ca,
		underSha1Ca: await rsaCert({issuer: sha1Ca}),
		notYet,
		expired,
	};
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-floor-'));
}, 60_000);

afterAll(() => {
	rmSync(home, {recursive: true, force: true});
});

const x509 = (made: MadeCert) => new X509Certificate(made.cert);
const reasonOf = (...chain: MadeCert[]) => floorViolation(chain.map(x509))?.reason;

describe('floorViolation', () => {
	it('names RSA keys under 2048 bits, the EC curve under 256 bits, MD5 and SHA-1 signatures', () => {
		expect(reasonOf(certs.rsa512)).toBe('RSA key of 512 bits (secmon requires at least 2048)');
		expect(reasonOf(certs.rsa1024)).toBe('RSA key of 1024 bits (secmon requires at least 2048)');
		expect(reasonOf(certs.p224)).toBe('EC key on curve secp224r1 of 224 bits (secmon requires at least 256, e.g. P-256)');
		expect(reasonOf(certs.sha1)).toBe('signature algorithm SHA-1 (sha1WithRSAEncryption)');
		expect(reasonOf(certs.md5)).toBe('signature algorithm MD5 (md5WithRSAEncryption)');
	});

	it('accepts RSA 2048 with SHA-256 and ECDSA P-256', () => {
		expect(reasonOf(certs.rsa2048)).toBeUndefined();
		expect(reasonOf(certs.p256)).toBeUndefined();
		expect(signatureAlgorithm(x509(certs.p256).raw)).toBe('ecdsa-with-SHA256');
	});

	it('checks intermediates and roots: every key, every signature but a self-signed root\'s own', () => {
		const weak = floorViolation([x509(certs.underWeakCa), x509(certs.weakCa)]);
		expect(weak).toMatchObject({index: 1, subject: 'CN=weak CA', reason: 'RSA key of 1024 bits (secmon requires at least 2048)'});
		// The SHA-1 self-signature of a root is never checked by anyone; the leaf it signed with SHA-256 is fine.
		expect(reasonOf(certs.underSha1Ca, certs.sha1Ca)).toBeUndefined();
	});

	it('reads the same facts from a CertificateInfo as from an X509Certificate', () => {
		const info = describeCertificate(certs.rsa1024.cert);
		expect(info.publicKey).toEqual({type: 'rsa', bits: 1024});
		expect(info.signatureAlgorithm).toBe('sha256WithRSAEncryption');
		expect(floorViolation([info])?.reason).toBe('RSA key of 1024 bits (secmon requires at least 2048)');
		expect(describeCertificate(certs.p256.cert).publicKey).toEqual({type: 'ec', bits: 256, curve: 'prime256v1'});
	});

	it('refuses DSA, and SHA-1 inside RSASSA-PSS and ECDSA names', () => {
		expect(keyViolation({type: 'dsa', bits: 2048})).toMatch(/^DSA key/v);
		expect(keyViolation({type: 'ed25519'})).toBeUndefined();
		expect(signatureViolation('RSASSA-PSS with sha1')).toBe('signature algorithm SHA-1 (RSASSA-PSS with sha1)');
		expect(signatureViolation('ecdsa-with-SHA1')).toBe('signature algorithm SHA-1 (ecdsa-with-SHA1)');
		expect(signatureViolation('sha512WithRSAEncryption')).toBeUndefined();
		expect(decodeOid(Buffer.from('2a864886f70d01010b', 'hex'))).toBe('1.2.840.113549.1.1.11');
	});
});

function input(cert: MadeCert, extra: Partial<TrustInput> = {}): TrustInput {
	return {
		target,
		chain: [describeCertificate(cert.cert)],
		chainVerified: {ok: false, reason: 'DEPTH_ZERO_SELF_SIGNED_CERT'},
		hostnameOk: true,
		caFileGiven: false,
		store: new TrustStore(mkdtempSync(path.join(home, 'store-'))),
		acceptNew: false,
		...extra,
	};
}

async function refusal(promise: Promise<unknown>) {
	const error = await promise.then(() => undefined, (error: unknown) => error);
	if (!isSecmonError(error)) {
		throw new Error(`expected a SecmonError, got ${String(error)}`);
	}

	return error;
}

describe('decideTrust and the floor', () => {
	it('refuses a weak certificate before CA, pin, --fingerprint, --accept-new and the prompt (exit 3)', async () => {
		const cert = describeCertificate(certs.rsa1024.cert);
		const pinned = input(certs.rsa1024);
		pinned.store.add({
			host: target.host, port: target.port, sha256: cert.sha256, sha1: cert.sha1, spkiSha256: cert.spkiSha256, subject: cert.subject, issuer: cert.issuer, notAfter: cert.validTo.toISOString(), pinnedAt: new Date().toISOString(), pinnedBy: 'accept-new', pem: cert.pem,
		});
		let asked = false;
		const acceptNew = input(certs.rsa1024, {acceptNew: true});
		for (const variant of [
			input(certs.rsa1024, {chainVerified: {ok: true}}),
			pinned,
			input(certs.rsa1024, {fingerprint: cert.sha256}),
			acceptNew,
			input(certs.rsa1024, {
				async ask() {
					asked = true;
					return 'save';
				},
			}),
		]) {
			const error = await refusal(decideTrust(variant));
			expect(error.code).toBe('CERT_INVALID');
			expect(error.exitCode).toBe(3);
			expect(error.message).toContain('the certificate of collector 127.0.0.1:44321 was refused: RSA key of 1024 bits (secmon requires at least 2048)');
			expect(error.hint).toContain('secmon pki issue --cn NAME --server');
		}

		expect(asked).toBe(false);
		// --accept-new saved nothing.
		expect(acceptNew.store.list()).toEqual([]);
	});

	it('--accept-new refuses a not-yet-valid and an expired certificate with the dates', async () => {
		const early = await refusal(decideTrust(input(certs.notYet, {acceptNew: true})));
		expect(early.exitCode).toBe(3);
		expect(early.message).toContain('it is not valid until 2099-01-01 00:00:00 UTC');
		const late = await refusal(decideTrust(input(certs.expired, {acceptNew: true})));
		expect(late.exitCode).toBe(3);
		expect(late.message).toMatch(/it expired on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/v);
		// A valid one is still saved.
		expect((await decideTrust(input(certs.rsa2048, {acceptNew: true}))).basis).toBe('accept-new');
	});

	it('names the weak key behind OpenSSL\'s opaque verify codes, and never says UNSPECIFIED', () => {
		const chain = [describeCertificate(certs.rsa512.cert)];
		expect(describeChainError('UNSPECIFIED', chain)).toBe('RSA key of 512 bits (secmon requires at least 2048)');
		expect(describeChainError('EE_KEY_TOO_SMALL', chain)).toContain('RSA key of 512 bits');
		expect(describeChainError('UNSPECIFIED', [describeCertificate(certs.rsa2048.cert)])).not.toContain('UNSPECIFIED');
		// Codes that say something already are left alone.
		expect(describeChainError('DEPTH_ZERO_SELF_SIGNED_CERT', chain)).toBe('self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
	});

	it('the plain-text prompt shows a not-yet-valid or expired validity in red when colour is on', () => {
		const question = {target, certificate: describeCertificate(certs.notYet.cert), reason: 'self-signed certificate'};
		const valid = (color: boolean) => promptLines(question, new Date(), color).find(line => line.startsWith('Valid:'))!;
		expect(valid(true)).toContain('\u001B[1;31m');
		expect(valid(true)).toContain('NOT YET VALID');
		expect(valid(false)).not.toContain('\u001B[');
		const fine = {...question, certificate: describeCertificate(certs.rsa2048.cert)};
		expect(promptLines(fine, new Date(), true).join('\n')).not.toContain('\u001B[');
	});
});
