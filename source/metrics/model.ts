/**
 * The one metric model every protocol maps into and every renderer consumes
 * (docs/design.md#data-flow). Protocol-specific detail (PCP type codes, units
 * bitfields) is carried in optional fields so that the pminfo renderer can be
 * byte-exact while the other renderers stay generic.
 */

import type {Thresholds} from './thresholds.js';

export type MetricType = 'i32' | 'u32' | 'i64' | 'u64' | 'float' | 'double' | 'string' | 'aggregate' | 'event' | 'unknown';

export type Semantics = 'counter' | 'instant' | 'discrete';

/** PCP pmUnits, also used for other protocols (Zabbix/Icinga units map onto it). */
export type Units = {
	dimSpace: number;
	dimTime: number;
	dimCount: number;
	/** 0..8 = byte, K, M, G, T, P, E, Z, Y */
	scaleSpace: number;
	/** 0..5 = nanosec, microsec, millisec, sec, min, hour */
	scaleTime: number;
	/** power of ten */
	scaleCount: number;
};

export const noUnits: Units = {
	dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
};

export type MetricDesc = {
	name: string;
	type: MetricType;
	semantics: Semantics;
	units: Units;
	/** Human units string, e.g. "Kbyte", "count / sec", "none" (pmUnitsStr for PCP). */
	unitsText: string;
	/** PCP only: the raw identifiers, for pminfo-compatible output. */
	pmid?: number;
	indom?: number;
	/** PCP raw type code (for "???" types); semantics code likewise. */
	typeCode?: number;
	semCode?: number;
	/** One-line help text, when known. */
	oneline?: string;
	/** Warning and critical levels the collector gives (Icinga, Livestatus and mon perfdata). */
	thresholds?: Thresholds;
};

/**
 * A metric value. 64-bit integers are bigint so that nothing is lost; renderers
 * decide how to print them (JSON: number up to 2^53, decimal string beyond).
 * Aggregates are raw bytes.
 */
export type Value = number | bigint | string | Uint8Array;

export type InstanceValue = {
	/** Instance id (PCP inst), absent for singular metrics. */
	instance?: number;
	/** Instance name, when the instance domain is known. */
	name?: string;
	value: Value;
};

export type MetricValues
	= | {status: 'ok'; values: InstanceValue[]}
		| {status: 'novalues'}
		| {status: 'error'; code: number; message: string};

export type Sample = {
	/** "host:port" as the user named it */
	target: string;
	/** Collector's timestamp (or local time when the protocol has none). */
	timestamp: Date;
	metrics: Array<{name: string; result: MetricValues}>;
};
