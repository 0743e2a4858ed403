/** The subcommands' parser (source/argv/args.ts): serve, enroll, pki, certs, verify, and zabbix-get's meow half. */
import {
	describe, expect, expectTypeOf, it,
} from 'vitest';
import {parseArgs, parseWithMeow} from '../../source/argv/args.js';

const spec = {
	host: {type: 'string', shortFlag: 'h'},
	san: {type: 'string', isMultiple: true},
	force: {type: 'boolean'},
	keyBits: {type: 'string'},
} as const;

function usageError(command: string, argv: string[]): unknown {
	try {
		parseArgs(command, argv, spec);
	} catch (error) {
		return error;
	}

	throw new Error(`${argv.join(' ')}: no error`);
}

describe('parseArgs', () => {
	it('gives the flags typed from the table, booleans false and lists empty when absent', () => {
		const {input, flags} = parseArgs('x', ['-h', 'a', '--san', 'DNS:a', '--san=DNS:b', '--key-bits', '2048', 'rest', '--', '--not-a-flag'], spec);
		expect(input).toEqual(['rest', '--not-a-flag']);
		expect(flags).toEqual({
			host: 'a', san: ['DNS:a', 'DNS:b'], force: false, keyBits: '2048',
		});
		expect(parseArgs('x', [], spec).flags).toEqual({san: [], force: false});
		expectTypeOf(flags.host).toEqualTypeOf<string | undefined>();
		expectTypeOf(flags.san).toEqualTypeOf<string[]>();
		expectTypeOf(flags.force).toEqualTypeOf<boolean>();
	});

	it.each([
		[['--bogus'], 'unknown option --bogus for secmon pki issue'],
		[['-x', '--other-thing'], 'unknown option -x, --other-thing for secmon pki issue'],
		[['--host'], '--host needs a value (secmon pki issue)'],
		[['--host='], '--host needs a value (secmon pki issue)'],
		[['--host', '--force'], '--host needs a value (secmon pki issue)'],
		[['--san'], '--san needs a value (secmon pki issue)'],
		[['--san', 'DNS:a', '--san', '--force'], '--san needs a value (secmon pki issue)'],
		[['--san='], '--san needs a value (secmon pki issue)'],
		[['-h', 'a', '--host', 'b'], 'The flag --host can only be set once. (secmon pki issue)'],
	])('%j is a usage error: %s', (argv, message) => {
		expect(usageError('pki issue', argv)).toMatchObject({
			code: 'USAGE', exitCode: 2, message, hint: 'see: secmon pki issue --help',
		});
	});
});

describe('parseWithMeow', () => {
	it('leaves unknown flags for the caller to name, and absent booleans out with booleanDefault: undefined', () => {
		const result = parseWithMeow(['--force', '--bogus', 'x'], spec, {booleanDefault: undefined});
		expect(result.flags).toMatchObject({force: true});
		expect(result.unnormalizedFlags).toHaveProperty('bogus');
		expect(parseWithMeow([], spec, {booleanDefault: undefined}).flags).not.toHaveProperty('force');
	});
});
