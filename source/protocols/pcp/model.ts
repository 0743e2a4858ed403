/**
 * PCP wire shapes → the common metric model (source/metrics/model.ts). Kept
 * beside the protocol so that every front end (pminfo text, NDJSON, panes) sees
 * the same MetricDesc/MetricValues.
 */
import type {InstanceValue, MetricDesc, MetricValues} from '../../metrics/model.js';
import {metricTypeOf, semanticsOf, unitsText} from '../../render/pcp-format.js';
import {pmErrStr} from './errors.js';
import type {PcpDesc, PcpValueSet} from './pdu.js';

export function toMetricDesc(name: string, desc: PcpDesc): MetricDesc {
	return {
		name,
		type: metricTypeOf(desc.type),
		// An unknown semantics code stays visible through semCode; "instant" is only the model's fallback.
		semantics: semanticsOf(desc.sem) ?? 'instant',
		units: desc.units,
		unitsText: unitsText(desc.units),
		pmid: desc.pmid,
		indom: desc.indom,
		typeCode: desc.type,
		semCode: desc.sem,
	};
}

export function toMetricValues(vset: PcpValueSet | undefined, instanceNames?: ReadonlyMap<number, string>): MetricValues {
	if (vset === undefined || vset.status === 'novalues') {
		return {status: 'novalues'};
	}

	if (vset.status === 'error') {
		return {status: 'error', code: vset.code, message: pmErrStr(vset.code)};
	}

	const values: InstanceValue[] = vset.values.map(atom => {
		const name = instanceNames?.get(atom.inst);
		return {
			instance: atom.inst,
			...(name === undefined ? {} : {name}),
			value: atom.value,
		};
	});
	return {status: 'ok', values};
}
