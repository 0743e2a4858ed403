/**
 * Plain text samples for pipes and logs (no Ink): one block per collector per
 * interval, one line per instance, values scaled for reading, counters as rates.
 */
import type {MetricDesc, MetricValues} from '../metrics/model.js';
import type {TlsFacts} from '../security/types.js';
import {pmPrintValue, pcpTypeCode} from './pcp-format.js';
import {joinScaled, scaleValue} from './units.js';

export type TextRow = {name: string; desc?: MetricDesc; result: MetricValues; rate: boolean};

function formatOne(value: number | bigint | string | Uint8Array, desc: MetricDesc | undefined, rate: boolean): string {
	if (typeof value === 'number' || typeof value === 'bigint') {
		return desc ? joinScaled(scaleValue(value, desc.units, {rate})) : String(value);
	}

	return desc ? pmPrintValue(pcpTypeCode(desc.type, desc.typeCode), value) : String(value);
}

export function renderTextSample(input: {target: string; timestamp: Date; rows: TextRow[]; tls: TlsFacts | undefined; first: boolean}): string {
	const security = input.tls ? `TLS ${input.tls.version}, ${input.tls.basis}` : 'PLAIN TEXT (not encrypted)';
	let out = `${input.timestamp.toISOString()}  ${input.target}  ${security}\n`;
	for (const row of input.rows) {
		const {result} = row;
		if (result.status === 'error') {
			out += `  ${row.name}: error: ${result.message}\n`;
			continue;
		}

		if (result.status === 'novalues' || result.values.length === 0) {
			out += row.rate && input.first ? `  ${row.name}: (rate after the next sample)\n` : `  ${row.name}: no values\n`;
			continue;
		}

		if (result.values.length === 1 && (result.values[0]!.instance ?? -1) === -1) {
			out += `  ${row.name}  ${formatOne(result.values[0]!.value, row.desc, row.rate)}\n`;
			continue;
		}

		out += `  ${row.name}\n`;
		for (const value of result.values) {
			out += `    ${(value.name ?? String(value.instance)).padEnd(16)}  ${formatOne(value.value, row.desc, row.rate)}\n`;
		}
	}

	return out;
}
