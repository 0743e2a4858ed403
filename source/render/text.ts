/**
 * Plain text samples for pipes and logs (no Ink): one block per collector per
 * interval, one line per instance, values scaled for reading, counters as rates.
 */
import type {MetricDesc, MetricValues} from '../metrics/model.js';
import type {TlsFacts} from '../security/types.js';
import {safeText} from '../safe-text.js';
import {pcpTypeCode} from '../protocols/pcp/model.js';
import {pmPrintValue} from './pcp-format.js';
import {joinScaled, scaleValue} from './units.js';

export type TextRow = {name: string; desc?: MetricDesc; result: MetricValues; rate: boolean};

function formatOne(value: number | bigint | string | Uint8Array, desc: MetricDesc | undefined, rate: boolean): string {
	if (typeof value === 'number' || typeof value === 'bigint') {
		return desc ? joinScaled(scaleValue(value, desc.units, {rate})) : String(value);
	}

	return safeText(desc ? pmPrintValue(pcpTypeCode(desc.type, desc.typeCode), value) : String(value));
}

function isSingular(result: MetricValues): boolean {
	return result.status === 'ok' && result.values.length === 1 && (result.values[0]!.instance ?? -1) === -1;
}

/**
 * One block: a header line (time, collector, TLS or PLAIN TEXT), then each metric. Singular values
 * share one column; instance rows are aligned per metric, values right-aligned like pmval's.
 */
export function renderTextSample(input: {target: string; timestamp: Date; rows: TextRow[]; tls: TlsFacts | undefined; first: boolean}): string {
	const security = input.tls ? `TLS ${input.tls.version}, ${input.tls.basis}` : 'PLAIN TEXT (not encrypted)';
	let out = `${input.timestamp.toISOString()}  ${input.target}  ${security}\n`;
	// Names, instance names, values and error texts come from the collector: inert for a terminal.
	const rows = input.rows.map(row => ({...row, name: safeText(row.name)}));
	const nameWidth = Math.max(0, ...rows.filter(row => isSingular(row.result)).map(row => row.name.length));
	for (const row of rows) {
		const {result} = row;
		if (result.status === 'error') {
			out += `  ${row.name}: error: ${safeText(result.message)}\n`;
			continue;
		}

		if (result.status === 'novalues' || result.values.length === 0) {
			out += row.rate && input.first ? `  ${row.name}: (rate after the next sample)\n` : `  ${row.name}: no values\n`;
			continue;
		}

		if (isSingular(result)) {
			out += `  ${row.name.padEnd(nameWidth)}  ${formatOne(result.values[0]!.value, row.desc, row.rate)}\n`;
			continue;
		}

		out += `  ${row.name}\n`;
		const names = result.values.map(value => safeText(value.name ?? String(value.instance)));
		const texts = result.values.map(value => formatOne(value.value, row.desc, row.rate));
		const width = Math.max(8, ...names.map(name => name.length));
		const valueWidth = Math.max(...texts.map(text => text.length));
		for (const [index, name] of names.entries()) {
			out += `    ${name.padEnd(width)}  ${texts[index]!.padStart(valueWidth)}\n`;
		}
	}

	return out;
}
