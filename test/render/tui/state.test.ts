import {describe, expect, test} from 'vitest';
import {
	allFinished, createStore, exitCodeOf, historyLength, initialState, panesOf, reduce, stepInterval, zoomOf,
	type Action, type MonitorState,
} from '../../../source/render/tui/state.js';
import {panesThresholds} from '../../../source/live/interact.js';
import {parseRange, type Thresholds} from '../../../source/metrics/thresholds.js';
import {thresholdFlags} from '../../../source/plan.js';
import {
	freeDesc, loadDesc, question, readDesc, sampleAt, tlsFacts,
} from './fixtures.js';

const host = 'collector:44321';

function start(overrides: Partial<{samples: number; raw: boolean; hosts: string[]}> = {}): MonitorState {
	return initialState({
		hosts: (overrides.hosts ?? [host]).map(id => ({id, secureMode: 'enforce'})),
		metrics: ['kernel.all.load', 'mem.util.free', 'disk.dev.read'],
		intervalMs: 1000,
		raw: overrides.raw ?? false,
		samples: overrides.samples ?? 0,
		now: 0,
	});
}

function run(state: MonitorState, actions: Action[]): MonitorState {
	return actions.reduce(reduce, state);
}

const connected: Action = {
	type: 'connected', host, at: 1, tls: tlsFacts, descs: [loadDesc, freeDesc, readDesc], missing: [],
};

function sample(seconds: number, reads: Record<string, number>): Action {
	return {
		type: 'sample', host, at: seconds * 1000, rttMs: 1.5, sample: sampleAt(seconds, {load: [0.5, 0.4, 0.3], free: 22_020_096, reads}),
	};
}

describe('panes', () => {
	test('before a host describes its metrics, one placeholder pane per requested name', () => {
		const panes = panesOf(start());
		expect(panes.map(p => [p.metric, p.status])).toEqual([
			['kernel.all.load', 'waiting'], ['mem.util.free', 'waiting'], ['disk.dev.read', 'waiting'],
		]);
	});

	test('values are scaled, counters become rates per second after the second sample', () => {
		let state = run(start(), [connected, sample(0, {vda: 1000, vdb: 50})]);
		let panes = panesOf(state);
		expect(panes[1]!.rows.map(r => r.text)).toEqual(['21.0 GiB']);
		expect(panes[1]!.rows[0]!.name).toBe('');
		expect(panes[2]).toMatchObject({status: 'novalues', message: 'rate after the next sample', rate: true});

		state = run(state, [sample(2, {vda: 1200, vdb: 50})]);
		panes = panesOf(state);
		expect(panes[2]!.rows.map(r => [r.name, r.text, r.value])).toEqual([['vda', '100/s', 100], ['vdb', '0/s', 0]]);
		expect(panes[0]!.rows.map(r => `${r.name}=${r.text}`)).toEqual(['1 minute=0.50', '5 minute=0.40', '15 minute=0.30']);
	});

	test('r shows counters raw, and the history follows the mode', () => {
		const state = run(start(), [connected, sample(0, {vda: 1000}), sample(1, {vda: 1100}), sample(2, {vda: 1400})]);
		const rates = panesOf(state)[2]!;
		expect(rates.rows[0]!.history).toEqual([Number.NaN, 100, 300]);
		const raw = panesOf(reduce(state, {type: 'toggle-raw'}))[2]!;
		expect(raw).toMatchObject({rate: false, semantics: 'counter'});
		expect(raw.rows[0]).toMatchObject({text: '1.40k', history: [1000, 1100, 1400]});
	});

	test('a counter that went backwards (collector restarted) has no rate for that interval', () => {
		const state = run(start(), [connected, sample(0, {vda: 1000}), sample(1, {vda: 5})]);
		expect(panesOf(state)[2]).toMatchObject({status: 'novalues', message: 'no values'});
	});

	test('metrics the collector does not know get their own pane with the reason', () => {
		const state = reduce(start(), {...connected, descs: [loadDesc], missing: [{name: 'no.such', message: 'Unknown metric name'}]});
		expect(panesOf(state).map(p => [p.metric, p.status, p.message])).toEqual([
			['kernel.all.load', 'waiting', undefined],
			['no.such', 'missing', 'Unknown metric name'],
		]);
	});

	test('history is bounded and keeps the newest values', () => {
		let state = reduce(start(), connected);
		for (let i = 0; i < historyLength + 30; i++) {
			state = reduce(state, {
				type: 'sample', host, at: i, rttMs: 1, sample: sampleAt(i, {free: i}),
			});
		}

		const {history} = panesOf(state)[1]!.rows[0]!;
		expect(history).toHaveLength(historyLength);
		expect(history.at(-1)).toBe(historyLength + 29);
	});

	test('an instance that vanished leaves a gap, then is forgotten', () => {
		let state = run(start({raw: true}), [connected, sample(0, {vda: 1, vdb: 2})]);
		state = reduce(state, sample(1, {vda: 3}));
		expect(state.hosts[0]!.history['disk.dev.read']!['1']!.raw).toEqual([2, Number.NaN]);
		for (let i = 2; i < historyLength + 5; i++) {
			state = reduce(state, sample(i, {vda: i}));
		}

		expect(state.hosts[0]!.history['disk.dev.read']!['1']).toBeUndefined();
	});
});

describe('failures', () => {
	test('disconnect keeps values and history, marks a gap, counts attempts; reconnect resumes', () => {
		let state = run(start(), [connected, sample(0, {vda: 10}), sample(1, {vda: 20})]);
		state = reduce(state, {
			type: 'disconnected', host, at: 5000, reason: 'connection reset', retryAt: 6000,
		});
		expect(state.hosts[0]).toMatchObject({
			phase: 'disconnected', attempt: 1, retryAt: 6000, lastError: {message: 'connection reset', at: 5000},
		});
		expect(panesOf(state)[2]!.rows[0]!.history).toEqual([Number.NaN, 10, Number.NaN]);
		// A second failure does not add a second gap.
		state = reduce(state, {
			type: 'disconnected', host, at: 6000, reason: 'connection refused', retryAt: 8000,
		});
		expect(state.hosts[0]!.attempt).toBe(2);
		expect(panesOf(state)[2]!.rows[0]!.history).toHaveLength(3);

		state = run(state, [{type: 'connecting', host, at: 8000}, connected, sample(10, {vda: 120})]);
		expect(state.hosts[0]).toMatchObject({phase: 'connected', attempt: 0, samples: 3});
		expect(panesOf(state)[2]!.rows[0]!.history).toEqual([Number.NaN, 10, Number.NaN, 100 / 9]);
		expect(state.intervalMs).toBe(1000);
	});

	test('a stopped host keeps its panes (last values), its reason, and sets the exit code', () => {
		const state = run(start({hosts: [host, 'other:44321']}), [
			connected,
			sample(0, {vda: 1}),
			{
				type: 'stopped', host, at: 9, exitCode: 4, message: 'WARNING: COLLECTOR CERTIFICATE HAS CHANGED\nmore', hint: 'secmon certs remove …',
			},
			{
				type: 'disconnected', host, at: 10, reason: 'late', retryAt: 11,
			},
		]);
		expect(state.hosts[0]).toMatchObject({phase: 'stopped', stop: {exitCode: 4, hint: 'secmon certs remove …'}, lastError: {message: 'WARNING: COLLECTOR CERTIFICATE HAS CHANGED'}});
		expect(panesOf(state).filter(p => p.host === host).every(p => p.hostPhase === 'stopped')).toBe(true);
		expect(exitCodeOf(state)).toBe(4);
	});

	test('exit codes: 0 when every host sampled, 1 when one is away or never answered', () => {
		let state = run(start(), [connected, sample(0, {vda: 1})]);
		expect(exitCodeOf(state)).toBe(0);
		state = reduce(state, {
			type: 'disconnected', host, at: 1, reason: 'gone', retryAt: 2,
		});
		expect(exitCodeOf(state)).toBe(1);
		expect(exitCodeOf(start())).toBe(1);
	});

	test('-s N: finished once every host has N samples or stopped', () => {
		let state = run(start({samples: 2, hosts: [host, 'b:1']}), [connected, sample(0, {vda: 1}), sample(1, {vda: 2})]);
		expect(allFinished(state)).toBe(false);
		state = reduce(state, {
			type: 'stopped', host: 'b:1', at: 1, exitCode: 3, message: 'not trusted',
		});
		expect(allFinished(state)).toBe(true);
		expect(allFinished(start())).toBe(false);
	});
});

describe('keys and prompts', () => {
	test('+/- walk the interval ladder from any starting value', () => {
		expect(stepInterval(1000, 1)).toBe(2000);
		expect(stepInterval(1000, -1)).toBe(500);
		expect(stepInterval(1500, 1)).toBe(2000);
		expect(stepInterval(1500, -1)).toBe(1000);
		expect(stepInterval(100, -1)).toBe(100);
		expect(reduce(start(), {type: 'interval', direction: 1}).intervalMs).toBe(2000);
	});

	test('focus moves through panes and wraps', () => {
		let state = reduce(start(), {type: 'focus-move', delta: 1});
		expect(state.focus).toBe(`${host} kernel.all.load`);
		state = reduce(state, {type: 'focus-move', delta: -1});
		expect(state.focus).toBe(`${host} disk.dev.read`);
		state = reduce(state, {type: 'focus-move', delta: 2});
		expect(state.focus).toBe(`${host} mem.util.free`);
	});

	test('pause, help and quit toggle', () => {
		const state = run(start(), [{type: 'toggle-pause'}, {type: 'toggle-help'}, {type: 'quit'}]);
		expect(state).toMatchObject({paused: true, help: true, quitting: true});
		expect(reduce(state, {type: 'close-help'}).help).toBe(false);
	});

	test('trust prompts queue up and leave one at a time', () => {
		let state = run(start(), [
			{
				type: 'prompt-open', id: 1, host, question,
			},
			{
				type: 'prompt-open', id: 2, host: 'b:1', question,
			},
		]);
		expect(state.prompts.map(p => p.id)).toEqual([1, 2]);
		state = reduce(state, {type: 'prompt-close', id: 1});
		expect(state.prompts.map(p => p.id)).toEqual([2]);
	});

	test('the store notifies subscribers only on change', () => {
		const store = createStore(start());
		let calls = 0;
		const off = store.subscribe(() => {
			calls++;
		});
		store.dispatch({type: 'toggle-pause'});
		store.dispatch({type: 'close-help'});
		off();
		store.dispatch({type: 'toggle-pause'});
		expect(calls).toBe(1);
		expect(store.getState().paused).toBe(false);
	});
});

/**
 * Metric names are the collector's and the user's text: `__proto__` and `constructor` are names
 * like any other, and must not reach Object.prototype in the store's history or levels.
 */
describe('metric names that are Object.prototype names', () => {
	const names = ['__proto__', 'constructor'];

	function protoStart(thresholds?: Record<string, Thresholds>): MonitorState {
		return initialState({
			hosts: [{id: host, secureMode: 'enforce'}],
			metrics: names,
			intervalMs: 1000,
			raw: false,
			samples: 0,
			now: 0,
			...(thresholds === undefined ? {} : {thresholds}),
		});
	}

	// The collector's own levels (perfdata): critical above 10.
	const protoConnected: Action = {
		type: 'connected', host, at: 1, tls: tlsFacts, missing: [],
		descs: names.map(name => ({...loadDesc, name, thresholds: {crit: parseRange('10')!}})),
	};

	function protoSample(seconds: number, value: number): Action {
		return {
			type: 'sample', host, at: seconds * 1000, rttMs: 1, sample: {
				target: host,
				timestamp: new Date(Date.UTC(2026, 10, 24, 12, 0, seconds)),
				metrics: names.map(name => ({name, result: {status: 'ok' as const, values: [{instance: -1, value}]}})),
			},
		};
	}

	test('each keeps its history across samples, and the collector\'s levels apply', () => {
		const state = run(protoStart(), [protoConnected, protoSample(0, 1), protoSample(1, 2), protoSample(2, 3), protoSample(3, 20)]);
		const panes = panesOf(state);
		expect(panes.map(pane => [pane.metric, pane.status, pane.rows[0]?.history, pane.rows[0]?.level])).toEqual([
			['__proto__', 'ok', [1, 2, 3, 20], 'critical'],
			['constructor', 'ok', [1, 2, 3, 20], 'critical'],
		]);
		// A host that went away gets a gap in each name's history.
		const gone = reduce(state, {
			type: 'disconnected', host, at: 5000, reason: 'gone', retryAt: 6000,
		});
		expect(Object.entries(gone.hosts[0]!.history).map(([name, series]) => [name, series['-1']?.raw])).toEqual([
			['__proto__', [1, 2, 3, 20, Number.NaN]],
			['constructor', [1, 2, 3, 20, Number.NaN]],
		]);
	});

	test('--warn/--crit on such a name reach its pane, before the collector\'s levels', () => {
		const user = panesThresholds(thresholdFlags({warn: ['constructor=~:1', '__proto__=~:2'], crit: ['__proto__=~:50']}));
		const state = run(protoStart(user), [protoConnected, protoSample(0, 5)]);
		expect(panesOf(state).map(pane => [pane.metric, pane.rows[0]?.level])).toEqual([
			['__proto__', 'warning'],
			['constructor', 'warning'],
		]);
		// The zoom reads the same history.
		const zoom = zoomOf(state, panesOf(state)[0]!.key);
		expect(zoom?.rows.map(row => row.samples)).toEqual([1]);
	});
});
