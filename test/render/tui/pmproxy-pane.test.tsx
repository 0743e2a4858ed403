/**
 * pmproxy in the live panes (issue 19 part 2): the host runner samples a real pmproxy over
 * HTTPS (CA-verified) in front of a real pmcd, and the panes for kernel.all.load and
 * sample.bin show pmproxy's values: the load's three instances, sample.bin's nine bins with the
 * values pmcd's sample agent gives (100 … 900), and the connection as TLS on the status line.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {render} from 'ink-testing-library';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {defaultFlags, type Flags} from '../../../source/argv/main-flags.js';
import {HostRunner, promptQueue} from '../../../source/live/runner.js';
import {makePlan} from '../../../source/plan.js';
import {Pane} from '../../../source/render/tui/pane.js';
import {StatusLine} from '../../../source/render/tui/status-line.js';
import {
	createStore, initialState, panesOf, type MonitorState, type Store,
} from '../../../source/render/tui/state.js';
import {parseHostSpec} from '../../../source/target.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {startPmproxy, type PmproxyPeer} from '../../helpers/pmproxy.js';
import {waitForState} from '../../helpers/store.js';

const flags: Flags = {...defaultFlags(), secure: 'enforce', interval: '200msec'};

async function waitFor(store: Store, what: string, predicate: (state: MonitorState) => boolean): Promise<MonitorState> {
	return waitForState(store, what, predicate, 30_000, state => `: ${JSON.stringify(state.hosts.map(h => ({phase: h.phase, samples: h.samples, lastError: h.lastError})))}`);
}

describe('pmproxy in the panes, over TLS from a real pmproxy and pmcd', () => {
	let pmcd: PmcdPeer;
	let proxy: PmproxyPeer;
	let home: string;
	beforeAll(async () => {
		pmcd = await startPmcd('plain');
		proxy = await startPmproxy('tls', pmcd.port);
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-pmproxy-pane-'));
	}, 90_000);
	afterAll(async () => {
		await proxy?.stop();
		await pmcd?.stop();
		rmSync(home, {recursive: true, force: true});
	});

	test('kernel.all.load, sample.bin and kernel.all.cpu.user: every pane and instance with pmproxy\'s values, TLS on the status line', async () => {
		const spec = `pmproxys://localhost:${proxy.port}`;
		const target = parseHostSpec(spec);
		const plan = makePlan(['kernel.all.load', 'sample.bin', 'kernel.all.cpu.user'], {...flags, host: [spec], caFile: proxy.caFile}, {env: {}, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'enforce'}], metrics: plan.metrics, intervalMs: plan.intervalMs, raw: false, samples: 0, now: Date.now(),
		}));
		const runner = new HostRunner(target, plan, {warn: () => undefined, env: {SECMON_HOME: home}}, store, promptQueue(store));
		const running = runner.run();
		try {
			const state = await waitFor(store, 'two samples', s => s.hosts[0]!.samples >= 2);
			const host = state.hosts[0]!;
			expect(host.tls?.version).toMatch(/^TLSv1\.[23]$/v);
			const load = panesOf(state).find(p => p.metric === 'kernel.all.load');
			expect(load?.rows.map(row => row.name)).toEqual(['1 minute', '5 minute', '15 minute']);
			// kernel.all.cpu.user asks for hinv.ncpu too (a second describe): every pane stays.
			const cpu = panesOf(state).find(p => p.metric === 'kernel.all.cpu.user');
			expect(cpu?.status).toBe('ok');
			expect(panesOf(state).map(p => p.metric).toSorted()).toEqual(['kernel.all.cpu.user', 'kernel.all.load', 'sample.bin']);
			const bins = panesOf(state).find(p => p.metric === 'sample.bin');
			expect(bins?.rows.map(row => row.value)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
			const pane = render(<Pane pane={bins!} width={70} height={12} focused={false} showHost={false}/>).lastFrame() ?? '';
			expect(pane).toContain('sample.bin');
			expect(pane).toMatch(/bin-900 +900/v);
			const status = render(<StatusLine host={host} now={Date.now()} asking={false} width={120}/>).lastFrame() ?? '';
			expect(status).toMatch(/TLSv1\.[23]/v);
			expect(status).not.toContain('PLAIN TEXT');
		} finally {
			runner.stop();
			await running;
		}
	}, 90_000);
});
