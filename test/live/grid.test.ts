/**
 * Rounds on the interval's grid (issue 18, live/runner.ts): every runner samples at the same
 * instants, and a collector whose answer spans grid points has missed those rounds, shown in its
 * status line.
 */
import {expect, test} from 'vitest';
import {missedRounds, nextTick} from '../../source/live/runner.js';
import {initialState, reduce} from '../../source/render/tui/state.js';
import {statusSegments} from '../../source/render/tui/status-line.js';

test('nextTick: the next multiple of the interval, the same for every runner', () => {
	expect(nextTick(10_200, 1000)).toBe(11_000);
	expect(nextTick(10_999, 1000)).toBe(11_000);
	expect(nextTick(11_000, 1000)).toBe(12_000);
	expect(nextTick(10_200, 500)).toBe(10_500);
});

test('missedRounds: grid points passed while a fetch was under way', () => {
	expect(missedRounds(10_000, 10_400, 1000)).toBe(0);
	expect(missedRounds(10_000, 11_000, 1000)).toBe(1);
	expect(missedRounds(10_000, 13_200, 1000)).toBe(3);
	// The first fetch is not on the grid: what it spans counts the same way.
	expect(missedRounds(10_700, 11_100, 1000)).toBe(1);
});

test('missed rounds add up in the host state and show in its status line', () => {
	let state = initialState({
		hosts: [{id: 'slow:44321', secureMode: 'relaxed'}], metrics: ['hinv.ncpu'], intervalMs: 1000, raw: false, samples: 0, now: 0,
	});
	const sample = {target: 'slow:44321', timestamp: new Date(0), metrics: []};
	state = reduce(state, {
		type: 'sample', host: 'slow:44321', at: 1, sample, rttMs: 1,
	});
	const text = () => statusSegments(state.hosts[0]!, 0, false, false).map(segment => segment.text).join('');
	expect(text()).not.toContain('missed');
	state = reduce(state, {
		type: 'sample', host: 'slow:44321', at: 2, sample, rttMs: 2500, missed: 2,
	});
	state = reduce(state, {
		type: 'sample', host: 'slow:44321', at: 3, sample, rttMs: 1, missed: 0,
	});
	expect(state.hosts[0]!.missed).toBe(2);
	expect(text()).toContain('2 rounds missed');
});
