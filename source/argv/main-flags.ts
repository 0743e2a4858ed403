/**
 * The flags of the main command (`secmon [--host HOST]... [-f] … METRIC...`), one table for
 * both parsers: meow (main-meow.ts) and the plain-form parser (simple-argv.ts), for
 * normalizeArgv's short-flag groups (normalize.ts), and for the `Flags` type plan.ts takes.
 */
import {flagDefaults, type FlagValues, type SimpleFlag} from './simple-argv.js';

export const mainFlags = {
	host: {type: 'string', shortFlag: 'h', isMultiple: true},
	fetch: {type: 'boolean', shortFlag: 'f'},
	desc: {type: 'boolean', shortFlag: 'd'},
	pmid: {type: 'boolean', shortFlag: 'm'},
	pmidLong: {type: 'boolean', shortFlag: 'M'},
	oneline: {type: 'boolean'},
	helpText: {type: 'boolean', shortFlag: 'T'},
	// pminfo's -l (labels), -v (verify: only problems), -F (fetch with instances forced), -x (events).
	labels: {type: 'boolean', shortFlag: 'l'},
	verify: {type: 'boolean', shortFlag: 'v'},
	force: {type: 'boolean', shortFlag: 'F'},
	events: {type: 'boolean', shortFlag: 'x'},
	interval: {type: 'string'},
	samples: {type: 'number', shortFlag: 's'},
	raw: {type: 'boolean', shortFlag: 'r'},
	// --names: list names as pminfo does with no flags, even in a terminal.
	names: {type: 'boolean'},
	// --once: pminfo's one-shot text even in a terminal (where -f alone opens the live panes).
	once: {type: 'boolean'},
	// -c/--derived: pminfo's derived-metric configuration files, in order.
	derived: {type: 'string', shortFlag: 'c', isMultiple: true},
	json: {type: 'boolean'},
	secure: {type: 'string'},
	caFile: {type: 'string'},
	cert: {type: 'string'},
	key: {type: 'string'},
	fingerprint: {type: 'string'},
	pskIdentity: {type: 'string'},
	pskFile: {type: 'string'},
	passwordFile: {type: 'string'},
	servername: {type: 'string'},
	query: {type: 'string'},
	acceptNew: {type: 'boolean'},
	timeout: {type: 'string'},
	// Several collectors (issue 18): sessions in flight, and host specs from a file or stdin (-).
	parallel: {type: 'string'},
	hostsFile: {type: 'string'},
	// --set NAME: hosts, metrics, interval and levels saved with s in the panes (sets/store.ts).
	set: {type: 'string'},
	// --warn/--crit NAME=RANGE: the panes' levels for a metric (metrics/thresholds.ts).
	warn: {type: 'string', isMultiple: true},
	crit: {type: 'string', isMultiple: true},
} as const satisfies Record<string, SimpleFlag>;

/** The parsed main flags (main.ts parseMainArgv), typed from the table above. */
export type Flags = FlagValues<typeof mainFlags>;

/**
 * The flags of a command line that names none, from the table: lists empty, booleans false,
 * values absent. For callers that build a Plan without parsing argv (secmon pmval, tests):
 * spread it and set what differs, so a new flag in the table needs no edit there.
 */
export function defaultFlags(): Flags {
	return flagDefaults(mainFlags);
}
