/**
 * Flag parsing for subcommands (certs, verify, pki …): meow with its process.exit
 * paths turned off, so that unknown flags and misuse become usage errors (exit 2)
 * with a pointer to the subcommand's help.
 */
import meow from 'meow';
// Inlined by the bundler, so meow need not search for and parse package.json at start-up.
import packageJson from '../../package.json' with {type: 'json'};
import {SecmonError} from '../errors.js';
import {kebab} from './simple-argv.js';

type Flag = {type: 'string' | 'boolean'; isMultiple?: boolean; shortFlag?: string};
export type FlagSpec = Record<string, Flag>;

/**
 * What every meow call shares: our package.json (so meow does not look for one on disk) and
 * the `import.meta` it insists on, of which it reads only `url` (to find package.json). The
 * build is CommonJS, where the bundler provides `import.meta.url` but not a whole `import.meta`.
 */
export function meowBasics(url: string): {importMeta: ImportMeta; pkg: typeof packageJson} {
	// eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- meow reads only url
	return {importMeta: {url} as ImportMeta, pkg: packageJson};
}

function usage(message: string, hint: string): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

export {kebab} from './simple-argv.js';

/** `command` is how the user typed it after secmon, e.g. "certs show" or "pki issue". */
export function parseArgs(command: string, argv: string[], spec: FlagSpec): {input: string[]; flags: Record<string, unknown>} {
	let result;
	try {
		result = meow({
			...meowBasics(import.meta.url),
			argv,
			flags: spec,
			allowUnknownFlags: true,
			autoHelp: false,
			autoVersion: false,
			description: false,
			pkg: {name: 'secmon'},
		});
	} catch (error) {
		throw usage(`${(error as Error).message.replaceAll('`', '')} (secmon ${command})`, `see: secmon ${command} --help`);
	}

	const known = new Set([...Object.keys(spec), ...Object.values(spec).flatMap(flag => (flag.shortFlag ? [flag.shortFlag] : []))]);
	const unknown = Object.keys(result.unnormalizedFlags).filter(name => !known.has(name) && name !== '--');
	if (unknown.length > 0) {
		const names = unknown.map(name => (name.length === 1 ? `-${name}` : `--${kebab(name)}`));
		throw usage(`unknown option ${names.join(', ')} for secmon ${command}`, `see: secmon ${command} --help`);
	}

	for (const [name, flag] of Object.entries(spec)) {
		const value = result.flags[name];
		if (flag.type === 'string' && !flag.isMultiple && value !== undefined && (typeof value !== 'string' || value === '')) {
			throw usage(`--${kebab(name)} needs a value (secmon ${command})`, `see: secmon ${command} --help`);
		}
	}

	return {input: result.input.map(String), flags: result.flags};
}
