/**
 * Event record arrays unpacked as libpcp's pmUnpackEventRecords / pmUnpackHighResEventRecords
 * do (src/libpcp/src/events.c, 6.0.3: check_event_records, count_event_parameters,
 * add_event_parameter), for pminfo -x (docs/pcp.md#pminfo-habits). Input: a PM_TYPE_EVENT or
 * PM_TYPE_HIGHRES_EVENT value block after its header, in network byte order. Pure: no I/O.
 */
import type {Value} from '../../metrics/model.js';
import {PM_ERR, PM_TYPE} from './constants.js';

/**
 * Distinct parameter metrics pminfo -x asks pmcd about in one run (their names and descriptors).
 * The records come from pmcd, which could name a new PMID in every parameter (thousands in one
 * fetch, each costing a request); the others print by PMID (docs/pcp.md#pminfo-habits).
 */
export const maxEventParameterPmids = 256;

export const PM_EVENT_FLAG = {
	POINT: 0x1,
	START: 0x2,
	END: 0x4,
	ID: 0x8,
	PARENT: 0x10,
	MISSED: 0x80_00_00_00,
} as const;

/**
 * One parameter as libpcp hands it to pminfo: a metric's value, or the anonymous `event.flags`
 * (first, when the record's flags are not 0) and `event.missed` (second, for a MISSED record).
 */
export type EventParameter
	= | {kind: 'flags'; flags: number}
		| {kind: 'missed'; count: number}
		| {kind: 'value'; pmid: number; type: number; value: Value};

export type EventRecord = {
	/** Seconds since the epoch. */
	sec: number;
	/** Microseconds (PM_TYPE_EVENT) or nanoseconds (PM_TYPE_HIGHRES_EVENT). */
	fraction: number;
	params: EventParameter[];
};

/** The parameters' value bytes (a string ends at its NUL, as C prints it). */
function parameterValue(view: DataView, at: number, type: number, length: number): Value | undefined {
	switch (type) {
		case PM_TYPE.I32: {
			return view.getInt32(at);
		}

		case PM_TYPE.U32: {
			return view.getUint32(at);
		}

		case PM_TYPE.I64: {
			return view.getBigInt64(at);
		}

		case PM_TYPE.U64: {
			return view.getBigUint64(at);
		}

		case PM_TYPE.FLOAT: {
			return view.getFloat32(at);
		}

		case PM_TYPE.DOUBLE: {
			return view.getFloat64(at);
		}

		case PM_TYPE.STRING: {
			const bytes = new Uint8Array(view.buffer, view.byteOffset + at, length);
			const nul = bytes.indexOf(0);
			return Buffer.from(nul === -1 ? bytes : bytes.subarray(0, nul)).toString('utf8');
		}

		case PM_TYPE.AGGREGATE:
		case PM_TYPE.AGGREGATE_STATIC: {
			return new Uint8Array(view.buffer, view.byteOffset + at, length).slice();
		}

		default: {
			// Events inside events and unknown types: PM_ERR_TYPE (add_event_parameter).
			return undefined;
		}
	}
}

const fixedSize = new Map<number, number>([
	[PM_TYPE.I32, 4], [PM_TYPE.U32, 4], [PM_TYPE.I64, 8], [PM_TYPE.U64, 8], [PM_TYPE.FLOAT, 4], [PM_TYPE.DOUBLE, 8],
]);

/**
 * The records, or the PCP error libpcp returns for the same bytes: PM_ERR_TOOSMALL (no record
 * count or a negative one), PM_ERR_TOOBIG (a record or parameter past the end), PM_ERR_CONV
 * (MISSED with other flags), PM_ERR_TYPE (a parameter that is an event array or of no known type).
 * Everything read is inside `bytes`: a count cannot make it read or allocate more.
 */
export function unpackEventRecords(bytes: Uint8Array, highres: boolean): {records: EventRecord[]} | {error: number} {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes.byteLength < 4) {
		return {error: PM_ERR.TOOSMALL};
	}

	const nrecords = view.getInt32(0);
	if (nrecords < 0) {
		return {error: PM_ERR.TOOSMALL};
	}

	const headerSize = highres ? 24 : 16;
	const records: EventRecord[] = [];
	let base = 4;
	for (let r = 0; r < nrecords; r++) {
		if (base + headerSize > bytes.byteLength) {
			return {error: PM_ERR.TOOBIG};
		}

		const sec = highres ? Number(view.getBigInt64(base)) : view.getInt32(base);
		const fraction = highres ? Number(view.getBigInt64(base + 8)) : view.getInt32(base + 4);
		const flags = view.getUint32(base + headerSize - 8);
		let nparams = view.getInt32(base + headerSize - 4);
		base += headerSize;
		const params: EventParameter[] = [];
		if ((flags & PM_EVENT_FLAG.MISSED) !== 0) {
			if (flags !== PM_EVENT_FLAG.MISSED) {
				return {error: PM_ERR.CONV};
			}

			params.push({kind: 'flags', flags}, {kind: 'missed', count: nparams});
			nparams = 0;
		} else if (flags !== 0) {
			params.push({kind: 'flags', flags});
		}

		for (let p = 0; p < nparams; p++) {
			if (base + 8 > bytes.byteLength) {
				return {error: PM_ERR.TOOBIG};
			}

			const pmid = view.getUint32(base);
			const word = view.getUint32(base + 4);
			const type = word >>> 24;
			const length = word & 0xff_ff_ff;
			const size = 4 + (Math.ceil(length / 4) * 4);
			if (base + size > bytes.byteLength || length < 4) {
				return {error: PM_ERR.TOOBIG};
			}

			const payload = fixedSize.get(type) ?? length - 4;
			if (payload > length - 4) {
				return {error: PM_ERR.TOOBIG};
			}

			const value = parameterValue(view, base + 8, type, payload);
			if (value === undefined) {
				return {error: PM_ERR.TYPE};
			}

			params.push({
				kind: 'value', pmid, type, value,
			});
			base += size;
		}

		records.push({sec, fraction, params});
	}

	return {records};
}

/** pmEventFlagsStr: "missed", or the names of the set flags joined by commas. */
export function eventFlagsText(flags: number): string {
	if ((flags & PM_EVENT_FLAG.MISSED) !== 0) {
		return 'missed';
	}

	return ([
		[PM_EVENT_FLAG.POINT, 'point'],
		[PM_EVENT_FLAG.START, 'start'],
		[PM_EVENT_FLAG.END, 'end'],
		[PM_EVENT_FLAG.ID, 'id'],
		[PM_EVENT_FLAG.PARENT, 'parent'],
	] as const).filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name).join(',');
}
