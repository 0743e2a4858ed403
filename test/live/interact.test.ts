/**
 * The panes' requests against a real pmcd, through the real runner and source: the browser's
 * names (the same as Debian's pminfo lists), help texts (as pminfo -tT), metrics added and
 * removed while sampling goes on (a derived metric beside a real one), and `s` writing a set.
 */
import {
	mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {defaultFlags, type Flags} from '../../source/argv/main-flags.js';
import {panesThresholds, serveRequests, setSaver} from '../../source/live/interact.js';
import {HostRunner, promptQueue} from '../../source/live/runner.js';
import {makePlan} from '../../source/plan.js';
import {
	createStore, initialState, panesOf, paneKey, type MonitorState, type Store,
} from '../../source/render/tui/state.js';
import {loadSet, setsFile} from '../../source/sets/store.js';
import {parseHostSpec} from '../../source/target.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo} from '../helpers/pminfo.js';
import {waitForState} from '../helpers/store.js';

const flags: Flags = {...defaultFlags(), secure: 'off', interval: '200msec'};

async function waitFor(store: Store, what: string, predicate: (state: MonitorState) => boolean, timeoutMs = 20_000): Promise<MonitorState> {
	return waitForState(store, what, predicate, timeoutMs, state => `; panes: ${JSON.stringify(panesOf(state).map(pane => [pane.metric, pane.status]))}`);
}

describe('the panes\' requests against a real pmcd', () => {
	let peer: PmcdPeer;
	let home: string;
	let derivedFile: string;

	beforeAll(async () => {
		peer = await startPmcd('plain');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-interact-'));
		derivedFile = path.join(home, 'derived.conf');
		writeFileSync(derivedFile, 'browse.bins = sample.bin * 2\nbrowse.bins(oneline) = twice sample.bin\n');
	});

	afterAll(async () => {
		await peer?.stop();
		rmSync(home, {recursive: true, force: true});
	});

	test('names, help, add and remove while sampling, and s saving the set', async () => {
		const env = {SECMON_HOME: path.join(home, 'secmon'), PCP_DERIVED_CONFIG: ''};
		const target = parseHostSpec(peer.address);
		const plan = makePlan(['kernel.all.load'], {
			...flags, host: [peer.address], derived: [derivedFile], warn: ['sample.bin=~:500'], crit: ['sample.bin=~:800'],
		}, {env, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'off'}],
			metrics: plan.metrics,
			intervalMs: plan.intervalMs,
			raw: false,
			samples: 0,
			now: Date.now(),
			thresholds: panesThresholds(plan.thresholds),
		}));
		const runner = new HostRunner(target, plan, {warn: () => undefined, env}, store, promptQueue(store));
		const running = runner.run();
		const stop = serveRequests(store, host => (host === runner.id ? runner.metricSource : undefined), setSaver(plan, env, store));
		try {
			await waitFor(store, 'a sample', s => s.hosts[0]!.samples >= 1);

			// `/`: every name of the PMNS and the derived one, as Debian's pminfo lists them.
			store.dispatch({type: 'browse-open', host: runner.id, id: 1});
			let state = await waitFor(store, 'the names', s => s.browser?.status === 'ready');
			const pminfo = await runPminfo(['-h', peer.address, '-c', derivedFile]);
			expect(pminfo.code).toBe(0);
			const expected = pminfo.stdout.trim().split('\n');
			expect(expected.length).toBeGreaterThan(100);
			expect(state.browser!.entries.map(entry => entry.name).toSorted()).toEqual(expected.toSorted());
			expect(state.browser!.entries.find(entry => entry.name === 'kernel.all.load')!.path).toEqual(['kernel', 'all', 'load']);
			expect(state.browser!.truncated).toBe(false);

			// Help text as pminfo -tT gives it.
			store.dispatch({type: 'help-request', host: runner.id, metric: 'kernel.all.load'});
			store.dispatch({type: 'help-request', host: runner.id, metric: 'browse.bins'});
			state = await waitFor(store, 'help texts', s => [paneKey(runner.id, 'kernel.all.load'), paneKey(runner.id, 'browse.bins')].every(key => s.helpTexts[key]?.status === 'ok'));
			const help = await runPminfo(['-h', peer.address, '-T', 'kernel.all.load']);
			const longHelp = help.stdout.split('\nHelp:\n')[1]!.trim();
			expect(longHelp.length).toBeGreaterThan(20);
			expect(state.helpTexts[paneKey(runner.id, 'kernel.all.load')]!.text).toContain(longHelp);
			expect(state.helpTexts[paneKey(runner.id, 'browse.bins')]!.text).toContain('twice sample.bin');

			// Enter in the browser: a real and a derived metric added while sampling goes on.
			store.dispatch({type: 'metric-add', name: 'sample.bin', host: runner.id});
			store.dispatch({type: 'metric-add', name: 'browse.bins', host: runner.id});
			const allOk = (s: MonitorState) => {
				const statuses = new Map(panesOf(s).map(pane => [pane.metric, pane.status]));
				return ['kernel.all.load', 'sample.bin', 'browse.bins'].every(metric => statuses.get(metric) === 'ok');
			};

			state = await waitFor(store, 'the added panes with values', allOk);
			const panes = panesOf(state);
			expect(state.focus).toBe(paneKey(runner.id, 'browse.bins'));
			const bins = panes.find(pane => pane.metric === 'sample.bin')!;
			expect(bins.rows.map(row => row.value)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
			// --warn sample.bin=~:500 --crit sample.bin=~:800: above 500 warns, above 800 is critical (800 itself only warns).
			expect(bins.rows.map(row => row.level ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'warning', 'warning', 'warning', 'critical']);
			expect(bins.rows.at(-1)!.text).toBe('900 CRIT');
			expect(panes.find(pane => pane.metric === 'browse.bins')!.rows.map(row => row.value)).toEqual([200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);

			// d: gone from the panes at once, and from what is fetched at the next round.
			store.dispatch({type: 'metric-remove', metric: 'kernel.all.load'});
			expect(panesOf(store.getState()).map(pane => pane.metric)).toEqual(['sample.bin', 'browse.bins']);
			const count = store.getState().hosts[0]!.samples;
			state = await waitFor(store, 'two more samples', s => s.hosts[0]!.samples >= count + 2);
			expect(state.hosts[0]!.latest!.metrics.map(metric => metric.name)).toEqual(['sample.bin', 'browse.bins']);

			// s: written on request, 0600 in a 0700 directory, and read back as --set reads it.
			store.dispatch({type: 'save-set', id: 1, name: 'bins'});
			state = await waitFor(store, 'the save', s => s.saveRequest === undefined && s.notices.length > 0);
			expect(state.notices.at(-1)!.text).toMatch(/^saved set bins .*secmon --set bins opens it$/v);
			expect(statSync(setsFile(env.SECMON_HOME)).mode & 0o777).toBe(0o600);
			expect(statSync(env.SECMON_HOME).mode & 0o777).toBe(0o700);
			const saved = loadSet(env.SECMON_HOME, 'bins');
			expect(saved).toMatchObject({
				hosts: [peer.address], metrics: ['sample.bin', 'browse.bins'], intervalMs: 200, thresholds: {'sample.bin': {warn: '~:500', crit: '~:800'}},
			});
			expect(JSON.parse(readFileSync(setsFile(env.SECMON_HOME), 'utf8'))).toHaveProperty('bins');
		} finally {
			stop();
			runner.stop();
			await running;
		}
	}, 90_000);
});
