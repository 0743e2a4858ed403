/**
 * A one-line chart of recent values, newest at the right. Gaps (NaN: no value, collector away) are
 * blanks. Honest by default: the axis starts at zero (or at the lowest value when one is below
 * zero), so a 0.01 change in a load of 3 or a few MB of 22 GiB is a flat line, not full height;
 * `floor: 'data'` (raw counters, which only grow) scales to the window's own min and max, and a
 * fixed `max` (100 % for utilisation) caps the axis.
 */
import {Text} from 'ink';

const blocks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export type Axis = {floor: 'zero' | 'data'; max?: number};

/** The last `width` values as block characters, right-aligned (padded with spaces on the left). */
export function sparkline(values: readonly number[], width: number, axis?: Axis): string {
	if (width <= 0) {
		return '';
	}

	const window = values.slice(-width);
	let low = Number.POSITIVE_INFINITY;
	let high = Number.NEGATIVE_INFINITY;
	for (const value of window) {
		if (Number.isFinite(value)) {
			low = Math.min(low, value);
			high = Math.max(high, value);
		}
	}

	const min = axis?.floor === 'data' ? low : Math.min(0, low);
	const max = axis?.max === undefined ? high : Math.max(axis.max, min);
	let out = ' '.repeat(width - window.length);
	for (const value of window) {
		if (!Number.isFinite(value)) {
			out += ' ';
		} else if (max === min) {
			// A flat line of the window's own scale: on the floor when it is zero, in the middle otherwise.
			out += value === 0 ? blocks[0] : blocks[3];
		} else {
			const share = Math.min(1, Math.max(0, (value - min) / (max - min)));
			out += blocks[Math.round(share * (blocks.length - 1))];
		}
	}

	return out;
}

export type SparklineProps = Readonly<{
	values: readonly number[];
	width: number;
	axis?: Axis;
	color?: string;
	dim?: boolean;
}>;

export function Sparkline({
	values, width, axis, color, dim,
}: SparklineProps) {
	return <Text {...(color ? {color} : {})} dimColor={dim === true}>{sparkline(values, width, axis)}</Text>;
}
