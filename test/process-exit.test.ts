/**
 * source/process-exit.ts on its own: signals from an EventEmitter, real Writable streams (one that
 * fails with EPIPE as a closed pipe does, one whose reader is slow), and an exit function that
 * records the code. test/e2e/pipes-signals.test.ts runs the same paths in the real binary.
 */
import {EventEmitter} from 'node:events';
import process from 'node:process';
import {Writable} from 'node:stream';
import {
	afterEach, beforeEach, describe, expect, test,
} from 'vitest';
import {
	Shutdown, sleep, type ShutdownOptions,
} from '../source/process-exit.js';

/** A stream that takes writes and keeps them (optionally holding each write until `release()`). */
function sink(options: {slow?: boolean; fail?: string} = {}) {
	const written: string[] = [];
	const held: Array<() => void> = [];
	const stream = new Writable({
		write(chunk: Uint8Array, _encoding, callback) {
			if (options.fail) {
				callback(Object.assign(new Error(`write ${options.fail}`), {code: options.fail}));
				return;
			}

			const done = () => {
				written.push(String(chunk));
				callback();
			};

			if (options.slow) {
				held.push(done);
			} else {
				done();
			}
		},
	});
	return {
		stream,
		written,
		release() {
			for (const done of held.splice(0)) {
				done();
			}
		},
	};
}

let savedExitCode: typeof process.exitCode;
beforeEach(() => {
	savedExitCode = process.exitCode;
});

afterEach(() => {
	process.exitCode = savedExitCode;
});

function setup(overrides: Partial<ShutdownOptions> = {}) {
	const signals = new EventEmitter();
	const stdout = sink();
	const stderr = sink();
	const codes: number[] = [];
	let exited: (code: number) => void;
	const exit = new Promise<number>(resolve => {
		exited = resolve;
	});
	const shutdown = new Shutdown({
		stdout: stdout.stream,
		stderr: stderr.stream,
		signals,
		exit(code) {
			codes.push(code);
			exited(code);
		},
		restoreTerminal() {
			// Not a terminal here.
		},
		...overrides,
	});
	return {
		signals, stdout, stderr, codes, exit, shutdown,
	};
}

describe('Shutdown', () => {
	test('SIGTERM with no job holding the exit: aborts and exits 143 at once', async () => {
		const {signals, shutdown, exit, codes} = setup();
		signals.emit('SIGTERM');
		expect(shutdown.signal.aborted).toBe(true);
		expect(shutdown.reason).toBe('SIGTERM');
		expect(await exit).toBe(143);
		expect(codes).toEqual([143]);
	});

	test('SIGINT with a sampling loop holding the exit: exits 130 once the loop released it', async () => {
		const {signals, shutdown, exit, codes} = setup();
		const release = shutdown.hold();
		signals.emit('SIGINT');
		expect(shutdown.signal.aborted).toBe(true);
		await sleep(20, undefined);
		expect(codes).toEqual([]);
		release();
		expect(await exit).toBe(130);
		expect(codes).toEqual([130]);
	});

	test('a job that does not end in time is cut short, running the forced-exit clean-ups', async () => {
		const {signals, shutdown, exit} = setup({graceMs: 10});
		shutdown.hold();
		const cleaned: string[] = [];
		shutdown.onForcedExit(() => cleaned.push('screen restored'));
		signals.emit('SIGHUP');
		expect(await exit).toBe(129);
		expect(cleaned).toEqual(['screen restored']);
	});

	test('a second signal while stopping exits at once', async () => {
		const {signals, shutdown, exit, codes} = setup({graceMs: 60_000});
		shutdown.hold();
		signals.emit('SIGTERM');
		signals.emit('SIGINT');
		expect(await exit).toBe(143);
		expect(codes).toEqual([143]);
	});

	test('a closed stdout (EPIPE) ends the run with exit 0 and says nothing', async () => {
		const signals = new EventEmitter();
		const stdout = sink({fail: 'EPIPE'});
		const stderr = sink();
		const codes: number[] = [];
		const shutdown = new Shutdown({
			stdout: stdout.stream,
			stderr: stderr.stream,
			signals,
			exit(code) {
				codes.push(code);
			},
			restoreTerminal() {
				// Not a terminal here.
			},
		});
		stdout.stream.write('first line\n');
		await new Promise(resolve => {
			shutdown.signal.addEventListener('abort', resolve);
		});
		expect(shutdown.reason).toBe('closed-stdout');
		// Later writes fail again: no unhandled 'error' event, no second exit.
		stdout.stream.write('second line\n');
		await sleep(10, undefined);
		expect(codes).toEqual([0]);
		expect(stderr.written).toEqual([]);
	});

	test('the exit waits until stdout has written every queued line (never half a --json line)', async () => {
		const signals = new EventEmitter();
		const stdout = sink({slow: true});
		const codes: number[] = [];
		const shutdown = new Shutdown({
			stdout: stdout.stream,
			stderr: sink().stream,
			signals,
			exit(code) {
				codes.push(code);
			},
			restoreTerminal() {
				// Not a terminal here.
			},
		});
		stdout.stream.write('{"a":1}\n');
		stdout.stream.write('{"b":2}\n');
		signals.emit('SIGTERM');
		expect(shutdown.stopping).toBe(true);
		await sleep(20, undefined);
		expect(codes).toEqual([]);
		// The stream writes one chunk at a time: let each through until the exit comes.
		while (codes.length === 0) {
			stdout.release();
			await sleep(1, undefined);
		}

		expect(stdout.written.join('')).toBe('{"a":1}\n{"b":2}\n');
		expect(codes).toEqual([143]);
	});

	test('finish() without a stop: the command\'s code, handlers removed, later signals not handled', async () => {
		const {signals, shutdown, codes} = setup();
		shutdown.finish(3);
		expect(process.exitCode).toBe(3);
		expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM') + signals.listenerCount('SIGHUP')).toBe(0);
		shutdown.stop('SIGTERM');
		await sleep(10, undefined);
		expect(codes).toEqual([]);
		expect(process.exitCode).toBe(3);
	});

	test('finish() after a stop: the stop\'s code wins', async () => {
		const {signals, shutdown, exit} = setup();
		const release = shutdown.hold();
		signals.emit('SIGINT');
		shutdown.finish(1);
		release();
		expect(await exit).toBe(130);
	});

	test('a daemon (stopIsNormal) that closed in time exits 0, as pmcd after SIGTERM', async () => {
		const {signals, shutdown, exit} = setup();
		const release = shutdown.hold({stopIsNormal: true});
		signals.emit('SIGTERM');
		release();
		expect(await exit).toBe(0);
	});

	test('a daemon that does not close in time: the signal\'s code', async () => {
		const {signals, shutdown, exit} = setup({graceMs: 10});
		shutdown.hold({stopIsNormal: true});
		signals.emit('SIGTERM');
		expect(await exit).toBe(143);
	});
});

describe('sleep', () => {
	test('the whole time: true', async () => {
		expect(await sleep(5, new AbortController().signal)).toBe(true);
	});

	test('a stop ends a long sleep: false', async () => {
		const controller = new AbortController();
		const sleeping = sleep(3_600_000, controller.signal);
		controller.abort();
		expect(await sleeping).toBe(false);
		expect(await sleep(3_600_000, controller.signal)).toBe(false);
	});
});
