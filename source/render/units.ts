/**
 * Human scaling for the live panes and plain text (docs/design.md#live-panes): bytes
 * in KiB/MiB/GiB…, times in ns/µs/ms/s/min/h, counts with k/M/G…, and "/s"
 * for counters shown as rates. Pure: value and pmUnits in, text out.
 */
import type {Units} from '../metrics/model.js';
import {formatF} from './printf.js';

export type Scaled = {
	/** The number, rounded for reading ("1.23", "512", "37.4"). */
	text: string;
	/** "MiB", "ms", "k", "KiB/s", "/s", "" … (see joinScaled). */
	unit: string;
};

type Ladder = {
	/** Names from the smallest unit up. */
	names: string[];
	/** Size of each step relative to the previous unit (steps[0] unused). */
	steps: number[];
};

const spaceLadder: Ladder = {
	names: ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'],
	steps: [1, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024],
};

/** Seconds per PCP time scale 0..5 (nanosec … hour). */
const secondsPerTimeScale = [1e-9, 1e-6, 1e-3, 1, 60, 3600];
/** The same in nanoseconds: integers, so whole values stay whole. */
const nanosecondsPerTimeScale = [1, 1e3, 1e6, 1e9, 6e10, 3.6e12];

const timeLadder: Ladder = {
	names: ['ns', 'µs', 'ms', 's', 'min', 'h'],
	steps: [1, 1000, 1000, 1000, 60, 60],
};

const countLadder: Ladder = {
	names: ['', 'k', 'M', 'G', 'T', 'P', 'E'],
	steps: [1, 1000, 1000, 1000, 1000, 1000, 1000],
};

/** Reading precision: 3 significant digits; a whole number in the metric's own unit stays whole. */
function roundForReading(value: number, keepWhole: boolean): string {
	if (keepWhole && Number.isInteger(value)) {
		return formatF(value, 0);
	}

	const abs = Math.abs(value);
	const decimals = abs < 10 ? 2 : (abs < 100 ? 1 : 0);
	return formatF(value, decimals);
}

/** Climb the ladder from its smallest unit; `own` is the metric's unit on it. */
function climb(value: number, ladder: Ladder, own: number): Scaled {
	let index = 0;
	let scaled = value;
	for (;;) {
		const next = ladder.steps[index + 1];
		if (next === undefined || Math.abs(scaled) < next) {
			break;
		}

		scaled /= next;
		index++;
	}

	let text = roundForReading(scaled, index === own);
	// 1023.996 KiB rounds to "1024": say 1.00 MiB instead.
	const next = ladder.steps[index + 1];
	if (next !== undefined && Math.abs(Number(text)) >= next) {
		scaled /= next;
		index++;
		text = roundForReading(scaled, false);
	}

	return {text, unit: ladder.names[index]!};
}

function power(name: string, dim: number): string {
	const abs = Math.abs(dim);
	return abs === 1 ? name : `${name}^${abs}`;
}

function denominatorSuffix(units: Units, rate: boolean): string {
	const names: string[] = [];
	if (units.dimSpace < 0) {
		names.push(power('B', units.dimSpace));
	}

	if (units.dimTime < 0) {
		names.push(power('s', units.dimTime));
	}

	if (units.dimCount < 0) {
		names.push(power('count', units.dimCount));
	}

	if (rate) {
		names.push('s');
	}

	return names.map(name => `/${name}`).join('');
}

/** How a metric's values become a person's: a factor to base units, the ladder to climb, the unit names. */
type ScalePlan = {
	/** Multiplies a value into the ladder's smallest unit (or base units when there is no ladder). */
	factor: number;
	/** Undefined for exotic units (shown in base units, unscaled). */
	ladder: Ladder | undefined;
	/** The metric's own unit on the ladder (-1: none of its steps). */
	own: number;
	/** The unit for exotic units ("B·s"), else "". */
	unit: string;
	/** "/s", "/B/s"… */
	suffix: string;
};

function planOf(units: Units, rate: boolean): ScalePlan {
	const suffix = denominatorSuffix(units, rate);
	// Denominators to per byte / per second / per event.
	let factor = 1;
	if (units.dimSpace < 0) {
		factor *= 1024 ** (units.scaleSpace * units.dimSpace);
	}

	if (units.dimTime < 0) {
		factor *= (secondsPerTimeScale[units.scaleTime] ?? 1) ** units.dimTime;
	}

	if (units.dimCount < 0) {
		factor *= 10 ** (units.scaleCount * units.dimCount);
	}

	const positive = [units.dimSpace, units.dimTime, units.dimCount].filter(dim => dim > 0);
	if (positive.length === 0) {
		// Dimensionless: a "x 10^N" scale still applies (pmUnitsStr prints it).
		return {
			factor: factor * (10 ** units.scaleCount), ladder: countLadder, own: units.scaleCount === 0 ? 0 : -1, unit: '', suffix,
		};
	}

	if (positive.length === 1 && positive[0] === 1) {
		if (units.dimSpace === 1) {
			return {
				factor: factor * (1024 ** units.scaleSpace), ladder: spaceLadder, own: units.scaleSpace, unit: '', suffix,
			};
		}

		if (units.dimTime === 1) {
			return {
				factor: factor * (nanosecondsPerTimeScale[units.scaleTime] ?? 1), ladder: timeLadder, own: units.scaleTime, unit: '', suffix,
			};
		}

		return {
			factor: factor * (10 ** units.scaleCount), ladder: countLadder, own: units.scaleCount === 0 ? 0 : -1, unit: '', suffix,
		};
	}

	const names: string[] = [];
	if (units.dimSpace > 0) {
		factor *= 1024 ** (units.scaleSpace * units.dimSpace);
		names.push(power('B', units.dimSpace));
	}

	if (units.dimTime > 0) {
		factor *= (secondsPerTimeScale[units.scaleTime] ?? 1) ** units.dimTime;
		names.push(power('s', units.dimTime));
	}

	if (units.dimCount > 0) {
		factor *= 10 ** (units.scaleCount * units.dimCount);
		names.push(power('count', units.dimCount));
	}

	return {
		factor, ladder: undefined, own: 0, unit: names.join('·'), suffix,
	};
}

function notFinite(x: number): Scaled {
	return {text: Number.isNaN(x) ? 'NaN' : (x > 0 ? '∞' : '-∞'), unit: ''};
}

/**
 * Scale one value for a person to read. The value is in the metric's units
 * (for a rate: those units per second). Denominators become per byte, per
 * second, per count. A numerator with one dimension of power 1 is scaled on
 * its ladder; anything more exotic is shown in base units, unscaled.
 */
export function scaleValue(value: number | bigint, units: Units, options: {rate?: boolean} = {}): Scaled {
	const x = Number(value);
	if (!Number.isFinite(x)) {
		return notFinite(x);
	}

	const plan = planOf(units, Boolean(options.rate));
	if (!plan.ladder) {
		return {text: roundForReading(x * plan.factor, true), unit: plan.unit + plan.suffix};
	}

	const scaled = climb(x * plan.factor, plan.ladder, plan.own);
	return {text: scaled.text, unit: scaled.unit + plan.suffix};
}

/** Decimals for numbers up to `magnitude` (3 significant digits, as roundForReading). */
function decimalsFor(magnitude: number): number {
	return magnitude < 10 ? 2 : (magnitude < 100 ? 1 : 0);
}

/**
 * One unit and one number of decimals for values shown together (a pane's column, the zoom's
 * table), chosen from the largest of them, so the numbers line up as pmval's and pmrep's fixed
 * precision does: a load of 1 beside 1.99 reads "1.00". Values that are all whole in the metric's
 * own unit stay whole ("12", "512 KiB"), rates excepted. Returns the formatter for any value of
 * the column.
 */
export function columnScale(values: ReadonlyArray<number | bigint>, units: Units, options: {rate?: boolean} = {}): (value: number | bigint) => Scaled {
	const plan = planOf(units, Boolean(options.rate));
	const bases = values.map(value => Number(value) * plan.factor).filter(base => Number.isFinite(base));
	const largest = Math.max(0, ...bases.map(base => Math.abs(base)));
	const {ladder} = plan;
	let index = ladder ? 0 : plan.own;
	let divisor = 1;
	if (ladder) {
		for (;;) {
			const next = ladder.steps[index + 1];
			if (next === undefined || largest / divisor < next) {
				break;
			}

			divisor *= next;
			index++;
		}
	}

	// A rate is whole only by chance (the interval is never exact): it keeps its decimals.
	const whole = () => !options.rate && index === plan.own && bases.every(base => Number.isInteger(base / divisor));
	let decimals = whole() ? 0 : decimalsFor(largest / divisor);
	// 1023.996 KiB rounds to "1024": the whole column in MiB instead.
	const next = ladder?.steps[index + 1];
	if (ladder && next !== undefined && Number(formatF(largest / divisor, decimals)) >= next) {
		divisor *= next;
		index++;
		decimals = whole() ? 0 : decimalsFor(largest / divisor);
	}

	const unit = (ladder ? ladder.names[index]! : plan.unit) + plan.suffix;
	return value => {
		const x = Number(value);
		return Number.isFinite(x) ? {text: formatF(x * plan.factor / divisor, decimals), unit} : notFinite(x);
	};
}

/**
 * "1.23 MiB", "37.4k", "12/s", "3.00 ms/s": an SI prefix or a bare "/…" unit
 * sticks to the number, a unit name gets a space.
 */
export function joinScaled({text, unit}: Scaled): string {
	if (unit === '') {
		return text;
	}

	if (unit.startsWith('/') || /^[kMGTPE](?:\/|$)/v.test(unit)) {
		return text + unit;
	}

	return `${text} ${unit}`;
}
