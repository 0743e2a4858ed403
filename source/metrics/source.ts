import type {TlsFacts} from '../security/types.js';
import type {MetricDesc, Sample} from './model.js';

/**
 * How the collector answered, where its protocol has versions (Zabbix: the passive-check form a
 * Zabbix 7 agent answers in JSON with its version and variant, an older one in plain text).
 */
export type AgentFacts = {protocol: 'json' | 'plaintext'; version?: string; variant?: number};

/**
 * One open, verified session to a collector, as every front end sees it
 * (docs/design.md#metric-model: describe(names) → MetricDesc[]; fetch() → Sample). Each protocol
 * implements it; renderers and the sampler know nothing else.
 */
export type MetricSource = {
	/** "host:port" for display. */
	readonly target: string;
	readonly host: string;
	readonly port: number;
	/** TLS facts, or undefined for a plain connection. */
	readonly tls: TlsFacts | undefined;
	/** How the collector answered its last request (Zabbix); absent for other protocols. */
	readonly answeredWith?: AgentFacts | undefined;
	/**
	 * Resolve user-given names (non-leaf names expand) into descriptors; unknown names are reported,
	 * not thrown. Each call adds to what fetch() samples (DerivedSource describes its operands in a
	 * second call); it never forgets what an earlier call described.
	 */
	describe(names: string[]): Promise<{descs: MetricDesc[]; errors: Array<{name: string; message: string}>}>;
	/** One sample of every described metric. */
	fetch(): Promise<Sample>;
	close(): void;
};
