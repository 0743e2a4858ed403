/**
 * A derived metric naming other derived metrics in the live panes, over a real zabbix_agentd
 * (issue 16 part 1): the host runner samples through the derived source, which evaluates the
 * inner ones from the agent's system.cpu.num, and the pane shows the outer one's value.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {render} from 'ink-testing-library';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import type {Flags} from '../../../source/argv/main-flags.js';
import {HostRunner, promptQueue} from '../../../source/live/runner.js';
import {makePlan} from '../../../source/plan.js';
import {Pane} from '../../../source/render/tui/pane.js';
import {
	createStore, initialState, panesOf, type MonitorState, type Store,
} from '../../../source/render/tui/state.js';
import {parseHostSpec} from '../../../source/target.js';
import {
	runZabbixGet, startAgent, zabbixPeersInstalled, type Agent,
} from '../../helpers/zabbix.js';
import {waitForState} from '../../helpers/store.js';

const flags: Flags = {
	host: [],
	derived: [],
	warn: [],
	crit: [],
	fetch: false,
	desc: false,
	pmid: false,
	pmidLong: false,
	oneline: false,
	helpText: false,
	labels: false,
	verify: false,
	force: false,
	events: false,
	json: false,
	raw: false,
	names: false,
	once: false,
	acceptNew: false,
	secure: 'off',
	interval: '200msec',
};

async function waitFor(store: Store, what: string, predicate: (state: MonitorState) => boolean): Promise<MonitorState> {
	return waitForState(store, what, predicate, 20_000, state => `: ${JSON.stringify(state.hosts.map(h => ({phase: h.phase, samples: h.samples, lastError: h.lastError})))}`);
}

describe.runIf(zabbixPeersInstalled())('a nested derived metric in the panes, from a real Zabbix agent', () => {
	let agent: Agent;
	let home: string;
	beforeAll(async () => {
		agent = await startAgent('plain');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-derived-nested-pane-'));
		writeFileSync(path.join(home, 'nested.conf'), 'z.a = system.cpu.num * 2\nz.e = z.b * z.c\nz.b = z.a + 1\nz.c = system.cpu.num * 3\n');
	}, 60_000);
	afterAll(async () => {
		await agent?.stop();
		rmSync(home, {recursive: true, force: true});
	});

	test('z.e = z.b * z.c with z.b = z.a + 1: the pane shows (2n+1)*3n for n CPUs', async () => {
		const cpus = Number((await runZabbixGet(['-s', '127.0.0.1', '-p', String(agent.port), '-k', 'system.cpu.num'])).stdout.trim());
		expect(cpus).toBeGreaterThan(0);
		const spec = `zabbix://127.0.0.1:${agent.port}`;
		const target = parseHostSpec(spec);
		const plan = makePlan(['z.e', 'system.cpu.num'], {
			...flags, host: [spec], derived: [path.join(home, 'nested.conf')],
		}, {env: {PCP_DERIVED_CONFIG: ''}, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'off'}], metrics: plan.metrics, intervalMs: plan.intervalMs, raw: false, samples: 0, now: Date.now(),
		}));
		const warnings: string[] = [];
		const runner = new HostRunner(target, plan, {warn: text => warnings.push(text), env: {SECMON_HOME: home}}, store, promptQueue(store));
		const running = runner.run();
		try {
			const state = await waitFor(store, 'two samples', s => s.hosts[0]!.samples >= 2);
			const pane = panesOf(state).find(p => p.metric === 'z.e');
			expect(pane, JSON.stringify(panesOf(state).map(p => p.metric))).toBeDefined();
			expect(pane!.rows).toHaveLength(1);
			expect(pane!.rows[0]!.value).toBe(((cpus * 2) + 1) * cpus * 3);
			const {lastFrame} = render(<Pane pane={pane!} width={60} height={6} focused={false} showHost={false}/>);
			const frame = lastFrame() ?? '';
			expect(frame).toContain('z.e');
			expect(frame).toContain(String(((cpus * 2) + 1) * cpus * 3));
			expect(warnings).toEqual([]);
		} finally {
			runner.stop();
			await running;
		}
	}, 60_000);
});
