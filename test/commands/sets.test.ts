/**
 * `secmon sets list|show|remove` and `secmon --set NAME` with the real binary: a set saved as the
 * panes save it (sets/store.ts saveSet), opened against a real pmcd; a missing set or a bad name
 * is a usage error (exit 2) that points to `secmon sets list`; the sets file is read under the
 * store's rules (a link or a file others can write is refused).
 */
import {spawnSync} from 'node:child_process';
import {
	chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {saveSet, setsFile} from '../../source/sets/store.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {cliPath, runSecmon, tempHome} from '../helpers/secmon.js';

describe('secmon sets and --set', () => {
	let peer: PmcdPeer;
	const home = tempHome();

	beforeAll(async () => {
		peer = await startPmcd('plain');
	});

	afterAll(async () => {
		await peer?.stop();
		home.remove();
	});

	test('no sets yet: list says how to make one; show of a missing set is exit 2 pointing to sets list', async () => {
		const env = {SECMON_HOME: path.join(home.dir, 'empty')};
		const list = await runSecmon(['sets', 'list'], {env});
		expect(list.code).toBe(0);
		expect(list.stdout).toContain('No saved sets (save one with s in the live panes');
		const json = await runSecmon(['sets', 'list', '--json'], {env});
		expect(JSON.parse(json.stdout)).toMatchObject({sets: []});
		const missing = await runSecmon(['sets', 'show', 'nope'], {env});
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain('no saved set named nope');
		expect(missing.stderr).toContain('secmon sets list');
		const opened = await runSecmon(['--set', 'nope', '--json'], {env});
		expect(opened.code).toBe(2);
		expect(opened.stderr).toContain('no saved set named nope');
		expect(JSON.parse(opened.stdout)).toMatchObject({type: 'error', code: 'USAGE', exitCode: 2});
		// Names Object.prototype has are sets like any other: missing here, never Object's.
		for (const name of ['constructor', 'toString']) {
			const proto = await runSecmon(['--set', name, '--json'], {env});
			expect(proto.code, proto.stderr).toBe(2);
			expect(proto.stderr).toContain(`no saved set named ${name}`);
			const removed = await runSecmon(['sets', 'remove', name], {env});
			expect(removed.stdout).not.toContain('Removed');
		}

		const command = await runSecmon(['sets', 'constructor'], {env});
		expect(command.code).toBe(2);
		expect(command.stderr).toContain('unknown sets command "constructor"');
		const bad = await runSecmon(['--set', '../x'], {env});
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('is not a set name');
		// Reading never creates the store.
		expect(() => statSync(env.SECMON_HOME)).toThrow();
	});

	test('a saved set: list, show, --json, opened with --set against a real pmcd, removed', async () => {
		const secmonHome = path.join(home.dir, 'sets');
		const env = {SECMON_HOME: secmonHome};
		saveSet(secmonHome, 'bins', {
			hosts: [peer.address], metrics: ['sample.bin', 'kernel.all.load'], intervalMs: 2000, thresholds: {'sample.bin': {warn: '~:500', crit: '~:800'}},
		});
		expect(statSync(setsFile(secmonHome)).mode & 0o777).toBe(0o600);
		expect(statSync(secmonHome).mode & 0o777).toBe(0o700);

		const list = await runSecmon(['sets', 'list'], {env});
		expect(list.code).toBe(0);
		expect(list.stdout).toBe(`bins  2 metric(s) every 2 s on ${peer.address}\n`);
		const show = await runSecmon(['sets', 'show', 'bins'], {env});
		expect(show.stdout).toContain('  sample.bin  (warn ~:500, crit ~:800)');
		expect(show.stdout).toContain('open it:   secmon --set bins');
		const json = JSON.parse((await runSecmon(['sets', 'show', 'bins', '--json'], {env})).stdout) as Record<string, unknown>;
		expect(json).toMatchObject({
			name: 'bins', hosts: [peer.address], metrics: ['sample.bin', 'kernel.all.load'], intervalMs: 2000,
		});

		// --set: the set's host and metrics (a plain pmcd: relaxed mode reads it, warning loudly).
		const opened = await runSecmon(['--set', 'bins', '--json'], {env});
		expect(opened.code).toBe(0);
		const samples = opened.stdout.trim().split('\n').map(line => JSON.parse(line) as {metric: string; host: string; instances?: Array<{value: number}>});
		expect(samples.map(sample => sample.metric)).toEqual(['sample.bin', 'kernel.all.load']);
		expect(samples[0]!.instances!.map(instance => instance.value)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
		// The command line wins: METRIC replaces the set's metrics.
		const only = await runSecmon(['--set', 'bins', '--json', 'kernel.all.load'], {env});
		expect(only.stdout.trim().split('\n').map(line => (JSON.parse(line) as {metric: string}).metric)).toEqual(['kernel.all.load']);

		const removed = await runSecmon(['sets', 'remove', 'bins'], {env});
		expect(removed.code).toBe(0);
		expect(removed.stdout).toBe('Removed set bins.\n');
		const again = await runSecmon(['sets', 'remove', 'bins'], {env});
		expect(again.code).toBe(2);
	}, 60_000);

	test('the sets file under the store\'s rules: a link or a group-writable file is refused with what to do', async () => {
		const linked = path.join(home.dir, 'linked');
		mkdirSync(linked, {mode: 0o700});
		writeFileSync(path.join(home.dir, 'elsewhere.json'), '{}');
		symlinkSync(path.join(home.dir, 'elsewhere.json'), path.join(linked, 'sets.json'));
		const link = await runSecmon(['sets', 'list'], {env: {SECMON_HOME: linked}});
		expect(link.code).toBe(1);
		expect(link.stderr).toContain('sets.json');

		const writable = path.join(home.dir, 'writable');
		mkdirSync(writable, {mode: 0o700});
		writeFileSync(path.join(writable, 'sets.json'), '{}', {mode: 0o600});
		chmodSync(path.join(writable, 'sets.json'), 0o664);
		const group = await runSecmon(['sets', 'list'], {env: {SECMON_HOME: writable}});
		expect(group.code).toBe(1);
		expect(group.stderr).toContain('chmod');

		const corrupt = path.join(home.dir, 'corrupt');
		mkdirSync(corrupt, {mode: 0o700});
		writeFileSync(path.join(corrupt, 'sets.json'), '{"x": {"hosts": "a"}}', {mode: 0o600});
		const broken = await runSecmon(['sets', 'show', 'x'], {env: {SECMON_HOME: corrupt}});
		expect(broken.code).toBe(1);
		expect(broken.stderr).toContain('set x: "hosts" must be a list');
		expect(broken.stderr).toContain('rm ');
	});

	test('a write that stops part-way (the file size limit, as a full disk would) leaves the sets file as it was, whole, and no temp file', async () => {
		const secmonHome = path.join(home.dir, 'limited');
		// ~250 KiB of sets: a write of it cannot fit under a 64 KiB file size limit.
		const metrics = Array.from({length: 200}, (_, index) => `sample.long.metric.name.number.${index}`);
		for (let index = 0; index < 30; index++) {
			saveSet(secmonHome, `set-${index}`, {hosts: [peer.address], metrics, intervalMs: 1000});
		}

		const before = readFileSync(setsFile(secmonHome));
		expect(before.length).toBeGreaterThan(200 * 1024);
		// ulimit -f 64: at most 64 KiB (32 KiB where a block is 512 bytes). Node ignores SIGXFSZ, so
		// write(2) stops short, then fails with EFBIG. SNAP=1 is where conf (which wrote this file
		// before) wrote in place.
		const run = spawnSync('/bin/sh', ['-c', 'ulimit -f 64 && exec "$@"', 'sh', process.execPath, cliPath, 'sets', 'remove', 'set-7'], {
			env: {
				PATH: process.env['PATH'] ?? '', SECMON_HOME: secmonHome, NO_COLOR: '1', SNAP: '1',
			}, encoding: 'utf8',
		});
		expect(run.status).toBe(1);
		expect(run.stderr).toContain(`could not write the saved sets file ${setsFile(secmonHome)}: EFBIG`);
		expect(run.stderr).toContain('Nothing changed');
		expect(readFileSync(setsFile(secmonHome)).equals(before)).toBe(true);
		expect(readdirSync(secmonHome)).toEqual(['sets.json']);
		// Without the limit the same removal goes through, and the file stays 0600.
		const removed = await runSecmon(['sets', 'remove', 'set-7'], {env: {SECMON_HOME: secmonHome}});
		expect(removed.stdout).toBe('Removed set set-7.\n');
		expect(Object.keys(JSON.parse(readFileSync(setsFile(secmonHome), 'utf8')) as Record<string, unknown>)).toHaveLength(29);
		expect(statSync(setsFile(secmonHome)).mode & 0o777).toBe(0o600);
		expect(readdirSync(secmonHome)).toEqual(['sets.json']);
	}, 60_000);

	test('--warn/--crit need METRIC=RANGE (usage error otherwise)', async () => {
		const result = await runSecmon(['--host', peer.address, '--warn', 'kernel.all.load', '--json', 'kernel.all.load'], {env: {SECMON_HOME: path.join(home.dir, 'w')}});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--warn kernel.all.load: not METRIC=RANGE');
		const ok = await runSecmon(['--host', peer.address, '--warn', 'kernel.all.load=~:4', '--crit', 'kernel.all.load=@10:20', '--json', 'kernel.all.load'], {env: {SECMON_HOME: path.join(home.dir, 'w')}});
		expect(ok.code).toBe(0);
	});
});
