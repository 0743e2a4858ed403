import {
	describe, expect, expectTypeOf, it,
} from 'vitest';
import {parseMainArgv} from '../../source/argv/main.js';
import {defaultFlags, type Flags} from '../../source/argv/main-flags.js';

describe('parseMainArgv', () => {
	it('types the flags from the flag table (checked by tsc)', () => {
		expectTypeOf<Flags['host']>().toEqualTypeOf<string[]>();
		expectTypeOf<Flags['json']>().toEqualTypeOf<boolean>();
		expectTypeOf<Flags['names']>().toEqualTypeOf<boolean>();
		expectTypeOf<Flags['samples']>().toEqualTypeOf<number | undefined>();
		expectTypeOf<Flags['caFile']>().toEqualTypeOf<string | undefined>();
		expectTypeOf<Flags>().not.toHaveProperty('help');
	});

	it('gives the same flags from the plain form and from meow', async () => {
		const plain = await parseMainArgv(['--json', '-h', 'a', '--ca-file', 'ca.pem', '-t', '2', 'kernel.all.load']);
		const viaMeow = await parseMainArgv(['--json', '--host=a', '--ca-file=ca.pem', '-t', '2', 'kernel.all.load']);
		expect(plain).toEqual(viaMeow);
		expect(plain).toEqual({
			input: ['kernel.all.load'],
			flags: {
				host: ['a'], json: true, caFile: 'ca.pem', interval: '2',
				fetch: false, desc: false, pmid: false, pmidLong: false, oneline: false, helpText: false, labels: false, verify: false, force: false, events: false, raw: false, names: false, once: false, acceptNew: false, derived: [], warn: [], crit: [],
			},
		});
	});

	it('defaultFlags() is what both parsers give a command line that names no flag', async () => {
		const plain = await parseMainArgv(['kernel.all.load']);
		const viaMeow = await parseMainArgv(['--', 'kernel.all.load']);
		expect(plain.flags).toEqual(defaultFlags());
		expect(viaMeow.flags).toEqual(defaultFlags());
		expect(defaultFlags()).toMatchObject({host: [], fetch: false, json: false});
		expect(defaultFlags()).not.toHaveProperty('secure');
		// A fresh object each time: a caller's edits do not leak into the next.
		defaultFlags().host.push('a');
		expect(defaultFlags().host).toEqual([]);
	});

	it('takes pminfo\'s -c/--derived files, in order, from both parsers', async () => {
		expect((await parseMainArgv(['-c', 'a.conf', '--derived', 'b.conf', '-f', 'x'])).flags.derived).toEqual(['a.conf', 'b.conf']);
		expect((await parseMainArgv(['-c', 'a.conf', '--derived=b.conf', '-f', 'x'])).flags.derived).toEqual(['a.conf', 'b.conf']);
	});

	it('takes pminfo flag groups and the number of samples', async () => {
		expect((await parseMainArgv(['-dfmtT', 'x'])).flags).toMatchObject({
			desc: true, fetch: true, pmid: true, oneline: true, helpText: true,
		});
		expect((await parseMainArgv(['-s', '3', 'x'])).flags.samples).toBe(3);
	});

	it('refuses -s without a number of samples (exit 2); a value that is not one is plan.ts\'s to refuse', async () => {
		await expect(parseMainArgv(['x', '-s'])).rejects.toMatchObject({code: 'USAGE', message: '-s/--samples needs a whole number of samples'});
		expect((await parseMainArgv(['-s', 'many', 'x'])).flags.samples).toBeNaN();
	});

	it('says what is wrong with a flag in secmon\'s words: the flag, the nearest known one, --help (exit 2)', async () => {
		await expect(parseMainArgv(['--hots', 'h', 'x'])).rejects.toMatchObject({
			code: 'USAGE', exitCode: 2, message: 'unknown option --hots for secmon', hint: 'Did you mean --host? (see: secmon --help)',
		});
		await expect(parseMainArgv(['--bogus', 'x'])).rejects.toMatchObject({code: 'USAGE', message: 'unknown option --bogus for secmon', hint: 'see: secmon --help'});
		await expect(parseMainArgv(['-y', 'x'])).rejects.toMatchObject({code: 'USAGE', message: 'unknown option -y for secmon'});
		await expect(parseMainArgv(['--ca-fil', 'a.pem', 'x'])).rejects.toMatchObject({hint: 'Did you mean --ca-file? (see: secmon --help)'});
	});

	it('refuses -h/--host without a host instead of reading the embedded collector', async () => {
		for (const argv of [['-h'], ['x', '-h'], ['-h', 'a', '-h'], ['--host']]) {
			await expect(parseMainArgv(argv)).rejects.toMatchObject({code: 'USAGE', message: '--host needs a value', hint: 'see: secmon --help'});
		}
	});
});

