import {SecmonError} from './errors.js';

const unitMs: Record<string, number> = {
	'': 1000,
	msec: 1,
	msecs: 1,
	millisecond: 1,
	milliseconds: 1,
	ms: 1,
	sec: 1000,
	secs: 1000,
	second: 1000,
	seconds: 1000,
	s: 1000,
	min: 60_000,
	mins: 60_000,
	minute: 60_000,
	minutes: 60_000,
	m: 60_000,
	hour: 3_600_000,
	hours: 3_600_000,
	hr: 3_600_000,
	h: 3_600_000,
};

/** True when the text starts like a PCP interval ("2", "0.5", "500msec", "1min"). Metric names never start with a digit. */
export function looksLikeDuration(text: string): boolean {
	return /^\d/.test(text) && parseDurationMs(text) !== undefined;
}

/** PCP-style interval (pmval -t syntax, PCPIntro "TIME WINDOW SPECIFICATION"): number + optional unit, default seconds. */
export function parseDurationMs(text: string): number | undefined {
	const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
	if (!match) {
		return undefined;
	}

	const factor = unitMs[match[2]!.toLowerCase()];
	if (factor === undefined) {
		return undefined;
	}

	const ms = Number(match[1]) * factor;
	return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export function requireDurationMs(text: string, flag: string): number {
	const ms = parseDurationMs(text);
	if (ms === undefined) {
		throw new SecmonError('USAGE', `invalid ${flag} "${text}"`, 'Give a number of seconds or a PCP interval such as 2, 500msec, 1min.');
	}

	return ms;
}

export function formatDuration(ms: number): string {
	if (ms < 1000) {
		return `${ms} msec`;
	}

	return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${(ms / 1000).toFixed(2).replace(/\.?0+$/, '')} sec`;
}
