/**
 * The main command's argv → flags and metric names, for plan.ts: pminfo's short-flag habits
 * (normalize.ts), then the plain form without meow (start-up, simple-argv.ts), and meow
 * (main-meow.ts, loaded only then) for everything else.
 */
import {SecmonError} from '../errors.js';
import {mainFlags, type Flags} from './main-flags.js';
import {normalizeArgv} from './normalize.js';
import {parseSimpleArgv} from './simple-argv.js';

/**
 * `--hosts-file -` (standard input): yargs-parser takes a lone `-` after a string flag as no value
 * (docs/node.md#meow), so it is handed over as `--hosts-file=-`, which it keeps.
 */
function stdinHostsFile(argv: string[]): string[] {
	const at = argv.indexOf('--hosts-file');
	if (at === -1 || argv[at + 1] !== '-' || argv.slice(0, at).includes('--')) {
		return argv;
	}

	return [...argv.slice(0, at), '--hosts-file=-', ...argv.slice(at + 2)];
}

export async function parseMainArgv(argv: string[]): Promise<{input: string[]; flags: Flags}> {
	const normalized = normalizeArgv(stdinHostsFile(argv));
	const cli = parseSimpleArgv(normalized, mainFlags) ?? (await import('./main-meow.js')).parseMain(normalized);
	if ((argv.includes('-s') || argv.includes('--samples')) // Meow turns an unparsable number into null silently (docs/node.md#meow).
		&& (cli.flags['samples'] === null || cli.flags['samples'] === undefined)) {
		throw new SecmonError('USAGE', '-s/--samples needs a whole number of samples', 'For example -s 5; see: secmon --help');
	}

	// The table's flags only (meow adds the short spellings). Their values have the table's types:
	// simple-argv.ts builds them so, and test/argv/simple-argv.test.ts checks that meow agrees.
	const flags: Record<string, unknown> = {};
	for (const name of Object.keys(mainFlags)) {
		if (cli.flags[name] !== undefined) {
			flags[name] = cli.flags[name];
		}
	}

	return {input: cli.input, flags: flags as Flags};
}
