/**
 * Nagios/Icinga performance data → numbers with units (pure). Used by the Icinga 2 REST API
 * source (string and object forms, docs/icinga-livestatus-mon.md#check-results), Livestatus (`perf_data` column, one string,
 * docs/icinga-livestatus-mon.md#livestatus-metrics) and mon (`text|perfdata` in last_summary,
 * docs/icinga-livestatus-mon.md#mon-metrics).
 *
 * Grammar (Monitoring Plugins guidelines, docs/icinga-livestatus-mon.md#performance-data): items separated by spaces,
 * `'label'=value[UOM];[warn];[crit];[min];[max]`. Lenient on purpose: quoted labels with spaces
 * and `''` escapes, `U` for unknown, empty or missing trailing fields, comma decimals, open-ended
 * ranges; one bad item is reported and the others are kept.
 */
import {noUnits, type Semantics, type Units} from '../../metrics/model.js';
import {parseNumber, parseRange, type ThresholdRange} from '../../metrics/thresholds.js';

/** A warn/crit range `[@][start:][end]` (`~` = −∞, missing end = +∞). `inside`: alert when inside (`@`). */
export type PerfRange = ThresholdRange;

export type PerfValue = {
	label: string;
	/** In the base unit of `unit` (bytes, seconds, …); undefined for `U` (unknown). */
	value: number | undefined;
	/** Base unit after normalisation (see `perfUnit`): '', 'bytes', 'seconds', 'percent', … */
	unit: string;
	/** `c` UOM (or object form counter: true): a counter, shown as a rate. */
	counter: boolean;
	warn?: PerfRange;
	crit?: PerfRange;
	min?: number;
	max?: number;
};

export type PerfParse = {values: PerfValue[]; errors: string[]};

type UnitInfo = {factor: number; unit: string};

/** Case-sensitive units: data sizes with SI (K = 1000) and IEC (Ki = 1024) prefixes, as Icinga 2.14 reads them. */
const exactUnits = new Map<string, UnitInfo>([
	['', {factor: 1, unit: ''}],
	['%', {factor: 1, unit: 'percent'}],
	['c', {factor: 1, unit: ''}],
	['C', {factor: 1, unit: 'degrees-celsius'}],
	['b', {factor: 1, unit: 'bits'}],
	['B', {factor: 1, unit: 'bytes'}],
]);
for (const [power, prefixes] of [[1, 'kK'], [2, 'mM'], [3, 'gG'], [4, 'tT'], [5, 'pP'], [6, 'eE']] as const) {
	for (const prefix of prefixes) {
		for (const [base, unit] of [['B', 'bytes'], ['b', 'bits']] as const) {
			exactUnits.set(`${prefix}${base}`, {factor: 1000 ** power, unit});
			exactUnits.set(`${prefix}i${base}`, {factor: 1024 ** power, unit});
			exactUnits.set(`${prefix}I${base}`, {factor: 1024 ** power, unit});
		}
	}
}

/** Case-insensitive units (time and a few physical ones). */
const foldedUnits = new Map<string, UnitInfo>([
	['ns', {factor: 1e-9, unit: 'seconds'}],
	['us', {factor: 1e-6, unit: 'seconds'}],
	['ms', {factor: 1e-3, unit: 'seconds'}],
	['s', {factor: 1, unit: 'seconds'}],
	['m', {factor: 60, unit: 'seconds'}],
	['h', {factor: 3600, unit: 'seconds'}],
	['d', {factor: 86_400, unit: 'seconds'}],
	['v', {factor: 1, unit: 'volts'}],
	['a', {factor: 1, unit: 'amperes'}],
	['w', {factor: 1, unit: 'watts'}],
	['f', {factor: 1, unit: 'degrees-fahrenheit'}],
	['k', {factor: 1, unit: 'degrees-kelvin'}],
	['dbm', {factor: 1, unit: 'decibel-milliwatts'}],
	['packets', {factor: 1, unit: 'packets'}],
]);

/** Names Icinga already normalised to (object form `unit`), kept as they are. */
const baseUnits = new Set([
	'',
	'bytes',
	'bits',
	'seconds',
	'percent',
	'degrees-celsius',
	'degrees-fahrenheit',
	'degrees-kelvin',
	'volts',
	'amperes',
	'watts',
	'ampere-seconds',
	'watt-hours',
	'ohms',
	'grams',
	'liters',
	'lumens',
	'decibel-milliwatts',
	'packets',
]);

/**
 * A UOM as written by a plugin → factor to the base unit and the base unit's name. Unknown UOMs
 * keep their own name with factor 1 (nothing is thrown away; Icinga drops them).
 */
export function perfUnit(uom: string): UnitInfo {
	const exact = exactUnits.get(uom);
	if (exact) {
		return exact;
	}

	const folded = foldedUnits.get(uom.toLowerCase());
	if (folded) {
		return folded;
	}

	return {factor: 1, unit: uom};
}

/**
 * Split a perfdata string into items. Labels in single quotes may hold spaces and `=`, a doubled
 * quote is a literal one; items are separated by runs of blanks.
 */
export function splitPerfdata(text: string): string[] {
	const items: string[] = [];
	let i = 0;
	const n = text.length;
	while (i < n) {
		while (i < n && /\s/.test(text[i]!)) {
			i++;
		}

		if (i >= n) {
			break;
		}

		const begin = i;
		if (text[i] === '\'') {
			// Quoted label: up to the closing quote that is not doubled.
			i++;
			while (i < n) {
				if (text[i] === '\'') {
					if (text[i + 1] === '\'') {
						i += 2;
						continue;
					}

					i++;
					break;
				}

				i++;
			}
		}

		while (i < n && !/\s/.test(text[i]!)) {
			i++;
		}

		items.push(text.slice(begin, i));
	}

	return items;
}

/** One item `label=value[UOM];warn;crit;min;max`; throws a message for an unreadable one. */
export function parsePerfItem(item: string): PerfValue {
	let label: string;
	let rest: string;
	if (item.startsWith('\'')) {
		let i = 1;
		label = '';
		for (;;) {
			if (i >= item.length) {
				throw new Error(`unterminated quote in "${item}"`);
			}

			if (item[i] === '\'') {
				if (item[i + 1] === '\'') {
					label += '\'';
					i += 2;
					continue;
				}

				break;
			}

			label += item[i];
			i++;
		}

		if (item[i + 1] !== '=') {
			throw new Error(`no "=" after the label in "${item}"`);
		}

		rest = item.slice(i + 2);
	} else {
		const eq = item.indexOf('=');
		if (eq <= 0) {
			throw new Error(eq === 0 ? `empty label in "${item}"` : `no "=" in "${item}"`);
		}

		label = item.slice(0, eq);
		rest = item.slice(eq + 1);
	}

	if (label === '') {
		throw new Error(`empty label in "${item}"`);
	}

	const fields = rest.split(';');
	const first = fields[0]!;
	let value: number | undefined;
	let uom: string;
	if (first.startsWith('U')) {
		// `U`: the plugin could not determine the value (a UOM may follow).
		value = undefined;
		uom = first.slice(1);
	} else {
		const match = /^([-+]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][-+]?\d+)?)(.*)$/.exec(first);
		if (!match) {
			throw new Error(`value "${first}" of "${label}" is not a number`);
		}

		value = parseNumber(match[1]!);
		if (value === undefined) {
			throw new Error(`value "${first}" of "${label}" is not a number`);
		}

		uom = match[2]!;
	}

	const {factor, unit} = perfUnit(uom);
	const perf: PerfValue = {
		label,
		value: value === undefined ? undefined : value * factor,
		unit,
		counter: uom === 'c',
	};
	const warn = parseRange(fields[1] ?? '', factor);
	const crit = parseRange(fields[2] ?? '', factor);
	const min = parseNumber(fields[3] ?? '');
	const max = parseNumber(fields[4] ?? '');
	if (warn) {
		perf.warn = warn;
	}

	if (crit) {
		perf.crit = crit;
	}

	if (min !== undefined) {
		perf.min = min * factor;
	}

	if (max !== undefined) {
		perf.max = max * factor;
	}

	return perf;
}

/** Icinga's object form (`{"type":"PerfdataValue","label":…,"value":…,"unit":…,…}`, docs/icinga-livestatus-mon.md#check-results). */
export function perfFromObject(object: unknown): PerfValue {
	if (typeof object !== 'object' || object === null) {
		throw new Error('perfdata entry is neither a string nor an object');
	}

	const record = object as Record<string, unknown>;
	const {label} = record;
	if (typeof label !== 'string' || label === '') {
		throw new Error('perfdata object without a label');
	}

	const number = (key: string): number | undefined => {
		const value = record[key];
		return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
	};

	const unitText = typeof record['unit'] === 'string' ? record['unit'] : '';
	// Icinga 2.13 keeps the plugin's UOM here, 2.14 the normalised name: read both.
	const {factor, unit} = baseUnits.has(unitText) ? {factor: 1, unit: unitText} : perfUnit(unitText);
	const value = number('value');
	const perf: PerfValue = {
		label,
		value: value === undefined ? undefined : value * factor,
		unit,
		counter: record['counter'] === true,
	};
	for (const key of ['warn', 'crit'] as const) {
		const bound = number(key);
		if (bound !== undefined) {
			perf[key] = {
				start: 0, end: bound * factor, inside: false, text: String(bound),
			};
		}
	}

	for (const key of ['min', 'max'] as const) {
		const bound = number(key);
		if (bound !== undefined) {
			perf[key] = bound * factor;
		}
	}

	return perf;
}

/** A whole perfdata string, or Icinga's array of strings and objects. Bad items land in `errors`. */
export function parsePerfdata(input: string | readonly unknown[] | null | undefined): PerfParse {
	const values: PerfValue[] = [];
	const errors: string[] = [];
	if (input === null || input === undefined) {
		return {values, errors};
	}

	const items: unknown[] = typeof input === 'string' ? splitPerfdata(input) : input.flatMap(entry => typeof entry === 'string' ? splitPerfdata(entry) : [entry]);
	for (const item of items) {
		try {
			values.push(typeof item === 'string' ? parsePerfItem(item) : perfFromObject(item));
		} catch (error) {
			errors.push(error instanceof Error ? error.message : String(error));
		}
	}

	return {values, errors};
}

/** Plugin output `text|perfdata` (the first `|` separates them, Monitoring Plugins guidelines). */
export function splitPluginOutput(output: string): {text: string; perfdata: string} {
	const bar = output.indexOf('|');
	return bar === -1 ? {text: output, perfdata: ''} : {text: output.slice(0, bar).trimEnd(), perfdata: output.slice(bar + 1).trim()};
}

const second: Units = {...noUnits, dimTime: 1, scaleTime: 3};
const byte: Units = {...noUnits, dimSpace: 1, scaleSpace: 0};
const count: Units = {...noUnits, dimCount: 1, scaleCount: 0};

/** Looked up with Object.hasOwn: a UOM is the peer's text, and "constructor" must not find Object's own properties. */
const unitTexts: Record<string, string> = {
	percent: '%',
	'degrees-celsius': '°C',
	'degrees-fahrenheit': '°F',
	'degrees-kelvin': 'K',
	volts: 'V',
	amperes: 'A',
	watts: 'W',
	'ampere-seconds': 'As',
	'watt-hours': 'Wh',
	ohms: 'Ω',
	grams: 'g',
	liters: 'l',
	lumens: 'lm',
	'decibel-milliwatts': 'dBm',
};

/** How a perfdata value maps onto the common metric model (units, semantics, human text). */
export function perfMetricUnits(perf: Pick<PerfValue, 'unit' | 'counter'>): {units: Units; unitsText: string; semantics: Semantics} {
	const semantics: Semantics = perf.counter ? 'counter' : 'instant';
	switch (perf.unit) {
		case 'seconds': {
			return {units: second, unitsText: 'sec', semantics};
		}

		case 'bytes': {
			return {units: byte, unitsText: 'byte', semantics};
		}

		case '': {
			return perf.counter ? {units: count, unitsText: 'count', semantics} : {units: noUnits, unitsText: 'none', semantics};
		}

		default: {
			return {units: noUnits, unitsText: Object.hasOwn(unitTexts, perf.unit) ? unitTexts[perf.unit]! : perf.unit, semantics};
		}
	}
}

/** Thresholds for help texts: "warn 5, crit 10, min 0, max 100". */
export function describeThresholds(perf: PerfValue): string {
	const parts: string[] = [];
	if (perf.warn) {
		parts.push(`warn ${perf.warn.text}`);
	}

	if (perf.crit) {
		parts.push(`crit ${perf.crit.text}`);
	}

	if (perf.min !== undefined) {
		parts.push(`min ${perf.min}`);
	}

	if (perf.max !== undefined) {
		parts.push(`max ${perf.max}`);
	}

	return parts.join(', ');
}
