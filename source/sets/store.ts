/**
 * Saved sets: named hosts, metrics, interval and thresholds, in `<home>/sets.json` beside the
 * trust store (SECMON_HOME, ~/.pki/secmon; directory 0700, file 0600). Written only on an explicit
 * save (`s` in the panes) or `secmon sets remove`, never on exit, the way the trust store writes
 * (security/store.ts writeFileAtomic: a temp file of ours, every byte, fsync, rename), so a crash,
 * a kill or a full disk mid-write leaves the sets as they were, never a partial file. The
 * read-modify-write is not locked: two processes saving at the same instant can lose one set,
 * which costs a re-save, not trust. Read under the store's rules (no link, a regular file of
 * ours, bounded: security/home.ts), so listing never creates or rewrites anything.
 */
import path from 'node:path';
import {SecmonError} from '../errors.js';
import {safeText} from '../safe-text.js';
import {
	checkPrivateDir, ensurePrivateDir, errnoCode, readPrivateFile,
} from '../security/home.js';
import {writeFileAtomic} from '../security/store.js';
import {shellQuote} from '../shell.js';
import {setNameProblem} from './name.js';

/** A warning or critical level as typed: a Nagios range (`10`, `10:`, `~:5`, `@1:3`; docs/thresholds.md). */
export type SetThresholds = {warn?: string; crit?: string};

export type SavedSet = {
	/** Host specs as given on the command line (`pcps://collector:44322`, `zabbix://agent`). */
	hosts: string[];
	metrics: string[];
	intervalMs: number;
	/** Metric name → its levels. */
	thresholds?: Record<string, SetThresholds>;
	/** ISO time of the save. */
	savedAt: string;
};

/** Sets are a few hundred bytes each: 1 MiB holds thousands, and is cheap to refuse unread. */
export const maxSetsFileBytes = 1024 * 1024;
/** What one set may hold (more hosts than a screen of status lines, more metrics than panes fit). */
export const maxSetHosts = 64;
export const maxSetMetrics = 1000;
/** A host spec or a metric name longer than this is not one a person typed. */
const maxTextLength = 1024;

export function setsFile(home: string): string {
	return path.join(home, 'sets.json');
}

function corrupt(home: string, why: string, cause?: unknown): SecmonError {
	const file = setsFile(home);
	return new SecmonError(
		'STORE',
		`the saved sets file ${file} is not usable: ${why}`,
		`Fix it, or remove it (every saved set is lost): rm ${shellQuote(file)}`,
		cause === undefined ? undefined : {cause},
	);
}

function strings(value: unknown, max: number): string[] | undefined {
	if (!Array.isArray(value) || value.length > max || !value.every(item => typeof item === 'string' && item !== '' && item.length <= maxTextLength)) {
		return undefined;
	}

	return value as string[];
}

/** One stored set, checked field by field (the file is ours, but a hand edit may break it). */
export function checkSet(value: unknown): SavedSet | string {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return 'not an object';
	}

	const record = value as Record<string, unknown>;
	const hosts = strings(record['hosts'], maxSetHosts);
	if (!hosts) {
		return `"hosts" must be a list of at most ${maxSetHosts} host specs`;
	}

	const metrics = strings(record['metrics'], maxSetMetrics);
	if (!metrics) {
		return `"metrics" must be a list of at most ${maxSetMetrics} metric names`;
	}

	const {intervalMs, thresholds} = record;
	if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 86_400_000) {
		return '"intervalMs" must be a whole number of milliseconds from 1 to 86400000';
	}

	const set: SavedSet = {
		hosts, metrics, intervalMs, savedAt: typeof record['savedAt'] === 'string' ? record['savedAt'] : '',
	};
	if (thresholds !== undefined) {
		if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds) || Object.keys(thresholds).length > maxSetMetrics) {
			return '"thresholds" must map metric names to {"warn", "crit"}';
		}

		// No prototype: the keys are the file's text, and a metric named "__proto__" is a key like any other.
		set.thresholds = Object.create(null) as Record<string, SetThresholds>;
		for (const [metric, levels] of Object.entries(thresholds as Record<string, unknown>)) {
			const {warn, crit} = (typeof levels === 'object' && levels !== null ? levels : {}) as Record<string, unknown>;
			if ((warn !== undefined && typeof warn !== 'string') || (crit !== undefined && typeof crit !== 'string')) {
				return `the thresholds of ${metric} must be strings`;
			}

			set.thresholds[metric] = {...(warn === undefined ? {} : {warn}), ...(crit === undefined ? {} : {crit})};
		}
	}

	return set;
}

/** Every saved set by name (none when the file or the directory does not exist). */
export function readSets(home: string): Record<string, SavedSet> {
	const file = setsFile(home);
	const text = checkPrivateDir(home)
		? readPrivateFile(file, {what: 'saved sets file', maxBytes: maxSetsFileBytes, removal: `Remove it (every saved set is lost): rm ${shellQuote(file)}`})
		: undefined;
	if (text === undefined) {
		return Object.create(null) as Record<string, SavedSet>;
	}

	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		throw corrupt(home, 'not JSON', error);
	}

	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw corrupt(home, 'not a JSON object');
	}

	// No prototype: a set named "constructor" or "toString" is looked up as itself, never as Object's.
	const sets: Record<string, SavedSet> = Object.create(null) as Record<string, SavedSet>;
	for (const [name, value] of Object.entries(data)) {
		const set = checkSet(value);
		if (typeof set === 'string') {
			throw corrupt(home, `set ${safeText(name)}: ${set}`);
		}

		sets[name] = set;
	}

	return sets;
}

function checkName(name: string): void {
	const problem = setNameProblem(name);
	if (problem) {
		throw new SecmonError('USAGE', safeText(problem), 'Name sets like "web-load" or "db.1"; see: secmon sets --help');
	}
}

/** A saved set; a missing one is a usage error that points to `secmon sets list`. */
export function loadSet(home: string, name: string): SavedSet {
	checkName(name);
	const set = readSets(home)[name];
	if (!set) {
		throw new SecmonError('USAGE', `no saved set named ${name}`, 'See the saved sets with: secmon sets list (save one with s in the panes)');
	}

	return set;
}

/**
 * Replace the sets file with `sets` (tab-indented JSON, as conf wrote it), atomically and 0600 in
 * the 0700 home, which it creates if missing.
 */
function writeSets(home: string, sets: Record<string, SavedSet>): void {
	ensurePrivateDir(home);
	const file = setsFile(home);
	try {
		writeFileAtomic(file, JSON.stringify(sets, undefined, '\t'));
	} catch (error) {
		const why = errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
		throw new SecmonError('STORE', `could not write the saved sets file ${file}: ${why}`, `Nothing changed (the file holds the sets as before): make room or fix ${shellQuote(home)}, then try again`, {cause: error});
	}
}

/** Save (or replace) a set. */
export function saveSet(home: string, name: string, set: Omit<SavedSet, 'savedAt'>, now = new Date()): void {
	checkName(name);
	const checked = checkSet({...set, savedAt: now.toISOString()});
	if (typeof checked === 'string') {
		throw new SecmonError('USAGE', `cannot save set ${name}: ${checked}`, 'Remove some panes or hosts and save again');
	}

	// Reading first refuses a link, a FIFO, another user's, a corrupt or a huge file before anything is written.
	const sets = readSets(home);
	sets[name] = checked;
	writeSets(home, sets);
}

/** Remove a set; false when there was none by that name. */
export function removeSet(home: string, name: string): boolean {
	checkName(name);
	const sets = readSets(home);
	if (sets[name] === undefined) {
		return false;
	}

	const kept: Record<string, SavedSet> = Object.create(null) as Record<string, SavedSet>;
	for (const [other, set] of Object.entries(sets)) {
		if (other !== name) {
			kept[other] = set;
		}
	}

	writeSets(home, kept);
	return true;
}
