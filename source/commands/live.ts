/**
 * Sampling every interval (pmval-style) without a terminal UI: NDJSON with
 * --json, plain text blocks when stdout is not a terminal. In a terminal the
 * Ink panes take over (source/render/tui), loaded only then.
 */
import type {Io, SessionHooks} from '../io.js';
import {
	errorJson, exitCodes, formatError, SecmonError,
} from '../errors.js';
import type {MetricDesc, Sample} from '../metrics/model.js';
import type {MetricSource} from '../metrics/source.js';
import {toRates} from '../metrics/rate.js';
import type {Plan} from '../plan.js';
import {metricLine} from '../render/ndjson.js';
import {renderTextSample} from '../render/text.js';
import {sleep} from '../process-exit.js';
import {openSource} from '../sources.js';
import type {HostSpec} from '../target.js';
import {safeJson} from '../safe-text.js';

function exitCodeOf(error: unknown): number {
	return error instanceof SecmonError ? error.exitCode : exitCodes.failure;
}

export {openSource} from '../sources.js';

export async function runLive(plan: Plan, io: Io, hooks: SessionHooks): Promise<number> {
	if (plan.output === 'tui') {
		const {runTui} = await import('../render/tui/run.js');
		return runTui(plan, io, hooks);
	}

	const {targets} = plan;
	const sources: Array<{source: MetricSource; descs: Map<string, MetricDesc>; previous?: Sample}> = [];
	let status: number = exitCodes.ok;
	const fail = (error: unknown, target?: HostSpec) => {
		if (plan.json) {
			io.stdout.write(safeJson({...errorJson(error), ...(target ? {host: target.host, port: target.port} : {})}) + '\n');
		}

		io.stderr.write(formatError(error) + '\n');
		status = Math.max(status, exitCodeOf(error));
	};

	for (const target of targets) {
		try {
			const source = await openSource(target, plan, hooks);
			const {descs, errors} = await source.describe(plan.metrics);
			for (const {name, message} of errors) {
				fail(new SecmonError('PEER_ERROR', `${target.display}: ${name}: ${message}`, 'Check the metric name (secmon --host HOST lists every name).'), target);
			}

			sources.push({source, descs: new Map(descs.map(d => [d.name, d]))});
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

				if (plan.json) {
					// One write per line: a stop never leaves half an object (process-exit.ts).
					const where = {host: entry.source.host, port: entry.source.port, tls: entry.source.tls ?? null};
					for (const {name, result} of sample.metrics) {
						io.stdout.write(metricLine({
							metric: name, timestamp: sample.timestamp, desc: entry.descs.get(name), result, source: where,
						}) + '\n');
					}
				} else {
					const rows = toRates(entry.previous, sample, entry.descs, plan.raw);
					io.stdout.write(renderTextSample({
						target: entry.source.target, timestamp: sample.timestamp, rows, tls: entry.source.tls, first: n === 0,
					}));
				}

				entry.previous = sample;
			}
		}
	} finally {
		signal?.removeEventListener('abort', closeAll);
		closeAll();
		release?.();
	}

	return status;
}
