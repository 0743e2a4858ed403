import {describe, expect, test} from 'vitest';
import type {MetricDesc, Units} from '../../source/metrics/model.js';
import {isTimeCounter} from '../../source/metrics/time-counter.js';

const none: Units = {
	dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
};

function desc(semantics: MetricDesc['semantics'], units: Partial<Units>): MetricDesc {
	return {
		name: 'kernel.all.cpu.user', type: 'u64', semantics, units: {...none, ...units}, unitsText: 'x',
	};
}

describe('isTimeCounter', () => {
	test('a counter of time alone, in any of PCP\'s six time scales, is one', () => {
		for (const scaleTime of [0, 1, 2, 3, 4, 5]) {
			expect(isTimeCounter(desc('counter', {dimTime: 1, scaleTime}))).toBe(true);
		}
	});

	test('not an instant of time, time per byte or per count, time squared, no time, or an unknown time scale', () => {
		expect(isTimeCounter(desc('instant', {dimTime: 1, scaleTime: 2}))).toBe(false);
		expect(isTimeCounter(desc('counter', {dimTime: 1, dimSpace: -1, scaleTime: 2}))).toBe(false);
		expect(isTimeCounter(desc('counter', {dimTime: 1, dimCount: 1, scaleTime: 2}))).toBe(false);
		expect(isTimeCounter(desc('counter', {dimTime: 2, scaleTime: 2}))).toBe(false);
		expect(isTimeCounter(desc('counter', {}))).toBe(false);
		expect(isTimeCounter(desc('counter', {dimTime: 1, scaleTime: 6}))).toBe(false);
	});
});
