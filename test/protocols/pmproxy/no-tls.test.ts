/**
 * "pmproxy offers no TLS" (open.ts plainAnswer, the only door to plain HTTP in relaxed mode) is
 * decided on the TLS failure's structured `noTls` field (security/tls.ts), never on its message:
 * a rephrased message keeps the decision, and text that merely looks like it opens nothing. The
 * real pmproxy without TLS is in pmproxy.test.ts ("plain HTTP, said loudly").
 */
import {describe, expect, it} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {httpFailure, plainAnswer} from '../../../source/protocols/pmproxy/open.js';
import {TlsFailure, tlsFailure} from '../../../source/security/tls.js';

const target = {host: '127.0.0.1', port: 44_322};
const errno = (code: string, message = code) => Object.assign(new Error(message), {code});

describe('plainAnswer: the noTls field decides', () => {
	it('a plain answer to the hello, and a close or reset without a client certificate, mean no TLS', () => {
		const answered = tlsFailure(errno('ERR_SSL_WRONG_VERSION_NUMBER'), {target, clientCert: false});
		expect(answered).toBeInstanceOf(TlsFailure);
		expect((answered as TlsFailure).noTls).toBe('answered-plain');
		expect(plainAnswer(answered)).toBe(true);
		for (const code of ['ECONNRESET', 'EPIPE']) {
			const reset = tlsFailure(errno(code), {target, clientCert: false});
			expect((reset as TlsFailure).noTls).toBe('closed');
			expect(plainAnswer(reset)).toBe(true);
		}
	});

	it('a reset after we offered a client certificate, certificate and alert failures never do', () => {
		expect(plainAnswer(tlsFailure(errno('ECONNRESET'), {target, clientCert: true}))).toBe(false);
		expect(plainAnswer(tlsFailure(errno('CERT_HAS_EXPIRED'), {target, clientCert: false}))).toBe(false);
		expect(plainAnswer(tlsFailure(errno('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), {target, clientCert: false}))).toBe(false);
		expect(plainAnswer(tlsFailure(errno('ERR_SSL_NO_SHARED_CIPHER'), {target, clientCert: false}))).toBe(false);
	});

	it('the message text decides nothing: a rephrased one keeps the decision, a look-alike opens nothing', () => {
		expect(plainAnswer(new TlsFailure('the peer hung up on our hello', 'hint', 'closed'))).toBe(true);
		expect(plainAnswer(new TlsFailure('the peer spoke HTTP', 'hint', 'answered-plain'))).toBe(true);
		// The texts the old regex matched, on errors that carry no noTls.
		expect(plainAnswer(new SecmonError('TLS_FAILED', 'collector 127.0.0.1:44322 did not answer with TLS (ERR_SSL_WRONG_VERSION_NUMBER)'))).toBe(false);
		expect(plainAnswer(new SecmonError('TLS_FAILED', 'collector 127.0.0.1:44322 closed the connection during the TLS handshake'))).toBe(false);
		expect(plainAnswer(new TlsFailure('collector 127.0.0.1:44322 closed the connection during the TLS handshake', 'hint', undefined))).toBe(false);
	});
});

describe('httpFailure: errors on a connection after the TLS decision', () => {
	const facts = {
		version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', basis: 'ca', sha256: '', sha1: '', subject: '', validTo: new Date(0),
	} as const;

	it('plain HTTP (after the fallback): a reset is a connection failure, not a TLS one', () => {
		for (const code of ['ECONNRESET', 'EPIPE']) {
			const error = httpFailure(errno(code, 'socket hang up'), target, undefined);
			expect(error.code).toBe('CONNECT_FAILED');
			expect(error.message).not.toMatch(/TLS/);
			expect(plainAnswer(error)).toBe(false);
		}
	});

	it('TLS after a completed handshake: a reset is a connection failure (never "no TLS"); an alert is still a TLS failure', () => {
		const reset = httpFailure(errno('ECONNRESET', 'socket hang up'), target, {clientCert: false, facts});
		expect(reset.code).toBe('CONNECT_FAILED');
		expect(reset.message).not.toContain('during the TLS handshake');
		expect(plainAnswer(reset)).toBe(false);
		expect(httpFailure(errno('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), target, {clientCert: false, facts}).code).toBe('CLIENT_CERT_REQUIRED');
		const broken = httpFailure(errno('ERR_SSL_UNEXPECTED_MESSAGE'), target, {clientCert: false, facts});
		expect(broken.code).toBe('TLS_FAILED');
		expect(plainAnswer(broken)).toBe(false);
	});

	it('a SecmonError (a handshake failure from the connector) is kept as it is', () => {
		const handshake = new TlsFailure('closed on the hello', 'hint', 'closed');
		expect(httpFailure(handshake, target, {clientCert: false, facts: undefined})).toBe(handshake);
	});
});
