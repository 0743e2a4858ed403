/**
 * `--json`: NDJSON, one object per metric per sample (docs/design.md#ndjson-output).
 *
 * {"type":"sample","metric":…,"host":…,"port":…,"timestamp":"…Z","dataType":…,"semantics":…,"units":…,
 *  ["rateUnits":…,] then one of "value"[,"rate"] | "instances":[{"id","name","value"[,"rate"]}]
 *  | "error":{"code","message"} | "novalues":true, ["agent":{"protocol","version","variant"},] and
 *  "tls":{"version","cipher","trust","sha256"} or null}
 * The schema of every line is docs/schema/sample.json (and error.json for failures).
 *
 * Counters while sampling (the live job) carry their rate beside the raw value, computed as pmval
 * computes it (docs/pcp.md#pmval-output "Rates"; pmval.c printrates: the value's change over the change of the collector's
 * timestamps, a time counter divided by the interval in its own time unit, i.e. time
 * utilization); `rate` is null where there is none: the first sample, an instance missing from
 * the previous sample, a counter that went backwards (wrap or restart) or a non-numeric value.
 *
 * Value encoding, chosen so that `jq` never loses precision silently:
 * - numbers are JSON numbers; NaN and ±Infinity (not JSON) are the strings
 *   "NaN", "Infinity", "-Infinity";
 * - 64-bit integers (bigint) are JSON numbers while |v| <= 2^53-1 and decimal
 *   strings beyond, because most JSON readers parse numbers as doubles;
 * - float32 values are written with the fewest digits that read back as the
 *   same float32 (0.15f is 0.15, not 0.15000000596046448);
 * - strings are strings; aggregates are {"hex":"…"}.
 * Each function returns one line without the trailing newline.
 */
import {errorJson} from '../errors.js';
import type {
	InstanceValue, MetricDesc, MetricValues, Sample, Units, Value,
} from '../metrics/model.js';
import type {AgentFacts} from '../metrics/source.js';
import type {TlsFacts} from '../security/types.js';
import {safeJson} from '../safe-text.js';
import {pmUnitsStr} from '../protocols/pcp/model.js';

export type JsonValue = number | string | {hex: string};

export type JsonTls = {version: string; cipher: string; trust: TlsFacts['basis']; sha256: string};

/** Where the sample came from: printed on every line so that lines stand alone. */
export type JsonSource = {
	host: string;
	port: number;
	/** pmproxy's ?hostspec= (the pmcd behind it); no "hostspec" key when absent. */
	hostspec?: string | undefined;
	/** The session's TLS facts, or null/undefined for a plain connection. */
	tls?: TlsFacts | null;
	/** How the collector answered (Zabbix: protocol, version, variant); no "agent" key when absent. */
	agent?: AgentFacts | undefined;
};

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

function hex(bytes: Uint8Array): string {
	let text = '';
	for (const byte of bytes) {
		text += byte.toString(16).padStart(2, '0');
	}

	return text;
}

/** Shortest decimal that reads back as the same float32. */
function float32Number(x: number): number {
	const f = Math.fround(x);
	for (let digits = 1; digits <= 9; digits++) {
		const candidate = Number(f.toPrecision(digits));
		if (Math.fround(candidate) === f) {
			return candidate;
		}
	}

	return f;
}

/** One value as JSON data (see the module comment for the rules). */
export function jsonValue(value: Value, type?: MetricDesc['type']): JsonValue {
	if (typeof value === 'bigint') {
		return value <= maxSafe && value >= -maxSafe ? Number(value) : value.toString();
	}

	if (typeof value === 'number') {
		if (Number.isNaN(value)) {
			return 'NaN';
		}

		if (!Number.isFinite(value)) {
			return value > 0 ? 'Infinity' : '-Infinity';
		}

		return type === 'float' ? float32Number(value) : value;
	}

	if (typeof value === 'string') {
		return value;
	}

	return {hex: hex(value)};
}

export function tlsJson(tls: TlsFacts | null | undefined): JsonTls | null {
	if (!tls) {
		return null;
	}

	return {
		version: tls.version, cipher: tls.cipher, trust: tls.basis, sha256: tls.sha256,
	};
}

/** A counter's rates for one sample: per instance id (-1 singular), null where none exists. */
export type JsonRates = {units: string; byInstance: ReadonlyMap<number, number | null>};

/**
 * The units of a counter's rate as pmval names them ("(converting to count / sec)"): one time
 * dimension less, per second when the counter had no time dimension; a time counter's rate is
 * "time utilization" (seconds per second).
 */
export function rateUnitsText(units: Units): string {
	const perSecond = {...units};
	if (perSecond.dimTime === 0) {
		perSecond.scaleTime = 3; // PM_TIME_SEC
	}

	perSecond.dimTime--;
	if (perSecond.dimSpace === 0 && perSecond.dimTime === 0 && perSecond.dimCount === 0) {
		return 'time utilization';
	}

	return pmUnitsStr(perSecond) || 'none';
}

/** PCP's PM_IN_NULL (-1) and a missing id both mean "no instance". */
function hasInstance(value: InstanceValue): boolean {
	return value.instance !== undefined && value.instance !== -1;
}

const indomNull = 0xff_ff_ff_ff;

function isSingular(result: {values: InstanceValue[]}, desc: MetricDesc | undefined): boolean {
	const indom = desc?.indom;
	if (indom !== undefined && indom >>> 0 !== indomNull) {
		return false;
	}

	return result.values.length === 1 && !hasInstance(result.values[0]!);
}

function resultFields(result: MetricValues, desc: MetricDesc | undefined, rates: JsonRates | undefined): Record<string, unknown> {
	if (result.status === 'novalues') {
		return {novalues: true};
	}

	if (result.status === 'error') {
		return {error: {code: result.code, message: result.message}};
	}

	const rate = (value: InstanceValue) => (rates ? {rate: rates.byInstance.get(value.instance ?? -1) ?? null} : {});
	if (isSingular(result, desc)) {
		return {value: jsonValue(result.values[0]!.value, desc?.type), ...rate(result.values[0]!)};
	}

	return {
		instances: result.values.map(value => ({
			id: hasInstance(value) ? value.instance : null,
			name: value.name ?? null,
			value: jsonValue(value.value, desc?.type),
			...rate(value),
		})),
	};
}

/** The object for one metric of one sample (key order is the documented one). */
export function metricJson(input: {
	metric: string;
	timestamp: Date;
	desc?: MetricDesc;
	result: MetricValues;
	source: JsonSource;
	/** A counter's rates while sampling (see the module comment); absent otherwise. */
	rates?: JsonRates | undefined;
	/** Live sampling: the answer came after the next round had begun (live/stream.ts). */
	late?: boolean | undefined;
}): Record<string, unknown> {
	const {desc, source, rates} = input;
	return {
		type: 'sample',
		metric: input.metric,
		host: source.host,
		port: source.port,
		...(source.hostspec === undefined ? {} : {hostspec: source.hostspec}),
		timestamp: input.timestamp.toISOString(),
		dataType: desc?.type ?? null,
		semantics: desc?.semantics ?? null,
		units: desc?.unitsText ?? null,
		...(rates ? {rateUnits: rates.units} : {}),
		...resultFields(input.result, desc, rates),
		...(source.agent ? {agent: source.agent} : {}),
		tls: tlsJson(source.tls),
		...(input.late ? {late: true} : {}),
	};
}

/** One NDJSON line (no trailing newline) for one metric of one sample. */
export function metricLine(input: Parameters<typeof metricJson>[0]): string {
	// JSON.stringify writes no whitespace and escapes every control character,
	// so the line can never contain a newline.
	return safeJson(metricJson(input));
}

/** One line per metric of the sample, in the sample's order. */
export function sampleToJson(
	sample: Sample,
	source: JsonSource,
	descs?: ReadonlyMap<string, MetricDesc>,
): string[] {
	return sample.metrics.map(({name, result}) => metricLine({
		metric: name,
		timestamp: sample.timestamp,
		desc: descs?.get(name),
		result,
		source,
	}));
}

/**
 * The line `--json` prints on stdout for a failure (errors.ts errorJson), with the collector's
 * host and port after the documented keys when the failure is one collector's.
 */
export function errorLine(error: unknown, at?: {host: string; port: number; hostspec?: string | undefined}): string {
	if (at === undefined) {
		return safeJson(errorJson(error));
	}

	return safeJson({
		...errorJson(error), host: at.host, port: at.port, ...(at.hostspec === undefined ? {} : {hostspec: at.hostspec}),
	});
}

/**
 * Live sampling: the collector had no sample for the round scheduled at `scheduled`, because it
 * was still answering the previous one (live/stream.ts); the other collectors' rounds go on.
 */
export function missedLine(at: {host: string; port: number; hostspec?: string | undefined}, scheduled: Date, message: string): string {
	return safeJson({
		type: 'missed', host: at.host, port: at.port, ...(at.hostspec === undefined ? {} : {hostspec: at.hostspec}), timestamp: scheduled.toISOString(), message,
	});
}
