/**
 * The TLS side of one Zabbix agent, prepared once before any connection: credential and CA files
 * read and checked, and one TLS context that every connection to that agent reuses (the agent has
 * no session resumption, so each connection is a full handshake anyway; docs/zabbix.md#tls-from-node).
 */
import {readFileSync} from 'node:fs';
import tls from 'node:tls';
import {X509Certificate} from 'node:crypto';
import {splitPemBundle} from '../../security/certificate.js';
import {secureCiphers, secureOptions} from '../../security/floor.js';
import {checkKeyFileMode} from '../../security/home.js';
import type {ZabbixEndpoint, ZabbixTrust} from './endpoint.js';
import {configError} from './errors.js';

/**
 * OpenSSL names of the PSK suites, forward-secret ECDHE-PSK first (docs/zabbix.md#tls-versions-and-suites, docs/zabbix.md#tls-from-node: Debian's
 * GnuTLS agent offers ECDHE-PSK only with AES-128-CBC, and honours the client's order). Node's
 * default list says !PSK, so PSK suites must be named; its TLS 1.3 suites stay enabled (docs/zabbix.md#tls-from-node).
 * These are the suites the agents offer, so the certificate floor (security/floor.ts
 * secureCiphers, AEAD with forward secrecy only) is not applied to PSK: it would lock out the
 * GnuTLS agents, and a PSK handshake involves no certificate key to be weak.
 */
export const pskCiphers = [
	'ECDHE-PSK-CHACHA20-POLY1305',
	'ECDHE-PSK-AES256-CBC-SHA384',
	'ECDHE-PSK-AES128-CBC-SHA256',
	'ECDHE-PSK-AES128-CBC-SHA',
	'PSK-AES256-GCM-SHA384',
	'PSK-AES128-GCM-SHA256',
	'PSK-AES128-CBC-SHA256',
	'PSK-AES128-CBC-SHA',
].join(':');

/**
 * The cipher list for Node: --tls-cipher (or the default) for TLS 1.2, and --tls-cipher13's
 * TLS 1.3 suites in its place when given. Node hands names that start with TLS_ to OpenSSL's
 * SSL_CTX_set_ciphersuites() and the rest to SSL_CTX_set_cipher_list(), as zabbix_get built with
 * OpenSSL does with its two options (docs/zabbix.md#zabbix_get).
 */
export function cipherList(endpoint: Pick<ZabbixEndpoint, 'ciphers' | 'ciphers13'>, fallback: string): string {
	const base = endpoint.ciphers ?? fallback;
	if (endpoint.ciphers13 === undefined) {
		return base;
	}

	return [...endpoint.ciphers13.split(':'), ...base.split(':').filter(name => !name.startsWith('TLS_'))].filter(Boolean).join(':');
}

export type Prepared
	= | {kind: 'unencrypted'}
		| {kind: 'psk'; identity: string; key: Buffer; context: tls.SecureContext}
		| {kind: 'cert-ca'; caCerts: X509Certificate[]; hasCrl: boolean; context: tls.SecureContext; issuer?: string; subject?: string}
		| {kind: 'cert-tofu'; context: tls.SecureContext; certFile: string; keyFile: string; trust: ZabbixTrust; issuer?: string; subject?: string};

/**
 * One TLS context per agent, reused by every connection: no per-connection parsing of keys and
 * CA files (the agent has no session resumption, so each connection is a full handshake anyway).
 */
function secureContext(options: tls.SecureContextOptions, files: string): tls.SecureContext {
	try {
		return tls.createSecureContext({minVersion: 'TLSv1.2', secureOptions, ...options});
	} catch (error) {
		const {message} = (error as Error);
		throw configError(`cannot use ${files}: ${message}`, /mismatch/i.test(message)
			? 'The private key (--tls-key-file) does not belong to the certificate (--tls-cert-file)'
			: 'Check that the files hold PEM certificates, keys and CRLs, and (--tls-cipher) OpenSSL cipher names', error);
	}
}

function readConfigFile(file: string, what: string): Buffer {
	try {
		return readFileSync(file);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? String(error);
		throw configError(`cannot read ${what} file "${file}": ${code}`, 'Check the path and that this user may read it', error);
	}
}

export function prepareTls(endpoint: ZabbixEndpoint, warn: (message: string) => void = () => undefined): Prepared {
	const options = endpoint.tls;
	switch (options.kind) {
		case 'unencrypted': {
			return {kind: 'unencrypted'};
		}

		case 'psk': {
			if (options.key.length < 16 || options.key.length > 256) {
				throw configError(`the PSK must be 16 to 256 bytes (32-512 hex digits), got ${options.key.length} bytes`, 'Use the key configured as TLSPSKFile on the agent');
			}

			// Node's default list says !PSK, so PSK suites must be named (docs/zabbix.md#tls-from-node). No
			// certificate takes part in a PSK handshake, so no CA store either (`ca: []`): the
			// default one costs Node 20 ~30 ms to build when NODE_EXTRA_CA_CERTS is unset.
			return {
				kind: 'psk', identity: options.identity, key: options.key, context: secureContext({ca: [], ciphers: cipherList(endpoint, pskCiphers)}, '--tls-cipher'),
			};
		}

		case 'cert': {
			const keyWarning = checkKeyFileMode(options.keyFile);
			if (keyWarning) {
				warn(keyWarning);
			}

			const cert = readConfigFile(options.certFile, 'certificate');
			const key = readConfigFile(options.keyFile, 'private key');
			const names = {
				...(options.issuer ? {issuer: options.issuer} : {}),
				...(options.subject ? {subject: options.subject} : {}),
			};
			if (options.caFile === undefined) {
				if (!endpoint.trust) {
					throw configError('certificate mode without a CA file needs the trust store', 'Give --tls-ca-file, or use secmon\'s pinning (internal: pass `trust`)');
				}

				return {
					kind: 'cert-tofu',
					context: secureContext({cert, key, ciphers: cipherList(endpoint, secureCiphers)}, `"${options.certFile}" and "${options.keyFile}"`),
					certFile: options.certFile,
					keyFile: options.keyFile,
					trust: endpoint.trust,
					...names,
				};
			}

			const ca = splitPemBundle(readConfigFile(options.caFile, 'CA').toString('utf8'));
			let caCerts: X509Certificate[];
			try {
				caCerts = ca.map(pem => new X509Certificate(pem));
			} catch (error) {
				throw configError(`cannot parse CA certificate(s) in file "${options.caFile}": ${(error as Error).message}`, 'Give the CA certificate(s) in PEM form', error);
			}

			if (ca.length === 0) {
				throw configError(`cannot parse CA certificate(s) in file "${options.caFile}": no PEM certificate found`, 'Give the CA certificate(s) in PEM form (-----BEGIN CERTIFICATE-----)');
			}

			const crl = options.crlFile === undefined ? undefined : readConfigFile(options.crlFile, 'CRL');
			const context = secureContext({
				ca, ...(crl ? {crl} : {}), cert, key, ciphers: cipherList(endpoint, secureCiphers),
			}, `"${options.caFile}", ${crl ? `"${options.crlFile}", ` : ''}"${options.certFile}" and "${options.keyFile}"`);
			return {
				kind: 'cert-ca', caCerts, hasCrl: crl !== undefined, context, ...names,
			};
		}
	}
}

