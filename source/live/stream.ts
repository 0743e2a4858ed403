/**
 * Sampling every interval (pmval-style) as a stream: each sample goes to the format's sink
 * (NDJSON with --json, plain text blocks in a pipe or a CI log).
 *
 * Rounds keep time (issue 18): round n is due at start + n × interval, on the interval's grid as
 * pmval schedules its samples, whatever the previous rounds cost; each round asks every collector
 * at once. A collector still answering the previous round when the next one is due misses that
 * round (the sink says so: a `missed` line in JSON) and its answer, when it comes, is marked
 * `late`; the other collectors' samples are neither delayed nor dropped. A collector that fails
 * is reported and dropped; the others go on, and the run exits with the worst code.
 */
import {performance} from 'node:perf_hooks';
import type {Io, SessionHooks} from '../io.js';
import {
	exitCodes, formatError, SecmonError, worseExitCode,
} from '../errors.js';
import type {MetricDesc, Sample} from '../metrics/model.js';
import {nameErrorResult, type MetricSource, type NameError} from '../metrics/source.js';
import type {Plan} from '../plan.js';
import type {SampleMeta, Sink} from '../output/format.js';
import {sleep} from '../process-exit.js';
import {openSource} from '../sources.js';
import type {HostSpec} from '../target.js';

function unknownNames(target: HostSpec, errors: readonly NameError[]): SecmonError {
	return new SecmonError('PEER_ERROR', errors.map(({name, message}) => `${target.display}: ${name}: ${message}`).join('\n'), 'Check the metric name (secmon --host HOST lists every name).');
}

type Write = (sample: Sample, descs: ReadonlyMap<string, MetricDesc>, meta?: SampleMeta) => void;

/**
 * Names the collector could not resolve, as per-metric errors after the sample's metrics
 * (docs/schema/sample.json): metrics/source.ts unknownMetric's code for an unknown name, whatever
 * the protocol, the collector's message.
 */
function withUnknown(write: Write, errors: readonly NameError[]): Write {
	return (sample, descs, meta) => {
		write({
			...sample,
			metrics: [...sample.metrics, ...errors.map(error => ({name: error.name, result: nameErrorResult(error)}))],
		}, descs, meta);
	};
}

type Entry = {
	target: HostSpec;
	source: MetricSource;
	descs: Map<string, MetricDesc>;
	write: Write;
	/** The fetch under way, if any. */
	busy: Promise<void> | undefined;
	failed: boolean;
};

export async function runStream(plan: Plan, io: Io, hooks: SessionHooks, sink: Sink): Promise<number> {
	const {targets} = plan;
	let status: number = exitCodes.ok;
	const fail = (error: unknown, target?: HostSpec) => {
		status = worseExitCode(status, sink.error(error, target));
	};

	const opened: Array<Entry | undefined> = [];
	const open = async (target: HostSpec, index: number, hooks: SessionHooks) => {
		try {
			const source = await openSource(target, plan, hooks);
			const {descs, errors} = await source.describe(plan.metrics);
			let write = sink.collector(source);
			if (errors.length > 0 && sink.format === 'json') {
				// --json: each sample carries the unknown names as per-metric errors (readme "--json");
				// the human text goes to stderr, and the exit status is still the failure's.
				const unknown = unknownNames(target, errors);
				io.stderr.write(formatError(unknown) + '\n');
				status = worseExitCode(status, unknown.exitCode);
				write = withUnknown(write, errors);
			} else {
				for (const error of errors) {
					fail(unknownNames(target, [error]), target);
				}
			}

			if (descs.length === 0) {
				// Nothing to sample here: --json's error lines once, then no session.
				if (sink.format === 'json') {
					write({target: source.target, timestamp: new Date(), metrics: []}, new Map());
				}

				source.close();
				return;
			}

			opened[index] = {
				target, source, descs: new Map(descs.map(d => [d.name, d])), write, busy: undefined, failed: false,
			};
		} catch (error) {
			fail(error, target);
		}
	};

	if (targets.length === 1) {
		await open(targets[0]!, 0, hooks);
	} else {
		const {forEachBounded, oneAtATime} = await import('./fanout.js');
		const shared = hooks.ask === undefined ? hooks : {...hooks, ask: oneAtATime(hooks.ask)};
		await forEachBounded(targets, plan.parallel, async (target, index) => open(target, index, shared));
	}

	// In --host order, whatever order the sessions opened in.
	const entries = opened.filter(entry => entry !== undefined);
	if (entries.length === 0) {
		return status;
	}

	// A signal or a closed stdout (process-exit.ts): the sleep ends, the sessions close at once
	// (a fetch under way fails and is not reported), and the exit waits for this loop.
	const signal = io.shutdown?.signal;
	const release = io.shutdown?.hold();
	let closed = false;
	const closeAll = () => {
		if (closed) {
			return;
		}

		closed = true;
		for (const {source} of entries) {
			source.close();
		}
	};

	const sampleOne = async (entry: Entry, nextRoundAt: number) => {
		try {
			const sample = await entry.source.fetch();
			if (signal?.aborted || closed) {
				return;
			}

			entry.write(sample, entry.descs, performance.now() > nextRoundAt ? {late: true} : undefined);
		} catch (error) {
			if (!signal?.aborted && !closed) {
				fail(error, entry.target);
			}

			entry.failed = true;
			entry.source.close();
			if (entries.every(other => other.failed)) {
				// Nothing left to sample: end now rather than at the next round.
				rounds.abort();
			}
		} finally {
			entry.busy = undefined;
		}
	};

	// Ends the wait for the next round: a stop, or the last collector gone.
	const rounds = new AbortController();
	const stopRounds = () => {
		rounds.abort();
	};

	signal?.addEventListener('abort', closeAll, {once: true});
	signal?.addEventListener('abort', stopRounds, {once: true});
	try {
		const start = performance.now();
		const startWall = Date.now();
		for (let n = 0; plan.samples === 0 || n < plan.samples; n++) {
			const due = start + (n * plan.intervalMs);
			if (n > 0 && !await sleep(Math.max(0, due - performance.now()), rounds.signal)) {
				break;
			}

			const live = entries.filter(entry => !entry.failed);
			if (live.length === 0 || rounds.signal.aborted) {
				break;
			}

			for (const entry of live) {
				if (entry.busy) {
					sink.missed?.(entry.source, new Date(startWall + (n * plan.intervalMs)));
					continue;
				}

				entry.busy = sampleOne(entry, due + plan.intervalMs);
			}
		}

		// The last rounds' answers (each bounded by the request timeout).
		await Promise.all(entries.map(async entry => entry.busy));
	} finally {
		signal?.removeEventListener('abort', closeAll);
		signal?.removeEventListener('abort', stopRounds);
		closeAll();
		release?.();
	}

	return status;
}
