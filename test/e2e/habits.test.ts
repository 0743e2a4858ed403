/**
 * pminfo's and pmval's command-line habits through the built binary (issue 16 part 3): -V, -?,
 * misuse named in secmon's words with exit 2, PMCD_PORT against a real pmcd.
 */
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import packageJson from '../../package.json' with {type: 'json'};
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

describe('command-line habits', () => {
	it('-V prints the version and -? the help, exit 0', async () => {
		const version = await runSecmon(['-V']);
		expect(version).toMatchObject({code: 0, stdout: `${packageJson.version}\n`});
		const help = await runSecmon(['-?']);
		expect(help.code).toBe(0);
		expect(help.stdout).toContain('Usage');
	});

	it('every misuse starts with "secmon:", names the flag, points to --help, exit 2', async () => {
		for (const [args, first, second] of [
			[['--hots', 'a', 'x'], 'secmon: unknown option --hots for secmon', 'Did you mean --host? (see: secmon --help)'],
			[['-y', 'kernel'], 'secmon: unknown option -y for secmon', 'see: secmon --help'],
			[['-h'], 'secmon: --host needs a value', 'see: secmon --help'],
			[['kernel.all.load', '-s'], 'secmon: -s/--samples needs a whole number of samples', 'For example -s 5; see: secmon --help'],
			[['-s', 'many', 'kernel.all.load'], 'secmon: -s/--samples needs a whole number of samples', 'For example -s 5 (0 = until you quit); see: secmon --help'],
		] as Array<[string[], string, string]>) {
			const result = await runSecmon(args);
			expect(result.code, args.join(' ')).toBe(2);
			expect(result.stdout).toBe('');
			expect(result.stderr).toBe(`${first}\n${second}\n`);
		}
	});
});

describe('PMCD_PORT', () => {
	let pmcd: PmcdPeer;
	let home: ReturnType<typeof tempHome>;
	beforeAll(async () => {
		pmcd = await startPmcd('plain');
		home = tempHome();
	}, 60_000);
	afterAll(async () => {
		await pmcd?.stop();
		home?.remove();
	});

	it('reaches a pmcd on $PMCD_PORT for a host given without a port, as pminfo does', async () => {
		const result = await runSecmon(['-h', '127.0.0.1', '-f', 'hinv.ncpu'], {
			env: {SECMON_HOME: home.dir, PMCD_PORT: String(pmcd.port)},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toMatch(/^\nhinv\.ncpu\n {4}value \d+\n$/);
	});
});
