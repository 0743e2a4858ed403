import {X509Certificate} from 'node:crypto';
import {describe, expect, test} from 'vitest';
import {
	decodeNetstrings, encodeNetstring, interpretResponse, makeRequestCertificate, requestFingerprint,
} from '../../../source/protocols/icinga/enroll.js';

describe('netstrings (Icinga JSON-RPC framing)', () => {
	test('round trip, several in one buffer, partial rest kept', () => {
		const hello = '{"jsonrpc":"2.0","method":"icinga::Hello","params":{"capabilities":1,"version":21306}}';
		expect(encodeNetstring(hello).toString()).toBe(`86:${hello},`);
		const both = Buffer.concat([encodeNetstring(hello), encodeNetstring('{"id":"x"}'), Buffer.from('12:{"partial"')]);
		const {messages, rest} = decodeNetstrings(both);
		expect(messages).toEqual([hello, '{"id":"x"}']);
		expect(rest.toString()).toBe('12:{"partial"');
		expect(decodeNetstrings(Buffer.from('1')).messages).toEqual([]);
	});

	test('multi-byte UTF-8 counts bytes', () => {
		expect(encodeNetstring('é').toString()).toBe('2:é,');
		expect(decodeNetstrings(Buffer.from('2:é,')).messages).toEqual(['é']);
	});

	test('garbage is refused', () => {
		expect(() => decodeNetstrings(Buffer.from('HTTP/1.1 400 Bad Request'))).toThrow(/malformed netstring/);
		expect(() => decodeNetstrings(Buffer.from('3:abcX'))).toThrow(/does not end/);
	});
});

describe('pki::RequestCertificate responses (docs/icinga-livestatus-mon.md#ticket-enrollment)', () => {
	test('signed, pending, refused; other ids are skipped', () => {
		expect(interpretResponse({jsonrpc: '2.0', method: 'icinga::Hello', params: {}}, 'a', 'fp')).toBeUndefined();
		expect(interpretResponse({id: 'b', result: {status_code: 0}}, 'a', 'fp')).toBeUndefined();
		expect(interpretResponse({
			id: 'a', jsonrpc: '2.0', result: {
				ca: 'CA', cert: 'CERT', fingerprint_request: 'fee4', status_code: 0,
			},
		}, 'a', 'fp')).toEqual({
			status: 'signed', certPem: 'CERT', caPem: 'CA', fingerprint: 'fee4',
		});
		expect(interpretResponse({id: 'a', result: {fingerprint_request: 'abc', status_code: 2}}, 'a', 'fp')).toEqual({status: 'pending', fingerprint: 'abc'});
		expect(interpretResponse({id: 'a', result: {error: 'Invalid ticket for CN \'node-agent3\'.', status_code: 1}}, 'a', 'fp')).toEqual({
			status: 'rejected', error: 'Invalid ticket for CN \'node-agent3\'.', fingerprint: 'fp',
		});
		expect(interpretResponse({id: 'a', error: 'boom'}, 'a', 'fp')).toEqual({status: 'rejected', error: 'boom', fingerprint: 'fp'});
		expect(() => interpretResponse({id: 'a', result: {status_code: 0}}, 'a', 'fp')).toThrow(/sent no certificate/);
	});

	test('the request certificate is self-signed for the CN, with its fingerprint as icinga2 ca list shows it', async () => {
		const {keyPem, certPem} = await makeRequestCertificate('secmon-agent', 2048);
		const certificate = new X509Certificate(certPem);
		expect(certificate.subject).toBe('CN=secmon-agent');
		expect(certificate.issuer).toBe('CN=secmon-agent');
		expect(certificate.subjectAltName).toBe('DNS:secmon-agent');
		expect(certificate.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);
		expect(keyPem).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}/);
		expect(requestFingerprint(certPem)).toBe(certificate.fingerprint256.replaceAll(':', '').toLowerCase());
	});
});
