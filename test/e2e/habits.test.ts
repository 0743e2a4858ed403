/**
 * pminfo's and pmval's command-line habits through the built binary (issue 16 part 3): -V, -?,
 * misuse named in secmon's words with exit 2, PMCD_PORT (every port in turn) and PCP_HOST against
 * a real pmcd.
 */
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import packageJson from '../../package.json' with {type: 'json'};
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo} from '../helpers/pminfo.js';
import {freePort} from '../helpers/ports.js';
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

	it('tries $PMCD_PORT\'s ports in turn while nothing listens, as pminfo does', async () => {
		const closed = await freePort();
		const env = {SECMON_HOME: home.dir, PMCD_PORT: `${closed},${pmcd.port}`, PCP_SECURE_SOCKETS: '0'};
		const ours = await runSecmon(['-h', '127.0.0.1', '-f', 'hinv.ncpu'], {env});
		const theirs = await runPminfo(['-h', '127.0.0.1', '-f', 'hinv.ncpu'], {PMCD_PORT: env.PMCD_PORT, PCP_SECURE_SOCKETS: '0'});
		expect(ours).toMatchObject({code: 0, stderr: '', stdout: theirs.stdout});
		expect(theirs.code).toBe(0);
		// PCP_HOST stands for -h when none is given.
		const byEnv = await runSecmon(['-f', 'hinv.ncpu'], {env: {...env, PCP_HOST: '127.0.0.1'}});
		expect(byEnv).toMatchObject({code: 0, stdout: theirs.stdout});
	});

	it('never moves on to the next port once a pmcd answered: a refused TLS session stays refused', async () => {
		const tls = await startPmcd('offer');
		try {
			const result = await runSecmon(['-h', '127.0.0.1', '-f', 'hinv.ncpu'], {
				env: {SECMON_HOME: home.dir, PMCD_PORT: `${tls.port},${pmcd.port}`},
			});
			expect(result.code, result.stderr).toBe(3);
			expect(result.stdout).toBe('');
			expect(result.stderr).toContain(`127.0.0.1:${tls.port}`);
		} finally {
			await tls.stop();
		}
	});

	it('never passes over a port read over verified TLS before: a reset there does not steer secmon to a plain port', async () => {
		const tls = await startPmcd('offer');
		const fresh = tempHome();
		try {
			const first = await runSecmon(['-h', `127.0.0.1:${tls.port}`, '--accept-new', '-f', 'hinv.ncpu'], {env: {SECMON_HOME: fresh.dir}});
			expect(first.code, first.stderr).toBe(0);
			await tls.stop();
			// The remembered port is now closed (as an attacker resetting it would make it look).
			const result = await runSecmon(['-h', '127.0.0.1', '-f', 'hinv.ncpu'], {
				env: {SECMON_HOME: fresh.dir, PMCD_PORT: `${tls.port},${pmcd.port}`},
			});
			expect(result.code).not.toBe(0);
			expect(result.stdout).toBe('');
			expect(result.stderr).toContain(`127.0.0.1:${tls.port}`);
			expect(result.stderr).not.toContain('PLAIN TEXT');
		} finally {
			await tls.stop();
			fresh.remove();
		}
	});

	it('reaches a pmcd on $PMCD_PORT for a host given without a port, as pminfo does', async () => {
		const result = await runSecmon(['-h', '127.0.0.1', '-f', 'hinv.ncpu'], {
			env: {SECMON_HOME: home.dir, PMCD_PORT: String(pmcd.port)},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toMatch(/^\nhinv\.ncpu\n {4}value \d+\n$/);
	});

	it('-t 60.2 with nothing to sample is pminfo\'s one-line help of the InDom, as pminfo prints it', async () => {
		for (const args of [['-t', '60.2'], ['-t', '60.2', '-T'], ['-dt', '60.2']]) {
			const env = {PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: ''};
			const ours = await runSecmon(['-h', pmcd.address, ...args], {env: {SECMON_HOME: home.dir, ...env}});
			const theirs = await runPminfo(['-h', pmcd.address, ...args], env);
			expect(theirs.stdout).toContain('InDom: 60.2 0xf000002 [');
			expect({stdout: ours.stdout, stderr: ours.stderr, code: ours.code}).toEqual({stdout: theirs.stdout, stderr: theirs.stderr, code: theirs.code});
		}
	});
});
