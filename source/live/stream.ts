/**
 * Sampling every interval (pmval-style) as a stream: each sample goes to the format's sink
 * (NDJSON with --json, plain text blocks in a pipe or a CI log). The first failure ends the
 * run; the panes (live/panes.ts) reconnect instead.
 */
import type {Io, SessionHooks} from '../io.js';
import {exitCodes, formatError, SecmonError} from '../errors.js';
import type {MetricDesc, Sample} from '../metrics/model.js';
import type {MetricSource} from '../metrics/source.js';
import type {Plan} from '../plan.js';
import type {Sink} from '../output/format.js';
import {sleep} from '../process-exit.js';
import {openSource} from '../sources.js';
import type {HostSpec} from '../target.js';
import {PM_ERR} from '../protocols/pcp/constants.js';

function unknownNames(target: HostSpec, errors: ReadonlyArray<{name: string; message: string}>): SecmonError {
	return new SecmonError('PEER_ERROR', errors.map(({name, message}) => `${target.display}: ${name}: ${message}`).join('\n'), 'Check the metric name (secmon --host HOST lists every name).');
}

type Write = (sample: Sample, descs: ReadonlyMap<string, MetricDesc>) => void;

/**
 * Names the collector does not know, as per-metric errors after the sample's metrics: PCP's
 * PM_ERR_NAME for every protocol (docs/schema/sample.json), the collector's message.
 */
function withUnknown(write: Write, errors: ReadonlyArray<{name: string; message: string}>): Write {
	return (sample, descs) => {
		write({
			...sample,
			metrics: [...sample.metrics, ...errors.map(({name, message}) => ({name, result: {status: 'error' as const, code: PM_ERR.NAME, message}}))],
		}, descs);
	};
}

export async function runStream(plan: Plan, io: Io, hooks: SessionHooks, sink: Sink): Promise<number> {
	const {targets} = plan;
	const sources: Array<{source: MetricSource; descs: Map<string, MetricDesc>; write: Write}> = [];
	let status: number = exitCodes.ok;
	const fail = (error: unknown, target?: HostSpec) => {
		status = Math.max(status, sink.error(error, target));
	};

	for (const target of targets) {
		try {
			const source = await openSource(target, plan, hooks);
			const {descs, errors} = await source.describe(plan.metrics);
			let write = sink.collector(source);
			if (errors.length > 0 && sink.format === 'json') {
				// --json: each sample carries the unknown names as per-metric errors (readme "--json");
				// the human text goes to stderr, and the exit status is still the failure's.
				const unknown = unknownNames(target, errors);
				io.stderr.write(formatError(unknown) + '\n');
				status = Math.max(status, unknown.exitCode);
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
				continue;
			}

			sources.push({source, descs: new Map(descs.map(d => [d.name, d])), write});
		} catch (error) {
			fail(error, target);
		}
	}

	if (sources.length === 0) {
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
		for (const {source} of sources) {
			source.close();
		}
	};

	signal?.addEventListener('abort', closeAll, {once: true});
	try {
		let stopping = false;
		for (let n = 0; !stopping && (plan.samples === 0 || n < plan.samples); n++) {
			if (n > 0 && !await sleep(plan.intervalMs, signal)) {
				break;
			}

			for (const entry of sources) {
				let sample: Sample;
				try {
					sample = await entry.source.fetch();
				} catch (error) {
					if (!signal?.aborted) {
						fail(error);
					}

					stopping = true;
					break;
				}

				if (signal?.aborted) {
					stopping = true;
					break;
				}

				entry.write(sample, entry.descs);
			}
		}
	} finally {
		signal?.removeEventListener('abort', closeAll);
		closeAll();
		release?.();
	}

	return status;
}
