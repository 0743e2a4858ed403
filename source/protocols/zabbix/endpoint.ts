/**
 * What describes one Zabbix agent to the client (docs/zabbix.md#passive-checks): address, TLS mode
 * (plain, PSK or certificate), how an agent certificate without a CA file is trusted, limits; the
 * defaults zabbix_get uses; and what a successful request returns.
 */
import net from 'node:net';
import type {TrustStore} from '../../security/store.js';
import type {Ask, TrustBasis} from '../../security/types.js';
import type {AgentResponse} from './frame.js';
import type {JsonAnswer} from './passive-json.js';

/**
 * How a passive check is sent (docs/zabbix.md#zabbix-7-json-checks), as zabbix_get 7's -P:
 * `auto` sends JSON and, when the agent answers as a pre-7 agent does, resends the plain key and
 * keeps to plain text for that agent; `json` only JSON; `plaintext` only the key.
 */
export type ZabbixProtocol = 'auto' | 'json' | 'plaintext';

export const defaultZabbixPort = 10_050;
/** zabbix_get's default (-t, 1-30 s). */
export const defaultTimeoutMs = 30_000;
/** The agent's default StartAgents: more connections than listeners only queue in its backlog. */
export const defaultConcurrency = 3;

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
	/** TLS 1.3 suites replacing Node's (zabbix_get --tls-cipher13, OpenSSL TLS_… names). */
	ciphers13?: string;
	/** Passive-check protocol; default `plaintext` here, the commands pass `auto` (as zabbix_get 7 and the server do). */
	protocol?: ZabbixProtocol;
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
	/** How the agent answered: `json` (Zabbix 7 agent) or `plaintext`. */
	protocol: 'json' | 'plaintext';
	/** The decoded JSON answer (with the agent's version and variant) when `protocol` is json. */
	json?: Exclude<JsonAnswer, {kind: 'plaintext'}>;
	/** Milliseconds from connect to the complete answer (the last connection's, after a fallback). */
	ms: number;
	tls?: ZabbixTlsFacts;
};

/** "host:port" as given, with brackets around an IPv6 address. */
export function where(endpoint: ZabbixEndpoint): string {
	return net.isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
