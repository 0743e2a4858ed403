/**
 * Zabbix agent passive checks (docs/zabbix.md#passive-checks): one request per connection, plain, PSK or certificate.
 *
 * Politeness is part of correctness here: the agent answers once and closes, has no TLS session
 * resumption, and a refused connection makes that listener sleep 1 s (docs/zabbix.md#refused-connections). So the
 * pool (`ZabbixAgent`) opens at most `concurrency` connections (default 3 = StartAgents), starts
 * with ONE connection until the agent has answered once, and after a refusal stops launching new
 * connections and backs off instead of retrying.
 *
 * Trust: PSK authenticates both sides. Certificates with --tls-ca-file are checked the Zabbix way
 * (chain against that CA, optional CRL, issuer/subject strings, no host-name match). Without a CA
 * file the agent's certificate goes through secmon's pin/TOFU decision (security/tls.ts).
 */
import {readFileSync} from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import {X509Certificate} from 'node:crypto';
import {SecmonError, type ErrorCode, type ExitCode} from '../../errors.js';
import type {MetricDesc, Sample} from '../../metrics/model.js';
import type {MetricSource} from '../../metrics/source.js';
import type {SessionHooks} from '../../io.js';
import {rerunCommand, rerunWithSecure} from '../../shell.js';
import type {Plan} from '../../plan.js';
import type {HostSpec} from '../../target.js';
import {splitPemBundle} from '../../security/certificate.js';
import {
	describeViolation, floorHint, floorViolation, secureCiphers, secureOptions,
} from '../../security/floor.js';
import {checkKeyFileMode} from '../../security/home.js';
import type {TrustStore} from '../../security/store.js';
import type {Ask, TlsFacts, TrustBasis} from '../../security/types.js';
import {verifyIssuerSubject} from './dn.js';
import {
	encodeRequest, FrameDecoder, parseResponse, type AgentResponse,
} from './frame.js';
import {describeKey, toMetricValues, zbxRequestFailedCode} from './keys.js';

export const defaultZabbixPort = 10_050;
/** zabbix_get's default (-t, 1-30 s). */
export const defaultTimeoutMs = 30_000;
/** The agent's default StartAgents: more connections than listeners only queue in its backlog. */
export const defaultConcurrency = 3;

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

export type ZabbixTls
	= | {kind: 'unencrypted'}
		| {kind: 'psk'; identity: string; key: Buffer}
		| {
			kind: 'cert';
			/** Without it the agent's certificate is trusted by pin/TOFU (needs `trust`). */
			caFile?: string;
			crlFile?: string;
			certFile: string;
			keyFile: string;
			/** Required agent certificate issuer / subject, Zabbix string form (dn.ts). */
			issuer?: string;
			subject?: string;
		};

/** For certificates without a CA file: secmon's pin store and how to decide about new certificates. */
export type ZabbixTrust = {
	store: TrustStore;
	fingerprint?: string;
	acceptNew?: boolean;
	ask?: Ask;
	rerunCommand?: string;
	/** --servername: the name checked when a CA in the store verifies the agent (and sent as SNI). */
	servername?: string;
};

export type ZabbixEndpoint = {
	host: string;
	port: number;
	tls: ZabbixTls;
	trust?: ZabbixTrust;
	/** Per request: connect + handshake + answer (zabbix_get -t). */
	timeoutMs?: number;
	/** zabbix_get -I */
	sourceAddress?: string;
	/** OpenSSL cipher list replacing the defaults (zabbix_get --tls-cipher, OpenSSL syntax). */
	ciphers?: string;
	/** Response size limit (frame.ts). */
	maxBytes?: number;
	/** Non-fatal warnings (key file modes, expiring pins). Each is reported once per agent. */
	onWarning?: (message: string) => void;
};

export type ZabbixTlsFacts = {
	version: string;
	cipher: string;
	kind: 'psk' | 'cert';
	/** cert: how the agent's certificate was trusted. */
	basis?: TrustBasis | 'ca-file';
	sha256?: string;
	subject?: string;
	pskIdentity?: string;
};

export type ZabbixReply = {
	key: string;
	response: AgentResponse;
	/** The raw response body (for zabbix_get-exact printing). */
	data: Buffer;
	/** Milliseconds from connect to the complete answer. */
	ms: number;
	tls?: ZabbixTlsFacts;
};

export type ZabbixStage = 'config' | 'connect' | 'tls' | 'request' | 'response' | 'timeout';

/**
 * A failure with what zabbix_get would print for it (`zabbixText`, without zabbix_get's
 * "zabbix_get [PID]: " prefix) next to secmon's message and hint.
 */
export class ZabbixError extends SecmonError {
	readonly stage: ZabbixStage;
	readonly zabbixText: string;
	/** The whole agent is unusable right now (refused, unreachable, timed out): stop, do not retry at once. */
	readonly agentLevel: boolean;

	constructor(init: {code: ErrorCode; stage: ZabbixStage; message: string; hint: string; zabbixText: string; agentLevel: boolean; cause?: unknown; exitCode?: ExitCode}) {
		super(init.code, init.message, init.hint, {
			...(init.cause === undefined ? {} : {cause: init.cause}),
			...(init.exitCode === undefined ? {} : {exitCode: init.exitCode}),
		});
		this.name = 'ZabbixError';
		this.stage = init.stage;
		this.zabbixText = init.zabbixText;
		this.agentLevel = init.agentLevel;
	}
}

export function isZabbixError(error: unknown): error is ZabbixError {
	return error instanceof ZabbixError;
}

const refusalNote = 'Each refused connection makes that agent listener sleep 1 s, so secmon does not retry at once.';

/** zabbix_get's "[[host]:port]". */
export function zabbixAddress(host: string, port: number): string {
	return `[[${host}]:${port}]`;
}

function where(endpoint: ZabbixEndpoint): string {
	return net.isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

// ---------------------------------------------------------------------------------------------
// Preparation: files are read and checked once per agent, before any connection.

type Prepared
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

/** Unreadable or unusable TLS files: exit 1 like zabbix_get (flag syntax errors are the usage errors, exit 2). */
function configError(message: string, hint: string, cause?: unknown): ZabbixError {
	return new ZabbixError({
		code: 'USAGE', stage: 'config', message, hint, zabbixText: `ERROR: ${message}`, agentLevel: true, cause, exitCode: 1,
	});
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
				kind: 'psk', identity: options.identity, key: options.key, context: secureContext({ca: [], ciphers: endpoint.ciphers ?? pskCiphers}, '--tls-cipher'),
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
					context: secureContext({cert, key, ciphers: endpoint.ciphers ?? secureCiphers}, `"${options.certFile}" and "${options.keyFile}"`),
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
				ca, ...(crl ? {crl} : {}), cert, key, ciphers: endpoint.ciphers ?? secureCiphers,
			}, `"${options.caFile}", ${crl ? `"${options.crlFile}", ` : ''}"${options.certFile}" and "${options.keyFile}"`);
			return {
				kind: 'cert-ca', caCerts, hasCrl: crl !== undefined, context, ...names,
			};
		}
	}
}

// ---------------------------------------------------------------------------------------------
// One exchange: connect, (TLS), send the key, read one frame.

function connectFailed(endpoint: ZabbixEndpoint, error: NodeJS.ErrnoException): ZabbixError {
	const errno = -(error.errno ?? 0);
	const text = strerror(error);
	const hints: Record<string, string> = {
		ECONNREFUSED: `Check that zabbix_agentd is running and listens on ${where(endpoint)} (ListenPort, ListenIP)`,
		ENOTFOUND: 'Check the host name (and DNS); an IP address also works',
		EAI_AGAIN: 'Check the host name (and DNS); an IP address also works',
		EADDRNOTAVAIL: 'Check the source address (-I): it must be an address of this machine',
		EHOSTUNREACH: 'Check the address and the network between you and the agent',
		ENETUNREACH: 'Check the address and the network between you and the agent',
	};
	return new ZabbixError({
		code: 'CONNECT_FAILED',
		stage: 'connect',
		message: `cannot connect to Zabbix agent ${where(endpoint)}: ${text}`,
		hint: hints[error.code ?? ''] ?? 'Check the host, port and network',
		zabbixText: `Get value error: cannot connect to ${zabbixAddress(endpoint.host, endpoint.port)}: ${errno > 0 ? `[${errno}] ` : ''}${text}`,
		agentLevel: true,
		cause: error,
	});
}

function strerror(error: NodeJS.ErrnoException): string {
	const texts: Record<string, string> = {
		ECONNREFUSED: 'Connection refused',
		ECONNRESET: 'Connection reset by peer',
		EHOSTUNREACH: 'No route to host',
		ENETUNREACH: 'Network is unreachable',
		EADDRNOTAVAIL: 'Cannot assign requested address',
		ETIMEDOUT: 'Connection timed out',
		EPIPE: 'Broken pipe',
	};
	if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
		return `cannot resolve ${(error as NodeJS.ErrnoException & {hostname?: string}).hostname ?? 'host'}: ${error.code === 'ENOTFOUND' ? 'Name or service not known' : 'Temporary failure in name resolution'}`;
	}

	return texts[error.code ?? ''] ?? error.message;
}

async function tcpConnect(endpoint: ZabbixEndpoint): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({
			host: endpoint.host,
			port: endpoint.port,
			...(endpoint.sourceAddress ? {localAddress: endpoint.sourceAddress} : {}),
			noDelay: true,
		});
		const onError = (error: NodeJS.ErrnoException) => {
			socket.destroy();
			reject(connectFailed(endpoint, error));
		};

		socket.once('error', onError);
		socket.once('connect', () => {
			socket.off('error', onError);
			resolve(socket);
		});
	});
}

/** Why a TLS handshake with a Zabbix agent ends in a reset, by mode (docs/zabbix.md#refused-connections, docs/zabbix.md#tls-from-node, docs/zabbix.md#agent-certificates). */
function handshakeCauses(kind: 'psk' | 'cert', endpoint: ZabbixEndpoint): string {
	if (kind === 'psk') {
		return [
			'The agent dropped the TLS handshake. From here the causes look identical (the agent sends no TLS alert);',
			'the agent log tells them apart (DebugLevel=3):',
			'  - wrong PSK key                       (log: "gnutls_handshake() failed: -24 Decryption has failed.")',
			'  - wrong PSK identity                  (log: "cannot find requested PSK identity …")',
			'  - the agent does not accept PSK       (TLSAccept lacks psk; log: "-87 No supported cipher suites" or "TLS connections are not allowed")',
			'  - no common TLS version or cipher suite (e.g. a --tls-cipher the agent does not offer)',
			`Compare TLSPSKIdentity/TLSPSKFile/TLSAccept in the agent's zabbix_agentd.conf with what you passed. ${refusalNote}`,
		].join('\n');
	}

	return [
		'The agent dropped the TLS handshake (it sends no TLS alert). Possible causes:',
		'  - the agent does not accept certificates (TLSAccept lacks cert; log: "-87 No supported cipher suites" or "TLS connections are not allowed")',
		'  - no client certificate was accepted, or it is not RSA (GnuTLS-built agents use RSA certificates and TLS 1.2 only)',
		'  - no common TLS version or cipher suite',
		`Check TLSAccept, TLSCAFile, TLSCertFile in the agent's zabbix_agentd.conf and the agent log at ${where(endpoint)}. ${refusalNote}`,
	].join('\n');
}

function tlsError(endpoint: ZabbixEndpoint, reason: string, hint: string, options: {agentLevel?: boolean; cause?: unknown; code?: ErrorCode} = {}): ZabbixError {
	return new ZabbixError({
		code: options.code ?? 'TLS_FAILED',
		stage: 'tls',
		message: `TLS with Zabbix agent ${where(endpoint)} failed: ${reason}`,
		hint,
		zabbixText: `Get value error: TCP successful, cannot establish TLS to ${zabbixAddress(endpoint.host, endpoint.port)}: ${reason}`,
		agentLevel: options.agentLevel ?? true,
		cause: options.cause,
	});
}

function handshakeFailure(endpoint: ZabbixEndpoint, kind: 'psk' | 'cert', error?: NodeJS.ErrnoException): ZabbixError {
	const code = error?.code ?? '';
	if (!error || code === 'ECONNRESET' || code === 'EPIPE') {
		return tlsError(endpoint, 'the agent closed the connection during the TLS handshake', handshakeCauses(kind, endpoint), {cause: error});
	}

	if (code === 'ERR_SSL_PSK_IDENTITY_NOT_FOUND') {
		return tlsError(endpoint, 'no PSK identity to offer', 'Give --tls-psk-identity and --tls-psk-file', {cause: error});
	}

	if (/^ERR_SSL_(?:WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|UNEXPECTED_MESSAGE)/.test(code)) {
		return tlsError(endpoint, `the peer did not answer with TLS (${code})`, `Check the port: is this a Zabbix agent with TLS enabled? secmon never falls back to plain text. ${refusalNote}`, {cause: error});
	}

	return tlsError(endpoint, `${code || 'TLS error'}: ${error.message.split('\n')[0]}`, handshakeCauses(kind, endpoint), {cause: error});
}

async function tlsHandshake(endpoint: ZabbixEndpoint, kind: 'psk' | 'cert', options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect(options);
		const cleanup = () => {
			socket.off('error', onError);
			socket.off('close', onClose);
		};

		const onError = (error: NodeJS.ErrnoException) => {
			cleanup();
			socket.on('error', () => undefined);
			socket.destroy();
			reject(handshakeFailure(endpoint, kind, error));
		};

		const onClose = () => {
			cleanup();
			reject(handshakeFailure(endpoint, kind));
		};

		socket.on('error', onError);
		socket.once('close', onClose);
		socket.once('secureConnect', () => {
			cleanup();
			// A second 'secureConnect' is the agent asking to renegotiate; secureOptions refuses it.
			socket.once('secureConnect', () => {
				socket.destroy(tlsError(endpoint, 'the agent asked to renegotiate the TLS session; secmon refuses renegotiation', 'Turn off renegotiation on the agent side (or its TLS proxy)'));
			});
			resolve(socket);
		});
	});
}

/** The presented chain, leaf first, as X509Certificate objects. */
function presentedChain(socket: tls.TLSSocket): X509Certificate[] {
	const chain: X509Certificate[] = [];
	const seen = new Set<string>();
	let current: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
	while (current?.raw && !seen.has(current.fingerprint256)) {
		seen.add(current.fingerprint256);
		chain.push(new X509Certificate(current.raw));
		current = current.issuerCertificate;
	}

	return chain;
}

function validNow(cert: X509Certificate, now: number): boolean {
	return new Date(cert.validFrom).getTime() <= now && now <= new Date(cert.validTo).getTime();
}

/**
 * Chain check without the purpose (EKU) rule, used only when OpenSSL's sole complaint was
 * INVALID_PURPOSE (docs/zabbix.md#agent-certificates: GnuTLS/Zabbix accept agent certificates without serverAuth).
 * OpenSSL keeps only the LAST verification error, and chain building runs before the purpose
 * check, so "INVALID_PURPOSE" alone does not prove that the issuer was trusted: check it here.
 */
export function chainTrustedIgnoringPurpose(chain: X509Certificate[], cas: X509Certificate[], now = Date.now()): boolean {
	let current = chain[0];
	const intermediates = chain.slice(1);
	for (let depth = 0; current && depth < 10; depth++) {
		if (!validNow(current, now)) {
			return false;
		}

		const subject = current;
		const anchor = cas.find(ca => subject.checkIssued(ca) && subject.verify(ca.publicKey) && validNow(ca, now) && (ca.ca || ca.raw.equals(subject.raw)));
		if (anchor) {
			return true;
		}

		if (cas.some(ca => ca.raw.equals(subject.raw))) {
			return true;
		}

		const next = intermediates.find(cert => cert.ca && subject.checkIssued(cert) && subject.verify(cert.publicKey));
		if (!next || next.raw.equals(subject.raw)) {
			return false;
		}

		current = next;
	}

	return false;
}

const verifyTexts: Record<string, string> = {
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate issuer is unknown (not in --tls-ca-file)',
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate issuer is unknown (not in --tls-ca-file)',
	UNABLE_TO_GET_ISSUER_CERT: 'the certificate issuer is unknown (not in --tls-ca-file)',
	SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a root that is not in --tls-ca-file',
	DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not in --tls-ca-file',
	CERT_HAS_EXPIRED: 'the certificate has expired',
	CERT_NOT_YET_VALID: 'the certificate is not yet valid',
	CERT_REVOKED: 'the certificate has been revoked (--tls-crl-file)',
	UNABLE_TO_GET_CRL: 'no CRL from the certificate\'s issuer in --tls-crl-file',
	CRL_HAS_EXPIRED: 'the CRL in --tls-crl-file has expired',
	CRL_NOT_YET_VALID: 'the CRL in --tls-crl-file is not yet valid',
	CERT_SIGNATURE_FAILURE: 'the certificate signature is invalid',
	INVALID_PURPOSE: 'the certificate is not valid for this purpose and its issuer is not trusted',
};

function verifyWithCa(endpoint: ZabbixEndpoint, socket: tls.TLSSocket, prepared: Extract<Prepared, {kind: 'cert-ca'}>): void {
	// Typed as Error, but Node stores the OpenSSL verify code string ("UNABLE_TO_VERIFY_LEAF_SIGNATURE").
	const reasonCode = socket.authorizationError as unknown;
	const code = typeof reasonCode === 'string' ? reasonCode : (reasonCode as NodeJS.ErrnoException | undefined)?.code;
	const chain = presentedChain(socket);
	const leaf = chain[0];
	if (!leaf) {
		throw tlsError(endpoint, 'the agent presented no certificate', 'Configure TLSCertFile on the agent');
	}

	const weak = floorViolation(chain);
	if (weak) {
		throw tlsError(endpoint, `the agent's certificate was refused: ${describeViolation(weak)}`, floorHint.replace('collector', 'agent'), {code: 'CERT_INVALID'});
	}

	// INVALID_PURPOSE is the last error OpenSSL recorded; revocation, signature and validity checks run
	// after the purpose check and would have replaced it, chain building runs before: re-check that.
	const ok = socket.authorized || (code === 'INVALID_PURPOSE' && chainTrustedIgnoringPurpose(chain, prepared.caCerts));
	if (!ok) {
		const text = verifyTexts[code ?? ''] ?? code ?? 'unknown verification error';
		throw tlsError(
			endpoint,
			`invalid peer certificate: ${text}${code ? ` (${code})` : ''}`,
			`The agent's certificate (subject ${leaf.subject.split('\n').toReversed().join(',')}) does not verify against --tls-ca-file. Check that --tls-ca-file holds the CA that issued the agent's TLSCertFile.`,
			{code: 'CERT_INVALID', agentLevel: true},
		);
	}

	const mismatch = verifyIssuerSubject(leaf.raw, {
		...(prepared.issuer ? {issuer: prepared.issuer} : {}),
		...(prepared.subject ? {subject: prepared.subject} : {}),
	});
	if (mismatch) {
		throw tlsError(endpoint, mismatch, 'The agent\'s certificate is not the one named by --tls-server-cert-issuer/--tls-server-cert-subject. Copy the "peer" string if that certificate is the right one (Zabbix compares the strings exactly).', {code: 'CERT_INVALID'});
	}
}

/** Node's fingerprint256 format equals CertificateInfo.sha256 (uppercase, colon-separated). */
function leafSha256(socket: tls.TLSSocket): string | undefined {
	return socket.getPeerX509Certificate()?.fingerprint256;
}

type AgentState = {
	prepared: Prepared;
	/** cert-tofu: the certificate trusted earlier in this process, and how. */
	trusted?: {sha256: string; basis: TrustBasis; subject: string};
};

function requestTimeout(endpoint: ZabbixEndpoint, timeoutMs: number): ZabbixError {
	return new ZabbixError({
		code: 'TIMEOUT',
		stage: 'timeout',
		message: `Zabbix agent ${where(endpoint)} did not answer within ${timeoutMs / 1000} s`,
		hint: 'Check that the agent is running and reachable; a slow item may need a larger -t (1-30 s), and the agent\'s own Timeout must allow it too',
		zabbixText: 'Timeout while executing operation',
		agentLevel: true,
	});
}

function accessRestricted(endpoint: ZabbixEndpoint, prepared: Prepared, cause?: unknown): ZabbixError {
	const hints: Record<Prepared['kind'], string> = {
		unencrypted: 'The agent closed the connection without answering. Usually: it does not accept unencrypted connections (TLSAccept), '
			+ `or this machine's address is not in its Server= list. Try --tls-connect psk or cert as configured on the agent. ${refusalNote}`,
		psk: `The agent completed the TLS handshake and closed without answering: this machine's address is probably not in its Server= list. ${refusalNote}`,
		'cert-ca': 'The agent accepted the TLS handshake, then closed without answering. Usually: our client certificate is not signed by the agent\'s TLSCAFile, '
			+ `or does not match its TLSServerCertIssuer/TLSServerCertSubject, or this machine is not in its Server= list. The agent log says which. ${refusalNote}`,
		'cert-tofu': 'The agent accepted the TLS handshake, then closed without answering. Usually: our client certificate is not signed by the agent\'s TLSCAFile, '
			+ `or does not match its TLSServerCertIssuer/TLSServerCertSubject, or this machine is not in its Server= list. The agent log says which. ${refusalNote}`,
	};
	return new ZabbixError({
		code: 'PEER_ERROR',
		stage: 'response',
		message: `Zabbix agent ${where(endpoint)} closed the connection without answering`,
		hint: hints[prepared.kind],
		zabbixText: 'Check access restrictions in Zabbix agent configuration',
		agentLevel: true,
		cause,
	});
}

function protocolFailure(endpoint: ZabbixEndpoint, error: SecmonError): ZabbixError {
	return new ZabbixError({
		code: error.code,
		stage: 'response',
		message: `Zabbix agent ${where(endpoint)}: ${error.message}`,
		hint: error.hint ?? 'Check that the port is a Zabbix agent',
		zabbixText: `Get value error: ${error.message}`,
		agentLevel: false,
		cause: error,
	});
}

async function secureTofu(endpoint: ZabbixEndpoint, state: AgentState, socket: net.Socket, prepared: Extract<Prepared, {kind: 'cert-tofu'}>, onWarning: (message: string) => void): Promise<{stream: tls.TLSSocket; facts: ZabbixTlsFacts}> {
	const target = {host: endpoint.host, port: endpoint.port};
	if (state.trusted) {
		// Trust was settled by an earlier connection in this process: the same certificate is required.
		const stream = await tlsHandshake(endpoint, 'cert', {
			socket, secureContext: prepared.context, rejectUnauthorized: false, checkServerIdentity: () => undefined,
		});
		if (leafSha256(stream) === state.trusted.sha256) {
			return {
				stream,
				facts: {
					version: stream.getProtocol() ?? 'unknown', cipher: stream.getCipher()?.name ?? 'unknown', kind: 'cert', basis: state.trusted.basis, sha256: state.trusted.sha256, subject: state.trusted.subject,
				},
			};
		}

		stream.destroy();
		state.trusted = undefined;
		throw tlsError(endpoint, 'the agent presented a different certificate than earlier in this run', 'Run the command again: the certificate will be checked against your pins (secmon certs list). If you did not expect a change, someone may be intercepting the connection.', {code: 'CERT_CHANGED'});
	}

	// Loaded on first use: plain and PSK runs do not pay for the trust machinery.
	const {upgradeToTls} = await import('../../security/tls.js');
	let result;
	try {
		result = await upgradeToTls(socket, {
			target,
			cert: prepared.certFile,
			key: prepared.keyFile,
			store: prepared.trust.store,
			acceptNew: prepared.trust.acceptNew ?? false,
			...(prepared.trust.fingerprint ? {fingerprint: prepared.trust.fingerprint} : {}),
			...(prepared.trust.ask ? {ask: prepared.trust.ask} : {}),
			...(prepared.trust.rerunCommand ? {rerunCommand: prepared.trust.rerunCommand} : {}),
			...(prepared.trust.servername ? {servername: prepared.trust.servername} : {}),
			timeoutMs: endpoint.timeoutMs ?? defaultTimeoutMs,
			onWarning,
		});
	} catch (error) {
		if (error instanceof SecmonError && error.code === 'TLS_FAILED' && !(error instanceof ZabbixError)) {
			const cause = (error.cause ?? undefined) as NodeJS.ErrnoException | undefined;
			throw handshakeFailure(endpoint, 'cert', cause?.code ? cause : undefined);
		}

		throw error;
	}

	const facts: ZabbixTlsFacts = {
		version: result.facts.version, cipher: result.facts.cipher, kind: 'cert', basis: result.facts.basis, sha256: result.facts.sha256, subject: result.facts.subject,
	};
	state.trusted = {sha256: result.facts.sha256, basis: result.facts.basis, subject: result.facts.subject};
	return {stream: result.stream, facts};
}

async function exchangeOnce(endpoint: ZabbixEndpoint, state: AgentState, key: string, onWarning: (message: string) => void): Promise<ZabbixReply> {
	const timeoutMs = endpoint.timeoutMs ?? defaultTimeoutMs;
	const started = performance.now();
	const {prepared} = state;
	const sockets: net.Socket[] = [];
	let timer: NodeJS.Timeout | undefined;
	let timedOut = false;
	let rejectTimeout: (error: Error) => void = () => undefined;
	const timeout = new Promise<never>((_resolve, reject) => {
		rejectTimeout = reject;
	});
	timeout.catch(() => undefined);
	const arm = () => {
		timer = setTimeout(() => {
			timedOut = true;
			for (const socket of sockets) {
				socket.destroy();
			}

			rejectTimeout(requestTimeout(endpoint, timeoutMs));
		}, timeoutMs);
	};

	arm();
	const race = async <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, timeout]);

	try {
		const socket = await race(tcpConnect(endpoint));
		sockets.push(socket);
		let stream: net.Socket = socket;
		let facts: ZabbixTlsFacts | undefined;
		switch (prepared.kind) {
			case 'unencrypted': {
				break;
			}

			case 'psk': {
				const tlsSocket = await race(tlsHandshake(endpoint, 'psk', {
					socket,
					secureContext: prepared.context,
					pskCallback: () => ({identity: prepared.identity, psk: prepared.key}),
					// No certificate in PSK mode; Node's default host-name check would fail (docs/zabbix.md#tls-from-node).
					checkServerIdentity: () => undefined,
				}));
				sockets.push(tlsSocket);
				stream = tlsSocket;
				facts = {
					version: tlsSocket.getProtocol() ?? 'unknown', cipher: tlsSocket.getCipher()?.name ?? 'unknown', kind: 'psk', pskIdentity: prepared.identity,
				};
				break;
			}

			case 'cert-ca': {
				const tlsSocket = await race(tlsHandshake(endpoint, 'cert', {
					socket,
					secureContext: prepared.context,
					// Verified below: Zabbix accepts agent certificates without serverAuth and matches no host name (docs/zabbix.md#agent-certificates).
					rejectUnauthorized: false,
					checkServerIdentity: () => undefined,
				}));
				sockets.push(tlsSocket);
				verifyWithCa(endpoint, tlsSocket, prepared);
				stream = tlsSocket;
				const leaf = tlsSocket.getPeerX509Certificate();
				facts = {
					version: tlsSocket.getProtocol() ?? 'unknown',
					cipher: tlsSocket.getCipher()?.name ?? 'unknown',
					kind: 'cert',
					basis: 'ca-file',
					...(leaf ? {sha256: leaf.fingerprint256, subject: leaf.subject.split('\n').toReversed().join(', ')} : {}),
				};
				break;
			}

			case 'cert-tofu': {
				// The trust prompt must not count against the request timeout (tls.ts has its own handshake timeout).
				const firstDecision = !state.trusted;
				if (firstDecision) {
					clearTimeout(timer);
				}

				const secured = firstDecision ? await secureTofu(endpoint, state, socket, prepared, onWarning) : await race(secureTofu(endpoint, state, socket, prepared, onWarning));
				sockets.push(secured.stream);
				if (firstDecision) {
					arm();
				}

				const leaf = secured.stream.getPeerX509Certificate();
				const mismatch = leaf
					? verifyIssuerSubject(leaf.raw, {
						...(prepared.issuer ? {issuer: prepared.issuer} : {}),
						...(prepared.subject ? {subject: prepared.subject} : {}),
					})
					: undefined;
				if (mismatch) {
					throw tlsError(endpoint, mismatch, 'The agent\'s certificate is not the one named by --tls-server-cert-issuer/--tls-server-cert-subject. Copy the "peer" string if that certificate is the right one (Zabbix compares the strings exactly).', {code: 'CERT_INVALID'});
				}

				stream = secured.stream;
				facts = secured.facts;
				if (stream.destroyed) {
					// The agent gave up waiting while we asked about its certificate (its Timeout, 3 s by default).
					throw accessRestricted(endpoint, prepared);
				}

				break;
			}
		}

		const data = await race(readAnswer(endpoint, prepared, stream, key, () => timedOut));
		return {
			key, response: parseResponse(data), data, ms: performance.now() - started, ...(facts ? {tls: facts} : {}),
		};
	} finally {
		clearTimeout(timer);
		for (const socket of sockets.toReversed()) {
			if (!socket.destroyed) {
				socket.destroy();
			}
		}
	}
}

async function readAnswer(endpoint: ZabbixEndpoint, prepared: Prepared, stream: net.Socket, key: string, timedOut: () => boolean): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const decoder = new FrameDecoder(endpoint.maxBytes === undefined ? {} : {maxBytes: endpoint.maxBytes});
		let settled = false;
		const finish = (error?: Error, data?: Buffer) => {
			if (settled) {
				return;
			}

			settled = true;
			stream.off('data', onData);
			stream.off('end', onEnd);
			stream.off('close', onEnd);
			stream.off('error', onError);
			stream.on('error', () => undefined);
			if (error) {
				stream.destroy();
				reject(error);
			} else {
				// The agent closes after its answer; close our side too (TLS: close_notify).
				stream.end();
				resolve(data!);
			}
		};

		const onData = (chunk: Buffer) => {
			try {
				const frame = decoder.push(chunk);
				if (frame) {
					finish(undefined, frame.data);
				}
			} catch (error) {
				finish(error instanceof SecmonError ? protocolFailure(endpoint, error) : (error as Error));
			}
		};

		const onEnd = () => {
			if (timedOut()) {
				return;
			}

			try {
				finish(undefined, decoder.end().data);
			} catch (error) {
				finish(decoder.bytesReceived === 0 ? accessRestricted(endpoint, prepared, error) : protocolFailure(endpoint, error as SecmonError));
			}
		};

		const onError = (error: NodeJS.ErrnoException) => {
			if (decoder.bytesReceived === 0 && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
				// The agent peeks one byte, refuses the connection kind and closes with our request unread (RST).
				finish(accessRestricted(endpoint, prepared, error));
				return;
			}

			finish(new ZabbixError({
				code: 'CONNECT_FAILED',
				stage: 'response',
				message: `connection to Zabbix agent ${where(endpoint)} failed while reading the answer: ${strerror(error)}`,
				hint: 'Check the network and the agent log',
				zabbixText: `Get value error: ${strerror(error)}`,
				agentLevel: true,
				cause: error,
			}));
		};

		stream.on('data', onData);
		stream.once('end', onEnd);
		stream.once('close', onEnd);
		stream.on('error', onError);
		stream.write(encodeRequest(key), error => {
			if (error) {
				onError(error);
			}
		});
	});
}

/** One passive check on a new connection (zabbix_get's whole job). */
export async function zabbixGet(options: ZabbixEndpoint & {key: string}): Promise<ZabbixReply> {
	const agent = new ZabbixAgent(options);
	return agent.get(options.key);
}

// ---------------------------------------------------------------------------------------------
// The pool.

export type ZabbixResult
	= | {key: string; ok: true; reply: ZabbixReply}
		| {key: string; ok: false; error: SecmonError};

export type ZabbixAgentOptions = ZabbixEndpoint & {
	/** Concurrent connections to this agent (default 3, the agent's StartAgents). */
	concurrency?: number;
	/** First wait after an agent-level failure; doubles up to maxBackoffMs. */
	backoffMs?: number;
	maxBackoffMs?: number;
};

function isFatal(error: unknown): boolean {
	// Trust refusals and configuration errors hold for every key: they end the whole operation.
	return error instanceof SecmonError && (error.code === 'USAGE' || error.code === 'TRUST_REQUIRED' || error.code === 'TRUST_REJECTED'
		|| error.code === 'CERT_CHANGED' || error.code === 'STORE' || (error.code === 'CERT_INVALID' && !(error instanceof ZabbixError)));
}

function isAgentLevel(error: unknown): boolean {
	return error instanceof ZabbixError ? error.agentLevel : !(error instanceof SecmonError && error.code === 'PROTOCOL');
}

function notAttempted(key: string, cause: SecmonError, message = `${key}: not requested because ${cause.message}`): SecmonError {
	const zabbixText = cause instanceof ZabbixError ? cause.zabbixText : `Get value error: ${cause.message}`;
	return new ZabbixError({
		code: cause.code,
		stage: cause instanceof ZabbixError ? cause.stage : 'request',
		message,
		hint: cause.hint ?? '',
		zabbixText,
		agentLevel: true,
		cause,
	});
}

/**
 * A Zabbix agent with a bounded connection pool, slow start and back-off. Also maps keys to the
 * common metric model (`describe`, `fetch`).
 */
export class ZabbixAgent {
	readonly endpoint: ZabbixAgentOptions;
	readonly concurrency: number;
	/** TLS facts of the last successful connection. */
	lastTls?: ZabbixTlsFacts;
	private state?: AgentState;
	private healthy = false;
	private failures = 0;
	private retryAt = 0;
	private lastFailure?: SecmonError;
	private readonly warned = new Set<string>();
	private readonly descs = new Map<string, MetricDesc>();

	constructor(endpoint: ZabbixAgentOptions) {
		this.endpoint = endpoint;
		this.concurrency = Math.max(1, Math.floor(endpoint.concurrency ?? defaultConcurrency));
	}

	/** "host:port" as given. */
	get target(): string {
		return where(this.endpoint);
	}

	/** When the next connection may be attempted after a refusal (epoch ms), 0 when not backing off. */
	get nextAttemptAt(): number {
		return this.retryAt;
	}

	private warn(message: string): void {
		if (!this.warned.has(message)) {
			this.warned.add(message);
			this.endpoint.onWarning?.(message);
		}
	}

	private prepare(): AgentState {
		this.state ??= {
			prepared: prepareTls(this.endpoint, message => {
				this.warn(message);
			}),
		};
		return this.state;
	}

	/** One key; throws on failure (ZabbixError, or SecmonError for trust refusals). */
	async get(key: string): Promise<ZabbixReply> {
		const [result] = await this.getMany([key]);
		if (!result) {
			throw new SecmonError('INTERNAL', 'no result');
		}

		if (!result.ok) {
			throw result.error;
		}

		return result.reply;
	}

	/**
	 * Many keys, answers in the order of `keys`. Per-key failures are results; fatal ones
	 * (configuration, trust) throw. After an agent-level failure (refused, unreachable, timeout)
	 * no new connection is started and the remaining keys fail with the same cause.
	 */
	async getMany(keys: readonly string[], onResult?: (result: ZabbixResult, index: number) => void): Promise<ZabbixResult[]> {
		const state = this.prepare();
		const results: Array<ZabbixResult | undefined> = Array.from({length: keys.length});
		const settle = (index: number, result: ZabbixResult) => {
			results[index] = result;
			onResult?.(result, index);
		};

		if (Date.now() < this.retryAt && this.lastFailure) {
			const cause = this.lastFailure;
			const waitS = Math.ceil((this.retryAt - Date.now()) / 1000);
			for (const [index, key] of keys.entries()) {
				settle(index, {key, ok: false, error: notAttempted(key, cause, `${key}: not requested: the agent refused or failed the last connection (${cause.message}); next attempt in ${waitS} s`)});
			}

			return results as ZabbixResult[];
		}

		// Shared by the workers: the first agent-level failure stops new connections; a fatal one ends the call.
		const control: {stop?: SecmonError; fatal?: SecmonError; next: number} = {next: 0};
		const runOne = async (index: number) => {
			const key = keys[index]!;
			try {
				const reply = await exchangeOnce(this.endpoint, state, key, message => {
					this.warn(message);
				});
				this.healthy = true;
				this.failures = 0;
				this.retryAt = 0;
				if (reply.tls) {
					this.lastTls = reply.tls;
				}

				settle(index, {key, ok: true, reply});
			} catch (error) {
				if (isFatal(error)) {
					control.fatal ??= error as SecmonError;
					control.stop ??= error as SecmonError;
					return;
				}

				const secmonError = error instanceof SecmonError ? error : new SecmonError('INTERNAL', (error as Error).message, undefined, {cause: error});
				settle(index, {key, ok: false, error: secmonError});
				if (isAgentLevel(error)) {
					control.stop ??= secmonError;
				}
			}
		};

		const worker = async () => {
			while (control.stop === undefined && control.next < keys.length) {
				const index = control.next++;
				await runOne(index);
			}
		};

		// Slow start: one connection until the agent has answered (a refusal then costs it one 1 s sleep, not three;
		// and a certificate prompt is shown once).
		if (!this.healthy && keys.length > 0) {
			control.next = 1;
			await runOne(0);
		}

		await Promise.all(Array.from({length: Math.min(this.concurrency, keys.length)}, async () => worker()));

		const {stop, fatal} = control;
		if (fatal) {
			throw fatal;
		}

		if (stop) {
			this.healthy = false;
			this.failures++;
			this.lastFailure = stop;
			const base = this.endpoint.backoffMs ?? 2000;
			this.retryAt = Date.now() + Math.min(this.endpoint.maxBackoffMs ?? 60_000, base * (2 ** (this.failures - 1)));
			for (const [index, key] of keys.entries()) {
				if (!results[index]) {
					settle(index, {key, ok: false, error: notAttempted(key, stop)});
				}
			}
		}

		return results as ZabbixResult[];
	}

	/**
	 * Metric descriptions for `keys`: known keys from keys.ts, the others typed by a first fetch
	 * (Zabbix has no metadata request). Descriptions are kept, so types stay stable across fetches.
	 */
	async describe(keys: readonly string[]): Promise<MetricDesc[]> {
		const unknown = keys.filter(key => !this.descs.has(key));
		if (unknown.length > 0) {
			const results = await this.getMany(unknown);
			for (const result of results) {
				// A failed key stays undescribed (string) until it answers; describeKey handles undefined.
				this.descs.set(result.key, describeKey(result.key, result.ok ? result.reply.response : undefined));
			}
		}

		return keys.map(key => this.descs.get(key) ?? describeKey(key));
	}

	/** The description of `key`, created from this response if it is new (types stay stable afterwards). */
	remember(key: string, response: AgentResponse): MetricDesc {
		let desc = this.descs.get(key);
		if (!desc) {
			desc = describeKey(key, response);
			this.descs.set(key, desc);
		}

		return desc;
	}

	/** One Sample for `keys` (values converted per their MetricDesc; errors per key). */
	async fetch(keys: readonly string[]): Promise<Sample> {
		const results = await this.getMany(keys);
		const timestamp = new Date();
		return {
			target: this.target,
			timestamp,
			metrics: results.map(result => {
				if (!result.ok) {
					return {name: result.key, result: {status: 'error', code: zbxRequestFailedCode, message: result.error.message}};
				}

				return {name: result.key, result: toMetricValues(this.remember(result.key, result.reply.response), result.reply.response)};
			}),
		};
	}
}

// ---------------------------------------------------------------------------------------------
// The common front-end contract (metrics/source.ts).

/**
 * A Zabbix agent as a MetricSource: item keys are the metric names. `describe` asks the agent once
 * per new key (Zabbix has no metadata request) so that numeric keys get a numeric type; a key the
 * agent does not know ("Unsupported item key.") is reported like an unknown PCP metric name.
 */
export class ZabbixSource implements MetricSource {
	readonly agent: ZabbixAgent;
	readonly host: string;
	readonly port: number;
	readonly target: string;
	private described: string[] = [];

	constructor(agent: ZabbixAgent, display?: string) {
		this.agent = agent;
		this.host = agent.endpoint.host;
		this.port = agent.endpoint.port;
		this.target = display ?? agent.target;
	}

	get tls(): TlsFacts | undefined {
		const facts = this.agent.lastTls;
		if (!facts) {
			return undefined;
		}

		if (facts.kind === 'psk') {
			// The agent proved it holds the pre-arranged key; there is no certificate. The subject line names the identity.
			return {
				version: facts.version, cipher: facts.cipher, basis: 'psk', sha256: '', sha1: '', subject: `PSK identity ${facts.pskIdentity ?? ''}`, validTo: new Date(Number.NaN),
			};
		}

		return {
			version: facts.version,
			cipher: facts.cipher,
			basis: facts.basis === 'ca-file' || facts.basis === undefined ? 'ca' : facts.basis,
			sha256: facts.sha256 ?? '',
			sha1: '',
			subject: facts.subject ?? '',
			validTo: new Date(Number.NaN),
		};
	}

	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: Array<{name: string; message: string}>}> {
		const results = await this.agent.getMany(names);
		const firstAgentError = results.find(result => !result.ok && isZabbixError(result.error) && result.error.agentLevel);
		if (firstAgentError && !firstAgentError.ok && results.every(result => !result.ok)) {
			// Nothing answered: the connection itself failed (refused, TLS, timeout). That is not a per-name problem.
			throw firstAgentError.error;
		}

		const descs: MetricDesc[] = [];
		const errors: Array<{name: string; message: string}> = [];
		for (const result of results) {
			if (!result.ok) {
				errors.push({name: result.key, message: result.error.message});
				continue;
			}

			if (result.reply.response.kind === 'notsupported' && result.reply.response.reason === 'Unsupported item key.') {
				errors.push({name: result.key, message: `ZBX_NOTSUPPORTED: ${result.reply.response.reason}`});
				continue;
			}

			descs.push(this.agent.remember(result.key, result.reply.response));
		}

		this.described = [...new Set([...this.described, ...descs.map(desc => desc.name)])];
		return {descs, errors};
	}

	async fetch(): Promise<Sample> {
		const sample = await this.agent.fetch(this.described);
		return {...sample, target: this.target};
	}

	close(): void {
		// One connection per request: nothing stays open between fetches.
	}
}

/**
 * zabbix:// for the main CLI (sources.ts): a ZabbixSource for one --host.
 * Credentials: a PSK (identity + key file) from --psk-identity/--psk-file (plan.security) or
 * SECMON_PSK_IDENTITY/SECMON_PSK_FILE; else --cert/--key (certificate mode: --ca-file is checked
 * the Zabbix way, without it the agent certificate is pinned); else plain text. A Zabbix agent
 * cannot upgrade a plain connection, so `enforce` without credentials is refused before connecting.
 */
export async function openZabbix(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<ZabbixSource> {
	const security = plan.security(target);
	const fromEnvironment = (name: string) => (hooks.env[name] === undefined || hooks.env[name] === '' ? undefined : hooks.env[name]);
	const pskFile = security.pskFile ?? fromEnvironment('SECMON_PSK_FILE');
	const pskIdentity = security.pskIdentity ?? fromEnvironment('SECMON_PSK_IDENTITY');
	let tls: ZabbixTls;
	let trust: ZabbixTrust | undefined;
	if (pskFile !== undefined) {
		const {loadPsk} = await import('./psk.js');
		const psk = loadPsk({...(pskIdentity === undefined ? {} : {identity: pskIdentity}), keyFile: pskFile});
		for (const warning of psk.warnings) {
			hooks.warn(`secmon: ${warning}`);
		}

		tls = {kind: 'psk', identity: psk.identity, key: psk.key};
	} else if (security.cert !== undefined || security.key !== undefined) {
		if (security.cert === undefined || security.key === undefined) {
			throw new SecmonError('USAGE', security.cert === undefined ? '--key given without --cert' : '--cert given without --key', 'Zabbix certificate mode needs both: --cert FILE --key FILE');
		}

		tls = {
			kind: 'cert', certFile: security.cert, keyFile: security.key, ...(security.caFile === undefined ? {} : {caFile: security.caFile}),
		};
		if (security.caFile === undefined) {
			const [{TrustStore}, {secmonHome}] = await Promise.all([import('../../security/store.js'), import('../../security/home.js')]);
			trust = {
				store: new TrustStore(secmonHome(hooks.env)),
				acceptNew: security.acceptNew,
				...(security.fingerprint === undefined ? {} : {fingerprint: security.fingerprint}),
				...(security.interactive && hooks.ask ? {ask: hooks.ask} : {}),
				...(hooks.argv === undefined ? {} : {rerunCommand: rerunCommand(hooks.argv, security)}),
				...(security.servername === undefined ? {} : {servername: security.servername}),
			};
		}
	} else {
		if (security.mode === 'enforce') {
			throw new SecmonError(
				'USAGE',
				`Zabbix agent ${target.display}: secure mode is enforce, but neither a PSK nor a client certificate was given`,
				'A Zabbix agent cannot switch a plain connection to TLS. Give --cert FILE --key FILE (agent TLSAccept=cert, with --ca-file to check it), '
				+ 'or a PSK with SECMON_PSK_IDENTITY=ID SECMON_PSK_FILE=FILE (agent TLSAccept=psk); or use --secure relaxed/off for plain text',
			);
		}

		const [{checkPlainAllowed}, {TrustStore}, {secmonHome}] = await Promise.all([
			import('../../security/downgrade.js'), import('../../security/store.js'), import('../../security/home.js'),
		]);
		checkPlainAllowed({
			store: new TrustStore(secmonHome(hooks.env)),
			target: {host: target.host, port: target.port},
			collector: `Zabbix agent ${target.display}`,
			mode: security.mode,
			modeSource: security.modeSource,
			...(security.tlsRequiredBy === undefined ? {} : {tlsRequiredBy: security.tlsRequiredBy}),
			plainBecause: 'would be read in plain text (no --cert/--key or PSK given: a Zabbix agent cannot offer TLS in-band)',
			...(hooks.argv === undefined ? {} : {rerunPlain: rerunWithSecure(hooks.argv, 'off')}),
			warn: hooks.warn,
		});
		if (security.mode === 'relaxed') {
			hooks.warn(`secmon: warning: ${target.display}: no PSK or client certificate given, and a Zabbix agent cannot offer TLS in-band; ${security.modeSource === 'default' ? 'secmon' : 'relaxed mode'} continues in PLAIN TEXT (not encrypted, not authenticated).`);
		}

		tls = {kind: 'unencrypted'};
	}

	const agent = new ZabbixAgent({
		host: target.host,
		port: target.port,
		tls,
		...(trust ? {trust} : {}),
		timeoutMs: plan.requestTimeoutMs,
		onWarning: hooks.warn,
	});
	return new ZabbixSource(agent, target.display);
}
