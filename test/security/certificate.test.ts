import {createHash, X509Certificate} from 'node:crypto';
import {execFileSync} from 'node:child_process';
import {
	beforeAll, describe, expect, it,
} from 'vitest';
import {
	colonHex, describeCertificate, fingerprintArgument, matchesFingerprint, normalizeFingerprint, oneLineName, shortFingerprint, spkiPin, splitAltNames, splitPemBundle,
} from '../../source/security/certificate.js';
import {testPki, type TestPki} from '../helpers/certs.js';

let pki: TestPki;

beforeAll(async () => {
	pki = await testPki();
});

function openssl(args: string[], input: string): string {
	return execFileSync('openssl', args, {input, encoding: 'utf8'});
}

describe('describeCertificate', () => {
	it('gives fingerprints equal to openssl\'s, and the SPKI pin equal to the curl recipe', () => {
		const info = describeCertificate(pki.server.cert);
		expect(info.sha256).toBe(openssl(['x509', '-noout', '-fingerprint', '-sha256'], pki.server.cert).trim().split('=')[1]);
		expect(info.sha1).toBe(openssl(['x509', '-noout', '-fingerprint', '-sha1'], pki.server.cert).trim().split('=')[1]);
		const spkiDer = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], {input: openssl(['x509', '-noout', '-pubkey'], pki.server.cert)});
		expect(info.spkiSha256).toBe(createHash('sha256').update(spkiDer).digest('base64'));
	});

	it('gives subject and issuer on one line, most specific first', () => {
		const info = describeCertificate(pki.server.cert);
		expect(info.subject).toBe('CN=collector, O=secmon');
		expect(info.issuer).toBe('CN=secmon test CA, O=secmon');
		expect(info.selfSigned).toBe(false);
	});

	it('splits the SANs and parses the validity into Dates', () => {
		const info = describeCertificate(pki.server.cert);
		expect(info.subjectAltNames).toEqual(['DNS:collector', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']);
		expect(info.validFrom).toBeInstanceOf(Date);
		expect(info.validTo.getTime()).toBeGreaterThan(Date.now() + (365 * 24 * 3600 * 1000));
		expect(info.validFrom.getTime()).toBeLessThan(Date.now());
		expect(info.serialNumber).toMatch(/^[\dA-F]+$/v);
	});

	it('recognises self-signed certificates, and a CA signature is not self-signed', () => {
		expect(describeCertificate(pki.selfSigned.cert).selfSigned).toBe(true);
		expect(describeCertificate(pki.ca.cert).selfSigned).toBe(true);
		expect(describeCertificate(pki.wrongName.cert).selfSigned).toBe(false);
	});

	it('accepts an X509Certificate, a PEM string, a PEM Buffer and a DER Buffer alike', () => {
		const x509 = new X509Certificate(pki.server.cert);
		const expected = describeCertificate(pki.server.cert);
		expect(describeCertificate(x509)).toEqual(expected);
		expect(describeCertificate(Buffer.from(pki.server.cert))).toEqual(expected);
		expect(describeCertificate(x509.raw)).toEqual(expected);
		expect(expected.pem).toContain('-----BEGIN CERTIFICATE-----');
	});

	it('a rotated key changes both the certificate and the SPKI fingerprints', () => {
		const a = describeCertificate(pki.selfSigned.cert);
		const b = describeCertificate(pki.rotated.cert);
		expect(a.subject).toBe(b.subject);
		expect(a.sha256).not.toBe(b.sha256);
		expect(a.spkiSha256).not.toBe(b.spkiSha256);
		// Same key, re-issued: the SPKI stays.
		expect(describeCertificate(pki.expiring.cert).spkiSha256).toBe(a.spkiSha256);
	});

	it('refuses garbage with a CERT_INVALID error', () => {
		expect(() => describeCertificate('not a certificate')).toThrow(/cannot parse certificate/v);
	});
});

describe('names and SANs', () => {
	it('oneLineName reverses Node\'s multi-line DN', () => {
		expect(oneLineName('C=US\nO=secmon\nCN=collector')).toBe('CN=collector, O=secmon, C=US');
	});

	it('splitAltNames keeps quoted values that contain commas', () => {
		expect(splitAltNames('DNS:a, DNS:"b, c", IP Address:::1')).toEqual(['DNS:a', 'DNS:"b, c"', 'IP Address:::1']);
		expect(splitAltNames(undefined)).toEqual([]);
	});
});

describe('fingerprints', () => {
	const sha256 = describeCertificatePlaceholder();

	function describeCertificatePlaceholder(): string {
		return colonHex(createHash('sha256').update('x').digest('hex'));
	}

	it.each([
		['colon upper', (f: string) => f],
		['colon lower', (f: string) => f.toLowerCase()],
		['no colons', (f: string) => f.replaceAll(':', '')],
		['SHA256: prefix', (f: string) => `SHA256:${f}`],
		['sha256: prefix lower', (f: string) => `sha256:${f.replaceAll(':', '').toLowerCase()}`],
		['openssl output', (f: string) => `sha256 Fingerprint=${f}`],
		['spaces and newline', (f: string) => ` ${f.replaceAll(':', ' ')}\n`],
		['zero-width space pasted', (f: string) => `${f.slice(0, 10)}\u200B${f.slice(10)}`],
		['OpenSSH base64', (f: string) => `SHA256:${Buffer.from(f.replaceAll(':', ''), 'hex').toString('base64').replace(/=+$/v, '')}`],
	])('normalizeFingerprint accepts %s', (_name, form) => {
		expect(normalizeFingerprint(form(sha256))).toBe(sha256);
	});

	it('rejects SHA-1 and junk with a usage error', () => {
		const sha1 = colonHex(createHash('sha1').update('x').digest('hex'));
		expect(() => normalizeFingerprint(sha1)).toThrow(/SHA-1 fingerprint/v);
		expect(() => normalizeFingerprint('hello')).toThrow(/not a SHA-256 fingerprint/v);
		expect(() => normalizeFingerprint(sha256.slice(0, -1))).toThrow(/not a SHA-256/v);
	});

	it('shortFingerprint keeps the first and last four bytes; fingerprintArgument is compact hex', () => {
		const short = shortFingerprint(sha256);
		expect(short.startsWith(sha256.slice(0, 11))).toBe(true);
		expect(short.endsWith(sha256.slice(-11))).toBe(true);
		expect(short).toContain('…');
		expect(fingerprintArgument(sha256)).toMatch(/^[\da-f]{64}$/v);
		expect(normalizeFingerprint(fingerprintArgument(sha256))).toBe(sha256);
	});

	it('accepts curl\'s public-key pin sha256//BASE64 exactly, and matches it against the public key only', () => {
		const server = describeCertificate(pki.server.cert);
		const wrongName = describeCertificate(pki.wrongName.cert);
		const pin = spkiPin(server);
		expect(pin).toBe(`sha256//${server.spkiSha256}`);
		expect(normalizeFingerprint(` ${pin}\n`)).toBe(pin);
		expect(normalizeFingerprint(`SHA256//${server.spkiSha256}`)).toBe(pin);
		// wrongName has the same key as server: the same pin, another certificate.
		expect(matchesFingerprint(pin, wrongName)).toBe(true);
		expect(matchesFingerprint(pin, describeCertificate(pki.selfSigned.cert))).toBe(false);
		expect(matchesFingerprint(server.sha256, wrongName)).toBe(false);
		expect(() => normalizeFingerprint(`sha256//${server.spkiSha256.slice(0, -1)}`)).toThrow(/not a SHA-256 public-key pin/v);
		expect(() => normalizeFingerprint('sha256//' + Buffer.alloc(20).toString('base64'))).toThrow(/public-key pin/v);
	});

	it('splitPemBundle finds every certificate', () => {
		expect(splitPemBundle(`junk\n${pki.ca.cert}\n${pki.server.cert}`)).toHaveLength(2);
		expect(splitPemBundle('nothing')).toEqual([]);
	});
});
