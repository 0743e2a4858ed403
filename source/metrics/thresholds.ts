/**
 * Warning and critical levels for values (pure): Nagios ranges as the Monitoring Plugins
 * guidelines define them (docs/icinga-livestatus-mon.md#performance-data). `10` alerts outside
 * 0..10, `10:` below 10, `~:10` above 10, `5:10` outside 5..10, `@5:10` inside 5..10. They come
 * from the collector (Icinga, Livestatus and mon perfdata `warn;crit`) or from the user (saved
 * sets, --warn/--crit), in the metric's own units.
 */

/** A range `[@][start:][end]`: `start` may be −∞ (`~`), `end` +∞ (missing); `inside` for `@`. */
export type ThresholdRange = {start: number; end: number; inside: boolean; text: string};

export type Thresholds = {warn?: ThresholdRange; crit?: ThresholdRange};

export type Level = 'warning' | 'critical';

/** Whether `value` raises an alert for `range`. */
export function alerts(range: ThresholdRange, value: number): boolean {
	const within = value >= range.start && value <= range.end;
	return range.inside ? within : !within;
}

/** The worst level `value` reaches, or undefined (no thresholds, not a number, or fine). */
export function levelOf(value: number | undefined, thresholds: Thresholds | undefined): Level | undefined {
	if (value === undefined || !Number.isFinite(value) || !thresholds) {
		return undefined;
	}

	if (thresholds.crit && alerts(thresholds.crit, value)) {
		return 'critical';
	}

	return thresholds.warn && alerts(thresholds.warn, value) ? 'warning' : undefined;
}

/** A number as plugins write it: decimal point or comma, optional exponent. */
export function parseNumber(text: string): number | undefined {
	const normalized = text.trim().replace(',', '.');
	if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(normalized)) {
		return undefined;
	}

	const value = Number(normalized);
	return Number.isFinite(value) ? value : undefined;
}

/** `[@][start:][end]`, with `~` for −∞ and an empty end for +∞. Undefined for empty, `U` or unreadable. */
export function parseRange(text: string, factor = 1): ThresholdRange | undefined {
	const trimmed = text.trim();
	if (trimmed === '' || trimmed === 'U') {
		return undefined;
	}

	const inside = trimmed.startsWith('@');
	const body = inside ? trimmed.slice(1) : trimmed;
	const colon = body.indexOf(':');
	let start = 0;
	let end: number | undefined;
	if (colon === -1) {
		end = parseNumber(body);
		if (end === undefined) {
			return undefined;
		}
	} else {
		const startText = body.slice(0, colon);
		const endText = body.slice(colon + 1);
		if (startText === '~') {
			start = Number.NEGATIVE_INFINITY;
		} else {
			const parsed = parseNumber(startText);
			if (parsed === undefined) {
				return undefined;
			}

			start = parsed;
		}

		if (endText === '') {
			end = Number.POSITIVE_INFINITY;
		} else {
			end = parseNumber(endText);
			if (end === undefined) {
				return undefined;
			}
		}
	}

	return {
		start: start * factor, end: end * factor, inside, text: trimmed,
	};
}

