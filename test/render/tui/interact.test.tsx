/**
 * The panes' keys that do something (issue 17 parts 5–8): arrows that stop at the grid's edges,
 * Enter zooms, d removes, / browses and adds, s saves, thresholds colour and name the level.
 */
import {setTimeout as delay} from 'node:timers/promises';
import {cleanup, render} from 'ink-testing-library';
import {
	afterEach, describe, expect, test,
} from 'vitest';
import {LiveApp} from '../../../source/render/tui/app.js';
import {childrenAt, search} from '../../../source/render/tui/browse-tree.js';
import {
	createStore, gridMove, initialState, panesOf, paneKey, type Action, type Store,
} from '../../../source/render/tui/state.js';
import {parseRange} from '../../../source/metrics/thresholds.js';
import {
	freeDesc, loadDesc, readDesc, sampleAt, tlsFacts,
} from './fixtures.js';

afterEach(() => {
	cleanup();
});

const a = 'alpha:44321';
const enter = '\r';
const escape = '\u001B';
const down = '\u001B[B';
const up = '\u001B[A';
const right = '\u001B[C';
const backspace = '\u007F';

function makeStore(metrics = ['kernel.all.load', 'mem.util.free', 'disk.dev.read']): Store {
	const store = createStore(initialState({
		hosts: [{id: a, secureMode: 'enforce'}], metrics, intervalMs: 1000, raw: false, samples: 0, now: 0,
	}));
	store.dispatch({
		type: 'connected', host: a, at: 0, tls: tlsFacts, descs: [loadDesc, freeDesc, readDesc], missing: [],
	});
	return store;
}

function sample(seconds: number, load: [number, number, number], reads = seconds * 100): Action {
	return {
		type: 'sample', host: a, at: seconds * 1000, rttMs: 1, sample: sampleAt(seconds, {load, free: 1_048_576, reads: {vda: reads, vdb: reads * 2}}),
	};
}

/** Input is attached in an effect; React 19 renders asynchronously (docs/node.md#ink-and-react). */
async function settle(): Promise<void> {
	await delay(30);
}

/** Until a React effect has run (they are flushed after the frame, later under load). */
async function until(predicate: () => boolean): Promise<void> {
	for (let tries = 0; tries < 200 && !predicate(); tries++) {
		await delay(10);
	}
}

describe('arrows in the grid', () => {
	test('no wrap: Down from the bottom row and Right from the last pane stay; Down into a short last row lands on its last pane', () => {
		// 5 panes in 3 columns: 0 1 2 / 3 4
		expect(gridMove(3, 3, 3, 5)).toBe(3);
		expect(gridMove(4, 3, 3, 5)).toBe(4);
		expect(gridMove(4, 1, 3, 5)).toBe(4);
		expect(gridMove(0, -1, 3, 5)).toBe(0);
		expect(gridMove(1, -3, 3, 5)).toBe(1);
		expect(gridMove(1, 3, 3, 5)).toBe(4);
		expect(gridMove(2, 3, 3, 5)).toBe(4);
		expect(gridMove(2, 1, 3, 5)).toBe(3);
	});

	test('the keys: Down from the only row stays on the pane (it used to wrap to the top right)', async () => {
		const store = makeStore();
		const {stdin} = render(<LiveApp store={store} size={{columns: 120, rows: 40}} onAnswer={() => undefined}/>);
		await settle();
		stdin.write(right);
		await settle();
		expect(store.getState().focus).toBe(paneKey(a, 'kernel.all.load'));
		stdin.write(down);
		await settle();
		expect(store.getState().focus).toBe(paneKey(a, 'kernel.all.load'));
		stdin.write(right);
		stdin.write(right);
		stdin.write(right);
		await settle();
		expect(store.getState().focus).toBe(paneKey(a, 'disk.dev.read'));
		stdin.write(up);
		await settle();
		expect(store.getState().focus).toBe(paneKey(a, 'disk.dev.read'));
	});
});

describe('keys that arrive in one read', () => {
	test('Tab then Enter typed quickly still focus and zoom; a pasted set name and Enter still save', async () => {
		const store = makeStore();
		const {stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		store.dispatch(sample(0, [1.5, 1, 1]));
		await settle();
		stdin.write('\t\r');
		await settle();
		expect(store.getState().zoom).toBe(paneKey(a, 'kernel.all.load'));
		stdin.write(escape);
		await settle();
		stdin.write('s');
		await settle();
		stdin.write('web-load\r');
		await settle();
		expect(store.getState().saveRequest).toMatchObject({name: 'web-load'});
	});
});

describe('zoom', () => {
	test('Enter shows the focused pane on the whole screen: every instance, min/avg/max since start, help text; Esc back', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		store.dispatch(sample(0, [1.5, 0.5, 0.25]));
		store.dispatch(sample(1, [3.5, 0.5, 0.25]));
		store.dispatch(sample(2, [2.5, 0.5, 0.25]));
		store.dispatch({type: 'focus-set', key: paneKey(a, 'kernel.all.load')});
		await settle();
		stdin.write(enter);
		await settle();
		expect(store.getState().zoom).toBe(paneKey(a, 'kernel.all.load'));
		// The help text is asked for (live/interact.ts answers); until then the one-line help or a note.
		expect(store.getState().helpTexts[paneKey(a, 'kernel.all.load')]).toEqual({status: 'loading'});
		store.dispatch({
			type: 'help-text', host: a, metric: 'kernel.all.load', text: '1, 5 and 15 minute load average\n\nThe load average of the \u001B[31mkernel\u001B[0m.',
		});
		await settle();
		const frame = lastFrame()!;
		expect(frame).toContain('kernel.all.load @ alpha:44321');
		expect(frame).toContain('1, 5 and 15 minute load average');
		// Peer text is inert: the escape shows as text.
		expect(frame).toContain('\\x1b[31mkernel');
		expect(frame).not.toContain('\u001B[31m');
		expect(frame).toMatch(/instance +now +min +avg +max +last \d+ samples/v);
		// 1 minute: 1.5, 3.5, 2.5 → now 2.5, min 1.5, avg 2.5, max 3.5, and the history (drawn from zero).
		expect(frame).toMatch(/1 minute +2\.50 +1\.50 +2\.50 +3\.50 +▄█▆/v);
		expect(frame).toMatch(/15 minute +0\.25 +0\.25 +0\.25 +0\.25/v);
		expect(frame).toContain('min/avg/max over 3 sample(s)');
		expect(frame).not.toContain('mem.util.free');

		stdin.write(escape);
		await settle();
		expect(store.getState().zoom).toBeUndefined();
		expect(lastFrame()).toContain('mem.util.free');
	});

	test('many instances scroll with ↑/↓ in the zoom', async () => {
		const store = makeStore(['disk.dev.read']);
		store.dispatch({
			type: 'connected', host: a, at: 0, tls: tlsFacts, descs: [readDesc], missing: [],
		});
		const reads = Object.fromEntries(Array.from({length: 40}, (_, index) => [`sd${String(index).padStart(2, '0')}`, index]));
		store.dispatch({
			type: 'sample', host: a, at: 0, rttMs: 1, sample: sampleAt(0, {reads}),
		});
		store.dispatch({
			type: 'sample', host: a, at: 1000, rttMs: 1, sample: sampleAt(1, {reads: Object.fromEntries(Object.entries(reads).map(([name, value]) => [name, value * 2]))}),
		});
		store.dispatch({type: 'focus-set', key: paneKey(a, 'disk.dev.read')});
		store.dispatch({type: 'zoom'});
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 24}} onAnswer={() => undefined}/>);
		await settle();
		expect(lastFrame()).toMatch(/instances 1–\d+ of 40/v);
		expect(lastFrame()).toContain('sd00');
		for (let index = 0; index < 40; index++) {
			stdin.write(down);
		}

		await settle();
		expect(lastFrame()).toContain('sd39');
		expect(lastFrame()).not.toContain('sd00');
	});
});

describe('d removes a pane', () => {
	test('the focused metric goes, the focus moves to its neighbour', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 120, rows: 40}} onAnswer={() => undefined}/>);
		store.dispatch(sample(0, [1, 1, 1]));
		store.dispatch({type: 'focus-set', key: paneKey(a, 'mem.util.free')});
		await settle();
		stdin.write('d');
		await settle();
		expect(store.getState().metrics).toEqual(['kernel.all.load', 'disk.dev.read']);
		expect(panesOf(store.getState()).map(pane => pane.metric)).toEqual(['kernel.all.load', 'disk.dev.read']);
		expect(store.getState().focus).toBe(paneKey(a, 'disk.dev.read'));
		expect(lastFrame()).not.toContain('mem.util.free');
	});

	test('a name that expanded (kernel.all) is replaced by the leaves still shown', () => {
		const store = makeStore(['kernel.all', 'mem.util.free']);
		store.dispatch({
			type: 'connected', host: a, at: 0, tls: tlsFacts, descs: [loadDesc, {...loadDesc, name: 'kernel.all.nprocs'}, freeDesc], missing: [],
		});
		store.dispatch({type: 'metric-remove', metric: 'kernel.all.load'});
		expect(store.getState().metrics).toEqual(['kernel.all.nprocs', 'mem.util.free']);
	});
});

describe('the metric browser', () => {
	const entries = [
		{name: 'kernel.all.load', path: ['kernel', 'all', 'load']},
		{name: 'kernel.all.nprocs', path: ['kernel', 'all', 'nprocs']},
		{name: 'kernel.percpu.cpu.user', path: ['kernel', 'percpu', 'cpu', 'user']},
		{name: 'mem.util.free', path: ['mem', 'util', 'free']},
		{name: 'sample.bin', path: ['sample', 'bin']},
	];

	test('the tree: children of a node with the leaves below; search over every name', () => {
		expect(childrenAt(entries, []).map(item => [item.label, item.name ?? null, item.leaves])).toEqual([['kernel', null, 3], ['mem', null, 1], ['sample', null, 1]]);
		expect(childrenAt(entries, ['kernel', 'all']).map(item => item.name)).toEqual(['kernel.all.load', 'kernel.all.nprocs']);
		expect(search(entries, 'ALL.').items.map(item => item.name)).toEqual(['kernel.all.load', 'kernel.all.nprocs']);
		expect(search(entries, 'zzz')).toEqual({items: [], matched: 0});
	});

	test('/ opens it, the names arrive while sampling goes on, search + Enter adds a pane', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		store.dispatch(sample(0, [1, 1, 1]));
		await settle();
		stdin.write('/');
		await settle();
		const {browser} = store.getState();
		expect(browser).toMatchObject({host: a, status: 'loading'});
		expect(lastFrame()).toContain('loading the names…');
		store.dispatch({
			type: 'browse-names', id: browser!.id, entries, truncated: false,
		});
		// Sampling goes on: the header's clock moves while the browser is open.
		store.dispatch(sample(1, [2, 1, 1]));
		await settle();
		expect(lastFrame()).toContain('Add a metric from alpha:44321');
		expect(lastFrame()).toContain('kernel ▸ 3');
		expect(lastFrame()).toContain(' · 00:00:01 ');

		// Keys go to the browser: q is typed, not quit.
		stdin.write('q');
		await settle();
		expect(store.getState().quitting).toBe(false);
		stdin.write(backspace);
		stdin.write('bin');
		await settle();
		expect(lastFrame()).toContain('1 match(es)');
		// The selected name's help text is asked for (from an effect: React runs it after the frame).
		await until(() => store.getState().helpTexts[paneKey(a, 'sample.bin')] !== undefined);
		expect(store.getState().helpTexts[paneKey(a, 'sample.bin')]).toEqual({status: 'loading'});
		store.dispatch({
			type: 'help-text', host: a, metric: 'sample.bin', text: 'Several constant instances',
		});
		await settle();
		expect(lastFrame()).toContain('Several constant instances');
		stdin.write(enter);
		await settle();
		expect(store.getState().browser).toBeUndefined();
		expect(store.getState().metrics).toEqual(['kernel.all.load', 'mem.util.free', 'disk.dev.read', 'sample.bin']);
		expect(store.getState().focus).toBe(paneKey(a, 'sample.bin'));
		// Until the runner describes it, a waiting pane.
		expect(panesOf(store.getState()).at(-1)).toMatchObject({metric: 'sample.bin', status: 'waiting'});
		expect(lastFrame()).toContain('sample.bin');
	});

	test('the tree: Enter or → opens a node, ← goes up; a name no listing has (a Zabbix key) is added as typed', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		store.dispatch({type: 'browse-open', host: a, id: 9});
		store.dispatch({
			type: 'browse-names', id: 9, entries: [], truncated: false, note: 'a Zabbix agent cannot list its item keys: type a key (with its [parameters]) and press Enter',
		});
		await settle();
		expect(lastFrame()).toContain('a Zabbix agent cannot list its item keys');
		stdin.write('system.cpu.load[all,avg1]');
		await settle();
		expect(lastFrame()).toContain('Enter adds the typed name as it is');
		stdin.write(enter);
		await settle();
		expect(store.getState().metrics.at(-1)).toBe('system.cpu.load[all,avg1]');

		store.dispatch({type: 'browse-open', host: a, id: 10});
		store.dispatch({
			type: 'browse-names', id: 10, entries, truncated: false,
		});
		await settle();
		stdin.write(enter); // Opens kernel
		await settle();
		expect(lastFrame()).toContain('kernel › ');
		expect(lastFrame()).toMatch(/› all ▸ 2/v);
		stdin.write(right); // Opens kernel.all
		await settle();
		expect(lastFrame()).toContain('kernel › all');
		expect(lastFrame()).toContain('load');
		stdin.write('\u001B[D'); // Left: back up to kernel, the cursor on "all"
		await settle();
		expect(lastFrame()).toMatch(/› all ▸ 2/v);
		stdin.write(escape);
		await settle();
		expect(store.getState().browser).toBeUndefined();
	});

	test('hostile names are inert and a truncated list says so', async () => {
		const store = makeStore();
		const {lastFrame} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		store.dispatch({type: 'browse-open', host: a, id: 3});
		store.dispatch({
			type: 'browse-names', id: 3, entries: [{name: 'evil\u001B]0;pwned\u0007.x', path: ['evil\u001B]0;pwned\u0007', 'x']}], truncated: true,
		});
		await settle();
		const frame = lastFrame()!;
		expect(frame).toContain('evil\\x1b]0;pwned\\x07 ▸ 1');
		expect(frame).not.toContain('\u001B]0;');
		expect(frame).toContain('more names than secmon lists: search narrows them');
	});
});

describe('s saves the set', () => {
	test('a name is asked for and checked; Enter asks the controller to save; Esc cancels', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		await settle();
		stdin.write('s');
		await settle();
		expect(lastFrame()).toContain('Save as set:');
		expect(lastFrame()).toContain('1 host(s), 3 metric(s), every 1 s');
		stdin.write('-bad');
		await settle();
		stdin.write(enter);
		await settle();
		expect(lastFrame()).toContain('"-bad" is not a set name');
		expect(store.getState().saveRequest).toBeUndefined();
		for (let index = 0; index < 4; index++) {
			stdin.write(backspace);
		}

		stdin.write('web-load');
		await settle();
		stdin.write(enter);
		await settle();
		expect(store.getState().saveRequest).toMatchObject({name: 'web-load'});
		expect(store.getState().saving).toBe(false);
		expect(lastFrame()).not.toContain('Save as set:');

		stdin.write('s');
		await settle();
		stdin.write(escape);
		await settle();
		expect(store.getState().saving).toBe(false);
	});
});

describe('thresholds', () => {
	test('values past a level are coloured and say WARN/CRIT, so they read without colour too', async () => {
		const store = createStore(initialState({
			hosts: [{id: a, secureMode: 'enforce'}],
			metrics: ['kernel.all.load'],
			intervalMs: 1000,
			raw: false,
			samples: 0,
			now: 0,
			thresholds: {'kernel.all.load': {warn: parseRange('~:1')!, crit: parseRange('~:4')!}},
		}));
		store.dispatch({
			type: 'connected', host: a, at: 0, tls: tlsFacts, descs: [loadDesc], missing: [],
		});
		store.dispatch(sample(0, [5.5, 2.5, 0.5]));
		const [pane] = panesOf(store.getState());
		expect(pane!.rows.map(row => [row.name, row.text, row.level ?? 'ok'])).toEqual([
			['1 minute', '5.50 CRIT', 'critical'], ['5 minute', '2.50 WARN', 'warning'], ['15 minute', '0.50', 'ok'],
		]);
		const {lastFrame} = render(<LiveApp store={store} size={{columns: 100, rows: 20}} onAnswer={() => undefined}/>);
		await settle();
		expect(lastFrame()).toMatch(/1 minute +5\.50 CRIT/v);
		expect(lastFrame()).toMatch(/5 minute +2\.50 WARN/v);
		// A value without a level keeps the column: its decimal point under the others'.
		const points = lastFrame()!.split('\n').filter(line => line.includes(' minute ')).map(line => line.indexOf('.', line.indexOf(' minute ')));
		expect(points).toHaveLength(3);
		expect(new Set(points).size).toBe(1);
	});

	test('the collector\'s levels (perfdata) apply unless the user set some', () => {
		const store = createStore(initialState({
			hosts: [{id: a, secureMode: 'enforce'}], metrics: ['service:web!disk.used'], intervalMs: 1000, raw: false, samples: 0, now: 0,
		}));
		store.dispatch({
			type: 'connected',
			host: a,
			at: 0,
			tls: tlsFacts,
			descs: [{
				...loadDesc, name: 'service:web!disk.used', thresholds: {warn: parseRange('80')!, crit: parseRange('90')!},
			}],
			missing: [],
		});
		store.dispatch({
			type: 'sample', host: a, at: 0, rttMs: 1, sample: {target: a, timestamp: new Date(0), metrics: [{name: 'service:web!disk.used', result: {status: 'ok', values: [{value: 85.5}]}}]},
		});
		expect(panesOf(store.getState())[0]!.rows[0]).toMatchObject({text: '85.5 WARN', level: 'warning'});
	});
});
