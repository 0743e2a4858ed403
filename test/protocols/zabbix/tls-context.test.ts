import {describe, expect, it} from 'vitest';
import {cipherList, pskCiphers} from '../../../source/protocols/zabbix/tls-context.js';

describe('cipherList (--tls-cipher, --tls-cipher13)', () => {
	it('without --tls-cipher13: --tls-cipher or the default, unchanged', () => {
		expect(cipherList({}, pskCiphers)).toBe(pskCiphers);
		expect(cipherList({ciphers: 'PSK-AES128-GCM-SHA256'}, pskCiphers)).toBe('PSK-AES128-GCM-SHA256');
	});

	it('--tls-cipher13 replaces the TLS 1.3 suites and keeps the TLS 1.2 list', () => {
		expect(cipherList({ciphers13: 'TLS_AES_128_GCM_SHA256'}, 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256')).toBe('TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256');
		expect(cipherList({ciphers: 'PSK-AES128-GCM-SHA256', ciphers13: 'TLS_CHACHA20_POLY1305_SHA256'}, pskCiphers)).toBe('TLS_CHACHA20_POLY1305_SHA256:PSK-AES128-GCM-SHA256');
	});
});
