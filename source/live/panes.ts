/**
 * The live panes (a terminal): one HostRunner per collector (live/runner.ts) feeding the panes'
 * store, drawn by render/tui (loaded only here, after the store exists); quits on `q`, a signal,
 * or when every collector is done, then prints the summary.
 */
import process from 'node:process';
import {performance} from 'node:perf_hooks';
import type {Io, SessionHooks} from '../io.js';
import {colorWanted} from '../color.js';
import {exitCodes} from '../errors.js';
import type {Plan} from '../plan.js';
import {parseHostSpec} from '../target.js';
import {
	allFinished, createStore, exitCodeOf, initialState,
} from '../render/tui/state.js';
import {finalText} from '../render/tui/summary.js';
import {panesThresholds, serveRequests, setSaver} from './interact.js';
import {HostRunner, promptQueue} from './runner.js';

export async function runPanes(plan: Plan, io: Io, hooks: SessionHooks): Promise<number> {
	const stdout = (io.stdout as NodeJS.WriteStream).isTTY ? io.stdout as NodeJS.WriteStream : process.stdout;
	const {loadPanes} = await import('../render/tui/mount.js');
	const drawer = await loadPanes({color: colorWanted(stdout, io.env)});

	const seen = new Set<string>();
	const targets = (plan.targets.length > 0 ? plan.targets : [parseHostSpec('localhost')]).filter(target => {
		const fresh = !seen.has(target.display);
		seen.add(target.display);
		return fresh;
	});
	const store = createStore(initialState({
		hosts: targets.map(target => ({id: target.display, secureMode: plan.security(target).mode})),
		metrics: plan.metrics,
		intervalMs: plan.intervalMs,
		raw: plan.raw,
		samples: plan.samples,
		now: Date.now(),
		thresholds: panesThresholds(plan.thresholds),
	}));
	const prompts = promptQueue(store);

	const quit = () => {
		store.dispatch({type: 'quit'});
	};

	// SIGINT, SIGTERM, SIGHUP (process-exit.ts): quit as `q` does; the exit waits for Ink to be
	// unmounted and the screen restored, or restores it itself if this takes too long.
	const {shutdown} = io;
	const signal = shutdown?.signal;
	if (signal?.aborted) {
		return exitCodes.ok;
	}

	signal?.addEventListener('abort', quit, {once: true});
	const release = shutdown?.hold();
	const forget = shutdown?.onForcedExit(() => {
		stdout.write(drawer.restoreScreen);
	});
	// "retry in N s" counts down: a clock tick while something waits.
	const clock = setInterval(() => {
		const state = store.getState();
		if (state.hosts.some(host => host.retryAt !== undefined)) {
			store.dispatch({type: 'clock', now: Date.now()});
		}

		// With NODE_ENV=development React still records user-timing entries: do not let them pile up.
		performance.clearMeasures();
		performance.clearMarks();
	}, 1000);

	const panes = drawer.mount({
		store,
		stdout,
		onAnswer(id, answer) {
			prompts.answer(id, answer);
		},
	});
	// Sessions opened --parallel at a time (first contact and reconnects), as the other modes do.
	const {slots} = await import('./fanout.js');
	const connectSlot = slots(plan.parallel);
	const runners = targets.map(target => new HostRunner(target, plan, hooks, store, prompts, connectSlot));
	const running = runners.map(async runner => runner.run());
	// `/` (names), help texts and `s` (save the set), answered beside the sampling.
	const stopServing = serveRequests(store, host => runners.find(runner => runner.id === host)?.metricSource, setSaver(plan, io.env, store));
	try {
		await new Promise<void>(resolve => {
			const check = () => {
				const state = store.getState();
				if (state.quitting || allFinished(state)) {
					resolve();
				}
			};

			store.subscribe(check);
			check();
		});
	} finally {
		clearInterval(clock);
		stopServing();
		signal?.removeEventListener('abort', quit);
		prompts.rejectAll();
		for (const runner of runners) {
			runner.stop();
		}

		// q, -s N or every collector done: the last frame stays; a signal leaves the screen as it was.
		await panes.unmount({keepFrame: !signal?.aborted});
		forget?.();
		release?.();
	}

	if (signal?.aborted) {
		// Stopped by a signal: no summary, the shell shows the status.
		void Promise.allSettled(running);
		return exitCodes.ok;
	}

	const state = store.getState();
	const code = exitCodeOf(state);
	// The last frame is on the screen (mount.ts); what must not vanish goes to stderr too.
	const {stderr: error} = finalText(state);
	if (error) {
		io.stderr.write(error);
	}

	// Runners end on their own once stopped (an in-flight connect is bounded by --timeout).
	void Promise.allSettled(running);
	return code;
}
