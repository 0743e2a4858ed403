/**
 * The plain form of a command line, parsed without meow: `--long-flag`, `-x`, `--flag VALUE`,
 * `-x VALUE` and positional arguments. That is what scripts and the one-shot `--json` fetch
 * use, and meow (with yargs-parser and its helpers) costs ~4.5 ms of a ~30 ms run to load and
 * call (core issue part 7). Every other form — `--flag=value`, `--no-flag`, grouped or numeric
 * flags, `--`, `--help`, a repeated single-valued flag, a value that starts with "-", a
 * boolean followed by "true"/"false" (yargs-parser takes that as its value), anything unknown —
 * returns undefined and the caller asks meow, so meow stays the definition of the syntax:
 * test/simple-argv.test.ts checks that both give the same result on every command line this
 * parser accepts.
 */
/** A flag as meow takes it (aliases are meow's business: their spellings go to meow). */
export type SimpleFlag = {type: 'string' | 'boolean' | 'number'; shortFlag?: string; isMultiple?: boolean; aliases?: string[]};

export type ParsedArgv = {input: string[]; flags: Record<string, unknown>};

type FlagTable = Readonly<Record<string, SimpleFlag>>;

/** Flags that a parse always gives a value: a list (empty) or a boolean (false). */
type AlwaysSet<Flag> = Flag extends {isMultiple: true} ? true : Flag extends {type: 'boolean'} ? true : false;
type ValueOf<Flag> = Flag extends {type: 'string'} ? string : Flag extends {type: 'number'} ? number : boolean;

/**
 * The flags a parse of `Table` gives, typed from the table itself (main-flags.ts `Flags`):
 * repeatable flags a list, booleans true or false, the others a value or absent. Both parsers
 * give exactly that shape (meow with its default booleanDefault: false).
 */
export type FlagValues<Table extends FlagTable> = {
	-readonly [Name in keyof Table as AlwaysSet<Table[Name]> extends true ? Name : never]: Table[Name] extends {isMultiple: true} ? Array<ValueOf<Table[Name]>> : boolean;
} & {
	-readonly [Name in keyof Table as AlwaysSet<Table[Name]> extends true ? never : Name]?: ValueOf<Table[Name]>;
};

/** caFile → ca-file: how a flag name is typed. */
export function kebab(name: string): string {
	let out = '';
	for (const char of name) {
		out += char >= 'A' && char <= 'Z' ? '-' + char.toLowerCase() : char;
	}

	return out;
}

/**
 * What a parse of `spec` gives when no flag is typed, meow's defaults: multiple flags an empty
 * list, single booleans false, others absent (main-flags.ts defaultFlags).
 */
export function flagDefaults<Table extends FlagTable>(spec: Table): FlagValues<Table> {
	const flags: Record<string, unknown> = {};
	for (const [name, flag] of Object.entries(spec)) {
		if (flag.isMultiple) {
			flags[name] = [];
		} else if (flag.type === 'boolean') {
			flags[name] = false;
		}
	}

	// The loop gives each flag the value FlagValues says a parse with no flags gives it.
	return flags as FlagValues<Table>;
}

export function parseSimpleArgv(argv: readonly string[], spec: Readonly<Record<string, SimpleFlag>>): ParsedArgv | undefined {
	// Names as typed → flag name. Only the exact kebab-case long form and the short flag.
	const byToken = new Map<string, string>();
	const flags: Record<string, unknown> = flagDefaults(spec);
	for (const [name, flag] of Object.entries(spec)) {
		byToken.set('--' + kebab(name), name);
		if (flag.shortFlag) {
			byToken.set('-' + flag.shortFlag, name);
		}
	}

	const input: string[] = [];
	const seen = new Set<string>();
	for (let index = 0; index < argv.length; index++) {
		const token = argv[index]!;
		if (token === '') {
			return undefined;
		}

		if (!token.startsWith('-')) {
			input.push(token);
			continue;
		}

		const name = byToken.get(token);
		const flag = name === undefined ? undefined : spec[name];
		if (name === undefined || flag === undefined || flag.type === 'number') {
			return undefined;
		}

		if (!flag.isMultiple) {
			if (seen.has(name)) {
				return undefined;
			}

			seen.add(name);
		}

		const next = argv[index + 1];
		if (flag.type === 'boolean') {
			if (next === 'true' || next === 'false') {
				return undefined;
			}

			if (flag.isMultiple) {
				(flags[name] as boolean[]).push(true);
			} else {
				flags[name] = true;
			}

			continue;
		}

		if (next === undefined || next === '' || next.startsWith('-')) {
			return undefined;
		}

		index++;
		if (flag.isMultiple) {
			(flags[name] as string[]).push(next);
		} else {
			flags[name] = next;
		}
	}

	return {input, flags};
}
