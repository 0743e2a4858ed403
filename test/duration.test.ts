import {describe, expect, it} from 'vitest';
import {formatDuration, looksLikeDuration, parseDurationMs} from '../source/duration.js';

describe('PCP intervals', () => {
	it.each([
		['2', 2000],
		['0.5', 500],
		['500msec', 500],
		['500 ms', 500],
		['1min', 60_000],
		['2sec', 2000],
		['1hour', 3_600_000],
	])('%s → %d ms', (text, ms) => {
		expect(parseDurationMs(text)).toBe(ms);
	});

	it.each(['', 'abc', '1fortnight', '-1', '0', 'kernel.all.load'])('rejects %j', text => {
		expect(parseDurationMs(text)).toBeUndefined();
	});

	it('tells intervals from metric names', () => {
		expect(looksLikeDuration('2')).toBe(true);
		expect(looksLikeDuration('kernel.all.load')).toBe(false);
	});

	it('formats', () => {
		expect(formatDuration(500)).toBe('500 msec');
		expect(formatDuration(1000)).toBe('1 sec');
		expect(formatDuration(1500)).toBe('1.5 sec');
		expect(formatDuration(120_000)).toBe('2 min');
	});
});
