/**
 * What describes one Zabbix agent to the client (docs/zabbix.md#passive-checks): address, TLS mode
 * (plain, PSK or certificate), how an agent certificate without a CA file is trusted, limits; the
 * defaults zabbix_get uses; and what a successful request returns.
 */
import net from 'node:net';
import type {TrustStore} from '../../security/store.js';
import type {Ask, TrustBasis} from '../../security/types.js';
import type {AgentResponse} from './frame.js';

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

/** "host:port" as given, with brackets around an IPv6 address. */
export function where(endpoint: ZabbixEndpoint): string {
	return net.isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
