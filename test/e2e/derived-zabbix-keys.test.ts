/**
 * Zabbix keys with parameters in derived expressions, written as secmon's quoted names
 * (`vfs.fs.size[/,total]`; docs/pcp.md#quoted-names), on a real zabbix_agentd: the values are the
 * agent's, as zabbix_get reads them, through the expression.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {runSecmon, tempHome} from '../helpers/secmon.js';
import {
	runZabbixGet, startAgent, zabbixPeersInstalled, type Agent,
} from '../helpers/zabbix.js';

const home = tempHome();
const dir = mkdtempSync(path.join(os.tmpdir(), 'derived-zabbix-keys-'));
const conf = path.join(dir, 'keys.conf');

afterAll(() => {
	home.remove();
	rmSync(dir, {recursive: true, force: true});
});

describe.runIf(zabbixPeersInstalled())('quoted Zabbix keys in derived metrics', () => {
	let agent: Agent;
	beforeAll(async () => {
		agent = await startAgent('plain');
		writeFileSync(conf, [
			'z.rootkib = `vfs.fs.size[/,total]` / 1024',
			'z.twice = `system.cpu.num[online]` * 2',
			'z.sum = `system.cpu.num[online]` + `system.cpu.num[max]`',
			'',
		].join('\n'));
	});
	afterAll(async () => agent?.stop());

	it('each key is asked of the agent with its parameters, and the expression computed', async () => {
		const get = async (key: string) => Number((await runZabbixGet(['-s', '127.0.0.1', '-p', String(agent.port), '-k', key])).stdout.trim());
		const [total, cpus, max] = [await get('vfs.fs.size[/,total]'), await get('system.cpu.num[online]'), await get('system.cpu.num[max]')];
		expect(total).toBeGreaterThan(0);
		expect(cpus).toBeGreaterThan(0);
		const ours = await runSecmon(['--host', `zabbix://127.0.0.1:${agent.port}`, '--secure', 'off', '--json', 'z.rootkib', 'z.twice', 'z.sum'], {env: {SECMON_HOME: home.dir, PCP_DERIVED_CONFIG: conf}});
		expect(ours.code, ours.stderr).toBe(0);
		const values = Object.fromEntries(ours.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as {metric: string; value: number}).map(line => [line.metric, line.value]));
		expect(values).toEqual({'z.rootkib': total / 1024, 'z.twice': cpus * 2, 'z.sum': cpus + max});
	});
});
