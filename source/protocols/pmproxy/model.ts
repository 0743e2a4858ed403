/**
 * pmproxy's answers → the common metric model (metrics/model.ts), the same shapes the PCP
 * collector gives, so pminfo text, NDJSON and the panes print them alike (docs/pmproxy.md#fetch).
 */
import type {
	MetricDesc, MetricType, Semantics, Value,
} from '../../metrics/model.js';
import {indomNull, type PmproxyMetric, type PmproxyValue} from './api.js';
import {JsonNumber, type JsonValue} from './json.js';

const typeOfCode: Record<number, MetricType> = {
	0: 'i32', 1: 'u32', 2: 'i64', 3: 'u64', 4: 'float', 5: 'double', 6: 'string', 7: 'aggregate', 8: 'aggregate', 9: 'event', 10: 'event',
};

const semanticsOfCode: Record<number, Semantics> = {1: 'counter', 3: 'instant', 4: 'discrete'};

export function metricDescOf(metric: PmproxyMetric): MetricDesc {
	return {
		name: metric.name,
		type: typeOfCode[metric.type] ?? 'unknown',
		semantics: semanticsOfCode[metric.sem] ?? 'instant',
		units: metric.units,
		unitsText: metric.unitsText,
		pmid: metric.pmid,
		...(metric.indom === indomNull ? {} : {indom: metric.indom}),
		typeCode: metric.type,
		semCode: metric.sem,
		...(metric.oneline === '' ? {} : {oneline: metric.oneline}),
	};
}

const ranges: Record<number, readonly [bigint, bigint]> = {
	0: [-(2n ** 31n), 2n ** 31n - 1n],
	1: [0n, 2n ** 32n - 1n],
	2: [-(2n ** 63n), 2n ** 63n - 1n],
	3: [0n, 2n ** 64n - 1n],
};

/**
 * One value pmproxy sent, for a metric of PM_TYPE `type`: integers exact (64-bit ones as bigint,
 * as the PCP codec gives them), floats as pmproxy printed them (%.8g) rounded to single precision,
 * strings as they are, aggregates as their bytes. undefined for what pmproxy cannot send (event
 * records and empty values are `null`: docs/pmproxy.md#fetch); a value of the wrong JSON type
 * or out of the type's range is an Error.
 */
export function valueOf(type: number, value: JsonValue): Value | undefined {
	if (value === null) {
		return undefined;
	}

	switch (type) {
		case 0:
		case 1:
		case 2:
		case 3: {
			const integer = value instanceof JsonNumber ? value.integer() : undefined;
			const [low, high] = ranges[type]!;
			if (integer === undefined || integer < low || integer > high) {
				throw new Error(`a ${typeOfCode[type]} value that is not one (${value instanceof JsonNumber ? value.text.slice(0, 40) : typeof value})`);
			}

			return type <= 1 ? Number(integer) : integer;
		}

		case 4:
		case 5: {
			if (!(value instanceof JsonNumber)) {
				throw new TypeError(`a ${typeOfCode[type]} value that is not a number`);
			}

			return type === 4 ? Math.fround(value.value) : value.value;
		}

		case 6: {
			if (typeof value !== 'string') {
				throw new TypeError('a string value that is not a string');
			}

			return value;
		}

		case 7:
		case 8: {
			if (typeof value !== 'string') {
				throw new TypeError('an aggregate value that is not a string');
			}

			return new Uint8Array(Buffer.from(value, 'utf8'));
		}

		default: {
			return undefined;
		}
	}
}

/** A metric's instances with values (those pmproxy sent as null are left out). */
export function instanceValues(type: number, instances: readonly PmproxyValue[]): Array<{inst: number | undefined; value: Value}> {
	const out: Array<{inst: number | undefined; value: Value}> = [];
	for (const {inst, value} of instances) {
		const converted = valueOf(type, value);
		if (converted !== undefined) {
			out.push({inst, value: converted});
		}
	}

	return out;
}
