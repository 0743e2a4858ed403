/**
 * The pmval formatter against bytes Debian's pmval 6.0.3 printed (captured from runs against a
 * real pmcd; test/e2e/pmval-compat.test.ts compares whole runs side by side).
 */
import {describe, expect, test} from 'vitest';
import {noUnits, type Units} from '../../source/metrics/model.js';
import {pcpType} from '../../source/protocols/pcp/model.js';
import {
	columnWidth, fullLabels, labelStyle, padLeft, pmvalHeader, pmvalLabels, pmvalRates, pmvalValues, printReal, printValue, timeScale,
} from '../../source/render/pmval-format.js';

const counter = 1;
const instant = 3;
const discrete = 4;
const millisec: Units = {
	...noUnits, dimTime: 1, scaleTime: 2,
};
const bytes: Units = {...noUnits, dimSpace: 1};
const count: Units = {...noUnits, dimCount: 1};

describe('header (printhdr)', () => {
	test('a time counter converts to time utilization', () => {
		expect(pmvalHeader({
			metric: 'kernel.all.cpu.user', host: 'vm', sem: counter, units: millisec, raw: false, samples: 3, intervalMs: 200,
		})).toBe('metric:    kernel.all.cpu.user\nhost:      vm\nsemantics: cumulative counter (converting to rate)\nunits:     millisec (converting to time utilization)\nsamples:   3\ninterval:  0.20 sec\n');
	});

	test('-r keeps the counter and its units', () => {
		expect(pmvalHeader({
			metric: 'kernel.all.cpu.user', host: 'vm', sem: counter, units: millisec, raw: true, samples: 2, intervalMs: 100,
		})).toBe('metric:    kernel.all.cpu.user\nhost:      vm\nsemantics: cumulative counter\nunits:     millisec\nsamples:   2\ninterval:  0.10 sec\n');
	});

	test('byte and count counters become per second', () => {
		expect(pmvalHeader({
			metric: 'x', host: 'h', sem: counter, units: bytes, raw: false, samples: 2, intervalMs: 300,
		})).toContain('units:     byte (converting to byte / sec)\n');
		expect(pmvalHeader({
			metric: 'x', host: 'h', sem: counter, units: count, raw: false, samples: 2, intervalMs: 300,
		})).toContain('units:     count (converting to count / sec)\n');
	});

	test('one sample has no interval line, nor has "all"', () => {
		const one = pmvalHeader({
			metric: 'hinv.ncpu', host: 'vm', sem: discrete, units: noUnits, raw: false, samples: 1, intervalMs: 1000,
		});
		expect(one).toBe('metric:    hinv.ncpu\nhost:      vm\nsemantics: discrete instantaneous value\nunits:     none\nsamples:   1\n');
		const all = pmvalHeader({
			metric: 'hinv.ncpu', host: 'vm', sem: instant, units: noUnits, raw: false, samples: undefined, intervalMs: 1000,
		});
		expect(all).toBe('metric:    hinv.ncpu\nhost:      vm\nsemantics: instantaneous value\nunits:     none\nsamples:   all\n');
	});
});

describe('instance heads (printlabels)', () => {
	test('plain values: each name right-aligned in the column and a space', () => {
		expect(pmvalLabels(['1 minute', '5 minute', '15 minute'], {
			cols: 13, style: 0, rate: false, fixed: undefined,
		})).toBe('\n     1 minute      5 minute     15 minute \n');
	});

	test('rates shift each head 3 places left', () => {
		expect(pmvalLabels(['vda'], {
			cols: 21, style: 0, rate: true, fixed: undefined,
		})).toBe('\n               vda    \n');
	});

	test('-f keeps heads unshifted', () => {
		expect(pmvalLabels(['vda'], {
			cols: 21, style: 0, rate: true, fixed: 3,
		})).toBe('\n                  vda \n');
	});

	test('names wider than -w: full labels first, then cut heads', () => {
		const names = ['1 minute', '5 minute', '15 minute'];
		expect(labelStyle(names, 8)).toBe(2);
		expect(labelStyle(names, 12)).toBe(0);
		expect(labelStyle(names, 11)).toBe(1);
		expect(fullLabels(names)).toBe('full label for instance[0]: 1 minute\nfull label for instance[1]: 5 minute\nfull label for instance[2]: 15 minute\n');
		expect(pmvalLabels(names, {
			cols: 5, style: 2, rate: false, fixed: undefined,
		})).toBe('\n1 min 5 min 15 mi \n');
	});
});

describe('real values (printreal)', () => {
	test.each([
		[0, '               0.0   '],
		[0.05, '            5.000E-02'],
		[0.5, '               0.5000'],
		[1.996, '               1.996 '],
		[11.17, '               11.17  '],
		[123.45, '               123.5   '],
		[5010.2, '               5010.    '],
		[12_345, '            1.234E+04'],
	])('%s in 21 columns', (v, text) => {
		expect(printReal(v, instant, 21, undefined)).toBe(text.slice(-21));
	});

	test('a negative rate is "!", a negative instant value is printed', () => {
		expect(printReal(-1, counter, 11, undefined)).toBe('          !');
		expect(printReal(-1, instant, 11, undefined)).toBe(' -1.000E+00');
	});

	test('-f N: %*.Nf', () => {
		expect(printReal(9.170_000_076_293_945, instant, 13, 9)).toBe('  9.170000076');
		expect(printReal(10.85, instant, 8, 2)).toBe('   10.85');
		expect(printReal(11.2, instant, 11, 0)).toBe('         11');
	});
});

describe('pmPrintValue with a width', () => {
	test('integers, strings and aggregates', () => {
		expect(printValue(pcpType.i32, 2, 11)).toBe('          2');
		expect(printValue(pcpType.u64, 1n, 21)).toBe('                    1');
		expect(printValue(pcpType.string, 'hullo world!', 21)).toBe('       "hullo world!"');
		expect(printValue(pcpType.aggregate, new TextEncoder().encode('hullo world!'), 21)).toBe('       "hullo world!" [68756c6c6f20776f726c6421]');
	});

	test('column widths (howide)', () => {
		expect(columnWidth(pcpType.i32)).toBe(11);
		expect(columnWidth(pcpType.float)).toBe(13);
		expect(columnWidth(pcpType.double)).toBe(21);
		expect(columnWidth(pcpType.noSupport)).toBeUndefined();
	});

	test('padLeft counts bytes as C does', () => {
		expect(padLeft('é', 4)).toBe('  é');
	});
});

describe('value lines (printvals)', () => {
	const columns = {
		typeCode: pcpType.float, sem: instant, cols: 13, fixed: undefined,
	};

	test('a singular value, or "?" without exactly one', () => {
		expect(pmvalValues([{inst: -1, value: 1}], undefined, {...columns, typeCode: pcpType.i32, cols: 11}, true)).toBe('          1\n');
		expect(pmvalValues([], undefined, {...columns, typeCode: pcpType.i32, cols: 11}, true)).toBe('          ?\n');
	});

	test('instances in head order, "?" for a missing one, a warning for an unknown one', () => {
		const values = [{inst: 1, value: Math.fround(9.97)}, {inst: 15, value: Math.fround(9.07)}, {inst: 99, value: 1}];
		expect(pmvalValues(values, [1, 5, 15], columns, true)).toBe('       9.970              ?        9.070  \nWarning: value=1.000 , but instance=99 is unknown\n');
		expect(pmvalValues(values, [1, 5, 15], columns, false)).toBe('       9.970              ?        9.070  \n');
	});
});

describe('rates (printrates)', () => {
	test('time counters: the time scale makes a utilisation', () => {
		expect(timeScale(millisec)).toBe(1000);
		expect(timeScale(noUnits)).toBe(1);
		expect(timeScale({...noUnits, dimTime: 1, scaleTime: 4})).toBe(Math.fround(1 / 60));
		const columns = {
			typeCode: pcpType.u64, sem: counter, cols: 21, fixed: undefined,
		};
		// 200 ms of CPU in 0.1 s: 2 (two CPUs busy).
		expect(pmvalRates([{inst: -1, value: 18_127_260n}], [{inst: -1, value: 18_127_060n}], undefined, columns, {delta: 1000 * 0.1, wrap: false}, true))
			.toBe('               2.000 \n');
	});

	test('a counter that went back is "!" unless PCP_COUNTER_WRAP', () => {
		const columns = {
			typeCode: pcpType.u32, sem: counter, cols: 11, fixed: undefined,
		};
		expect(pmvalRates([{inst: -1, value: 1}], [{inst: -1, value: 5}], undefined, columns, {delta: 1, wrap: false}, true)).toBe('          !\n');
		expect(pmvalRates([{inst: -1, value: 1}], [{inst: -1, value: 4_294_967_295}], undefined, columns, {delta: 1, wrap: true}, true)).toBe('     2.000 \n');
	});

	test('instances: "?" when missing from either sample', () => {
		const columns = {
			typeCode: pcpType.u64, sem: counter, cols: 21, fixed: 1,
		};
		expect(pmvalRates([{inst: 0, value: 10n}, {inst: 1, value: 5n}], [{inst: 0, value: 0n}], [0, 1], columns, {delta: 2, wrap: false}, true))
			.toBe('                  5.0                     ? \n');
	});
});
