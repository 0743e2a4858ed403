/**
 * Derived metrics in `secmon pmval` (issue 16 part 1 leftovers), next to Debian's pmval 6.0.3 on
 * the same real pmcd: the global configuration (kernel.cpu.util.user from /etc/pcp/derived) and
 * --derived FILE (-c FILE, secmon's short spelling), stdout byte for byte with moving values
 * masked, stderr the same with "pmval:" as "secmon pmval:".
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPmval} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let peer: PmcdPeer;
const home = tempHome();
const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-pmval-derived-'));
const config = path.join(dir, 'my.conf');

beforeAll(async () => {
	peer = await startPmcd('plain');
	writeFileSync(config, 'my.cpus = hinv.ncpu * 2\nmy.more = my.cpus + 1\nmy.load = kernel.all.load * 100\n');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
	rmSync(dir, {recursive: true, force: true});
});

/** Value lines masked whole: printreal's format follows the magnitude (99.87 vs 100.0). */
const masked = (text: string) => text.split('\n').map(line => (/^(?:metric|host|semantics|units|samples|interval):/v.test(line) || !/\d/v.test(line) ? line : 'VALUE')).join('\n');

async function both(args: string[], env: Record<string, string>) {
	const ours = await runSecmon(['pmval', '-h', peer.address, ...args], {env: {SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0', ...env}});
	const theirs = await runPmval(['-h', peer.address, ...args.map(a => (a === '-c' ? '--derived' : a))], {PCP_SECURE_SOCKETS: '0', ...env});
	return {
		ours: {stdout: masked(ours.stdout), stderr: ours.stderr.replaceAll('secmon pmval:', 'pmval:'), code: ours.code},
		theirs: {stdout: masked(theirs.stdout), stderr: theirs.stderr, code: theirs.code},
	};
}

describe('secmon pmval with derived metrics vs pmval', () => {
	it('the global configuration: kernel.cpu.util.user as pmval samples it', async () => {
		// Both tools read Debian's global configuration when PCP_DERIVED_CONFIG is not set.
		const {ours, theirs} = await both(['-s', '3', '-t', '0.2', 'kernel.cpu.util.user'], {PCP_DERIVED_CONFIG: '/var/lib/pcp/config/derived'});
		expect(ours).toEqual(theirs);
		expect(theirs.stdout).toContain('metric:    kernel.cpu.util.user\n');
		expect(theirs.code).toBe(0);
	});

	it('--derived FILE and -c FILE: values, an operand that is derived, an unknown name', async () => {
		for (const args of [
			['--derived', config, '-s', '2', '-t', '0.2', 'my.cpus'],
			['-c', config, '-s', '2', '-t', '0.2', 'my.load'],
			['-c', config, '-s', '1', 'my.more'],
			['-c', config, '-s', '1', 'my.unknown'],
		]) {
			const {ours, theirs} = await both(args, {PCP_DERIVED_CONFIG: ''});
			expect(ours, args.join(' ')).toEqual(theirs);
		}
	});
});
