import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {Sparkline, sparkline} from '../../../source/render/tui/sparkline.js';

describe('sparkline', () => {
	test('non-negative values: the axis starts at zero, newest at the right', () => {
		expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
		expect(sparkline([10, 20], 2)).toBe('▅█');
	});

	test('a small change in a large value is a flat line, not full height (the 15-minute load, free memory)', () => {
		expect(sparkline([3.01, 3, 3.02, 3.01], 4)).toBe('████');
		const gib = 22 * 1024 * 1024;
		expect(sparkline([gib, gib - 3000, gib + 2000], 3)).toBe('███');
		expect(sparkline([0.5, 1, 2], 3)).toBe('▃▅█');
	});

	test('below zero the axis starts at the lowest value; floor "data" scales to the window (raw counters)', () => {
		expect(sparkline([-4, 0, 4], 3)).toBe('▁▅█');
		expect(sparkline([1000, 1001, 1002], 3, {floor: 'data'})).toBe('▁▅█');
	});

	test('a fixed maximum (100 %): values on its scale, above it capped', () => {
		expect(sparkline([0, 50, 100, 150], 4, {floor: 'zero', max: 100})).toBe('▁▅██');
		expect(sparkline([1, 2], 2, {floor: 'zero', max: 100})).toBe('▁▁');
	});

	test('shows only the last `width` values and pads short histories on the left', () => {
		expect(sparkline([100, 0, 7], 2)).toBe('▁█');
		expect(sparkline([0, 7], 5)).toBe('   ▁█');
	});

	test('gaps are blanks; flat lines sit on the floor at zero, at the top above it', () => {
		expect(sparkline([0, Number.NaN, 7], 3)).toBe('▁ █');
		expect(sparkline([0, 0, 0], 3)).toBe('▁▁▁');
		expect(sparkline([5, 5], 2)).toBe('██');
		expect(sparkline([5, 5], 2, {floor: 'data'})).toBe('▄▄');
		expect(sparkline([Number.POSITIVE_INFINITY, 1], 2)).toBe(' █');
		expect(sparkline([1, 2], 0)).toBe('');
	});

	test('the component draws the same characters', () => {
		const {lastFrame} = render(<Sparkline values={[1, 2, 3]} width={4}/>);
		expect(lastFrame()).toBe(' ▃▆█');
	});
});
