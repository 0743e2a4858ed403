/**
 * `secmon --set NAME`: a saved set fills in what the command line leaves out — the hosts when no
 * --host is given, the metrics when none is named, the interval when no -t is given — and its
 * levels come before any --warn/--crit on the command line (which win).
 */
import type {Flags} from '../argv/main-flags.js';
import {secmonHome} from '../security/home.js';
import {loadSet} from './store.js';

/**
 * The set's interval is returned apart (`intervalMs`, when -t did not give one): as a flag it
 * would also mean "stream" to --json and text, which -t asks for and a set does not.
 */
export function applySet(name: string, input: string[], flags: Flags, env: NodeJS.ProcessEnv): {input: string[]; flags: Flags; intervalMs?: number} {
	const set = loadSet(secmonHome(env), name);
	const levels = Object.entries(set.thresholds ?? {});
	return {
		input: input.length > 0 ? input : [...set.metrics],
		flags: {
			...flags,
			host: flags.host.length > 0 ? flags.host : [...set.hosts],
			warn: [...levels.flatMap(([metric, {warn}]) => (warn === undefined ? [] : [`${metric}=${warn}`])), ...flags.warn],
			crit: [...levels.flatMap(([metric, {crit}]) => (crit === undefined ? [] : [`${metric}=${crit}`])), ...flags.crit],
		},
		...(flags.interval === undefined ? {intervalMs: set.intervalMs} : {}),
	};
}
