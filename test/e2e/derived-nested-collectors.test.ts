/**
 * A derived metric that names another derived metric, over collectors other than pmcd (issue 16
 * part 1): the inner one is evaluated by secmon from the collector's values, once per fetch
 * (docs/pcp.md#nested-derived-metrics), on a real zabbix_agentd (values checked against the real
 * zabbix_get) and a real mon behind stunnel (perfdata), in --json, sampling and pminfo's text. A
 * cycle and nesting deeper than the bound do not bind and say why on stderr.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {maxNestedDepth} from '../../source/metrics/derived/source.js';
import {startMon, type MonPeer} from '../helpers/mon.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';
import {
	runZabbixGet, startAgent, zabbixPeersInstalled, type Agent,
} from '../helpers/zabbix.js';

const home = tempHome();
const dir = mkdtempSync(path.join(os.tmpdir(), 'derived-nested-collectors-'));
const conf = path.join(dir, 'nested.conf');
const env = {SECMON_HOME: home.dir, PCP_DERIVED_CONFIG: ''};

type Line = {metric: string; timestamp: string; value?: number; units?: string; error?: {code: number; message: string}};
const parse = (stdout: string) => stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Line);

/** A chain z.d0 = system.cpu.num, z.dN = z.d(N-1) + 1, N operands deep at its end. */
function chain(length: number): string[] {
	return Array.from({length: length + 1}, (_, index) => index === 0 ? 'z.d0 = system.cpu.num' : `z.d${index} = z.d${index - 1} + 1`);
}

beforeAll(() => {
	writeFileSync(conf, [
		'z.a = system.cpu.num * 2',
		'z.b = z.a + 1',
		// Defined before its operand, as pminfo allows.
		'z.c = z.d * 3',
		'z.d = system.cpu.num',
		'z.e = z.b * z.c',
		'z.lo = `net.if.in[lo]`',
		'z.lodelta = delta(z.lo)',
		'z.lorate = rate(z.lo)',
		'z.x = z.y + 1',
		'z.y = z.x + 1',
		'z.self = z.self + 1',
		'z.ok = z.d + 1',
		'z.def = defined(system.cpu.num) + defined(z.a) * 2 + defined(no.such) * 4',
		...chain(maxNestedDepth + 1),
		'm.half = `service:local!ok-perf.answer` / 2',
		'm.more = m.half + 1',
		'm.pair = m.more * m.half',
		'',
	].join('\n'));
});

afterAll(() => {
	home.remove();
	rmSync(dir, {recursive: true, force: true});
});

describe.runIf(zabbixPeersInstalled())('nested derived metrics over a real Zabbix agent', () => {
	let agent: Agent;
	let cpus: number;
	const host = () => ['--host', `zabbix://127.0.0.1:${agent.port}`, '--secure', 'off', '-c', conf];
	beforeAll(async () => {
		agent = await startAgent('plain');
		cpus = Number((await runZabbixGet(['-s', '127.0.0.1', '-p', String(agent.port), '-k', 'system.cpu.num'])).stdout.trim());
		expect(cpus).toBeGreaterThan(0);
	});
	afterAll(async () => agent?.stop());

	it('--json: each inner derived metric evaluated from the agent\'s value, defined before or after', async () => {
		const ours = await runSecmon([...host(), '--json', 'z.b', 'z.c', 'z.e', 'z.a'], {env});
		expect(ours.stderr).toBe('');
		expect(ours.code).toBe(0);
		expect(parse(ours.stdout).map(line => [line.metric, line.value])).toEqual([
			['z.b', (cpus * 2) + 1],
			['z.c', cpus * 3],
			['z.e', ((cpus * 2) + 1) * cpus * 3],
			['z.a', cpus * 2],
		]);
	});

	it('defined() of an agent key, a derived metric and an unknown key: 1, 1 and 0', async () => {
		const ours = await runSecmon([...host(), '--json', 'z.def'], {env});
		expect(ours.code, ours.stderr).toBe(0);
		expect(parse(ours.stdout).map(line => line.value)).toEqual([3]);
	});

	it('sampling: delta() and rate() of a derived metric, from the same samples as the raw key', async () => {
		const ours = await runSecmon([...host(), '--json', '-t', '300msec', '-s', '4', 'net.if.in[lo]', 'z.lodelta', 'z.lorate'], {env});
		expect(ours.code, ours.stderr).toBe(0);
		const lines = parse(ours.stdout);
		const raw = lines.filter(line => line.metric === 'net.if.in[lo]');
		const deltas = lines.filter(line => line.metric === 'z.lodelta');
		const rates = lines.filter(line => line.metric === 'z.lorate');
		expect([raw.length, deltas.length, rates.length]).toEqual([4, 4, 4]);
		// The first sample has no previous one, as with pmval.
		expect([deltas[0]!.value, rates[0]!.value]).toEqual([undefined, undefined]);
		for (let index = 1; index < 4; index++) {
			const change = raw[index]!.value! - raw[index - 1]!.value!;
			expect(change).toBeGreaterThan(0); // Our own connections to the agent cross lo.
			expect(deltas[index]!.value).toBe(change);
			const seconds = (Date.parse(raw[index]!.timestamp) - Date.parse(raw[index - 1]!.timestamp)) / 1000;
			// The printed timestamps are rounded to the millisecond; the rate used the exact ones.
			expect(Math.abs((rates[index]!.value! * seconds / change) - 1)).toBeLessThan(0.01);
			expect(rates[index]!.units).toBe('byte / sec');
		}
	});

	it('the text sampling mode and pminfo\'s text show the nested values', async () => {
		const sampled = await runSecmon([...host(), '-t', '300msec', '-s', '2', 'z.e'], {env});
		expect(sampled.code, sampled.stderr).toBe(0);
		expect(sampled.stdout.match(/^ {2}z\.e {2}(\d+)/gmv)).toEqual([`  z.e  ${((cpus * 2) + 1) * cpus * 3}`, `  z.e  ${((cpus * 2) + 1) * cpus * 3}`]);
		const text = await runSecmon([...host(), '-f', 'z.b', 'z.ok'], {env});
		expect(text).toMatchObject({code: 0, stderr: '', stdout: `\nz.b\n    value ${(cpus * 2) + 1}\n\nz.ok\n    value ${cpus + 1}\n`});
	});

	it('a cycle does not bind: the collector\'s unknown-key error, and why once on stderr', async () => {
		const ours = await runSecmon([...host(), '--json', 'z.x', 'z.self', 'z.ok'], {env});
		expect(ours.code).toBe(1);
		const lines = parse(ours.stdout);
		expect(lines.map(line => [line.metric, line.value ?? line.error?.message])).toEqual([
			['z.ok', cpus + 1],
			['z.x', 'ZBX_NOTSUPPORTED: Unsupported item key.'],
			['z.self', 'ZBX_NOTSUPPORTED: Unsupported item key.'],
		]);
		const said = ours.stderr.split('\n').filter(line => line.startsWith('Semantic error'));
		expect(said).toEqual([
			'Semantic error: derived metric z.y: operand z.x: Derived metrics in a cycle (z.x -> z.y -> z.x): none of them has a value; change one of their expressions',
			'Semantic error: derived metric z.self: operand z.self: Derived metrics in a cycle (z.self -> z.self): none of them has a value; change one of their expressions',
		]);
	});

	it(`nesting is bounded: ${maxNestedDepth} derived operands deep binds, one more does not`, async () => {
		const deepest = `z.d${maxNestedDepth}`;
		const tooDeep = `z.d${maxNestedDepth + 1}`;
		const ours = await runSecmon([...host(), '--json', deepest, tooDeep], {env});
		expect(ours.code).toBe(1);
		expect(parse(ours.stdout).map(line => [line.metric, line.value ?? line.error?.message])).toEqual([
			[deepest, cpus + maxNestedDepth],
			[tooDeep, 'ZBX_NOTSUPPORTED: Unsupported item key.'],
		]);
		const names = Array.from({length: maxNestedDepth + 2}, (_, index) => `z.d${maxNestedDepth + 1 - index}`);
		expect(ours.stderr).toContain(`Semantic error: derived metric ${tooDeep}: Derived metrics nested more than ${maxNestedDepth} deep (${names.join(' -> ')}); define one of them from the collector's metrics\n`);
		// The same when the deepest metric comes first (its operands are not bound yet).
		const alone = await runSecmon([...host(), '--json', tooDeep], {env});
		expect(alone.code).toBe(1);
		expect(alone.stderr).toContain(`Semantic error: derived metric ${tooDeep}: Derived metrics nested more than ${maxNestedDepth} deep (${names.join(' -> ')}); define one of them from the collector's metrics\n`);
	});
});

describe('nested derived metrics over perfdata from a real mon', () => {
	let mon: MonPeer;
	const host = () => ['--host', `mon://localhost:${mon.tlsPort}`, '--ca-file', mon.caFile, '--cert', mon.clientCert, '--key', mon.clientKey, '-c', conf];
	beforeAll(async () => {
		mon = await startMon();
	}, 60_000);
	afterAll(async () => mon?.stop());

	it('--json and sampling: answer=42 in ok-perf\'s perfdata, halved, plus one, multiplied', async () => {
		// Mon runs its monitors every 2 s: the first run may come before the first result.
		let ours = await runSecmon([...host(), '--json', 'm.pair', 'm.more'], {env});
		for (let attempt = 0; attempt < 40 && ours.code !== 0; attempt++) {
			await new Promise(resolve => {
				setTimeout(resolve, 250);
			});
			ours = await runSecmon([...host(), '--json', 'm.pair', 'm.more'], {env});
		}

		expect(ours.code, ours.stderr).toBe(0);
		expect(parse(ours.stdout).map(line => [line.metric, line.value])).toEqual([['m.pair', 22 * 21], ['m.more', 22]]);
		const sampled = await runSecmon([...host(), '--json', '-t', '300msec', '-s', '2', 'm.pair'], {env});
		expect(sampled.code, sampled.stderr).toBe(0);
		expect(parse(sampled.stdout).map(line => line.value)).toEqual([462, 462]);
	}, 60_000);
});
