/**
 * The host runner against a real pmcd: trust prompt through the app's queue, sampling, the
 * collector killed and restarted (reconnect with backoff, history kept), and a changed
 * certificate stopping the host with exit 4.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os, {availableParallelism} from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {SecmonError} from '../../source/errors.js';
import {defaultFlags, type Flags} from '../../source/argv/main-flags.js';
import {makePlan} from '../../source/plan.js';
import {
	backoffMs, HostRunner, isRetryable, promptQueue,
} from '../../source/live/runner.js';
import {
	createStore, initialState, panesOf, type MonitorState, type Store,
} from '../../source/render/tui/state.js';
import {parseHostSpec} from '../../source/target.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {waitForState} from '../helpers/store.js';

const flags: Flags = {...defaultFlags(), secure: 'enforce', interval: '200msec'};

async function waitFor(store: Store, what: string, predicate: (state: MonitorState) => boolean, timeoutMs = 20_000): Promise<MonitorState> {
	return waitForState(store, what, predicate, timeoutMs, state => `; state: ${JSON.stringify(state.hosts.map(h => ({
		phase: h.phase, samples: h.samples, lastError: h.lastError, stop: h.stop,
	})))}`);
}

describe('policy helpers', () => {
	test('backoff doubles from 1 s up to 30 s', () => {
		expect([0, 1, 2, 3, 4, 5, 6, 20].map(n => backoffMs(n))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
	});

	test('connection trouble is retried; trust and TLS-policy failures stop the host', () => {
		expect(isRetryable(new Error('read ECONNRESET'))).toBe(true);
		expect(isRetryable(new SecmonError('CONNECT_FAILED', 'refused'))).toBe(true);
		expect(isRetryable(new SecmonError('TIMEOUT', 'slow'))).toBe(true);
		expect(isRetryable(new SecmonError('CERT_CHANGED', 'changed'))).toBe(false);
		expect(isRetryable(new SecmonError('TRUST_REJECTED', 'no'))).toBe(false);
		expect(isRetryable(new SecmonError('TLS_REQUIRED', 'plain'))).toBe(false);
		expect(isRetryable(new SecmonError('CLIENT_CERT_REQUIRED', 'cert'))).toBe(false);
	});
});

const ignore = () => undefined;

describe('HostRunner against a real pmcd', () => {
	let peer: PmcdPeer;
	let home: string;

	beforeAll(async () => {
		peer = await startPmcd('offer');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-tui-run-'));
	});

	afterAll(async () => {
		await peer?.stop();
		rmSync(home, {recursive: true, force: true});
	});

	test('prompt, samples, collector killed and restarted, then a changed certificate stops it', async () => {
		const target = parseHostSpec(peer.address);
		const plan = makePlan(['kernel.all.load', 'sample.bin', 'disk.dev.read'], {...flags, host: [peer.address]}, {env: {}, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'enforce'}], metrics: plan.metrics, intervalMs: plan.intervalMs, raw: false, samples: 0, now: Date.now(),
		}));
		const prompts = promptQueue(store);
		const runner = new HostRunner(target, plan, {warn: ignore, env: {SECMON_HOME: home}}, store, prompts);
		const running = runner.run();
		try {
			// The certificate is new: the question goes to the app's queue, and the pane waits.
			let state = await waitFor(store, 'a trust prompt', s => s.prompts.length === 1);
			expect(state.prompts[0]!.question.certificate.subject).toBe('CN=collector');
			expect(state.hosts[0]!.phase).toBe('connecting');
			prompts.answer(state.prompts[0]!.id, 'save');

			state = await waitFor(store, 'three samples', s => s.hosts[0]!.samples >= 3);
			expect(state.prompts).toEqual([]);
			expect(state.hosts[0]).toMatchObject({phase: 'connected', tls: {basis: 'accepted', version: 'TLSv1.3'}});
			const bins = panesOf(state).find(p => p.metric === 'sample.bin')!;
			expect(bins.rows.length).toBe(9);
			expect(bins.rows[0]).toMatchObject({name: 'bin-100', value: 100});
			const before = state.hosts[0]!.history['sample.bin']!['100']!.raw.length;

			// The collector goes away: the host says so and retries; it does not end.
			await peer.halt();
			state = await waitFor(store, 'disconnected', s => s.hosts[0]!.phase === 'disconnected');
			expect(state.hosts[0]!.retryAt).toBeGreaterThan(Date.now() - 1000);
			await peer.restart();
			state = await waitFor(store, 'samples after the restart', s => s.hosts[0]!.phase === 'connected' && s.hosts[0]!.samples >= 6 && s.hosts[0]!.attempt === 0);
			// Re-checked on reconnect: the pin saved at the prompt matched, no second prompt.
			expect(state.hosts[0]!.tls?.basis).toBe('pinned');
			expect(state.intervalMs).toBe(200);
			const history = state.hosts[0]!.history['sample.bin']!['100']!.raw;
			expect(history.length).toBeGreaterThan(before);
			expect(history.some(value => Number.isNaN(value))).toBe(true);

			// Same port, new certificate: never silently accepted.
			await peer.restart('offer-rotated');
			state = await waitFor(store, 'the host to stop', s => s.hosts[0]!.phase === 'stopped');
			expect(state.hosts[0]!.stop).toMatchObject({exitCode: 4});
			expect(state.hosts[0]!.stop!.message).toContain('CERTIFICATE HAS CHANGED');
			expect(state.hosts[0]!.stop!.hint).toContain('secmon certs remove');
			await running;
		} finally {
			runner.stop();
			await running;
		}
	}, 90_000);

	test('kernel.all.cpu.* as % of all CPUs: hinv.ncpu comes with the samples, not as a pane; percpu per CPU', async () => {
		await peer.restart('offer');
		const target = parseHostSpec(peer.address);
		const plan = makePlan(['kernel.all.cpu.user', 'kernel.percpu.cpu.idle'], {...flags, host: [peer.address], secure: 'off'}, {env: {}, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'off'}], metrics: plan.metrics, intervalMs: 200, raw: false, samples: 0, now: Date.now(),
		}));
		const runner = new HostRunner(target, plan, {warn: ignore, env: {SECMON_HOME: home}}, store, promptQueue(store));
		const running = runner.run();
		try {
			const state = await waitFor(store, 'two samples', s => s.hosts[0]!.samples >= 2);
			const cpus = availableParallelism();
			expect(state.hosts[0]!.ncpu).toBe(cpus);
			const panes = panesOf(state);
			expect(panes.map(pane => pane.metric)).toEqual(['kernel.all.cpu.user', 'kernel.percpu.cpu.idle']);
			expect(panes[0]!.percent).toMatchObject({cpus, label: `% of ${cpus} CPU${cpus === 1 ? '' : 's'} (millisec/s)`});
			expect(panes[0]!.rows[0]!.text).toMatch(/^\d+(?:\.\d)? %$/v);
			expect(panes[1]!.rows.map(row => row.name)).toEqual(Array.from({length: cpus}, (_, index) => `cpu${index}`));
			// Per CPU, idle is at most a whole second per second (give the sampling clock a little slack).
			for (const row of panes[1]!.rows) {
				expect(row.value).toBeGreaterThanOrEqual(0);
				expect(row.value).toBeLessThan(150);
			}
		} finally {
			runner.stop();
			await running;
		}
	}, 60_000);

	test('accepted once: a reconnect to the same certificate is not asked again, a different one is', async () => {
		await peer.restart('offer');
		const onceHome = mkdtempSync(path.join(os.tmpdir(), 'secmon-tui-once-'));
		const target = parseHostSpec(peer.address);
		const plan = makePlan(['kernel.all.load'], {...flags, host: [peer.address]}, {env: {}, stdinIsTty: true, stdoutIsTty: true});
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'enforce'}], metrics: plan.metrics, intervalMs: plan.intervalMs, raw: false, samples: 0, now: Date.now(),
		}));
		const prompts = promptQueue(store);
		const runner = new HostRunner(target, plan, {warn: ignore, env: {SECMON_HOME: onceHome}}, store, prompts);
		const running = runner.run();
		try {
			let state = await waitFor(store, 'a trust prompt', s => s.prompts.length === 1);
			prompts.answer(state.prompts[0]!.id, 'once');
			await waitFor(store, 'a sample', s => s.hosts[0]!.samples >= 1);
			await peer.restart();
			state = await waitFor(store, 'samples after the restart', s => s.hosts[0]!.phase === 'connected' && s.hosts[0]!.attempt === 0 && s.hosts[0]!.samples >= 3 && s.hosts[0]!.lastError !== undefined);
			expect(state.hosts[0]!.tls?.basis).toBe('accepted-once');

			await peer.restart('offer-rotated');
			state = await waitFor(store, 'a second prompt', s => s.prompts.length === 1);
			expect(state.prompts[0]!.question.reason).toMatch(/^DIFFERENT from the certificate you accepted once earlier in this run/v);
			prompts.answer(state.prompts[0]!.id, 'reject');
			state = await waitFor(store, 'the host to stop', s => s.hosts[0]!.phase === 'stopped');
			expect(state.hosts[0]!.stop?.exitCode).toBe(3);
		} finally {
			runner.stop();
			await running;
			rmSync(onceHome, {recursive: true, force: true});
		}
	}, 90_000);
});
