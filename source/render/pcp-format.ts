/**
 * libpcp's text conversions (PCP 6.0.3 util.c), as pure functions: pmPrintValue, pmIDStr,
 * pmInDomStr, pmSemStr, pmTypeStr and the type names pminfo -d prints (pminfo.c mytypestr).
 * The type and semantics codes and pmUnitsStr live with the protocol (protocols/pcp/model.ts).
 */
import {
	PM_ID_NULL,
	PM_INDOM_NULL,
	pmidDomain as pmIdDomain,
	pmidCluster as pmIdCluster,
	pmidItem as pmIdItem,
	indomDomain as pmInDomDomain,
	indomSerial as pmInDomSerial,
} from '../protocols/pcp/constants.js';
import type {Value} from '../metrics/model.js';
import {pcpType, semanticsOf} from '../protocols/pcp/model.js';
import {formatG, widenFloat32} from './printf.js';

/** PM_ERR_INST's text, printed by pminfo for a value whose instance is not in the indom. */
export const unknownInstanceText = 'Unknown or illegal instance identifier';

const typeNames = new Map<number, string>([
	[pcpType.i32, '32-bit int'],
	[pcpType.u32, '32-bit unsigned int'],
	[pcpType.i64, '64-bit int'],
	[pcpType.u64, '64-bit unsigned int'],
	[pcpType.float, 'float'],
	[pcpType.double, 'double'],
	[pcpType.string, 'string'],
	[pcpType.aggregate, 'aggregate'],
	[pcpType.aggregateStatic, 'static aggregate'],
	[pcpType.event, 'event record array'],
	[pcpType.highresEvent, 'highres event record array'],
	[pcpType.noSupport, 'Not Supported'],
]);

/** pminfo's mytypestr: "32-bit int" … or "???" (pminfo then adds " (N)"). */
export function typeName(code: number): string {
	return typeNames.get(code) ?? '???';
}

/** pminfo -d's "Data Type:" text: the type name, and " (N)" after "???". */
export function typeText(code: number): string {
	const name = typeName(code);
	return name === '???' ? `??? (${code})` : name;
}

const shortTypeNames = ['32', 'U32', '64', 'U64', 'FLOAT', 'DOUBLE', 'STRING', 'AGGREGATE', 'AGGREGATE_STATIC', 'EVENT', 'HIGHRES_EVENT'];

/** libpcp pmTypeStr: "32", "U32", … "NO_SUPPORT", "UNKNOWN", "???". */
export function pmTypeStr(code: number): string {
	if (code >= 0 && code < shortTypeNames.length) {
		return shortTypeNames[code]!;
	}

	if (code === pcpType.noSupport) {
		return 'NO_SUPPORT';
	}

	return code === pcpType.unknown ? 'UNKNOWN' : '???';
}

/** libpcp pmSemStr: "counter", "instant", "discrete" or "???". */
export function pmSemStr(code: number): string {
	return semanticsOf(code) ?? '???';
}

/** pminfo -d's "Semantics:" text: pmSemStr, and " (N)" after "???". */
export function semText(code: number): string {
	const name = pmSemStr(code);
	return name === '???' ? `??? (${code})` : name;
}

// Identifier fields and units words live with the protocol (docs/pcp.md#identifiers); re-exported for renderers.
export {
	pmidDomain as pmIdDomain,
	pmidCluster as pmIdCluster,
	pmidItem as pmIdItem,
	pmid as pmIdBuild,
	indomDomain as pmInDomDomain,
	indomSerial as pmInDomSerial,
	pmInDom as pmInDomBuild,
} from '../protocols/pcp/constants.js';
export {decodeUnits as unitsFromWord, encodeUnits as unitsToWord} from '../protocols/pcp/pdu.js';

/** DYNAMIC_PMID: domain 511 with item 0 marks the root of a dynamic subtree (pmapi.h IS_DYNAMIC_ROOT). */
const dynamicPmidDomain = 511;

/** libpcp pmIDStr: "D.C.I", "D.*.*" for a dynamic subtree root (D from the cluster field), "PM_ID_NULL". */
export function pmIDStr(pmid: number): string {
	const id = pmid >>> 0;
	if (id === PM_ID_NULL) {
		return 'PM_ID_NULL';
	}

	if (pmIdDomain(id) === dynamicPmidDomain && pmIdItem(id) === 0) {
		return `${pmIdCluster(id)}.*.*`;
	}

	return `${pmIdDomain(id)}.${pmIdCluster(id)}.${pmIdItem(id)}`;
}

/** libpcp pmInDomStr: "D.S" or "PM_INDOM_NULL". */
export function pmInDomStr(indom: number): string {
	const id = indom >>> 0;
	return id === PM_INDOM_NULL ? 'PM_INDOM_NULL' : `${pmInDomDomain(id)}.${pmInDomSerial(id)}`;
}

/** C's `0x%x` of an unsigned 32-bit word: lower case, no leading zeros ("0xf000002"). */
export function hex32(word: number): string {
	return `0x${(word >>> 0).toString(16)}`;
}

function isPrintable(byte: number): boolean {
	// isprint() in the C locale.
	return byte >= 0x20 && byte <= 0x7e;
}

function latin1(bytes: Uint8Array): string {
	let text = '';
	for (const byte of bytes) {
		text += String.fromCharCode(byte);
	}

	return text;
}

function hexBytes(bytes: Uint8Array): string {
	let text = '';
	for (const byte of bytes) {
		text += byte.toString(16).padStart(2, '0');
	}

	return text;
}

/**
 * pmPrintValue of an AGGREGATE (util.c): an 8-byte block is first read as a
 * u64 and (unless NaN) a double, a 4-byte block as a float (unless NaN); then
 * `"text"` when every byte is printable; then `[hex]`; all space-separated.
 * The readings use the host byte order of the machine pminfo runs on; this
 * follows the little-endian hosts PCP is deployed on (x86-64, aarch64).
 */
export function formatAggregate(bytes: Uint8Array): string {
	const parts: string[] = [];
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes.length === 8) {
		parts.push(view.getBigUint64(0, true).toString());
		const double = view.getFloat64(0, true);
		if (!Number.isNaN(double)) {
			parts.push(formatG(double, 16));
		}
	}

	if (bytes.length === 4) {
		const float = view.getFloat32(0, true);
		if (!Number.isNaN(float)) {
			parts.push(formatG(float, 8));
		}
	}

	if (bytes.every(byte => isPrintable(byte))) {
		parts.push(`"${latin1(bytes)}"`);
	}

	parts.push(`[${hexBytes(bytes)}]`);
	return parts.join(' ');
}

/** %d, %u, %lld, %llu: the value as C sees those bits. */
function integerText(typeCode: number, value: Value): string {
	if (typeof value === 'bigint') {
		switch (typeCode) {
			case pcpType.i32: {
				return BigInt.asIntN(32, value).toString();
			}

			case pcpType.u32: {
				return BigInt.asUintN(32, value).toString();
			}

			case pcpType.i64: {
				return BigInt.asIntN(64, value).toString();
			}

			case pcpType.u64: {
				return BigInt.asUintN(64, value).toString();
			}

			default: {
				return value.toString();
			}
		}
	}

	if (typeof value === 'number') {
		if (!Number.isSafeInteger(value)) {
			// A non-integer here is a decoder bug: print it plainly rather than lie.
			return formatG(value, 16);
		}

		if (typeCode === pcpType.i32) {
			return (value | 0).toString();
		}

		if (typeCode === pcpType.u32) {
			return (value >>> 0).toString();
		}

		return integerText(typeCode, BigInt(value));
	}

	return typeof value === 'string' ? `"${value}"` : formatAggregate(value);
}

/**
 * pmPrintValue for PM_TYPE_UNKNOWN: a value block prints as an aggregate; an
 * in-situ 32-bit word as "%u %.8g 0x%x" (the float reading left out when it
 * is NaN).
 */
function unknownText(value: Value): string {
	if (value instanceof Uint8Array) {
		return formatAggregate(value);
	}

	if (typeof value === 'string') {
		return formatAggregate(new TextEncoder().encode(value));
	}

	if (typeof value === 'bigint') {
		return value.toString();
	}

	const view = new DataView(new ArrayBuffer(4));
	view.setUint32(0, value >>> 0);
	const float = view.getFloat32(0);
	const word = view.getUint32(0);
	return Number.isNaN(float) ? `${word} ${hex32(word)}` : `${word} ${formatG(float, 8)} ${hex32(word)}`;
}

/** The PCP type pminfo would have used for a value whose descriptor is missing. */
export function typeCodeOfValue(value: Value): number {
	if (typeof value === 'bigint') {
		return value < 0n ? pcpType.i64 : pcpType.u64;
	}

	if (typeof value === 'number') {
		return pcpType.double;
	}

	return typeof value === 'string' ? pcpType.string : pcpType.aggregate;
}

/**
 * pmPrintValue(f, valfmt, type, val, 1): one value as pminfo prints it after
 * "value ". 32/64-bit integers as decimal, FLOAT `%.8g` of the float widened
 * to double, DOUBLE `%.16g`, STRING in double quotes without escaping,
 * AGGREGATE per formatAggregate. Event records are not decoded by secmon: their
 * raw bytes print like PM_TYPE_UNKNOWN (an aggregate), not as libpcp's
 * "[N event records …]" summary.
 */
const PM_EVENT_FLAG_MISSED = 0x80_00_00_00;

const two = (n: number) => String(n).padStart(2, '0');

/** __pmPrintStamp / __pmPrintHighResStamp: HH:MM:SS in local time (TZ), then the fraction. */
export function stampText(seconds: number, fraction: string): string {
	const date = new Date(seconds * 1000);
	return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${fraction}`;
}

/**
 * print_event_summary() (libpcp util.c) on a pmEventArray or pmHighResEventArray after its
 * value-block header, in network byte order: "[N event records (M missed) timestamps A...B]".
 * As upstream, a record flagged MISSED adds its nparams to the missed count and does not advance
 * the walk. A truncated array prints as an aggregate.
 */
export function eventSummary(bytes: Uint8Array, highres: boolean): string {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const recordHeader = highres ? 24 : 16;
	const stampAt = (offset: number): string => {
		if (highres) {
			const nsec = Number(view.getBigInt64(offset + 8));
			return stampText(Number(view.getBigInt64(offset)), String(nsec).padStart(9, '0'));
		}

		const usec = view.getInt32(offset + 4);
		return stampText(view.getInt32(offset), String(Math.trunc(usec / 1000)).padStart(3, '0'));
	};

	try {
		const nrecords = view.getInt32(0);
		let base = 4;
		let missed = 0;
		for (let r = 0; r < nrecords - 1; r++) {
			const flags = view.getUint32(base + recordHeader - 8);
			const nparams = view.getInt32(base + recordHeader - 4);
			if ((flags & PM_EVENT_FLAG_MISSED) !== 0) {
				missed += nparams;
				continue;
			}

			base += recordHeader;
			for (let p = 0; p < nparams; p++) {
				const length = view.getUint32(base + 4) & 0xff_ff_ff;
				base += 4 + (Math.ceil(length / 4) * 4);
			}
		}

		let text = `[${nrecords} event record${nrecords === 1 ? '' : 's'}`;
		if (missed > 0) {
			text += ` (${missed} missed)`;
		}

		if (nrecords > 0) {
			text += ` timestamp${nrecords > 1 ? 's' : ''} ${stampAt(4)}`;
			if (nrecords > 1) {
				text += `...${stampAt(base)}`;
			}
		}

		return `${text}]`;
	} catch (error) {
		if (error instanceof RangeError) {
			return unknownText(bytes);
		}

		throw error;
	}
}

export function pmPrintValue(typeCode: number, value: Value): string {
	switch (typeCode) {
		case pcpType.i32:
		case pcpType.u32:
		case pcpType.i64:
		case pcpType.u64: {
			return integerText(typeCode, value);
		}

		case pcpType.float: {
			return typeof value === 'number' ? formatG(widenFloat32(value), 8) : integerText(typeCode, value);
		}

		case pcpType.double: {
			return typeof value === 'number' ? formatG(value, 16) : integerText(typeCode, value);
		}

		case pcpType.string: {
			return typeof value === 'string' ? `"${value}"` : integerText(typeCode, value);
		}

		case pcpType.event:
		case pcpType.highresEvent: {
			return value instanceof Uint8Array ? eventSummary(value, typeCode === pcpType.highresEvent) : unknownText(value);
		}

		default: {
			// AGGREGATE prints like PM_TYPE_UNKNOWN; AGGREGATE_STATIC, NOSUPPORT
			// and unknown codes fail pmExtractValue and become PM_TYPE_UNKNOWN (util.c).
			return unknownText(value);
		}
	}
}
