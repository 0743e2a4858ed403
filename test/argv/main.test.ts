import {
	describe, expect, expectTypeOf, it,
} from 'vitest';
import {parseMainArgv} from '../../source/argv/main.js';
import type {Flags} from '../../source/argv/main-flags.js';

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
				fetch: false, desc: false, pmid: false, pmidLong: false, oneline: false, helpText: false, raw: false, names: false, acceptNew: false,
			},
		});
	});

	it('takes pminfo flag groups and the number of samples', async () => {
		expect((await parseMainArgv(['-dfmtT', 'x'])).flags).toMatchObject({
			desc: true, fetch: true, pmid: true, oneline: true, helpText: true,
		});
		expect((await parseMainArgv(['-s', '3', 'x'])).flags.samples).toBe(3);
	});

	it('refuses -s without a number of samples (exit 2); a value that is not one is plan.ts\'s to refuse', async () => {
		await expect(parseMainArgv(['x', '-s'])).rejects.toMatchObject({code: 'USAGE', message: 'invalid --samples value'});
		expect((await parseMainArgv(['-s', 'many', 'x'])).flags.samples).toBeNaN();
	});
});
