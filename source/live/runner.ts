/**
 * The panes' controller for one collector: connect, describe, sample every interval, reconnect
 * with backoff, re-check trust on reconnect; everything it learns goes into the panes' store
 * (render/tui/state.ts), which the Ink app draws. No React here (live/panes.ts mounts the app).
 */
import {performance} from 'node:perf_hooks';
import type {SessionHooks} from '../io.js';
import {exitCodes, isSecmonError, SecmonError} from '../errors.js';
import type {MetricDesc, Sample} from '../metrics/model.js';
import {isTimeCounter} from '../metrics/time-counter.js';
import type {MetricSource} from '../metrics/source.js';
import type {Plan} from '../plan.js';
import {shortFingerprint} from '../security/certificate.js';
import type {Ask, PromptAnswer, TrustQuestion} from '../security/types.js';
import {openSource} from '../sources.js';
import type {HostSpec} from '../target.js';
import type {Store} from '../render/tui/state.js';
import type {Slots} from './fanout.js';

const ncpuName = 'hinv.ncpu';

/** The number of CPUs in a sample that has hinv.ncpu (a positive whole number), else undefined. */
export function ncpuOf(sample: Sample): number | undefined {
	const result = sample.metrics.find(metric => metric.name === ncpuName)?.result;
	const value = result?.status === 'ok' ? result.values[0]?.value : undefined;
	const count = typeof value === 'number' || typeof value === 'bigint' ? Number(value) : Number.NaN;
	return Number.isInteger(count) && count > 0 && count <= 1_000_000 ? count : undefined;
}

/**
 * What a source keeps fetching after the list changed (`d`, the browser): the names described,
 * with hinv.ncpu only while a kernel.all.cpu.* time counter still needs it or it was asked for.
 */
export function retained(names: string[], descs: MetricDesc[]): string[] {
	const needsNcpu = names.includes(ncpuName) || descs.some(desc => desc.name.startsWith('kernel.all.cpu.') && isTimeCounter(desc));
	return descs.map(desc => desc.name).filter(name => name !== ncpuName || needsNcpu);
}

/** Reconnect delays: 1, 2, 4, 8, 16, 30, 30… seconds. */
export function backoffMs(attempt: number): number {
	return Math.min(30_000, 1000 * (2 ** Math.max(0, attempt)));
}

/** The first point of the interval's grid (multiples of it since the epoch) after `time`. */
export function nextTick(time: number, intervalMs: number): number {
	return (Math.floor(time / intervalMs) + 1) * intervalMs;
}

/** Grid points that passed while a fetch due at `due` was under way until `done`: rounds its collector missed. */
export function missedRounds(due: number, done: number, intervalMs: number): number {
	return Math.max(0, Math.floor(done / intervalMs) - Math.floor(due / intervalMs));
}

/** Errors worth another attempt: the collector went away or misbehaved. Trust and usage failures stop the host. */
export function isRetryable(error: unknown): boolean {
	if (!isSecmonError(error)) {
		// Socket errors (ECONNRESET, EPIPE…) that reached us unwrapped.
		return true;
	}

	if (error.exitCode !== exitCodes.failure) {
		return false;
	}

	return ['CONNECT_FAILED', 'TIMEOUT', 'PROTOCOL', 'PEER_ERROR', 'TLS_FAILED'].includes(error.code);
}

function firstLine(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return message.split('\n')[0]!.replace(/^secmon: /v, '');
}

class Stopped extends Error {
	constructor() {
		super('stopped');
		this.name = 'Stopped';
	}
}

export type Prompts = {
	ask(host: string, question: TrustQuestion): Promise<PromptAnswer>;
	answer(id: number, answer: PromptAnswer): void;
	rejectAll(): void;
};

/** Trust questions from every runner, shown by the app one at a time (the store holds the queue). */
export function promptQueue(store: Store): Prompts {
	let nextId = 1;
	const pending = new Map<number, (answer: PromptAnswer) => void>();
	return {
		async ask(host, question) {
			return new Promise<PromptAnswer>(resolve => {
				if (store.getState().quitting) {
					resolve('reject');
					return;
				}

				const id = nextId++;
				pending.set(id, resolve);
				store.dispatch({
					type: 'prompt-open', id, host, question,
				});
			});
		},
		answer(id, answer) {
			const resolve = pending.get(id);
			pending.delete(id);
			store.dispatch({type: 'prompt-close', id});
			resolve?.(answer);
		},
		rejectAll() {
			for (const id of pending.keys()) {
				this.answer(id, 'reject');
			}
		},
	};
}

/** One collector: connect → describe → sample every interval; on failure wait and start over. */
export class HostRunner {
	readonly id: string;
	private readonly target: HostSpec;
	private readonly plan: Plan;
	private readonly hooks: SessionHooks;
	private readonly store: Store;
	private readonly prompts: Prompts;
	private source: MetricSource | undefined;
	private stopped = false;
	private wake: (() => void) | undefined;
	private attempt = 0;
	/** The certificate accepted "once" this run: accepted again without asking on reconnect. */
	private acceptedOnce: string | undefined;
	private readonly unsubscribe: () => void;
	/** Where the session is opened: a bounded number of hosts at a time (--parallel, live/fanout.ts). */
	private readonly connectSlot: Slots;

	constructor(target: HostSpec, plan: Plan, hooks: SessionHooks, store: Store, prompts: Prompts, connectSlot?: Slots) {
		this.connectSlot = connectSlot ?? (async task => task());
		this.id = target.display;
		this.target = target;
		this.plan = plan;
		this.hooks = hooks;
		this.store = store;
		this.prompts = prompts;
		let {intervalMs, paused, metrics} = store.getState();
		this.unsubscribe = store.subscribe(() => {
			const state = store.getState();
			// A metric added or removed (the browser, `d`) is described at once, not at the next tick.
			if (state.intervalMs !== intervalMs || state.paused !== paused || state.metrics !== metrics) {
				({intervalMs, paused, metrics} = state);
				this.wake?.();
			}
		});
	}

	/** The open session, for the metric browser and help texts (live/interact.ts); undefined while away. */
	get metricSource(): MetricSource | undefined {
		return this.source;
	}

	stop(): void {
		this.stopped = true;
		this.unsubscribe();
		this.wake?.();
		this.source?.close();
		this.source = undefined;
	}

	async run(): Promise<void> {
		try {
			while (!this.stopped) {
				try {
					await this.session();
					return;
				} catch (error) {
					this.source?.close();
					this.source = undefined;
					if (this.stopped || error instanceof Stopped) {
						return;
					}

					const at = Date.now();
					if (!isRetryable(error)) {
						this.store.dispatch({
							type: 'stopped',
							host: this.id,
							at,
							exitCode: isSecmonError(error) ? error.exitCode : exitCodes.failure,
							message: error instanceof Error ? error.message : String(error),
							...(isSecmonError(error) && error.hint ? {hint: error.hint} : {}),
						});
						return;
					}

					const delay = backoffMs(this.attempt++);
					this.store.dispatch({
						type: 'disconnected', host: this.id, at, reason: firstLine(error), retryAt: at + delay,
					});
					await this.sleep(delay, false);
				}
			}
		} finally {
			this.unsubscribe();
		}
	}

	private hostHooks(): SessionHooks {
		const ask: Ask = async question => {
			const {sha256} = question.certificate;
			if (this.acceptedOnce === sha256) {
				return 'once';
			}

			const asked = this.acceptedOnce === undefined
				? question
				: {...question, reason: `DIFFERENT from the certificate you accepted once earlier in this run (${shortFingerprint(this.acceptedOnce)}); ${question.reason}`};
			const answer = await this.prompts.ask(this.id, asked);
			if (answer === 'once') {
				this.acceptedOnce = sha256;
			}

			return answer;
		};

		return {
			...this.hooks,
			ask,
			warn: message => {
				this.store.dispatch({
					type: 'notice', host: this.id, at: Date.now(), text: message.trim(),
				});
			},
		};
	}

	private async session(): Promise<void> {
		this.store.dispatch({type: 'connecting', host: this.id, at: Date.now()});
		const source = await this.connectSlot(async () => openSource(this.target, this.plan, this.hostHooks()));
		if (this.stopped) {
			source.close();
			throw new Stopped();
		}

		this.source = source;
		let names = this.store.getState().metrics;
		const {descs, errors} = await source.describe(names);
		// kernel.all.cpu.* as % of all CPUs needs hinv.ncpu: described too (one more PMID in the same
		// fetch, no round trip per sample), read from each sample and not drawn unless asked for. A
		// collector without it: % of one CPU. It is asked with the metrics every time they are
		// described again (the browser adds, d removes), so it stays in the samples.
		const ncpuHelper = descs.some(desc => desc.name.startsWith('kernel.all.cpu.') && isTimeCounter(desc)) && !descs.some(desc => desc.name === ncpuName)
			&& (await source.describe([...names, ncpuName])).descs.some(desc => desc.name === ncpuName);
		const withHelper = (list: string[]) => (ncpuHelper && !list.includes(ncpuName) ? [...list, ncpuName] : list);

		this.store.dispatch({
			type: 'connected', host: this.id, at: Date.now(), tls: source.tls, descs, missing: errors, names,
		});
		if (descs.length === 0) {
			throw new SecmonError(
				'USAGE',
				`${this.id} knows none of the metrics asked for: ${errors.map(e => `${e.name} (${e.message})`).join(', ')}`,
				'Check the names (secmon --host HOST lists every metric name).',
				{exitCode: exitCodes.failure},
			);
		}

		// Rounds on the interval's grid (issue 18): every runner samples at the same instants
		// (multiples of the interval since the epoch), whatever its own fetches cost, so a slow
		// collector misses rounds of its own (counted in its status) and never shifts the others'.
		let done: number | undefined;
		let due = Date.now();
		for (;;) {
			if (done !== undefined) {
				due = await this.waitForTick(done);
			}

			// The metrics changed since (added from the browser, removed with d): describe the new list,
			// and the source fetches only that from now on (a removed pane's metric leaves the requests).
			while (names !== this.store.getState().metrics) {
				names = this.store.getState().metrics;
				const changed = names.length === 0 ? {descs: [], errors: []} : await source.describe(withHelper(names));
				if (this.stopped) {
					throw new Stopped();
				}

				source.retain?.(retained(names, changed.descs));
				const shown = new Set(names);
				this.store.dispatch({
					type: 'described', host: this.id, names, descs: changed.descs.filter(desc => shown.has(desc.name) || desc.name !== ncpuName), missing: changed.errors,
				});
			}

			if (names.length === 0) {
				// Every pane removed: nothing to fetch until one is added (then at once, off the grid).
				if (this.stopped) {
					throw new Stopped();
				}

				done = undefined;
				await this.sleep(Number.POSITIVE_INFINITY, true);
				continue;
			}

			const started = performance.now();
			const sample = await source.fetch();
			if (this.stopped) {
				throw new Stopped();
			}

			done = Date.now();
			this.attempt = 0;
			const {intervalMs} = this.store.getState();
			const ncpu = ncpuOf(sample);
			this.store.dispatch({
				type: 'sample',
				host: this.id,
				at: done,
				sample: ncpuHelper ? {...sample, metrics: sample.metrics.filter(metric => metric.name !== ncpuName)} : sample,
				rttMs: performance.now() - started,
				missed: missedRounds(due, done, intervalMs),
				...(ncpu === undefined ? {} : {ncpu}),
			});
			const {samplesWanted} = this.store.getState();
			const host = this.store.getState().hosts.find(h => h.id === this.id);
			if (samplesWanted > 0 && (host?.samples ?? 0) >= samplesWanted) {
				source.close();
				this.source = undefined;
				return;
			}
		}
	}

	/** Until the grid point after `after` (re-read when +/- or p change the interval); no sampling while paused. Returns the grid point. */
	private async waitForTick(after: number): Promise<number> {
		for (;;) {
			if (this.stopped) {
				throw new Stopped();
			}

			const {intervalMs, paused} = this.store.getState();
			if (paused) {
				await this.sleep(Number.POSITIVE_INFINITY, true);
				continue;
			}

			const tick = nextTick(after, intervalMs);
			const remaining = tick - Date.now();
			if (remaining <= 0) {
				return tick;
			}

			await this.sleep(remaining, true);
		}
	}

	/** Sleep `ms`; store changes (interval, pause) end it early when `wakeable`; stop() always does. */
	private async sleep(ms: number, wakeable: boolean): Promise<void> {
		await new Promise<void>(resolve => {
			const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
			function done() {
				clearTimeout(timer);
				resolve();
			}

			this.wake = () => {
				if (wakeable || this.stopped) {
					this.wake = undefined;
					done();
				}
			};
		});
		this.wake = undefined;
	}
}
