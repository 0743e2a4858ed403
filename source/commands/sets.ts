/**
 * `secmon sets list|show|remove`: the saved sets (sets/store.ts) — named hosts, metrics, interval
 * and levels, saved with `s` in the panes and opened with `secmon --set NAME`.
 */
import type {Io} from '../io.js';
import {exitCodes, SecmonError} from '../errors.js';
import {reportError} from '../output/report.js';
import {parseArgs} from '../argv/args.js';
import {safeJson, terminalSafe} from '../safe-text.js';
import {secmonHome} from '../security/home.js';
import {shellQuote} from '../shell.js';
import {
	loadSet, readSets, removeSet, setsFile, type SavedSet,
} from '../sets/store.js';
import {setNameRule} from '../sets/name.js';

export const setsHelp = `
Usage
  $ secmon sets list [--json]
  $ secmon sets show NAME [--json]
  $ secmon sets remove NAME
  $ secmon --set NAME [METRIC]...        open a saved set in the live panes

  list     every saved set: name, hosts, how many metrics, interval
  show     one set: its hosts, metrics, interval and warning/critical levels
  remove   forget a set

A set is saved only with s in the live panes (the hosts as given with --host, the metrics shown
and the interval at that moment, and the --warn/--crit levels), never on exit. With --set, what
the command line gives wins: --host replaces the set's hosts, METRICs its metrics, -t its
interval, --warn/--crit its levels for those metrics.
Set names: ${setNameRule}.

The sets are in ~/.pki/secmon/sets.json (SECMON_HOME moves it; mode 0600 in a 0700 directory).
Exit codes: 0 ok, 1 failure (an unreadable sets file), 2 usage (no such set: see secmon sets list).
`;

function intervalText(ms: number): string {
	if (ms % 60_000 === 0) {
		return `${ms / 60_000} min`;
	}

	return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function setJson(name: string, set: SavedSet): Record<string, unknown> {
	return {
		name, hosts: set.hosts, metrics: set.metrics, intervalMs: set.intervalMs, thresholds: set.thresholds ?? {}, savedAt: set.savedAt,
	};
}

function usage(message: string, hint = 'see: secmon sets --help'): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

function oneName(command: string, input: string[]): string {
	if (input.length !== 1) {
		throw usage(`secmon sets ${command} takes one set name${input.length > 1 ? `, got ${input.length}` : ''}`, 'See the names with: secmon sets list');
	}

	return input[0]!;
}

async function runList(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('sets list', argv, {json: {type: 'boolean'}});
	if (input.length > 0) {
		throw usage(`secmon sets list takes no arguments, got: ${input.join(' ')}`, 'to look at one set: secmon sets show NAME');
	}

	const home = secmonHome(io.env);
	const sets = Object.entries(readSets(home));
	if (flags.json) {
		io.stdout.write(safeJson({file: setsFile(home), sets: sets.map(([name, set]) => setJson(name, set))}) + '\n');
		return exitCodes.ok;
	}

	const write = terminalSafe(io.stdout);
	if (sets.length === 0) {
		write(`No saved sets (save one with s in the live panes; they go to ${setsFile(home)}).\n`);
		return exitCodes.ok;
	}

	const width = Math.max(...sets.map(([name]) => name.length));
	for (const [name, set] of sets) {
		const hosts = set.hosts.length === 0 ? '(the embedded collector)' : set.hosts.join(' ');
		write(`${name.padEnd(width)}  ${set.metrics.length} metric(s) every ${intervalText(set.intervalMs)} on ${hosts}\n`);
	}

	return exitCodes.ok;
}

async function runShow(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('sets show', argv, {json: {type: 'boolean'}});
	const name = oneName('show', input);
	const set = loadSet(secmonHome(io.env), name);
	if (flags.json) {
		io.stdout.write(safeJson(setJson(name, set)) + '\n');
		return exitCodes.ok;
	}

	const lines = [
		`set:       ${name}`,
		`hosts:     ${set.hosts.length === 0 ? '(the embedded collector)' : set.hosts.join(' ')}`,
		`interval:  ${intervalText(set.intervalMs)}`,
		`saved:     ${set.savedAt || 'unknown'}`,
		'metrics:',
		...set.metrics.map(metric => {
			const levels = set.thresholds?.[metric];
			const text = [levels?.warn === undefined ? '' : `warn ${levels.warn}`, levels?.crit === undefined ? '' : `crit ${levels.crit}`].filter(Boolean).join(', ');
			return `  ${metric}${text === '' ? '' : `  (${text})`}`;
		}),
	];
	const others = Object.entries(set.thresholds ?? {}).filter(([metric]) => !set.metrics.includes(metric));
	if (others.length > 0) {
		lines.push('levels for metrics below those:', ...others.map(([metric, levels]) => `  ${metric}  (${[levels.warn === undefined ? '' : `warn ${levels.warn}`, levels.crit === undefined ? '' : `crit ${levels.crit}`].filter(Boolean).join(', ')})`));
	}

	lines.push(`open it:   secmon --set ${shellQuote(name)}`);
	terminalSafe(io.stdout)(lines.join('\n') + '\n');
	return exitCodes.ok;
}

async function runRemove(argv: string[], io: Io): Promise<number> {
	const {input} = parseArgs('sets remove', argv, {});
	const name = oneName('remove', input);
	if (!removeSet(secmonHome(io.env), name)) {
		throw usage(`no saved set named ${name}`, 'See the saved sets with: secmon sets list');
	}

	terminalSafe(io.stdout)(`Removed set ${name}.\n`);
	return exitCodes.ok;
}

const runners: Record<string, (argv: string[], io: Io) => Promise<number>> = {
	list: runList,
	show: runShow,
	remove: runRemove,
};

export async function setsCommand(argv: string[], io: Io): Promise<number> {
	const [subcommand, ...rest] = argv;
	if (subcommand === undefined || subcommand === '--help' || subcommand === 'help' || subcommand === '-h') {
		(subcommand === undefined ? io.stderr : io.stdout).write(setsHelp.replace(/^\n/v, ''));
		return subcommand === undefined ? exitCodes.usage : exitCodes.ok;
	}

	const json = rest.includes('--json');
	const runner = Object.hasOwn(runners, subcommand) ? runners[subcommand] : undefined;
	if (!runner) {
		return reportError(io, usage(`unknown sets command "${subcommand}"`, `choose one of: ${Object.keys(runners).join(', ')} (see: secmon sets --help)`), {json});
	}

	if (rest.includes('--help')) {
		io.stdout.write(setsHelp.replace(/^\n/v, ''));
		return exitCodes.ok;
	}

	try {
		return await runner(rest, io);
	} catch (error) {
		return reportError(io, error, {json});
	}
}
