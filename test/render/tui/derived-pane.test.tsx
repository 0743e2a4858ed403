/**
 * A derived metric in the live panes (issue 16 part 1 leftovers): the host runner samples a real
 * pmcd through the derived source with Debian's global configuration (/etc/pcp/derived, as
 * pminfo loads it), and the pane for kernel.cpu.util.user shows its name, a value and a
 * sparkline once rate() has two samples.
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
import {
	createStore, initialState, panesOf, type MonitorState, type Store,
} from '../../../source/render/tui/state.js';
import {parseHostSpec} from '../../../source/target.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {waitForState} from '../../helpers/store.js';

const flags: Flags = {...defaultFlags(), secure: 'off', interval: '200msec'};

async function waitFor(store: Store, what: string, predicate: (state: MonitorState) => boolean): Promise<MonitorState> {
	return waitForState(store, what, predicate, 20_000, state => `: ${JSON.stringify(state.hosts.map(h => ({phase: h.phase, samples: h.samples, lastError: h.lastError})))}`);
}

describe('a derived metric in the panes, from a real pmcd', () => {
	let peer: PmcdPeer;
	let home: string;
	beforeAll(async () => {
		peer = await startPmcd('plain');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-derived-pane-'));
	}, 60_000);
	afterAll(async () => {
		await peer?.stop();
		rmSync(home, {recursive: true, force: true});
	});

	test('kernel.cpu.util.user (Debian\'s cpu-util.conf): a pane with a percentage and a sparkline', async () => {
		const target = parseHostSpec(peer.address);
		// No PCP_DERIVED_CONFIG: the global configuration, /var/lib/pcp/config/derived (Debian's /etc/pcp/derived).
		const plan = makePlan(['kernel.cpu.util.user'], {...flags, host: [peer.address]}, {env: {}, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'off'}], metrics: plan.metrics, intervalMs: plan.intervalMs, raw: false, samples: 0, now: Date.now(),
		}));
		const runner = new HostRunner(target, plan, {warn: () => undefined, env: {SECMON_HOME: home}}, store, promptQueue(store));
		const running = runner.run();
		try {
			const state = await waitFor(store, 'three samples', s => s.hosts[0]!.samples >= 3);
			const pane = panesOf(state).find(p => p.metric === 'kernel.cpu.util.user');
			expect(pane, JSON.stringify(panesOf(state).map(p => p.metric))).toBeDefined();
			expect(pane!.rows).toHaveLength(1);
			const {value} = pane!.rows[0]!;
			expect(typeof value).toBe('number');
			expect(value).toBeGreaterThanOrEqual(0);
			// A percentage, not ms/s: the kernel counts CPU time in 10 ms ticks, so over a 200 ms interval
			// each CPU's share can read one tick (5 %) high on a busy machine; ms/s would be hundreds.
			expect(value).toBeLessThanOrEqual(110);
			const {lastFrame} = render(<Pane pane={pane!} width={60} height={6} focused={false} showHost={false}/>);
			const frame = lastFrame() ?? '';
			expect(frame).toContain('kernel.cpu.util.user');
			expect(frame).toMatch(/ \d+(?:\.\d+)? /v);
			expect(frame).toMatch(/[▁▂▃▄▅▆▇█]/v);
		} finally {
			runner.stop();
			await running;
		}
	}, 60_000);
});
