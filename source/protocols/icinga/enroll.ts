/**
 * Icinga 2 certificate enrollment without the icinga2 binary (docs/icinga-livestatus-mon.md#ticket-enrollment): a self-signed
 * X.509 certificate for the CN is sent as `cert_request` in a `pki::RequestCertificate` JSON-RPC
 * call (netstrings `<len>:<json>,` on the API port, after TLS); the master answers with
 * status_code 0 (signed: cert + CA), 1 (refused: `error`) or 2 (pending: waits for
 * `icinga2 ca sign FINGERPRINT` on the master; the same request then succeeds).
 */
import {
	createHash, createPrivateKey, generateKeyPair, randomUUID, X509Certificate,
} from 'node:crypto';
import type {Duplex} from 'node:stream';
import {promisify} from 'node:util';
import forge from 'node-forge';
import {SecmonError} from '../../errors.js';
import {ReadTimeout, StreamClosed, StreamReader} from '../shared/stream-reader.js';
import {limitError} from '../shared/bounds.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A netstring: `<decimal length>:<bytes>,`. */
export function encodeNetstring(payload: string): Buffer {
	const body = Buffer.from(payload, 'utf8');
	return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body, Buffer.from(',', 'latin1')]);
}

/** Netstrings from the start of `buffer`: complete ones, and the bytes left over. Throws on a malformed one. */
export function decodeNetstrings(buffer: Buffer): {messages: string[]; rest: Buffer} {
	const messages: string[] = [];
	let offset = 0;
	for (;;) {
		const colon = buffer.indexOf(0x3A, offset);
		if (colon === -1) {
			if (buffer.length - offset > 10 || !/^\d*$/.test(buffer.subarray(offset).toString('latin1'))) {
				throw new Error('malformed netstring length');
			}

			break;
		}

		const lengthText = buffer.subarray(offset, colon).toString('latin1');
		if (!/^\d{1,10}$/.test(lengthText)) {
			throw new Error(`malformed netstring length ${JSON.stringify(lengthText.slice(0, 12))}`);
		}

		const length = Number(lengthText);
		const end = colon + 1 + length;
		if (buffer.length < end + 1) {
			break;
		}

		if (buffer[end] !== 0x2C) {
			throw new Error('netstring does not end with ","');
		}

		messages.push(buffer.subarray(colon + 1, end).toString('utf8'));
		offset = end + 1;
	}

	return {messages, rest: buffer.subarray(offset)};
}

export type RequestKey = {keyPem: string; certPem: string};

/** A new RSA key and a self-signed certificate for `cn` (what `icinga2 pki new-cert` makes). */
export async function makeRequestCertificate(cn: string, bits = 4096): Promise<RequestKey> {
	const {privateKey} = await generateKeyPairAsync('rsa', {modulusLength: bits, publicExponent: 0x1_00_01});
	const keyPem = privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
	const forgeKey = forge.pki.privateKeyFromPem(keyPem);
	const certificate = forge.pki.createCertificate();
	certificate.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
	certificate.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
	const now = Date.now();
	certificate.validity.notBefore = new Date(now - (60 * 60 * 1000));
	certificate.validity.notAfter = new Date(now + (30 * 24 * 60 * 60 * 1000));
	const name = [{name: 'commonName', value: cn}];
	certificate.setSubject(name);
	certificate.setIssuer(name);
	certificate.setExtensions([
		{name: 'basicConstraints', cA: false},
		{name: 'subjectAltName', altNames: [{type: 2, value: cn}]},
	]);
	certificate.sign(forgeKey, forge.md.sha256.create());
	return {keyPem, certPem: forge.pki.certificateToPem(certificate)};
}

export type EnrollResult
	= | {status: 'signed'; certPem: string; caPem: string; fingerprint: string}
		| {status: 'pending'; fingerprint: string}
		| {status: 'rejected'; error: string; fingerprint: string};

/** SHA-256 of the request certificate's DER, lowercase hex (Icinga's fingerprint_request, `icinga2 ca list`). */
export function requestFingerprint(certPem: string): string {
	return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

/** The JSON-RPC response to our id → result (docs/icinga-livestatus-mon.md#ticket-enrollment). */
export function interpretResponse(message: unknown, id: string, fallbackFingerprint: string): EnrollResult | undefined {
	if (typeof message !== 'object' || message === null || (message as Record<string, unknown>)['id'] !== id) {
		return undefined;
	}

	const {error, result} = message as Record<string, unknown>;
	if (error !== undefined && error !== null) {
		return {status: 'rejected', error: typeof error === 'string' ? error : JSON.stringify(error), fingerprint: fallbackFingerprint};
	}

	if (typeof result !== 'object' || result === null) {
		throw new SecmonError('PROTOCOL', 'the Icinga 2 master answered the certificate request without a result', 'Check the master\'s log (/var/log/icinga2/icinga2.log)');
	}

	const r = result as Record<string, unknown>;
	const fingerprint = typeof r['fingerprint_request'] === 'string' ? r['fingerprint_request'] : fallbackFingerprint;
	switch (r['status_code']) {
		case 0: {
			if (typeof r['cert'] !== 'string' || typeof r['ca'] !== 'string') {
				throw new SecmonError('PROTOCOL', 'the Icinga 2 master said "signed" but sent no certificate', 'Check the master\'s log (/var/log/icinga2/icinga2.log)');
			}

			return {
				status: 'signed', certPem: r['cert'], caPem: r['ca'], fingerprint,
			};
		}

		case 2: {
			return {status: 'pending', fingerprint};
		}

		default: {
			return {status: 'rejected', error: typeof r['error'] === 'string' ? r['error'] : `status_code ${String(r['status_code'])}`, fingerprint};
		}
	}
}

/**
 * Send pki::RequestCertificate on an open, verified TLS stream and wait for our answer (the
 * master's icinga::Hello and notifications are skipped). The stream is closed afterwards.
 */
/**
 * One JSON-RPC message from the master, at most. Icinga reads at most 1 MiB per message from a peer
 * it does not know yet (JsonRpc::ReadMessage(…, m_Endpoint ? -1 : 1024 * 1024) in
 * lib/remote/jsonrpcconnection.cpp); the answer to pki::RequestCertificate is two PEM certificates.
 */
export const maxEnrollMessageBytes = 1024 * 1024;

export async function requestCertificate(stream: Duplex, options: {certPem: string; ticket?: string; timeoutMs: number; where: string}): Promise<EnrollResult> {
	const id = randomUUID();
	const fingerprint = requestFingerprint(options.certPem);
	const reader = new StreamReader(stream);
	const tooLong = () => limitError(`the Icinga 2 master ${options.where}`, 'a JSON-RPC message', maxEnrollMessageBytes, 'Check the port: the Icinga 2 API and cluster port is 5665 by default');
	reader.expect(maxEnrollMessageBytes, tooLong);
	const params: Record<string, string> = {cert_request: options.certPem};
	if (options.ticket !== undefined && options.ticket !== '') {
		params['ticket'] = options.ticket;
	}

	try {
		stream.write(encodeNetstring(JSON.stringify({
			jsonrpc: '2.0', id, method: 'pki::RequestCertificate', params,
		})));
		let buffer: Buffer = Buffer.alloc(0);
		const deadline = Date.now() + options.timeoutMs;
		for (;;) {
			const chunk = await reader.readBytes(1, Math.max(1, deadline - Date.now()));
			const more = reader.pending > 0 ? await reader.readBytes(reader.pending, 1) : Buffer.alloc(0);
			buffer = Buffer.concat([buffer, chunk, more]);
			let decoded;
			try {
				decoded = decodeNetstrings(buffer);
			} catch (error) {
				throw new SecmonError('PROTOCOL', `${options.where} did not answer with Icinga 2 JSON-RPC (${error instanceof Error ? error.message : String(error)})`, 'Check the port: the Icinga 2 API and cluster port is 5665 by default');
			}

			buffer = decoded.rest;
			if (buffer.length > maxEnrollMessageBytes) {
				throw tooLong();
			}

			for (const text of decoded.messages) {
				let message: unknown;
				try {
					message = JSON.parse(text);
				} catch {
					continue;
				}

				const result = interpretResponse(message, id, fingerprint);
				if (result) {
					return result;
				}
			}
		}
	} catch (error) {
		if (error instanceof ReadTimeout) {
			throw new SecmonError('TIMEOUT', `the Icinga 2 master ${options.where} did not answer the certificate request within ${options.timeoutMs} ms`, 'Check the master\'s log; it may limit anonymous clients (max_anonymous_clients in the ApiListener)');
		}

		if (error instanceof StreamClosed) {
			throw new SecmonError('PROTOCOL', `the Icinga 2 master ${options.where} closed the connection without answering the certificate request`, 'Check the master\'s log; the ApiListener may refuse anonymous clients (max_anonymous_clients) or this is not the API port');
		}

		throw error;
	} finally {
		reader.close();
	}
}

/** Does the signed certificate carry our key and come from the CA it was sent with? */
export function checkSigned(certPem: string, caPem: string, keyPem: string, cn: string): {certificate: X509Certificate; ca: X509Certificate} {
	let certificate: X509Certificate;
	let ca: X509Certificate;
	try {
		certificate = new X509Certificate(certPem);
		ca = new X509Certificate(caPem);
	} catch (error) {
		throw new SecmonError('PROTOCOL', 'the Icinga 2 master sent a certificate secmon cannot read', 'Check the master\'s CA (icinga2 pki new-ca) and log', {cause: error});
	}

	if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) {
		throw new SecmonError('PROTOCOL', 'the certificate the Icinga 2 master signed is not for our key', 'Nothing was saved; run secmon enroll again and check the master\'s log');
	}

	if (!certificate.verify(ca.publicKey)) {
		throw new SecmonError('PROTOCOL', 'the certificate the Icinga 2 master sent is not signed by the CA it sent with it', 'Nothing was saved; check the master\'s CA files (/var/lib/icinga2/ca)');
	}

	if (!certificate.subject.split('\n').includes(`CN=${cn}`)) {
		throw new SecmonError('PROTOCOL', `the Icinga 2 master signed a certificate for "${certificate.subject.replaceAll('\n', ', ')}", not CN=${cn}`, 'Nothing was saved; check the master\'s log');
	}

	return {certificate, ca};
}
