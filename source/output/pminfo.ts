/**
 * pminfo's text (render/pminfo.ts): the values of a sample as `pminfo -f` prints them. The PCP
 * job (commands/pminfo.ts) writes its richer blocks (descriptors, help, PMIDs) itself in this
 * format; other collectors' values come through `collector`.
 */
import {renderMetricBlock} from '../render/pminfo.js';
import {stderrWarn, terminalSafe} from '../safe-text.js';
import type {Sink, SinkIo, SinkOptions} from './format.js';
import {reportError} from './report.js';

export function pminfoSink(io: SinkIo, options: SinkOptions): Sink {
	// pminfo's output: the collector's exact bytes for scripts, inert on a terminal.
	const stdout = terminalSafe(io.stdout);
	const show = {
		...options.show, fetch: true, pmid: false, pmidLong: false,
	};
	return {
		format: 'pminfo',
		collector() {
			return (sample, descs) => {
				for (const {name, result} of sample.metrics) {
					const desc = descs.get(name);
					stdout(renderMetricBlock({
						name, show, pmid: 0, desc, values: result, oneline: desc?.oneline,
					}).stdout);
				}
			};
		},
		heading(display) {
			io.stdout.write(`\n== ${display} ==\n`);
		},
		error: (error, at) => reportError(io, error, {json: false, at}),
		notice: stderrWarn(io.stderr),
	};
}
