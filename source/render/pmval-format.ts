/**
 * pmval's live-sampling text, byte for byte as Debian's pmval 6.0.3 prints it
 * (docs/pcp.md#pmval-output; upstream src/pmval/pmval.c: printhdr, printlabels, printreal,
 * printvals, printrates; values through libpcp's pmPrintValue with a minimum width, util.c).
 * Pure functions: no sockets, no clock.
 */
import {Buffer} from 'node:buffer';
import type {Units, Value} from '../metrics/model.js';
import {PM_SEM} from '../protocols/pcp/constants.js';
import {pcpType, pmUnitsStr} from '../protocols/pcp/model.js';
import {formatE, formatF, formatG} from './printf.js';

/** pmval.c howide(): the default column width of each value type; undefined for types pmval refuses. */
export function columnWidth(typeCode: number): number | undefined {
	switch (typeCode) {
		case pcpType.i32:
		case pcpType.u32: {
			return 11;
		}

		case pcpType.float: {
			return 13;
		}

		case pcpType.i64:
		case pcpType.u64:
		case pcpType.double:
		case pcpType.string:
		case pcpType.aggregate:
		case pcpType.aggregateStatic: {
			return 21;
		}

		case pcpType.event:
		case pcpType.highresEvent: {
			return 0;
		}

		default: {
			return undefined;
		}
	}
}

/** C's `%*s`: right-aligned in `width` bytes (C counts bytes, not characters), never cut. */
export function padLeft(text: string, width: number): string {
	const length = Buffer.byteLength(text);
	return length >= width ? text : ' '.repeat(width - length) + text;
}

/** C's `%*.*s`: cut to `width` bytes, then right-aligned in it. */
function fitLeft(text: string, width: number): string {
	const bytes = Buffer.from(text);
	return padLeft(bytes.length > width ? bytes.subarray(0, Math.max(0, width)).toString('utf8') : text, width);
}

/** %E as glibc prints it (upper-case exponent, INF, NAN). */
function formatUpperE(x: number, precision: number): string {
	return formatE(x, precision).toUpperCase();
}

export type HeaderFacts = {
	metric: string;
	host: string;
	/** PCP semantics code (1 counter, 3 instant, 4 discrete). */
	sem: number;
	units: Units;
	/** -r: counters stay raw. */
	raw: boolean;
	/** -s N; undefined: "all". */
	samples: number | undefined;
	intervalMs: number;
};

/** printhdr(): metric, host, semantics, units, samples and (for more than one sample) interval. */
export function pmvalHeader(facts: HeaderFacts): string {
	const rate = !facts.raw && facts.sem === PM_SEM.COUNTER;
	let semantics: string;
	switch (facts.sem) {
		case PM_SEM.COUNTER: {
			semantics = rate ? 'cumulative counter (converting to rate)' : 'cumulative counter';
			break;
		}

		case PM_SEM.INSTANT: {
			semantics = 'instantaneous value';
			break;
		}

		case PM_SEM.DISCRETE: {
			semantics = 'discrete instantaneous value';
			break;
		}

		default: {
			semantics = 'unknown';
		}
	}

	let units = pmUnitsStr(facts.units) || 'none';
	if (rate) {
		// The rate's units: one time dimension less, seconds when the counter had none.
		const perSecond = {...facts.units};
		if (perSecond.dimTime === 0) {
			perSecond.scaleTime = 3; // PM_TIME_SEC
		}

		perSecond.dimTime--;
		units += perSecond.dimSpace === 0 && perSecond.dimTime === 0 && perSecond.dimCount === 0
			? ' (converting to time utilization)'
			: ` (converting to ${pmUnitsStr(perSecond) || 'none'})`;
	}

	let text = `metric:    ${facts.metric}\nhost:      ${facts.host}\nsemantics: ${semantics}\nunits:     ${units}\n`;
	text += facts.samples === undefined ? 'samples:   all\n' : `samples:   ${facts.samples}\n`;
	// Only for a known count above one: "samples: all" has no interval line (pmval.c printhdr).
	if (facts.samples !== undefined && facts.samples > 1) {
		text += `interval:  ${formatF(facts.intervalMs / 1000, 2)} sec\n`;
	}

	return text;
}

/**
 * printlabels()'s style, chosen once per run from the first instance list: 0 all names fit,
 * 1 some name is wider than the column less 3 (no shift for rates), 2 some name is wider than
 * the column (each full name is printed on its own line first).
 */
export function labelStyle(names: readonly string[], cols: number): 0 | 1 | 2 {
	let style: 0 | 1 | 2 = 0;
	for (const name of names) {
		const length = Buffer.byteLength(name);
		if (length > cols) {
			return 2;
		}

		if (length > cols - 3) {
			style = 1;
		}
	}

	return style;
}

/** "full label for instance[i]: name" lines, printed once before the first labels in style 2. */
export function fullLabels(names: readonly string[]): string {
	return names.map((name, index) => `full label for instance[${index}]: ${name}\n`).join('');
}

/**
 * printlabels(): an empty line, then the instance names (sorted by instance id) as column
 * heads. Rates in the default format shift each head 3 places left (room for the decimals).
 */
export function pmvalLabels(names: readonly string[], options: {cols: number; style: 0 | 1 | 2; rate: boolean; fixed: number | undefined}): string {
	const {cols} = options;
	const shift = options.rate && options.style === 0 && options.fixed === undefined;
	let text = '\n';
	for (const name of names) {
		text += shift ? `${fitLeft(name, cols - 3)}    ` : `${fitLeft(name, cols)} `;
	}

	return names.length > 0 ? `${text}\n` : text;
}

/**
 * printreal(): a FLOAT or DOUBLE value, or any rate, in `minwidth` columns. With -f, `%*.*f`;
 * otherwise the magnitude picks the form, and the decimal point stays in one column:
 * `x.xxxE-xx` below 0.1 or above 9999, `0.0`, `x.xxxx`, `x.xxx`, `xx.xx`, `xxx.x`, `xxxx.`
 * (pmval(1) CAVEATS). A negative rate (a counter that went back) is `!`.
 */
export function printReal(v: number, sem: number, minwidth: number, fixed: number | undefined): string {
	if (v < 0 && sem === PM_SEM.COUNTER) {
		return padLeft('!', minwidth);
	}

	if (fixed !== undefined) {
		return padLeft(formatF(v, fixed), minwidth);
	}

	if (v === 0) {
		return padLeft(formatF(v, 0), minwidth - 5) + '.0   ';
	}

	if (v < 0.1 || v > 9999) {
		return padLeft(formatUpperE(v, 3), minwidth);
	}

	if (v <= 0.9999) {
		return padLeft(formatF(v, 4), minwidth);
	}

	if (v <= 9.999) {
		return padLeft(formatF(v, 3), minwidth - 1) + ' ';
	}

	if (v <= 99.99) {
		return padLeft(formatF(v, 2), minwidth - 2) + '  ';
	}

	if (v <= 999.9) {
		return padLeft(formatF(v, 1), minwidth - 3) + '   ';
	}

	// Also NaN, which no comparison above caught: C prints "nan." there too.
	return padLeft(formatF(v, 0), minwidth - 5) + '.    ';
}

function hexBytes(bytes: Uint8Array): string {
	let text = '';
	for (const byte of bytes) {
		text += byte.toString(16).padStart(2, '0');
	}

	return text;
}

/** pmPrintValue of an aggregate with a minimum width: each reading padded on its own (util.c). */
function aggregateText(bytes: Uint8Array, minwidth: number): string {
	const parts: string[] = [];
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes.length === 8) {
		parts.push(padLeft(view.getBigUint64(0, true).toString(), minwidth));
		const double = view.getFloat64(0, true);
		if (!Number.isNaN(double)) {
			parts.push(padLeft(formatG(double, 16), minwidth));
		}
	}

	if (bytes.length === 4) {
		const float = view.getFloat32(0, true);
		if (!Number.isNaN(float)) {
			parts.push(padLeft(formatG(float, 8), minwidth));
		}
	}

	if (bytes.every(byte => byte >= 0x20 && byte <= 0x7e)) {
		let text = '';
		for (const byte of bytes) {
			text += String.fromCodePoint(byte);
		}

		parts.push(padLeft(`"${text}"`, minwidth));
	}

	// The hex part's padding comes before the space that separates it.
	const hex = `[${hexBytes(bytes)}]`;
	const padding = ' '.repeat(Math.max(0, minwidth - hex.length));
	return parts.length === 0 ? padding + hex : `${parts.join(' ')}${padding} ${hex}`;
}

function integerText(typeCode: number, value: Value): string {
	const big = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
	switch (typeCode) {
		case pcpType.i32: {
			return BigInt.asIntN(32, big).toString();
		}

		case pcpType.u32: {
			return BigInt.asUintN(32, big).toString();
		}

		case pcpType.i64: {
			return BigInt.asIntN(64, big).toString();
		}

		default: {
			return BigInt.asUintN(64, big).toString();
		}
	}
}

/** The value as a C double (pmExtractValue to PM_TYPE_DOUBLE): FLOAT widened, 64-bit rounded. */
export function asDouble(value: Value): number {
	if (typeof value === 'number') {
		return value;
	}

	if (typeof value === 'bigint') {
		return Number(value);
	}

	return Number.NaN;
}

/** pmPrintValue(stdout, valfmt, type, value, minwidth) for the types pmval prints this way. */
export function printValue(typeCode: number, value: Value, minwidth: number): string {
	if (value instanceof Uint8Array) {
		return aggregateText(value, minwidth);
	}

	switch (typeCode) {
		case pcpType.i32:
		case pcpType.u32:
		case pcpType.i64:
		case pcpType.u64: {
			return padLeft(integerText(typeCode, value), minwidth);
		}

		case pcpType.float: {
			return padLeft(formatG(Math.fround(asDouble(value)), 8), minwidth);
		}

		case pcpType.double: {
			return padLeft(formatG(asDouble(value), 16), minwidth);
		}

		default: {
			return padLeft(typeof value === 'string' ? `"${value}"` : String(value), minwidth);
		}
	}
}

export type PmvalColumns = {
	typeCode: number;
	sem: number;
	cols: number;
	fixed: number | undefined;
};

/** One value in its column: printreal for FLOAT and DOUBLE, pmPrintValue for the rest. */
function valueCell(value: Value, columns: PmvalColumns, minwidth: number): string {
	return columns.typeCode === pcpType.float || columns.typeCode === pcpType.double
		? printReal(asDouble(value), columns.sem, minwidth, columns.fixed)
		: printValue(columns.typeCode, value, minwidth);
}

export type InstanceValues = ReadonlyArray<{inst: number; value: Value}>;

/**
 * printvals(): a singular metric's value (`?` when there is not exactly one) and a newline;
 * for an instance domain, one column per known instance (`?` when it has no value), each
 * followed by a space, then a "Warning: value=…, but instance=N is unknown" line per value of
 * an instance missing from the heads (all-instances runs only).
 */
export function pmvalValues(values: InstanceValues, instances: readonly number[] | undefined, columns: PmvalColumns, allInstances: boolean): string {
	if (instances === undefined) {
		return (values.length === 1 ? valueCell(values[0]!.value, columns, columns.cols) : padLeft('?', columns.cols)) + '\n';
	}

	let text = '';
	for (const inst of instances) {
		const found = values.find(entry => entry.inst === inst);
		text += (found === undefined ? padLeft('?', columns.cols) : valueCell(found.value, columns, columns.cols)) + ' ';
	}

	text += '\n';
	if (allInstances) {
		for (const entry of values) {
			if (!instances.includes(entry.inst)) {
				text += `Warning: value=${valueCell(entry.value, columns, 1)}, but instance=${entry.inst} is unknown\n`;
			}
		}
	}

	return text;
}

export type RateOptions = {
	/** Seconds between the two samples, times the counter's time scale (pmval.c initapi). */
	delta: number;
	/** PCP_COUNTER_WRAP set: a counter that went back wrapped at its type's size. */
	wrap: boolean;
};

/**
 * The multiplier pmval applies to the time between samples so that a time counter's rate is a
 * utilisation: 1 without a time dimension, else 1000^(sec - scale) up to seconds and
 * 60^(sec - scale) above, kept in a C float (pmval.h Context.scale).
 */
export function timeScale(units: Units): number {
	if (units.dimTime === 0) {
		return 1;
	}

	const sec = 3;
	return Math.fround(units.scaleTime > sec ? 60 ** (sec - units.scaleTime) : 1000 ** (sec - units.scaleTime));
}

function rateCell(current: Value, previous: Value, typeCode: number, options: RateOptions, minwidth: number, fixed: number | undefined): string {
	let v = asDouble(current) - asDouble(previous);
	if (v < 0 && options.wrap) {
		if (typeCode === pcpType.i32 || typeCode === pcpType.u32) {
			v += 4_294_967_296;
		} else if (typeCode === pcpType.i64 || typeCode === pcpType.u64) {
			v += 18_446_744_073_709_551_616;
		}
	}

	return printReal(v / options.delta, PM_SEM.COUNTER, minwidth, fixed);
}

/**
 * printrates(): the rate of each value from the previous sample to this one, in the columns of
 * pmvalValues; `?` where an instance is missing from either sample.
 */
export function pmvalRates(current: InstanceValues, previous: InstanceValues, instances: readonly number[] | undefined, columns: PmvalColumns, options: RateOptions, allInstances: boolean): string {
	const {cols, fixed, typeCode} = columns;
	if (instances === undefined) {
		return (current.length === 1 && previous.length === 1
			? rateCell(current[0]!.value, previous[0]!.value, typeCode, options, cols, fixed)
			: padLeft('?', cols)) + '\n';
	}

	let text = '';
	for (const inst of instances) {
		const now = current.find(entry => entry.inst === inst);
		const before = now === undefined ? undefined : previous.find(entry => entry.inst === inst);
		text += (now === undefined || before === undefined ? padLeft('?', cols) : rateCell(now.value, before.value, typeCode, options, cols, fixed)) + ' ';
	}

	text += '\n';
	if (allInstances) {
		// As pmval.c: only when the previous sample has the same instance at the same position.
		for (const [index, entry] of current.entries()) {
			if (!instances.includes(entry.inst) && previous[index]?.inst === entry.inst) {
				text += `Warning: value=${rateCell(entry.value, previous[index].value, typeCode, options, 1, fixed)}, but instance=${entry.inst} is unknown\n`;
			}
		}
	}

	return text;
}
