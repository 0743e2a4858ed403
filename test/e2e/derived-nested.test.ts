/**
 * A derived metric that names another derived metric (issue 16 part 1 leftovers), against
 * Debian's pminfo 6.0.3 on a real pmcd: libpcp binds it (the operand is bound first, defined
 * before or after), lists it and describes it, and asks pmcd for the operand's values by its
 * derived PMID, so the value is pmcd's PM_ERR_NOAGENT. secmon prints the same bytes. A cycle
 * makes pminfo crash (SIGSEGV, unbounded recursion in bind_expr); secmon does not bind it.
 * secmon's own sampling and --json evaluate the operand instead (derived-nested-collectors.test.ts).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {startPmproxy} from '../helpers/pmproxy.js';
import {runPminfo} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let peer: PmcdPeer;
const home = tempHome();
const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-derived-nested-'));
const plainText = {PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: ''};
const nested = path.join(dir, 'nested.conf');
const cycle = path.join(dir, 'cycle.conf');

beforeAll(async () => {
	peer = await startPmcd('plain');
	writeFileSync(nested, [
		'my.a = hinv.ncpu * 2',
		'my.b = my.a + 1',
		'my.c = my.d * 3',
		'my.d = hinv.ncpu',
		'my.e = my.b * my.c',
		'',
	].join('\n'));
	writeFileSync(cycle, 'my.d = hinv.ncpu\nmy.x = my.y + 1\nmy.y = my.x + 1\nmy.z = my.d + 1\n');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
	rmSync(dir, {recursive: true, force: true});
});

describe('derived metrics over derived metrics', () => {
	it.each([
		[['-fd', 'my']],
		[['my']],
		[['-mt', 'my.e', 'my.b']],
		[['-fdmT', 'my.c', 'my.a']],
	])('pminfo -c FILE %j: the same bytes', async args => {
		const ours = await runSecmon(['-h', peer.address, '-c', nested, ...args], {env: {SECMON_HOME: home.dir, ...plainText}});
		const theirs = await runPminfo(['-h', peer.address, '-c', nested, ...args], plainText);
		expect({stdout: ours.stdout, stderr: ours.stderr, code: ours.code}).toEqual({stdout: theirs.stdout, stderr: theirs.stderr, code: theirs.code});
	});

	it('the operand\'s values come from pmcd by its derived PMID: No PMCD agent, as in libpcp', async () => {
		const ours = await runSecmon(['-h', peer.address, '-c', nested, '-f', 'my.b', 'my.c'], {env: {SECMON_HOME: home.dir, ...plainText}});
		expect(ours.stdout).toBe('\nmy.b\nError: No PMCD agent for domain of request\n\nmy.c\nError: No PMCD agent for domain of request\n');
	});

	it('sampling and --json evaluate the operand from pmcd\'s values (secmon\'s own modes, docs/pcp.md#nested-derived-metrics)', async () => {
		const ncpu = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], plainText);
		const cpus = Number(/value (\d+)/v.exec(ncpu.stdout)![1]);
		const ours = await runSecmon(['-h', peer.address, '-c', nested, '--json', 'my.b', 'my.e'], {env: {SECMON_HOME: home.dir, ...plainText}});
		expect(ours.code, ours.stderr).toBe(0);
		expect(ours.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as {metric: string; value: number}).map(line => [line.metric, line.value]))
			.toEqual([['my.b', (cpus * 2) + 1], ['my.e', ((cpus * 2) + 1) * cpus * 3]]);
	});

	it('over pmproxy, pminfo\'s text is pmcd\'s (the derived operand is not sent: pmproxy refused the whole fetch)', async () => {
		const proxy = await startPmproxy('plain', peer.port);
		try {
			const args = ['-c', nested, '-f', 'my.e', 'my'];
			const direct = await runSecmon(['-h', peer.address, ...args], {env: {SECMON_HOME: home.dir, ...plainText}});
			const theirs = await runPminfo(['-h', peer.address, ...args], plainText);
			expect(direct.stdout).toBe(theirs.stdout);
			const proxied = await runSecmon(['--host', `pmproxy://127.0.0.1:${proxy.port}`, '--secure', 'off', ...args], {env: {SECMON_HOME: home.dir, ...plainText}});
			expect({stdout: proxied.stdout, code: proxied.code}).toEqual({stdout: theirs.stdout, code: theirs.code});
			expect(proxied.stdout).toContain('\nmy.e\nError: No PMCD agent for domain of request\n');
		} finally {
			await proxy.stop();
		}
	}, 60_000);

	it('defined() of a real metric, a derived one and an unknown name: pminfo\'s values (1, 1, 0)', async () => {
		const defined = path.join(dir, 'defined.conf');
		writeFileSync(defined, 'my.a = hinv.ncpu * 2\nmy.def = defined(my.a)\nmy.nodef = defined(no.such)\nmy.real = defined(hinv.ncpu)\nmy.sum = defined(hinv.ncpu) + defined(my.a) * 2 + defined(no.such) * 4\n');
		const args = ['-h', peer.address, '-c', defined, '-f', 'my.def', 'my.nodef', 'my.real', 'my.sum'];
		const ours = await runSecmon(args, {env: {SECMON_HOME: home.dir, ...plainText}});
		const theirs = await runPminfo(args, plainText);
		expect(theirs.stdout).toBe('\nmy.def\n    value 1\n\nmy.nodef\n    value 0\n\nmy.real\n    value 1\n\nmy.sum\n    value 3\n');
		expect({stdout: ours.stdout, stderr: ours.stderr, code: ours.code}).toEqual({stdout: theirs.stdout, stderr: theirs.stderr, code: theirs.code});
		const sampled = await runSecmon(['-h', peer.address, '-c', defined, '--json', 'my.sum'], {env: {SECMON_HOME: home.dir, ...plainText}});
		expect(JSON.parse(sampled.stdout)).toMatchObject({metric: 'my.sum', value: 3});
	});

	it('a cycle does not bind (pminfo crashes on it); the others do', async () => {
		const theirs = await runPminfo(['-h', peer.address, '-c', cycle, 'my'], plainText);
		expect(theirs.signal ?? theirs.code).not.toBe(0);
		const ours = await runSecmon(['-h', peer.address, '-c', cycle, 'my'], {env: {SECMON_HOME: home.dir, ...plainText}});
		expect(ours).toMatchObject({code: 0, stdout: 'my.d\nmy.z\n'});
		const named = await runSecmon(['-h', peer.address, '-c', cycle, '-f', 'my.x'], {env: {SECMON_HOME: home.dir, ...plainText}});
		expect(named).toMatchObject({code: 1, stderr: 'Error: my.x: Unknown metric name\n'});
	});
});
