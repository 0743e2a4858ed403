/**
 * Zabbix client failures: `ZabbixError` carries what zabbix_get would print for each one next to
 * secmon's message and hint, and whether the whole agent is unusable for now (the pool then stops
 * and backs off, docs/zabbix.md#refused-connections). The texts for errno codes and for the ways
 * an agent ends a TLS handshake or a request live here.
 */
import {SecmonError, type ErrorCode, type ExitCode} from '../../errors.js';
import {where, type ZabbixEndpoint} from './endpoint.js';

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

/** Unreadable or unusable TLS files: exit 1 like zabbix_get (flag syntax errors are the usage errors, exit 2). */
export function configError(message: string, hint: string, cause?: unknown): ZabbixError {
	return new ZabbixError({
		code: 'USAGE', stage: 'config', message, hint, zabbixText: `ERROR: ${message}`, agentLevel: true, cause, exitCode: 1,
	});
}

export function connectFailed(endpoint: ZabbixEndpoint, error: NodeJS.ErrnoException): ZabbixError {
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

export function strerror(error: NodeJS.ErrnoException): string {
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

export function tlsError(endpoint: ZabbixEndpoint, reason: string, hint: string, options: {agentLevel?: boolean; cause?: unknown; code?: ErrorCode} = {}): ZabbixError {
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

export function handshakeFailure(endpoint: ZabbixEndpoint, kind: 'psk' | 'cert', error?: NodeJS.ErrnoException): ZabbixError {
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

export function requestTimeout(endpoint: ZabbixEndpoint, timeoutMs: number): ZabbixError {
	return new ZabbixError({
		code: 'TIMEOUT',
		stage: 'timeout',
		message: `Zabbix agent ${where(endpoint)} did not answer within ${timeoutMs / 1000} s`,
		hint: 'Check that the agent is running and reachable; a slow item may need a larger -t (1-30 s), and the agent\'s own Timeout must allow it too',
		zabbixText: 'Timeout while executing operation',
		agentLevel: true,
	});
}

/** How a connection to the agent is secured (tls-context.ts `Prepared['kind']`). */
export type ConnectionKind = 'unencrypted' | 'psk' | 'cert-ca' | 'cert-tofu';

export function accessRestricted(endpoint: ZabbixEndpoint, prepared: {kind: ConnectionKind}, cause?: unknown): ZabbixError {
	const hints: Record<ConnectionKind, string> = {
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

export function protocolFailure(endpoint: ZabbixEndpoint, error: SecmonError): ZabbixError {
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

/** -P json and an agent older than 7.0 (zabbix_get 7's get_value(), src/zabbix_get/zabbix_get.c). */
export function jsonRefused(endpoint: ZabbixEndpoint): ZabbixError {
	return new ZabbixError({
		code: 'PROTOCOL',
		stage: 'response',
		message: `Zabbix agent ${where(endpoint)} answered the JSON request in plain text (an agent older than 7.0)`,
		hint: 'Use -P auto or -P plaintext for agents older than Zabbix 7.0',
		zabbixText: 'Get value error: JSON protocol requested but received plaintext response',
		agentLevel: false,
	});
}
