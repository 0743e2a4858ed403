/**
 * PCP wire shapes → the common metric model (source/metrics/model.ts). Kept
 * beside the protocol so that every front end (pminfo text, NDJSON, panes) sees
 * the same MetricDesc/MetricValues.
 */
import type {
	InstanceValue, MetricDesc, MetricType, MetricValues, Semantics, Units,
} from '../../metrics/model.js';
import {PM_SEM, PM_TYPE} from './constants.js';
import {pmErrStr} from './errors.js';
import type {PcpDesc, PcpValueSet} from './pdu.js';

/**
 * The PCP type and semantics codes under the model's names (the codes themselves are
 * constants.ts's, libpcp include/pcp/pmapi.h PM_TYPE_* and PM_SEM_*).
 */
export const pcpType = {
	noSupport: PM_TYPE.NOSUPPORT,
	i32: PM_TYPE.I32,
	u32: PM_TYPE.U32,
	i64: PM_TYPE.I64,
	u64: PM_TYPE.U64,
	float: PM_TYPE.FLOAT,
	double: PM_TYPE.DOUBLE,
	string: PM_TYPE.STRING,
	aggregate: PM_TYPE.AGGREGATE,
	aggregateStatic: PM_TYPE.AGGREGATE_STATIC,
	event: PM_TYPE.EVENT,
	highresEvent: PM_TYPE.HIGHRES_EVENT,
	unknown: PM_TYPE.UNKNOWN,
} as const;

export const pcpSem = {counter: PM_SEM.COUNTER, instant: PM_SEM.INSTANT, discrete: PM_SEM.DISCRETE} as const;

const codeOfType: Record<MetricType, number> = {
	i32: pcpType.i32,
	u32: pcpType.u32,
	i64: pcpType.i64,
	u64: pcpType.u64,
	float: pcpType.float,
	double: pcpType.double,
	string: pcpType.string,
	aggregate: pcpType.aggregate,
	event: pcpType.event,
	unknown: pcpType.unknown,
};

/** The PCP type code for a model type (desc.typeCode wins when a PCP peer gave one). */
export function pcpTypeCode(type: MetricType, typeCode?: number): number {
	return typeCode ?? codeOfType[type];
}

/** The model type for a PCP type code. */
export function metricTypeOf(code: number): MetricType {
	switch (code) {
		case pcpType.i32: {
			return 'i32';
		}

		case pcpType.u32: {
			return 'u32';
		}

		case pcpType.i64: {
			return 'i64';
		}

		case pcpType.u64: {
			return 'u64';
		}

		case pcpType.float: {
			return 'float';
		}

		case pcpType.double: {
			return 'double';
		}

		case pcpType.string: {
			return 'string';
		}

		case pcpType.aggregate:
		case pcpType.aggregateStatic: {
			return 'aggregate';
		}

		case pcpType.event:
		case pcpType.highresEvent: {
			return 'event';
		}

		default: {
			return 'unknown';
		}
	}
}

/** The PCP semantics code for model semantics (desc.semCode wins). */
export function pcpSemCode(semantics: Semantics, semCode?: number): number {
	return semCode ?? pcpSem[semantics];
}

/** Model semantics for a PCP code; undefined for codes outside 1, 3, 4. */
export function semanticsOf(code: number): Semantics | undefined {
	switch (code) {
		case pcpSem.counter: {
			return 'counter';
		}

		case pcpSem.instant: {
			return 'instant';
		}

		case pcpSem.discrete: {
			return 'discrete';
		}

		default: {
			return undefined;
		}
	}
}

const spaceNames = ['byte', 'Kbyte', 'Mbyte', 'Gbyte', 'Tbyte', 'Pbyte', 'Ebyte', 'Zbyte', 'Ybyte'];
const timeNames = ['nanosec', 'microsec', 'millisec', 'sec', 'min', 'hour'];

function dimension(name: string, dim: number): string {
	const power = Math.abs(dim);
	return power === 1 ? name : `${name}^${power}`;
}

/**
 * libpcp pmUnitsStr (units.c): positive dimensions (space, time, count), then
 * "/ " and the negative ones; "" when every dimension is 0 and scaleCount is 0,
 * "x 10^N" when only scaleCount is set. Unknown scales print "space-N" / "time-N".
 */
export function pmUnitsStr(units: Units): string {
	const space = spaceNames[units.scaleSpace] ?? `space-${units.scaleSpace}`;
	const time = timeNames[units.scaleTime] ?? `time-${units.scaleTime}`;
	const count = units.scaleCount === 0 ? 'count' : (units.scaleCount === 1 ? 'count x 10' : `count x 10^${units.scaleCount}`);
	const dims: Array<[string, number]> = [[space, units.dimSpace], [time, units.dimTime], [count, units.dimCount]];
	const parts: string[] = [];
	for (const [name, dim] of dims) {
		if (dim > 0) {
			parts.push(dimension(name, dim));
		}
	}

	if (dims.some(([, dim]) => dim < 0)) {
		parts.push('/');
		for (const [name, dim] of dims) {
			if (dim < 0) {
				parts.push(dimension(name, dim));
			}
		}
	}

	if (parts.length > 0) {
		return parts.join(' ');
	}

	if (units.scaleCount === 0) {
		return '';
	}

	return units.scaleCount === 1 ? 'x 10' : `x 10^${units.scaleCount}`;
}

/** pmUnitsStr as pminfo -d and pmval print it: "none" for no units. */
export function unitsText(units: Units): string {
	return pmUnitsStr(units) || 'none';
}

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
