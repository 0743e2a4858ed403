import {EventEmitter} from 'node:events';
import {setTimeout as delay} from 'node:timers/promises';
import {render as inkRender} from 'ink';
import {cleanup, render} from 'ink-testing-library';
import {
	afterEach, describe, expect, test,
} from 'vitest';
import {LiveApp, simpleAction} from '../../../source/render/tui/app.js';
import {
	createStore, initialState, type Action, type Store,
} from '../../../source/render/tui/state.js';
import type {PromptAnswer} from '../../../source/security/types.js';
import {
	freeDesc, loadDesc, question, readDesc, sampleAt, tlsFacts,
} from './fixtures.js';

afterEach(() => {
	cleanup();
});

const a = 'alpha:44321';
const b = 'beta:44321';

function makeStore(hosts: string[] = [a], samples = 0): Store {
	return createStore(initialState({
		hosts: hosts.map(id => ({id, secureMode: 'enforce'})),
		metrics: ['kernel.all.load', 'mem.util.free', 'disk.dev.read'],
		intervalMs: 1000,
		raw: false,
		samples,
		now: 0,
	}));
}

function connect(store: Store, host: string): void {
	store.dispatch({
		type: 'connected', host, at: 0, tls: tlsFacts, descs: [loadDesc, freeDesc, readDesc], missing: [],
	});
}

function sample(host: string, seconds: number, free: number, reads = seconds * 100): Action {
	return {
		type: 'sample', host, at: seconds * 1000, rttMs: 1, sample: sampleAt(seconds, {load: [0.5, 0.4, 0.3], free, reads: {vda: reads}}),
	};
}

/** Input is attached in an effect; React 19 renders asynchronously (docs/node.md#ink-and-react). */
async function settle(): Promise<void> {
	await delay(30);
}

describe('App', () => {
	test('the trust prompt shows inside the app while the other collector keeps updating', async () => {
		const store = makeStore([a, b]);
		const answers: Array<[number, PromptAnswer]> = [];
		const {lastFrame, stdin} = render(<LiveApp
			store={store}
			size={{columns: 100, rows: 60}}
			onAnswer={(id, answer) => {
				answers.push([id, answer]);
				store.dispatch({type: 'prompt-close', id});
			}}
		/>);
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576));
		store.dispatch({
			type: 'prompt-open', id: 7, host: b, question,
		});
		await settle();
		expect(lastFrame()).toContain('The authenticity of collector collector:44321 can\'t be established.');
		expect(lastFrame()).toContain('beta:44321 waiting for your trust decision');
		expect(lastFrame()).toMatch(/mem\.util\.free @ alpha:44321[\s\S]*1\.00 GiB/v);

		store.dispatch(sample(a, 1, 2_097_152));
		await settle();
		expect(lastFrame()).toContain('The authenticity of collector');
		expect(lastFrame()).toContain('2.00 GiB');

		// Keys go to the prompt, not to the app: q does not quit.
		stdin.write('q');
		await settle();
		expect(store.getState().quitting).toBe(false);
		// (The prompt took "q" as the start of a pasted fingerprint: Esc clears it.)
		stdin.write('\u001B');
		await settle();
		stdin.write('y');
		await settle();
		expect(answers).toEqual([[7, 'save']]);
		expect(lastFrame()).not.toContain('The authenticity of collector');
	});

	test('on a small screen the prompt fits below the header and the panes give way', async () => {
		const store = makeStore([a, b]);
		const {lastFrame} = render(<LiveApp store={store} size={{columns: 70, rows: 30}} onAnswer={() => undefined}/>);
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576));
		store.dispatch({
			type: 'prompt-open', id: 1, host: b, question,
		});
		await settle();
		const lines = lastFrame()!.split('\n');
		expect(lines.length).toBeLessThan(30);
		expect(lines[0]).toMatch(/^secmon every 1 s/v);
		expect(lastFrame()).toContain('Yes, trust and save (y)');
		expect(lastFrame()).toContain('6 pane(s) do not fit on this screen');
	});

	test('two prompts are shown one at a time', async () => {
		const store = makeStore([a, b]);
		const {lastFrame, stdin} = render(<LiveApp
			store={store}
			size={{columns: 100, rows: 60}}
			onAnswer={id => {
				store.dispatch({type: 'prompt-close', id});
			}}
		/>);
		store.dispatch({
			type: 'prompt-open', id: 1, host: a, question,
		});
		store.dispatch({
			type: 'prompt-open', id: 2, host: b, question: {...question, target: {host: 'beta', port: 44_321}},
		});
		await settle();
		expect(lastFrame()).toContain('collector collector:44321 can');
		expect(lastFrame()).toContain('1 more collector(s) waiting');
		stdin.write('n');
		await settle();
		expect(lastFrame()).toContain('collector beta:44321 can');
		expect(lastFrame()).not.toContain('more collector(s) waiting');
	});

	test('keys: p pauses, r shows raw counters, +/- change the interval, ? shows help, q quits', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 40}} onAnswer={() => undefined}/>);
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576, 1000));
		store.dispatch(sample(a, 1, 1_048_576, 1500));
		await settle();
		expect(lastFrame()).toMatch(/vda +500\/s/v);

		stdin.write('p');
		await settle();
		expect(lastFrame()).toContain(' PAUSED ');
		stdin.write('p');
		await settle();
		expect(lastFrame()).not.toContain(' PAUSED ');

		stdin.write('r');
		await settle();
		expect(lastFrame()).toContain('raw counters');
		expect(lastFrame()).toMatch(/vda +1\.50k /v);

		stdin.write('+');
		await settle();
		expect(lastFrame()).toContain('every 2 s');
		stdin.write('-');
		stdin.write('-');
		await settle();
		expect(lastFrame()).toContain('every 500 ms');

		stdin.write('?');
		await settle();
		expect(lastFrame()).toContain('secmon — keys');
		stdin.write('\u001B');
		await settle();
		expect(lastFrame()).not.toContain('secmon — keys');

		stdin.write('q');
		await settle();
		expect(store.getState().quitting).toBe(true);
	});

	test('Tab and arrows move the focus (double border)', async () => {
		const store = makeStore();
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 40}} onAnswer={() => undefined}/>);
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576));
		await settle();
		expect(lastFrame()).not.toContain('╔');
		stdin.write('\t');
		await settle();
		expect(store.getState().focus).toBe(`${a} kernel.all.load`);
		expect(lastFrame()!.split('\n')[2]).toMatch(/^╔/v);
		stdin.write('\u001B[C'); // Right
		await settle();
		expect(store.getState().focus).toBe(`${a} mem.util.free`);
		stdin.write('\u001B[Z'); // Shift+Tab
		await settle();
		expect(store.getState().focus).toBe(`${a} kernel.all.load`);
	});

	test('a collector that went away: panes say so, with the reason and the retry time', async () => {
		const store = makeStore();
		const {lastFrame} = render(<LiveApp store={store} size={{columns: 100, rows: 40}} onAnswer={() => undefined}/>);
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576));
		store.dispatch({
			type: 'disconnected', host: a, at: 0, reason: 'connection reset by the collector', retryAt: 2000,
		});
		await settle();
		expect(lastFrame()).toContain('│ disconnected · retry in 2 s');
		expect(lastFrame()).toContain('○ alpha:44321 disconnected: connection reset by the collector · retry in 2 s');
		store.dispatch({type: 'clock', now: 1500});
		await settle();
		expect(lastFrame()).toContain('retry in 1 s');
		// The last values stay visible.
		expect(lastFrame()).toContain('1.00 GiB');
	});

	test('a stopped collector stays in its own lines: status and panes say why and the fix; Enter shows the whole warning; the other host keeps sampling', async () => {
		const store = makeStore([a, b]);
		const {lastFrame, stdin} = render(<LiveApp store={store} size={{columns: 100, rows: 30}} onAnswer={() => undefined}/>);
		connect(store, a);
		connect(store, b);
		store.dispatch(sample(a, 0, 1_048_576));
		store.dispatch(sample(b, 0, 2_097_152));
		const banner = [
			'@'.repeat(72),
			'@    WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR alpha:44321     @',
			'@'.repeat(72),
			'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
			...Array.from({length: 20}, (_, index) => `line ${index} of the banner`),
		].join('\n');
		store.dispatch({
			type: 'stopped',
			host: a,
			at: 0,
			exitCode: 4,
			message: banner,
			hint: 'If the change is expected, either remove the old pin and re-run your command (you will be asked again):\n  secmon certs remove alpha:44321\nor, after checking:\n  secmon --host alpha:44321 … --fingerprint AB:CD',
		});
		store.dispatch(sample(b, 1, 3_145_728));
		await settle();
		let frame = lastFrame()!;
		// One status line for the stopped host with the cause and the one command; no 30-line banner.
		expect(frame).toMatch(/✖ alpha:44321 +STOPPED \(exit 4\) +fix: secmon certs remove alpha:44321 · certificate CHANGED/v);
		expect(frame).not.toContain('SOMETHING NASTY');
		// Its panes keep their last values and say the same; the healthy host's panes show its new sample.
		expect(frame).toContain('│ ✖ STOPPED: certificate CHANGED                 │');
		// Wrapped, never cut: the command whole.
		expect(frame).toContain('│ fix: secmon certs remove alpha:44321 · Enter:  │\n│ why ');
		expect(frame).toContain('1.00 GiB');
		expect(frame).toContain('3.00 GiB');
		expect(frame).toMatch(/● beta:44321 connected/v);

		// Enter on the stopped host's pane: the whole warning; Esc: the panes again.
		stdin.write('\t');
		await settle();
		stdin.write('\r');
		await settle();
		frame = lastFrame()!;
		expect(frame).toContain('alpha:44321 stopped (exit 4) · Esc or Enter: back to the panes');
		expect(frame).toContain('IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!');
		expect(frame).toContain('more lines (printed in full when secmon ends)');
		expect(frame.split('\n').length).toBeLessThanOrEqual(30);
		stdin.write('\u001B');
		await settle();
		expect(lastFrame()).not.toContain('SOMETHING NASTY');
		expect(lastFrame()).toContain('3.00 GiB');

		// Enter on a healthy host's pane does not open a warning.
		store.dispatch({type: 'focus-set', key: `${b} kernel.all.load`});
		await settle();
		stdin.write('\r');
		await settle();
		expect(store.getState().details).toBeUndefined();
	});

	test('many panes on a short screen: a page around the focus', async () => {
		const store = makeStore();
		const descs = Array.from({length: 20}, (_, index) => ({...loadDesc, name: `m.${index}`}));
		store.dispatch({
			type: 'connected', host: a, at: 0, tls: tlsFacts, descs, missing: [],
		});
		const {lastFrame} = render(<LiveApp store={store} size={{columns: 80, rows: 20}} onAnswer={() => undefined}/>);
		await settle();
		expect(lastFrame()).toContain('panes 1–8 of 20');
		expect(lastFrame()!.split('\n').length).toBeLessThan(20);
		store.dispatch({type: 'focus-set', key: `${a} m.17`});
		await settle();
		expect(lastFrame()).toContain('panes 17–20 of 20');
		expect(lastFrame()).toContain('m.17');
	});
});

/** A terminal whose size can change, like a real one (ink-testing-library's is fixed at 100 columns). */
class Terminal extends EventEmitter {
	isTTY = true;
	columns = 120;
	rows = 30;
	frames: string[] = [];
	write = (frame: string) => {
		this.frames.push(frame);
		return true;
	};
}

describe('resize', () => {
	test('panes re-flow when the terminal is resized', async () => {
		const store = makeStore();
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576));
		const stdout = new Terminal();
		const noop = () => undefined;
		const stdin = Object.assign(new EventEmitter(), {
			isTTY: false, setRawMode: noop, setEncoding: noop, ref: noop, unref: noop, read: () => null,
		});
		const instance = inkRender(<LiveApp store={store} onAnswer={() => undefined}/>, {
			stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, debug: true, exitOnCtrlC: false, patchConsole: false,
		});
		try {
			await settle();
			const wide = stdout.frames.at(-1)!;
			// Three panes side by side: one title line holds all three names.
			expect(wide.split('\n').some(line => line.includes('kernel.all.load') && line.includes('disk.dev.read'))).toBe(true);

			stdout.columns = 50;
			stdout.emit('resize');
			await settle();
			const narrow = stdout.frames.at(-1)!;
			expect(narrow.split('\n').some(line => line.includes('kernel.all.load') && line.includes('mem.util.free'))).toBe(false);
			expect(narrow).toContain('disk.dev.read');
			expect(Math.max(...narrow.split('\n').map(line => [...line].length))).toBeLessThanOrEqual(50);
		} finally {
			instance.unmount();
		}
	});
});

describe('keys that are Object.prototype names', () => {
	test('no one-action key is found on Object.prototype', () => {
		for (const text of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
			expect(simpleAction(text)).toBeUndefined();
		}

		expect(simpleAction('q')).toEqual({type: 'quit'});
	});

	test('pasted "valueOf" does nothing; pasted "constructor" is its keys one by one (s opens the save dialog)', async () => {
		const store = makeStore();
		connect(store, a);
		store.dispatch(sample(a, 0, 1_048_576, 1000));
		const dispatched: Action[] = [];
		const recording: Store = {
			...store,
			dispatch(action) {
				dispatched.push(action);
				store.dispatch(action);
			},
		};
		const before = store.getState();
		const {lastFrame, stdin} = render(<LiveApp store={recording} size={{columns: 100, rows: 40}} onAnswer={() => undefined}/>);
		await settle();
		const frame = lastFrame();
		stdin.write('valueOf');
		await settle();
		expect(dispatched).toEqual([]);
		expect(store.getState()).toBe(before);
		expect(lastFrame()).toBe(frame);

		stdin.write('constructor');
		await settle();
		expect(dispatched).toEqual([{type: 'save-open'}]);
		expect(store.getState().saving).toBe(true);
	});
});
