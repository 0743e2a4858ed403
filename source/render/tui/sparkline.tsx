/**
 * A one-line chart of recent values (docs/design.md#live-panes: block characters scaled to the min/max of
 * the history window, newest at the right). Gaps (NaN: no value, collector away) are blanks.
 */
import {Text} from 'ink';

const blocks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The last `width` values as block characters, right-aligned (padded with spaces on the left). */
export function sparkline(values: readonly number[], width: number): string {
	if (width <= 0) {
		return '';
	}

	const window = values.slice(-width);
	let min = Number.POSITIVE_INFINITY;
	let max = Number.NEGATIVE_INFINITY;
	for (const value of window) {
		if (Number.isFinite(value)) {
			min = Math.min(min, value);
			max = Math.max(max, value);
		}
	}

	let out = ' '.repeat(width - window.length);
	for (const value of window) {
		if (!Number.isFinite(value)) {
			out += ' ';
		} else if (max === min) {
			// A flat line: on the floor when it is zero, in the middle otherwise.
			out += value === 0 ? blocks[0] : blocks[3];
		} else {
			out += blocks[Math.round(((value - min) / (max - min)) * (blocks.length - 1))];
		}
	}

	return out;
}

export type SparklineProps = Readonly<{
	values: readonly number[];
	width: number;
	color?: string;
	dim?: boolean;
}>;

export function Sparkline({values, width, color, dim}: SparklineProps) {
	return <Text {...(color ? {color} : {})} dimColor={dim === true}>{sparkline(values, width)}</Text>;
}
