/**
 * `--json`: NDJSON on stdout, one object per metric per sample (render/ndjson.ts,
 * docs/design.md#ndjson-output); a failure is one `{"type":"error",…}` line there too.
 */
import {metricLine} from '../render/ndjson.js';
import {stderrWarn} from '../safe-text.js';
import type {Sink, SinkIo} from './format.js';
import {reportError} from './report.js';

export function jsonSink(io: SinkIo): Sink {
	return {
		format: 'json',
		collector(origin) {
			const source = {host: origin.host, port: origin.port, tls: origin.tls ?? null};
			return (sample, descs) => {
				// One write per line: a stop never leaves half an object (process-exit.ts).
				for (const {name, result} of sample.metrics) {
					io.stdout.write(metricLine({
						metric: name, timestamp: sample.timestamp, desc: descs.get(name), result, source,
					}) + '\n');
				}
			};
		},
		heading() {
			// Every line names its collector.
		},
		error: (error, at) => reportError(io, error, {json: true, at}),
		notice: stderrWarn(io.stderr),
	};
}
