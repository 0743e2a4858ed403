/**
 * Plain text samples for pipes and logs (render/text.ts): one block per collector per sample,
 * counters as rates against the collector's previous sample unless -r asks for raw values.
 */
import type {Sample} from '../metrics/model.js';
import {toRates} from '../metrics/rate.js';
import {renderTextSample} from '../render/text.js';
import {stderrWarn} from '../safe-text.js';
import type {Sink, SinkIo, SinkOptions} from './format.js';
import {reportError} from './report.js';

export function textSink(io: SinkIo, options: SinkOptions): Sink {
	const warn = stderrWarn(io.stderr);
	return {
		format: 'text',
		collector(origin) {
			let previous: Sample | undefined;
			return (sample, descs) => {
				const rows = toRates(previous, sample, descs, options.raw);
				io.stdout.write(renderTextSample({
					target: origin.target, timestamp: sample.timestamp, rows, tls: origin.tls, first: previous === undefined,
				}));
				previous = sample;
			};
		},
		missed(origin, scheduled) {
			warn(`secmon: ${origin.target}: no sample for the round at ${scheduled.toISOString()}: still answering the previous request`);
		},
		heading() {
			// Every block names its collector.
		},
		error: (error, at) => reportError(io, error, {json: false, at}),
		notice: warn,
	};
}
