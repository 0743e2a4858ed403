import {describe, expect, test} from 'vitest';
import {
	alerts, levelOf, parseRange, type Thresholds,
} from '../../source/metrics/thresholds.js';

function range(text: string) {
	const parsed = parseRange(text);
	if (!parsed) {
		throw new Error(`not a range: ${text}`);
	}

	return parsed;
}

describe('Nagios ranges (Monitoring Plugins guidelines)', () => {
	test('10 alerts outside 0..10, 10: below 10, ~:10 above 10, 5:10 outside, @5:10 inside', () => {
		const cases: Array<[string, number[], number[]]> = [
			['10', [-1, 10.5, 11], [0, 5, 10]],
			['10:', [9.9, -5], [10, 1e9]],
			['~:10', [10.1, 100], [-1e9, 10]],
			['5:10', [4, 11], [5, 7, 10]],
			['@5:10', [5, 7, 10], [4, 11]],
		];
		for (const [text, alerting, quiet] of cases) {
			for (const value of alerting) {
				expect(alerts(range(text), value), `${text} ${value}`).toBe(true);
			}

			for (const value of quiet) {
				expect(alerts(range(text), value), `${text} ${value}`).toBe(false);
			}
		}
	});

	test('unreadable ranges are refused', () => {
		expect(parseRange('')).toBeUndefined();
		expect(parseRange('x')).toBeUndefined();
		expect(parseRange('1:y')).toBeUndefined();
	});

	test('the worst level wins; no thresholds, strings and NaN have none', () => {
		const levels: Thresholds = {warn: range('~:4'), crit: range('~:8')};
		expect([1, 4, 5, 8, 9].map(value => levelOf(value, levels))).toEqual([undefined, undefined, 'warning', 'warning', 'critical']);
		expect(levelOf(Number.NaN, levels)).toBeUndefined();
		expect(levelOf(undefined, levels)).toBeUndefined();
		expect(levelOf(100, undefined)).toBeUndefined();
		expect(levelOf(9, {crit: range('~:8')})).toBe('critical');
	});
});
