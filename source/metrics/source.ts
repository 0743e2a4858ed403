import type {TlsFacts} from '../security/types.js';
import type {MetricDesc, MetricValues, Sample} from './model.js';

/**
 * How the collector answered, where its protocol has versions (Zabbix: the passive-check form a
 * Zabbix 7 agent answers in JSON with its version and variant, an older one in plain text).
 */
export type AgentFacts = {protocol: 'json' | 'plaintext'; version?: string; variant?: number};

/**
 * Names the metric browser keeps from one collector at most: a PMNS has a few thousand (Debian's
 * pmcd ~2,500), an Icinga with 10,000 services ~60,000 leaves; a hostile collector could send
 * millions. Beyond this the list says it is cut and search narrows the names.
 */
export const maxBrowseNames = 100_000;

/** A collector's names for the metric browser: each with its place in the collector's tree. */
export type NameList = {
	entries: Array<{name: string; path: string[]}>;
	/** More than maxBrowseNames. */
	truncated: boolean;
	/** What the collector cannot tell (a Zabbix agent cannot list its keys). */
	note?: string;
};

/** The first maxBrowseNames of `entries`, and whether some were left out. */
export function boundNames(entries: NameList['entries'], note?: string): NameList {
	return {
		entries: entries.length > maxBrowseNames ? entries.slice(0, maxBrowseNames) : entries,
		truncated: entries.length > maxBrowseNames,
		...(note === undefined ? {} : {note}),
	};
}

/**
 * A name the collector does not know, whatever the protocol: each source maps its own "unknown"
 * (PCP's PM_ERR_NAME, a Zabbix agent's "Unsupported item key.", a check result that is not there)
 * to it. Its code is the number PCP gives PM_ERR_NAME (docs/pcp.md#error-codes), so a --json
 * line says the same for every collector and for pmcd (docs/schema/sample.json).
 */
export const unknownMetric = {code: -12_357, message: 'Unknown metric name'} as const;

/**
 * A name describe() could not resolve, in the collector's words. `code`: the per-metric error
 * code of any other problem (a PCP error code, or secmon's for another protocol); absent, the
 * name is unknown (unknownMetric).
 */
export type NameError = {name: string; message: string; code?: number};

/** A name describe() could not resolve as a sample's per-metric error (--json lists them with the values). */
export function nameErrorResult(error: NameError): MetricValues {
	return {status: 'error', code: error.code ?? unknownMetric.code, message: error.message};
}

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
	/** pmproxy: the pmcd it reads for us (?hostspec=), when one was named. */
	readonly hostspec?: string | undefined;
	/**
	 * Resolve user-given names (non-leaf names expand) into descriptors; unknown names are reported,
	 * not thrown. Each call adds to what fetch() samples (DerivedSource describes its operands in a
	 * second call); it never forgets what an earlier call described.
	 */
	describe(names: string[]): Promise<{descs: MetricDesc[]; errors: NameError[]}>;
	/** One sample of every described metric. */
	fetch(): Promise<Sample>;
	/**
	 * Sample only these of the names describe() answered from now on: the others leave fetch()'s
	 * requests (the panes' `d`, live/runner.ts). A later describe() adds again. A source without it
	 * keeps sampling what it described.
	 */
	retain?(names: string[]): void;
	/**
	 * Every name the collector offers, for the panes' metric browser (bounded by maxBrowseNames).
	 * Read-only: what fetch() returns does not change.
	 */
	listNames?(): Promise<NameList>;
	/** The help text of a name, when the collector has one. */
	helpText?(name: string): Promise<string | undefined>;
	close(): void;
};
