import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {Sparkline, sparkline} from '../../../source/render/tui/sparkline.js';

describe('sparkline', () => {
	test('scales to the min and max of the window, newest at the right', () => {
		expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
		expect(sparkline([10, 20], 2)).toBe('▁█');
	});

	test('shows only the last `width` values and pads short histories on the left', () => {
		expect(sparkline([100, 0, 1], 2)).toBe('▁█');
		expect(sparkline([0, 7], 5)).toBe('   ▁█');
	});

	test('gaps are blanks; flat lines sit on the floor at zero, in the middle otherwise', () => {
		expect(sparkline([0, Number.NaN, 7], 3)).toBe('▁ █');
		expect(sparkline([0, 0, 0], 3)).toBe('▁▁▁');
		expect(sparkline([5, 5], 2)).toBe('▄▄');
		expect(sparkline([Number.POSITIVE_INFINITY, 1], 2)).toBe(' ▄');
		expect(sparkline([1, 2], 0)).toBe('');
	});

	test('the component draws the same characters', () => {
		const {lastFrame} = render(<Sparkline values={[1, 2, 3]} width={4}/>);
		expect(lastFrame()).toBe(' ▁▅█');
	});
});
