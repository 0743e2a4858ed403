/**
 * What the built-in collector serves: metric metadata in PCP's own terms
 * (pmID, type code, pmInDom, semantics code, pmUnits) so that the PDU layer
 * can answer byte-for-byte like pmcd, and values in the shared model's Value.
 */
import type {Units, Value} from '../metrics/model.js';

// The codes are the client's (one definition of each: protocols/pcp/constants.ts). instNull is
// PM_IN_NULL, the instance of a metric with no instance domain.
export {pcpSem, pcpType} from '../protocols/pcp/model.js';
export {PM_INDOM_NULL as indomNull, PM_IN_NULL as instNull} from '../protocols/pcp/constants.js';

/** pmID = domain:9 | cluster:12 | item:10 (docs/pcp.md#identifiers). */
export function pmid(domain: number, cluster: number, item: number): number {
	return ((domain << 22) | (cluster << 10) | item) >>> 0;
}

/** pmInDom = domain:9 | serial:22. */
export function indom(domain: number, serial: number): number {
	return ((domain << 22) | serial) >>> 0;
}

export function pmidString(id: number): string {
	return `${id >>> 22}.${(id >>> 10) & 0xF_FF}.${id & 0x3_FF}`;
}

export function indomString(id: number): string {
	return `${id >>> 22}.${id & 0x3F_FF_FF}`;
}

export type ServedMetric = {
	name: string;
	pmid: number;
	/** pcpType code */
	type: number;
	/** pmInDom, or indomNull */
	indom: number;
	/** pcpSem code */
	sem: number;
	units: Units;
	/** One-line help (TEXT_REQ type 5), copied from the real PMDA. */
	oneline: string;
	/** Long help (TEXT_REQ type 6); may be empty, as in the real PMDA. */
	help: string;
};

export type ServedIndom = {
	indom: number;
	oneline: string;
	help: string;
};

export type Instance = {inst: number; name: string};

export type InstanceValue = {inst: number; value: Value};

/**
 * One metric's share of a fetch: values (an empty list is "no values",
 * numval 0), or a PCP error code (numval < 0, e.g. PM_ERR_AGAIN).
 */
export type FetchOutcome = {values: InstanceValue[]} | {error: number};

/** The connection asking, for the per-client pmcd.client.* metrics. */
export type ClientContext = {
	/** Sequence number of this client (the pmcd.client indom instance). */
	seq: number;
	/** What the client stored into pmcd.client.whoami ("" until then). */
	whoami: string;
};

/** A group of metrics the collector serves (the local Linux metrics, the pmcd.* basics). */
export type MetricSource = {
	/** The PMID domain of every metric here (60 linux, 2 pmcd). */
	readonly domain: number;
	/** The agent name, as pmcd's domain label {"agent": …} has it. */
	readonly agent: string;
	readonly metrics: readonly ServedMetric[];
	readonly indoms: readonly ServedIndom[];
	/** Current instances of one of this source's instance domains. */
	instances(indom: number, client: ClientContext): Promise<Instance[]>;
	/** Values of these pmids (all of them this source's), sampled together. */
	fetch(pmids: readonly number[], client: ClientContext): Promise<Map<number, FetchOutcome>>;
	/**
	 * The values do not depend on the client asking (true for /proc, false for pmcd.client.*):
	 * the server may serve one read to every client within a short window (server.ts sharedFetch).
	 */
	readonly shared?: boolean;
};
