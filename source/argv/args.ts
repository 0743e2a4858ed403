/**
 * The subcommands' flag parser (serve, enroll, pki, certs, verify; zabbix-get's meow half):
 * meow with its process.exit paths turned off, so that unknown flags and misuse become usage
 * errors (exit 2) with a pointer to the subcommand's help.
 */
import meow from 'meow';
// Inlined by the bundler, so meow need not search for and parse package.json at start-up.
import packageJson from '../../package.json' with {type: 'json'};
import {SecmonError} from '../errors.js';
import {kebab, type FlagValues, type SimpleFlag} from './simple-argv.js';

export type FlagSpec = Readonly<Record<string, SimpleFlag>>;

/**
 * What every meow call shares: our package.json (so meow does not look for one on disk) and
 * the `import.meta` it insists on, of which it reads only `url` (to find package.json). The
 * build is CommonJS, where the bundler provides `import.meta.url` but not a whole `import.meta`.
 */
export function meowBasics(url: string): {importMeta: ImportMeta; pkg: typeof packageJson} {
	// eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- meow reads only url
	return {importMeta: {url} as ImportMeta, pkg: packageJson};
}

export type MeowParsed = {input: string[]; flags: Record<string, unknown>; unnormalizedFlags: Record<string, unknown>};

/**
 * The one meow call of the subcommands: no help, no version, no exit; unknown flags are
 * left in `unnormalizedFlags` for the caller to name in its own words. Throws meow's
 * message (e.g. "The flag --cn can only be set once.") as a plain Error.
 * `booleanDefault: undefined` leaves absent booleans out (zabbix-get's repeatable flags).
 */
export function parseWithMeow(argv: string[], spec: FlagSpec, options: {booleanDefault?: undefined} = {}): MeowParsed {
	return meow({
		...meowBasics(import.meta.url),
		argv,
		flags: spec,
		allowUnknownFlags: true,
		autoHelp: false,
		autoVersion: false,
		description: false,
		pkg: {name: 'secmon'},
		...options,
	});
}

function usage(message: string, hint: string): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

/** How often `name` is given before `--` (its long spellings, with or without `=value`, and its short flag). */
function timesGiven(argv: readonly string[], name: string, flag: SimpleFlag): number {
	const long = new Set([`--${kebab(name)}`, `--${name}`]);
	let count = 0;
	for (const token of argv) {
		if (token === '--') {
			break;
		}

		const equals = token.indexOf('=');
		if (long.has(equals === -1 ? token : token.slice(0, equals)) || (flag.shortFlag !== undefined && token === `-${flag.shortFlag}`)) {
			count++;
		}
	}

	return count;
}

/** Edit distance, for "did you mean": flags are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
		}

		previous = current;
	}

	return previous[b.length]!;
}

/** The known spelling nearest to an unknown flag (`--hots` → `--host`), if one is close. */
export function nearestFlag(typed: string, spec: FlagSpec): string | undefined {
	if (typed.length === 1) {
		return undefined; // One letter is too little to guess from.
	}

	const candidates = Object.keys(spec).map(name => kebab(name));
	let best: {name: string; cost: number} | undefined;
	for (const name of candidates) {
		const cost = name.startsWith(typed) || typed.startsWith(name) ? 1 : distance(typed, name);
		if (cost <= Math.max(1, Math.floor(name.length / 4)) + 1 && (best === undefined || cost < best.cost)) {
			best = {name, cost};
		}
	}

	return best === undefined ? undefined : `--${best.name}`;
}

/**
 * What meow let through that is still misuse, as one usage error: an unknown flag (named, with
 * the nearest known one) or a string flag without its value. `command` is how the user typed
 * it after secmon ("certs show", "" for the main command).
 */
export function checkParsed(command: string, argv: readonly string[], spec: FlagSpec, result: MeowParsed): void {
	const where = command === '' ? 'secmon' : `secmon ${command}`;
	const see = `see: ${where} --help`;
	const known = new Set([...Object.keys(spec), ...Object.values(spec).flatMap(flag => (flag.shortFlag ? [flag.shortFlag] : []))]);
	const unknown = Object.keys(result.unnormalizedFlags).filter(name => !known.has(name) && name !== '--');
	if (unknown.length > 0) {
		const names = unknown.map(name => (name.length === 1 ? `-${name}` : `--${kebab(name)}`));
		const nearest = nearestFlag(kebab(unknown[0]!), spec);
		throw usage(`unknown option ${names.join(', ')} for ${where}`, nearest === undefined ? see : `Did you mean ${nearest}? (${see})`);
	}

	for (const [name, flag] of Object.entries(spec)) {
		const value = result.flags[name];
		// Meow gives "" for a single string flag without its value, and drops the value of a
		// repeatable one (`--listen` alone, `--listen --tls off`; docs/node.md#meow): count what was given.
		const missing = flag.isMultiple
			? Array.isArray(value) && (value.includes('') || value.length < timesGiven(argv, name, flag))
			: value !== undefined && (typeof value !== 'string' || value === '');
		if (flag.type === 'string' && missing) {
			throw usage(`--${kebab(name)} needs a value${command === '' ? '' : ` (${where})`}`, see);
		}
	}
}

/**
 * `command` is how the user typed it after secmon, e.g. "certs show" or "pki issue". The flags
 * come typed from `spec` (as main-flags.ts `Flags` from the main table).
 */
export function parseArgs<Spec extends FlagSpec>(command: string, argv: string[], spec: Spec): {input: string[]; flags: FlagValues<Spec>} {
	let result;
	try {
		result = parseWithMeow(argv, spec);
	} catch (error) {
		throw usage(`${(error as Error).message.replaceAll('`', '')} (secmon ${command})`, `see: secmon ${command} --help`);
	}

	checkParsed(command, argv, spec, result);
	// Meow with booleanDefault false gives the table's shape (FlagValues), checked above for strings.
	return {input: result.input.map(String), flags: result.flags as FlagValues<Spec>};
}
