import {describe, expect, test} from 'vitest';
import {noUnits, type Units} from '../../source/metrics/model.js';
import {unitsFromWord} from '../../source/render/pcp-format.js';
import {joinScaled, scaleValue} from '../../source/render/units.js';

function units(partial: Partial<Units>): Units {
	return {...noUnits, ...partial};
}

const byte = units({dimSpace: 1});
const kbyte = units({dimSpace: 1, scaleSpace: 1});
const nanosec = units({dimTime: 1, scaleTime: 0});
const millisec = units({dimTime: 1, scaleTime: 2});
const sec = units({dimTime: 1, scaleTime: 3});
const count = units({dimCount: 1});

function show(value: number | bigint, u: Units, rate = false): string {
	return joinScaled(scaleValue(value, u, {rate}));
}

describe('scaleValue: space', () => {
	test('bytes climb in powers of 1024', () => {
		expect(scaleValue(512, byte)).toEqual({text: '512', unit: 'B'});
		expect(scaleValue(1023, byte)).toEqual({text: '1023', unit: 'B'});
		expect(scaleValue(1024, byte)).toEqual({text: '1.00', unit: 'KiB'});
		expect(scaleValue(1536, byte)).toEqual({text: '1.50', unit: 'KiB'});
		expect(scaleValue(10 * 1024 * 1024, byte)).toEqual({text: '10.0', unit: 'MiB'});
		expect(scaleValue(2n ** 40n, byte)).toEqual({text: '1.00', unit: 'TiB'});
		expect(scaleValue(2 ** 80, byte)).toEqual({text: '1.00', unit: 'YiB'});
		expect(scaleValue(2 ** 90, byte)).toEqual({text: '1024', unit: 'YiB'});
	});

	test('any scaleSpace: Kbyte (mem.physmem) and Mbyte', () => {
		expect(scaleValue(24_684_084, kbyte)).toEqual({text: '23.5', unit: 'GiB'});
		// A whole number in the metric's own unit stays whole.
		expect(scaleValue(512, kbyte)).toEqual({text: '512', unit: 'KiB'});
		expect(scaleValue(0.5, kbyte)).toEqual({text: '512', unit: 'B'});
		expect(scaleValue(3, units({dimSpace: 1, scaleSpace: 2}))).toEqual({text: '3', unit: 'MiB'});
		expect(scaleValue(3, units({dimSpace: 1, scaleSpace: 3}))).toEqual({text: '3', unit: 'GiB'});
	});

	test('rounding up to the next unit moves there', () => {
		expect(scaleValue(1023.999, byte)).toEqual({text: '1.00', unit: 'KiB'});
		expect(scaleValue(1024 * 1023.9999, byte)).toEqual({text: '1.00', unit: 'MiB'});
	});

	test('negative values scale by magnitude', () => {
		expect(scaleValue(-2048, byte)).toEqual({text: '-2.00', unit: 'KiB'});
		expect(scaleValue(-3, byte)).toEqual({text: '-3', unit: 'B'});
	});
});

describe('scaleValue: time', () => {
	test('picks ns, µs, ms, s, min or h', () => {
		expect(scaleValue(500, nanosec)).toEqual({text: '500', unit: 'ns'});
		expect(scaleValue(1500, nanosec)).toEqual({text: '1.50', unit: 'µs'});
		expect(scaleValue(37, millisec)).toEqual({text: '37', unit: 'ms'});
		expect(scaleValue(0.25, millisec)).toEqual({text: '250', unit: 'µs'});
		expect(scaleValue(1500, millisec)).toEqual({text: '1.50', unit: 's'});
		expect(scaleValue(59, sec)).toEqual({text: '59', unit: 's'});
		expect(scaleValue(90, sec)).toEqual({text: '1.50', unit: 'min'});
		expect(scaleValue(7200, sec)).toEqual({text: '2.00', unit: 'h'});
		expect(scaleValue(3, units({dimTime: 1, scaleTime: 5}))).toEqual({text: '3', unit: 'h'});
		expect(scaleValue(1e6, units({dimTime: 1, scaleTime: 5}))).toEqual({text: '1000000', unit: 'h'});
		expect(scaleValue(2, units({dimTime: 1, scaleTime: 4}))).toEqual({text: '2', unit: 'min'});
		expect(scaleValue(0.001, sec)).toEqual({text: '1.00', unit: 'ms'});
	});
});

describe('scaleValue: counts and none', () => {
	test('k, M, G… for counts and plain numbers', () => {
		expect(scaleValue(999, count)).toEqual({text: '999', unit: ''});
		expect(scaleValue(37_408, count)).toEqual({text: '37.4', unit: 'k'});
		expect(scaleValue(1e6, count)).toEqual({text: '1.00', unit: 'M'});
		expect(scaleValue(75_109n, count)).toEqual({text: '75.1', unit: 'k'});
		expect(scaleValue(2, noUnits)).toEqual({text: '2', unit: ''});
		expect(scaleValue(0.18, noUnits)).toEqual({text: '0.18', unit: ''});
		expect(scaleValue(123.456, noUnits)).toEqual({text: '123', unit: ''});
		expect(scaleValue(12.345, noUnits)).toEqual({text: '12.3', unit: ''});
		expect(scaleValue(4.5e9, noUnits)).toEqual({text: '4.50', unit: 'G'});
		expect(scaleValue(0, noUnits)).toEqual({text: '0', unit: ''});
	});

	test('count scales and dimensionless "x 10^N"', () => {
		expect(scaleValue(3, units({scaleCount: 6}))).toEqual({text: '3.00', unit: 'M'});
		expect(scaleValue(5, units({dimCount: 1, scaleCount: 3}))).toEqual({text: '5.00', unit: 'k'});
		expect(scaleValue(5, units({dimCount: 1, scaleCount: -1}))).toEqual({text: '0.50', unit: ''});
	});

	test('non-finite values', () => {
		expect(scaleValue(Number.NaN, byte)).toEqual({text: 'NaN', unit: ''});
		expect(scaleValue(Number.POSITIVE_INFINITY, byte)).toEqual({text: '∞', unit: ''});
		expect(scaleValue(Number.NEGATIVE_INFINITY, count)).toEqual({text: '-∞', unit: ''});
	});
});

describe('scaleValue: rates and per-unit denominators', () => {
	test('counters as rates get "/s"', () => {
		expect(scaleValue(2048, byte, {rate: true})).toEqual({text: '2.00', unit: 'KiB/s'});
		expect(scaleValue(12, count, {rate: true})).toEqual({text: '12', unit: '/s'});
		expect(scaleValue(12.5, count, {rate: true})).toEqual({text: '12.5', unit: '/s'});
		expect(scaleValue(4321, count, {rate: true})).toEqual({text: '4.32', unit: 'k/s'});
		// A time counter as a rate: milliseconds busy per second.
		expect(scaleValue(250, millisec, {rate: true})).toEqual({text: '250', unit: 'ms/s'});
		expect(scaleValue(3, noUnits, {rate: true})).toEqual({text: '3', unit: '/s'});
	});

	test('units with a time denominator are normalised to per second', () => {
		// byte / sec, byte / hour, byte / millisec (the verified words of docs/pcp.md#identifiers and sample.*)
		expect(scaleValue(3e6, unitsFromWord(0x1f_00_30_00))).toEqual({text: '2.86', unit: 'MiB/s'});
		expect(scaleValue(633, unitsFromWord(0x1f_00_50_00))).toEqual({text: '0.18', unit: 'B/s'});
		expect(scaleValue(91_000_000, units({dimSpace: 1, dimTime: -1, scaleTime: 2}))).toEqual({text: '84.8', unit: 'GiB/s'});
		expect(scaleValue(5, unitsFromWord(0x0f_00_10_00))).toEqual({text: '5.00', unit: 'M/s'});
	});

	test('other denominators and exotic numerators', () => {
		// sample.ulong.count.mega: count x 10^6 / Mbyte
		expect(scaleValue(42, unitsFromWord(0xf0_12_06_00))).toEqual({text: '40.1', unit: '/B'});
		expect(scaleValue(2, units({
			dimSpace: 1, dimTime: 1, scaleSpace: 1, scaleTime: 3,
		}))).toEqual({text: '2048', unit: 'B·s'});
		expect(scaleValue(2, units({dimSpace: 2}))).toEqual({text: '2', unit: 'B^2'});
		expect(scaleValue(1, units({dimTime: -2, scaleTime: 3}))).toEqual({text: '1', unit: '/s^2'});
		expect(scaleValue(1, units({dimTime: 1, dimCount: -1, scaleTime: 2}))).toEqual({text: '1', unit: 'ms/count'});
	});
});

describe('joinScaled', () => {
	test('unit names get a space, prefixes and "/…" stick to the number', () => {
		expect(show(1536, byte)).toBe('1.50 KiB');
		expect(show(37_408, count)).toBe('37.4k');
		expect(show(12, count, true)).toBe('12/s');
		expect(show(4321, count, true)).toBe('4.32k/s');
		expect(show(2048, byte, true)).toBe('2.00 KiB/s');
		expect(show(37, millisec)).toBe('37 ms');
		expect(show(90, sec)).toBe('1.50 min');
		expect(show(5, noUnits)).toBe('5');
		expect(show(3e6, units({dimSpace: 1}))).toBe('2.86 MiB');
		expect(joinScaled({text: '1', unit: 'M'})).toBe('1M');
		expect(joinScaled({text: '1', unit: 'h'})).toBe('1 h');
	});
});
