/**
 * `--json`: NDJSON on stdout, one object per metric per sample (render/ndjson.ts,
 * docs/design.md#ndjson-output, docs/schema/); a failure is one `{"type":"error",…}` line there too.
 * While sampling (the live job), counters carry their rate beside the raw value, against the
 * collector's previous sample.
 */
import type {MetricDesc, MetricValues, Sample} from '../metrics/model.js';
import {rateOf} from '../metrics/rate.js';
import {
	metricLine, missedLine, rateUnitsText, type JsonRates,
} from '../render/ndjson.js';
import {timeScale} from '../render/pmval-format.js';
import {stderrWarn} from '../safe-text.js';
import type {
	Origin, Sink, SinkIo, SinkOptions,
} from './format.js';
import {reportError} from './report.js';

/** Said for a missed round (live/stream.ts), in the JSON line and on stderr in text. */
export function missedMessage(origin: Origin, scheduled: Date): string {
	return `${origin.target}: no sample for the round at ${scheduled.toISOString()}: still answering the previous request`;
}

/** A collector's previous sample, its results by metric name (looked up once per metric, not searched). */
export type PreviousSample = {timestamp: Date; byName: Map<string, MetricValues>};

/** Indexes a sample's results by name; the first result of a name wins, as a search from the start would find. */
export function previousSample(sample: Sample): PreviousSample {
	const byName = new Map<string, MetricValues>();
	for (const {name, result} of sample.metrics) {
		if (!byName.has(name)) {
			byName.set(name, result);
		}
	}

	return {timestamp: sample.timestamp, byName};
}

/**
 * A counter's rates between two samples as pmval computes them (docs/pcp.md#pmval-output): the change
 * of the value over the change of the collector's timestamps, for a time counter in its own time
 * unit (time utilization). Null where there is none (render/ndjson.ts).
 */
export function counterRates(previous: PreviousSample | undefined, current: Sample, name: string, result: MetricValues, desc: MetricDesc): JsonRates {
	const byInstance = new Map<number, number | null>();
	const before = previous?.byName.get(name);
	if (previous && before) {
		const seconds = (current.timestamp.getTime() - previous.timestamp.getTime()) / 1000;
		for (const [instance, rate] of rateOf(before, result, seconds * timeScale(desc.units))) {
			byInstance.set(instance, rate ?? null);
		}
	}

	return {units: rateUnitsText(desc.units), byInstance};
}

export function jsonSink(io: SinkIo, options: SinkOptions): Sink {
	const sampling = options.job === 'live';
	return {
		format: 'json',
		collector(origin) {
			let previous: PreviousSample | undefined;
			return (sample, descs, meta) => {
				// The agent's answer form may change during a run (-P auto's fallback): read it per sample.
				const source = {
					host: origin.host, port: origin.port, hostspec: origin.hostspec, tls: origin.tls ?? null, agent: origin.answeredWith,
				};
				// One write per line: a stop never leaves half an object (process-exit.ts).
				for (const {name, result} of sample.metrics) {
					const desc = descs.get(name);
					const rates = sampling && desc?.semantics === 'counter' ? counterRates(previous, sample, name, result, desc) : undefined;
					io.stdout.write(metricLine({
						metric: name, timestamp: sample.timestamp, desc, result, source, rates, late: meta?.late,
					}) + '\n');
				}

				previous = sampling ? previousSample(sample) : undefined;
			};
		},
		missed(origin, scheduled) {
			io.stdout.write(missedLine(origin, scheduled, missedMessage(origin, scheduled)) + '\n');
		},
		heading() {
			// Every line names its collector.
		},
		error: (error, at) => reportError(io, error, {json: true, at}),
		notice: stderrWarn(io.stderr),
	};
}
