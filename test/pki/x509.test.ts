import {describe, expect, it} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {
	defaultSans, ipToString, isDnsName, keyUsage, parseSan,
} from '../../source/pki/x509.js';

describe('parseSan', () => {
	it('reads typed and bare names', () => {
		expect(parseSan('DNS:collector.example.org')).toEqual({type: 'dns', value: 'collector.example.org'});
		expect(parseSan('dns:*.example.org')).toEqual({type: 'dns', value: '*.example.org'});
		expect(parseSan('IP:127.0.0.1')).toEqual({type: 'ip', value: '127.0.0.1'});
		expect(parseSan('IP Address:0:0:0:0:0:0:0:1')).toEqual({type: 'ip', value: '::1'});
		expect(parseSan('[fe80::1]')).toEqual({type: 'ip', value: 'fe80::1'});
		expect(parseSan('::ffff:192.0.2.1')).toEqual({type: 'ip', value: '::ffff:c000:201'});
		expect(parseSan('localhost')).toEqual({type: 'dns', value: 'localhost'});
		expect(parseSan('email:ops@example.org')).toEqual({type: 'email', value: 'ops@example.org'});
		expect(parseSan('URI:https://collector/')).toEqual({type: 'uri', value: 'https://collector/'});
	});

	it('refuses malformed names with a usage error that says what to write', () => {
		for (const bad of ['IP:300.1.1.1', 'DNS:bad name', 'DNS:-lead.example', 'email:', 'DNS:a..b']) {
			let error: unknown;
			try {
				parseSan(bad);
			} catch (error_) {
				error = error_;
			}

			expect(isSecmonError(error) && error.code === 'USAGE' && error.exitCode === 2, bad).toBe(true);
			expect((error as {hint?: string}).hint).toMatch(/--san|IP:/);
		}
	});
});

describe('names and bits', () => {
	it('adds the CN as a SAN only when it is a host name or an address', () => {
		expect(defaultSans('collector.example.org')).toEqual([{type: 'dns', value: 'collector.example.org'}]);
		expect(defaultSans('192.0.2.7')).toEqual([{type: 'ip', value: '192.0.2.7'}]);
		expect(defaultSans('secmon client')).toEqual([]);
		expect(isDnsName('a_b')).toBe(false);
	});

	it('compresses IPv6 like RFC 5952', () => {
		expect(ipToString(Buffer.from('20010db8000000000000000000000001', 'hex'))).toBe('2001:db8::1');
		expect(ipToString(Buffer.from('00000000000000000000000000000000', 'hex'))).toBe('::');
		expect(ipToString(Buffer.from('20010db8000100000001000000000001', 'hex'))).toBe('2001:db8:1:0:1::1');
		expect(ipToString(Buffer.from([10, 0, 0, 1]))).toBe('10.0.0.1');
	});

	it('encodes keyUsage as a minimal named BIT STRING', () => {
		// keyCertSign (bit 5) + cRLSign (bit 6): 0x06 with 1 unused bit.
		expect(keyUsage(['keyCertSign', 'cRLSign']).value.toString('hex')).toBe('03020106');
		// digitalSignature + keyEncipherment: 0xa0 with 5 unused bits.
		expect(keyUsage(['digitalSignature', 'keyEncipherment']).value.toString('hex')).toBe('030205a0');
		expect(keyUsage(['digitalSignature']).value.toString('hex')).toBe('03020780');
	});
});
