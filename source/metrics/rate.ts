/**
 * Counters → rates per second, the way pmval converts them: (v2 - v1) / (t2 - t1).
 * A counter that went backwards (wrap, reset, restart of the collector) gives no
 * rate for that interval rather than a huge negative number.
 */
import type {
	InstanceValue, MetricDesc, MetricValues, Sample,
} from './model.js';

function numeric(value: InstanceValue['value']): number | undefined {
	if (typeof value === 'number') {
		return value;
	}

	if (typeof value === 'bigint') {
		return Number(value);
	}

	return undefined;
}

export function key(value: InstanceValue): number {
	return value.instance ?? -1;
}

/** Rates for one metric between two samples; undefined entries where no rate exists yet. */
export function rateOf(previous: MetricValues | undefined, current: MetricValues, seconds: number): Map<number, number | undefined> {
	const rates = new Map<number, number | undefined>();
	if (current.status !== 'ok') {
		return rates;
	}

	const before = new Map<number, number | undefined>();
	if (previous?.status === 'ok') {
		for (const value of previous.values) {
			before.set(key(value), numeric(value.value));
		}
	}

	for (const value of current.values) {
		const now = numeric(value.value);
		const then = before.get(key(value));
		rates.set(key(value), now === undefined || then === undefined || seconds <= 0 || now < then ? undefined : (now - then) / seconds);
	}

	return rates;
}

/** Convert a whole sample: counters become rates (when `raw` is false), everything else passes through. */
export function toRates(previous: Sample | undefined, current: Sample, descs: ReadonlyMap<string, MetricDesc>, raw: boolean): Array<{name: string; desc?: MetricDesc; result: MetricValues; rate: boolean}> {
	const seconds = previous ? (current.timestamp.getTime() - previous.timestamp.getTime()) / 1000 : 0;
	return current.metrics.map(({name, result}) => {
		const desc = descs.get(name);
		if (raw || desc?.semantics !== 'counter' || result.status !== 'ok') {
			return {
				name, desc, result, rate: false,
			};
		}

		const before = previous?.metrics.find(m => m.name === name)?.result;
		const rates = rateOf(before, result, seconds);
		const values: InstanceValue[] = [];
		for (const value of result.values) {
			const rate = rates.get(key(value));
			if (rate !== undefined) {
				values.push({...value, value: rate});
			}
		}

		return {
			name, desc, result: values.length > 0 ? {status: 'ok', values} : {status: 'novalues'}, rate: true,
		};
	});
}
