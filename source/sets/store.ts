/**
 * Saved sets: named hosts, metrics, interval and thresholds, in `<home>/sets.json` beside the
 * trust store (SECMON_HOME, ~/.pki/secmon; directory 0700, file 0600). Written with conf only on
 * an explicit save (`s` in the panes) or `secmon sets remove`, never on exit; conf's unlocked
 * read-modify-write (docs/node.md#conf) can lose a set when two processes save at the same
 * instant, which costs a re-save, not trust. Read without conf, under the store's rules (no link,
 * a regular file of ours, bounded: security/home.ts), so listing never creates or rewrites anything.
 */
import path from 'node:path';
import Conf from 'conf';
import {SecmonError} from '../errors.js';
import {safeText} from '../safe-text.js';
import {
	checkPrivateDir, ensurePrivateDir, errnoCode, readPrivateFile,
} from '../security/home.js';
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

		set.thresholds = {};
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

function open(home: string): Conf<Record<string, SavedSet>> {
	// Conf would create a missing directory with mode 0755 (docs/node.md#conf): make it 0700 first.
	ensurePrivateDir(home);
	// Refuses a link, a FIFO, another user's or a huge file before conf touches it.
	readSets(home);
	try {
		return new Conf<Record<string, SavedSet>>({
			cwd: home,
			configName: 'sets',
			configFileMode: 0o600,
			// Set names may hold dots: no dot-notation paths.
			accessPropertiesByDotNotation: false,
			projectName: 'secmon',
		});
	} catch (error) {
		throw corrupt(home, errnoCode(error) ?? (error instanceof Error ? error.message : String(error)), error);
	}
}

/** Save (or replace) a set. */
export function saveSet(home: string, name: string, set: Omit<SavedSet, 'savedAt'>, now = new Date()): void {
	checkName(name);
	const checked = checkSet({...set, savedAt: now.toISOString()});
	if (typeof checked === 'string') {
		throw new SecmonError('USAGE', `cannot save set ${name}: ${checked}`, 'Remove some panes or hosts and save again');
	}

	open(home).set(name, checked);
}

/** Remove a set; false when there was none by that name. */
export function removeSet(home: string, name: string): boolean {
	checkName(name);
	if (readSets(home)[name] === undefined) {
		return false;
	}

	const conf = open(home);
	conf.delete(name);
	return true;
}
