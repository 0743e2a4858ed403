/**
 * Derived metrics in sampling mode (issue 16 part 1): per-sample values in --json and in the text
 * mode equal Debian's pmval for the same derived metrics on the same real pmcd (first sample
 * without values for rate()/delta(), then pmval's numbers), and a derived expression over a
 * Zabbix key on a real zabbix_agentd (metrics/derived/source.ts wraps any collector).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {pmvalPath, runPcpTool} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';
import {
	runZabbixGet, startAgent, zabbixPeersInstalled, type Agent,
} from '../helpers/zabbix.js';

let peer: PmcdPeer;
const home = tempHome();
const dir = mkdtempSync(path.join(os.tmpdir(), 'derived-conf-'));
const conf = path.join(dir, 'sampling.conf');

beforeAll(async () => {
	peer = await startPmcd('plain');
	writeFileSync(conf, [
		// Sample_const_rate.gradient is 0: the counter stands still, its rate is 0 in every tool.
		'r.const = rate(sample.const_rate.value)',
		'r.hundred = sample.long.hundred * 1.5',
		'r.delta = delta(sample.long.hundred)',
		'r.bins = sample.bin / 100',
		'z.cpus = system.cpu.num * 2',
		'z.uptime = rate(system.uptime)',
		'',
	].join('\n'));
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
	rmSync(dir, {recursive: true, force: true});
});

type Line = {type: string; metric: string; value?: number; novalues?: true; instances?: Array<{instance: number; name?: string; value: number}>};

function parse(stdout: string): Line[] {
	return stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Line);
}

/** Pmval's value lines for a singular metric: undefined for "No values available". */
async function pmvalValues(metric: string, samples: number): Promise<Array<number | undefined>> {
	const result = await runPcpTool(pmvalPath, ['-h', peer.address, '-s', String(samples), '-t', '1', metric], {PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: conf});
	expect(result.code).toBe(0);
	const body = result.stdout.split('\n\n').at(-1)!.split('\n').filter(line => line.trim() !== '' && !line.includes(':'));
	return body.map(line => line.includes('No values') ? undefined : Number(line.trim()));
}

describe('derived metrics in sampling mode, secmon vs pmval', () => {
	it('--json -t 1 -s 3: no values first for rate() and delta(), then pmval\'s values', async () => {
		const [ours, constRate, hundred, delta] = await Promise.all([
			runSecmon(['-h', peer.address, '--json', '-t', '1', '-s', '3', 'r.const', 'r.hundred', 'r.delta', 'r.bins'], {env: {SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: conf}}),
			pmvalValues('r.const', 3),
			pmvalValues('r.hundred', 3),
			pmvalValues('r.delta', 3),
		]);
		expect(ours.stderr).toBe('');
		expect(ours.code).toBe(0);
		const lines = parse(ours.stdout);
		const series = (metric: string) => lines.filter(line => line.metric === metric).map(line => (line.novalues ? undefined : line.value));
		expect(constRate).toEqual([undefined, 0, 0]);
		expect(series('r.const')).toEqual(constRate);
		expect(hundred).toEqual([150, 150, 150]);
		expect(series('r.hundred')).toEqual(hundred);
		expect(series('r.delta')).toEqual(delta);
		const bins = lines.find(line => line.metric === 'r.bins')!;
		expect(bins.instances?.map(instance => [instance.name, instance.value])).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900].map(bin => [`bin-${bin}`, bin / 100]));
	});

	it('Debian\'s kernel.cpu.util.user: pmval\'s shape (no values, then percentages), in --json and text', async () => {
		const env = {SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0'};
		const [json, text] = await Promise.all([
			runSecmon(['-h', peer.address, '--json', '-t', '1', '-s', '2', 'kernel.cpu.util.user'], {env}),
			runSecmon(['-h', peer.address, '-t', '1', '-s', '2', 'kernel.cpu.util.user'], {env}),
		]);
		const lines = parse(json.stdout);
		expect(lines[0]).toMatchObject({
			metric: 'kernel.cpu.util.user', novalues: true, dataType: 'double', semantics: 'instant',
		});
		expect(lines[1]!.value).toBeGreaterThanOrEqual(0);
		expect(lines[1]!.value).toBeLessThanOrEqual(100.5);
		expect(text.stdout).toMatch(/kernel\.cpu\.util\.user: no values\n[^]*kernel\.cpu\.util\.user +\d/);
	});

	it('--json -t: a real metric beside a derived one is sampled too (describe adds, never replaces)', async () => {
		const ours = await runSecmon(['-h', peer.address, '--json', '-t', '1', '-s', '2', 'sample.long.hundred', 'r.hundred', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: conf}});
		expect(ours.code).toBe(0);
		const lines = parse(ours.stdout);
		const series = (metric: string) => lines.filter(line => line.metric === metric).map(line => line.value);
		expect(series('sample.long.hundred')).toEqual([100, 100]);
		expect(series('r.hundred')).toEqual([150, 150]);
		expect(series('hinv.ncpu')).toHaveLength(2);
	});

	it('--json -t: the derived configuration is read only when a name is not the collector\'s own (its diagnostics then)', async () => {
		const broken = path.join(dir, 'broken.conf');
		writeFileSync(broken, 'r.broken = sample.long.hundred +\nr.fine = sample.long.hundred * 2\n');
		const env = {SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: broken};
		const [own, derived] = await Promise.all([
			runSecmon(['-h', peer.address, '--json', '-s', '1', 'sample.long.hundred'], {env}),
			runSecmon(['-h', peer.address, '--json', '-s', '1', 'r.fine'], {env}),
		]);
		expect(own.code).toBe(0);
		expect(own.stderr).toBe('');
		expect(parse(own.stdout)).toMatchObject([{metric: 'sample.long.hundred', value: 100}]);
		expect(derived.code).toBe(0);
		expect(derived.stderr).toContain('r.broken');
		expect(parse(derived.stdout)).toMatchObject([{metric: 'r.fine', value: 200}]);
	});

	it('--json one shot (pminfo mode) carries a derived metric\'s value', async () => {
		const ours = await runSecmon(['-h', peer.address, '--json', 'r.hundred', 'r.const'], {env: {SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: conf}});
		expect(parse(ours.stdout)).toMatchObject([{metric: 'r.hundred', value: 150}, {metric: 'r.const', novalues: true}]);
	});
});

describe.skipIf(!zabbixPeersInstalled())('a derived expression over Zabbix keys (real zabbix_agentd)', () => {
	let agent: Agent;
	beforeAll(async () => {
		agent = await startAgent('plain');
	});

	afterAll(async () => {
		await agent?.stop();
	});

	it('samples system.cpu.num * 2 and rate(system.uptime) as zabbix_get\'s values say', async () => {
		const [ours, cpus] = await Promise.all([
			runSecmon(['--host', `zabbix://127.0.0.1:${agent.port}`, '--secure', 'off', '--json', '-t', '1', '-s', '3', 'z.cpus', 'z.uptime', 'system.cpu.num'], {env: {SECMON_HOME: home.dir, PCP_DERIVED_CONFIG: conf}}),
			runZabbixGet(['-s', '127.0.0.1', '-p', String(agent.port), '-k', 'system.cpu.num']),
		]);
		expect(ours.code).toBe(0);
		const lines = parse(ours.stdout);
		const series = (metric: string) => lines.filter(line => line.metric === metric).map(line => (line.novalues ? undefined : line.value));
		expect(series('z.cpus')).toEqual(Array.from({length: 3}, () => Number(cpus.stdout.trim()) * 2));
		expect(series('system.cpu.num')).toEqual(Array.from({length: 3}, () => Number(cpus.stdout.trim())));
		const uptime = series('z.uptime');
		expect(uptime[0]).toBeUndefined();
		// Uptime grows by one second per second; the agent counts whole seconds, the samples ~1 s apart.
		for (const value of uptime.slice(1)) {
			expect(value).toBeGreaterThanOrEqual(0);
			expect(value).toBeLessThanOrEqual(3);
		}
	});
});
