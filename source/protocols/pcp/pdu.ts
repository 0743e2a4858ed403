/**
 * PCP PDU codec: pure functions between Buffers and plain objects, both
 * directions (client requests and server replies), no I/O.
 *
 * Every decoder takes exactly one PDU (header included, as the reader yields
 * it), checks every length, count and offset against the bytes it has, and
 * throws PduError naming the PDU type and the field. No decoder allocates
 * more than the PDU's own size implies, loops beyond it, or throws anything
 * but PduError on bad input.
 *
 * Encoders write padding as "~" like libpcp (docs/pcp.md#framing), so PDUs that pmcd
 * or pminfo sent re-encode byte for byte.
 */
import type {Units, Value} from '../../metrics/model.js';
import {
	PDU, PDU_HEADER_BYTES, PDU_VERSION, CRED, PM_TYPE, PM_VAL, PM_VAL_HDR_SIZE, PM_VAL_VLEN_MAX, pduTypeName,
} from './constants.js';
import {PduError, fromPcp1Code, toPcp1Code} from './errors.js';

// ---------------------------------------------------------------------------
// Shapes

export type PduHeader = {len: number; type: number; from: number};

/** The 20-byte extended ERROR pmcd sends first (docs/pcp.md#greeting). */
export type Greeting = {
	/** 0 = accepted; otherwise a PCP error code (already converted from 1.x numbering). */
	status: number;
	version: number;
	licensed: number;
	/** FEATURE bits. */
	features: number;
};

export type Cred = {type: number; version: number; flags: number};

/** pmDesc. */
export type PcpDesc = {pmid: number; type: number; indom: number; sem: number; units: Units};

/** PMNS_NAMES: names, with leaf (0) / non-leaf (1) statuses when the server sends them. */
export type PcpNames = {names: string[]; statuses?: number[]};

/** PMNS_IDS and DESC_IDS: a status word and a list of pmids. */
export type PcpIdList = {status: number; pmids: number[]};

/**
 * INSTANCE_REQ. The three forms (docs/pcp.md#instances): whole indom (inst -1, name ''),
 * by number (inst n, name ''), by name (inst -1, name 'x'). An empty name means
 * "no name" on the wire (namelen 0).
 */
export type InstanceRequest = {indom: number; inst: number; name: string};

/** One INSTANCE entry; name '' when the server sent namelen 0 (lookup by name). */
export type InstanceEntry = {inst: number; name: string};

export type InstanceReply = {indom: number; instances: InstanceEntry[]};

export type ProfileEntry = {indom: number; state: number; instances: number[]};

/** PROFILE; the empty profile is {ctxid: 0, globalState: 0, profiles: []}. */
export type Profile = {ctxid: number; globalState: number; profiles: ProfileEntry[]};

export type FetchRequest = {ctxid: number; pmids: number[]};

/**
 * One value. `type` is the PM_TYPE_* of the value block; for INSITU values
 * (no block) it is PM_TYPE.I32 unless the decoder was told the metric's type.
 * 64-bit integers are bigint, aggregates (and event records) raw bytes.
 */
export type PcpAtom = {inst: number; type: number; value: Value};

/** One vset of a RESULT: values, "no values" (numval 0) or a per-metric error (numval < 0). */
export type PcpValueSet
	= | {pmid: number; status: 'ok'; valfmt: number; values: PcpAtom[]}
		| {pmid: number; status: 'novalues'}
		| {pmid: number; status: 'error'; code: number};

/** RESULT and HIGHRES_RESULT. RESULT carries microseconds: nsec is usec * 1000. */
export type PcpResult = {sec: number; nsec: number; vsets: PcpValueSet[]};

export type TextRequest = {ident: number; type: number};

/** TEXT. pmcd writes ident in host byte order (docs/pcp.md#help-text): do not rely on it. */
export type TextReply = {ident: number; text: string};

export type LabelRequest = {ident: number; type: number};

/** pmLabel: byte offsets into the set's JSON (UTF-8), flags byte. */
export type PcpLabel = {name: number; nameLen: number; flags: number; value: number; valueLen: number};

/** One label set; nlabels < 0 is an error code and then labels is empty. */
export type PcpLabelSet = {inst: number; nlabels: number; json: string; labels: PcpLabel[]};

export type LabelReply = {ident: number; type: number; sets: PcpLabelSet[]};

export type DecodedPdu
	= | {kind: 'error'; from: number; code: number}
		| {kind: 'greeting'; from: number; greeting: Greeting}
		| {kind: 'creds'; from: number; creds: Cred[]}
		| {kind: 'traverse'; from: number; subtype: number; name: string}
		| {kind: 'child'; from: number; subtype: number; name: string}
		| {kind: 'names'; from: number; names: PcpNames}
		| {kind: 'ids'; from: number; ids: PcpIdList}
		| {kind: 'descReq'; from: number; pmid: number}
		| {kind: 'desc'; from: number; desc: PcpDesc}
		| {kind: 'descIds'; from: number; ids: PcpIdList}
		| {kind: 'descs'; from: number; descs: PcpDesc[]}
		| {kind: 'instanceReq'; from: number; request: InstanceRequest}
		| {kind: 'instance'; from: number; reply: InstanceReply}
		| {kind: 'profile'; from: number; profile: Profile}
		| {kind: 'fetch'; from: number; request: FetchRequest}
		| {kind: 'highresFetch'; from: number; request: FetchRequest}
		| {kind: 'result'; from: number; result: PcpResult}
		| {kind: 'highresResult'; from: number; result: PcpResult}
		| {kind: 'textReq'; from: number; request: TextRequest}
		| {kind: 'text'; from: number; reply: TextReply}
		| {kind: 'labelReq'; from: number; request: LabelRequest}
		| {kind: 'label'; from: number; reply: LabelReply};

export type DecodeResultOptions = {
	/**
	 * The metric's PM_TYPE_*, when known. Only INSITU values need it: their
	 * 32 bits are signed for I32, unsigned for U32, an IEEE float for FLOAT
	 * (old PMDAs). Without it INSITU values decode as signed 32-bit.
	 */
	typeOf?: (pmid: number) => number | undefined;
};

// ---------------------------------------------------------------------------
// Low-level helpers

/** Bytes of n rounded up to a multiple of 4. */
export function pad4(n: number): number {
	return (n + 3) & ~3;
}

const padByte = 0x7e; // '~', as libpcp writes it

class Writer {
	readonly buf: Buffer;
	pos = 0;

	constructor(len: number, type: number, from: number) {
		this.buf = Buffer.alloc(len);
		this.i32(len);
		this.i32(type);
		this.i32(from);
	}

	i32(v: number): this {
		this.buf.writeInt32BE(v | 0, this.pos);
		this.pos += 4;
		return this;
	}

	u32(v: number): this {
		this.buf.writeUInt32BE(v >>> 0, this.pos);
		this.pos += 4;
		return this;
	}

	i64(v: bigint): this {
		this.buf.writeBigInt64BE(v, this.pos);
		this.pos += 8;
		return this;
	}

	bytes(b: Uint8Array): this {
		this.buf.set(b, this.pos);
		this.pos += b.length;
		return this;
	}

	/** Pad with "~" to the next multiple of 4 from the PDU start. */
	pad(): this {
		const to = pad4(this.pos);
		this.buf.fill(padByte, this.pos, to);
		this.pos = to;
		return this;
	}

	done(): Buffer {
		if (this.pos !== this.buf.length) {
			throw new Error(`PCP encoder botch: wrote ${this.pos} of ${this.buf.length} bytes`);
		}

		return this.buf;
	}
}

/** Bounds-checked reader over one PDU; every failure is a PduError for `type`. */
class Cursor {
	readonly buf: Buffer;
	readonly type: number;
	readonly end: number;
	pos: number;

	constructor(buf: Buffer, type: number, start = PDU_HEADER_BYTES) {
		this.buf = buf;
		this.type = type;
		this.pos = start;
		this.end = buf.length;
	}

	get remaining(): number {
		return this.end - this.pos;
	}

	fail(message: string, field?: string): never {
		throw new PduError(message, this.type, field);
	}

	need(n: number, field: string): void {
		if (n > this.end - this.pos) {
			this.fail(`${field} at byte ${this.pos} needs ${n} bytes but only ${Math.max(0, this.end - this.pos)} remain (len ${this.end})`, field);
		}
	}

	i32(field: string): number {
		this.need(4, field);
		const v = this.buf.readInt32BE(this.pos);
		this.pos += 4;
		return v;
	}

	u32(field: string): number {
		this.need(4, field);
		const v = this.buf.readUInt32BE(this.pos);
		this.pos += 4;
		return v;
	}

	i64(field: string): bigint {
		this.need(8, field);
		const v = this.buf.readBigInt64BE(this.pos);
		this.pos += 8;
		return v;
	}

	skip(n: number, field: string): void {
		this.need(n, field);
		this.pos += n;
	}

	/** A count that must be >= 0 and whose items (at least `unit` bytes each) fit in what remains. */
	count(field: string, unit: number, reserve = 0): number {
		const n = this.i32(field);
		if (n < 0) {
			this.fail(`${field} is negative (${n})`, field);
		}

		if (n * unit > this.remaining - reserve) {
			this.fail(`${field} ${n} needs at least ${n * unit} bytes but only ${Math.max(0, this.remaining - reserve)} remain (len ${this.end})`, field);
		}

		return n;
	}

	/** A string length field: 0 <= n <= remaining. */
	strlen(field: string): number {
		const n = this.i32(field);
		if (n < 0) {
			this.fail(`${field} is negative (${n})`, field);
		}

		this.need(n, field);
		return n;
	}

	str(n: number, field: string): string {
		this.need(n, field);
		const s = this.buf.toString('utf8', this.pos, this.pos + n);
		this.pos += n;
		return s;
	}

	/** Skip padding to a 4-byte boundary; a PDU may end unpadded (pmcd accepts that too). */
	pad(field: string): void {
		const to = pad4(this.pos);
		if (to <= this.end) {
			this.pos = to;
		} else if (this.pos !== this.end) {
			this.fail(`${field} padding runs past the end (len ${this.end})`, field);
		}
	}

	done(): void {
		if (this.pos !== this.end) {
			this.fail(`${this.end - this.pos} unexpected bytes after byte ${this.pos} (len ${this.end})`, 'len');
		}
	}
}

/**
 * Read and check a PDU header: at least 12 bytes, len >= 12 and equal to the
 * buffer's length (pass exactly one PDU).
 */
export function readHeader(buf: Uint8Array): PduHeader {
	if (buf.length < PDU_HEADER_BYTES) {
		throw new PduError(`PDU of ${buf.length} bytes is shorter than the 12-byte header`, undefined, 'len');
	}

	const b = asBuffer(buf);
	const len = b.readInt32BE(0);
	const type = b.readInt32BE(4);
	const from = b.readInt32BE(8);
	if (len < PDU_HEADER_BYTES) {
		throw new PduError(`header len ${len} is less than 12`, type, 'len');
	}

	if (len !== b.length) {
		throw new PduError(`header len ${len} does not match the ${b.length} bytes given`, type, 'len');
	}

	return {len, type, from};
}

function asBuffer(buf: Uint8Array): Buffer {
	return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Header check plus "this is the PDU type I expect". */
function open(buf: Uint8Array, ...types: number[]): {cursor: Cursor; header: PduHeader} {
	const header = readHeader(buf);
	if (!types.includes(header.type)) {
		throw new PduError(`expected ${types.map(t => pduTypeName(t)).join(' or ')}, got ${pduTypeName(header.type)}`, header.type, 'type');
	}

	return {cursor: new Cursor(asBuffer(buf), header.type), header};
}

function exactLength(cursor: Cursor, len: number): void {
	if (cursor.end !== len) {
		cursor.fail(`len ${cursor.end}, expected ${len}`, 'len');
	}
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

// ---------------------------------------------------------------------------
// Units

/** pmUnits: dimSpace:4s dimTime:4s dimCount:4s scaleSpace:4 scaleTime:4 scaleCount:4s pad:8 (docs/pcp.md#identifiers). */
export function decodeUnits(word: number): Units {
	const nib = (shift: number): number => (word >>> shift) & 0xf;
	const signed = (shift: number): number => (nib(shift) << 28) >> 28;
	return {
		dimSpace: signed(28),
		dimTime: signed(24),
		dimCount: signed(20),
		scaleSpace: nib(16),
		scaleTime: nib(12),
		scaleCount: signed(8),
	};
}

export function encodeUnits(u: Units): number {
	return (((u.dimSpace & 0xf) << 28)
		| ((u.dimTime & 0xf) << 24)
		| ((u.dimCount & 0xf) << 20)
		| ((u.scaleSpace & 0xf) << 16)
		| ((u.scaleTime & 0xf) << 12)
		| ((u.scaleCount & 0xf) << 8)) >>> 0;
}

// ---------------------------------------------------------------------------
// ERROR and greeting

/** ERROR (16 bytes): reply to a failed request, store ack (0), secure-ack (0). */
export function encodeError(code: number, from = 0): Buffer {
	return new Writer(16, PDU.ERROR, from).i32(code).done();
}

/** ERROR code; also accepts the 20-byte greeting form (then code is its raw status). */
export function decodeError(buf: Uint8Array): number {
	const {cursor} = open(buf, PDU.ERROR);
	if (cursor.end !== 16 && cursor.end !== 20) {
		cursor.fail(`len ${cursor.end}, expected 16 (or 20 for the greeting)`, 'len');
	}

	return cursor.i32('code');
}

/** The greeting: status in PCP 1.x numbering, challenge = zero:1 version:7 licensed:8 features:16. */
export function encodeGreeting(greeting: Partial<Greeting> & {features: number}, from = 0): Buffer {
	const version = greeting.version ?? PDU_VERSION;
	const licensed = greeting.licensed ?? 1;
	const challenge = ((version & 0x7f) << 24) | ((licensed & 0xff) << 16) | (greeting.features & 0xff_ff);
	return new Writer(20, PDU.ERROR, from).i32(toPcp1Code(greeting.status ?? 0)).u32(challenge).done();
}

export function decodeGreeting(buf: Uint8Array): Greeting {
	const {cursor} = open(buf, PDU.ERROR);
	// libpcp treats any other length as an IPC error (docs/pcp.md#greeting).
	exactLength(cursor, 20);
	const status = fromPcp1Code(cursor.i32('status'));
	const challenge = cursor.u32('challenge');
	return {
		status,
		version: (challenge >>> 24) & 0x7f,
		licensed: (challenge >>> 16) & 0xff,
		features: challenge & 0xff_ff,
	};
}

// ---------------------------------------------------------------------------
// CREDS

/** CREDS with one CVERSION credential; `from` is the client's pid (docs/pcp.md#creds). */
export function encodeCreds(flags: number, from = 0, version = PDU_VERSION): Buffer {
	return encodeCredList([{type: CRED.VERSION, version, flags}], from);
}

export function encodeCredList(creds: Cred[], from = 0): Buffer {
	const w = new Writer(16 + (4 * creds.length), PDU.CREDS, from).i32(creds.length);
	for (const c of creds) {
		w.u32(((c.type & 0xff) << 24) | ((c.version & 0xff) << 16) | (c.flags & 0xff_ff));
	}

	return w.done();
}

export function decodeCreds(buf: Uint8Array): Cred[] {
	const {cursor} = open(buf, PDU.CREDS);
	const n = cursor.count('numcreds', 4);
	const creds: Cred[] = [];
	for (let i = 0; i < n; i++) {
		const word = cursor.u32('cred');
		creds.push({type: word >>> 24, version: (word >>> 16) & 0xff, flags: word & 0xff_ff});
	}

	cursor.done();
	return creds;
}

// ---------------------------------------------------------------------------
// PMNS_TRAVERSE / PMNS_CHILD (request)

function encodeNameRequest(type: number, subtype: number, name: string, from: number): Buffer {
	const bytes = utf8(name);
	return new Writer(20 + pad4(bytes.length), type, from).i32(subtype).i32(bytes.length).bytes(bytes).pad().done();
}

/** PMNS_TRAVERSE(name); "" is the root. The reply is PMNS_NAMES of all leaves below, or ERROR. */
export function encodeTraverse(name: string, from = 0): Buffer {
	return encodeNameRequest(PDU.PMNS_TRAVERSE, 0, name, from);
}

/** PMNS_CHILD(name); subtype 1 asks for leaf/non-leaf statuses too. */
export function encodeChild(name: string, subtype = 1, from = 0): Buffer {
	return encodeNameRequest(PDU.PMNS_CHILD, subtype, name, from);
}

/** Decode PMNS_TRAVERSE or PMNS_CHILD. */
export function decodeNameRequest(buf: Uint8Array): {type: number; subtype: number; name: string} {
	const {cursor, header} = open(buf, PDU.PMNS_TRAVERSE, PDU.PMNS_CHILD);
	const subtype = cursor.i32('subtype');
	const n = cursor.strlen('namelen');
	const name = cursor.str(n, 'name');
	cursor.pad('name');
	cursor.done();
	return {type: header.type, subtype, name};
}

// ---------------------------------------------------------------------------
// PMNS_NAMES (both directions)

/**
 * PMNS_NAMES: request for pmLookupName (no statuses) or reply to
 * TRAVERSE/CHILD/IDS (statuses optional: 0 leaf, 1 non-leaf).
 */
export function encodeNames(names: string[], statuses?: number[], from = 0): Buffer {
	if (statuses && statuses.length !== names.length) {
		throw new PduError(`${statuses.length} statuses for ${names.length} names`, PDU.PMNS_NAMES, 'numstatus');
	}

	const encoded = names.map(n => utf8(n));
	const withStatus = statuses !== undefined && statuses.length > 0;
	let len = 24;
	let strbytes = 0;
	for (const b of encoded) {
		len += (withStatus ? 4 : 0) + 4 + pad4(b.length);
		strbytes += b.length + 1;
	}

	const w = new Writer(len, PDU.PMNS_NAMES, from).i32(strbytes).i32(withStatus ? names.length : 0).i32(names.length);
	for (const [i, b] of encoded.entries()) {
		if (withStatus) {
			w.i32(statuses[i] ?? 0);
		}

		w.i32(b.length).bytes(b).pad();
	}

	return w.done();
}

export function decodeNames(buf: Uint8Array): PcpNames {
	const {cursor} = open(buf, PDU.PMNS_NAMES);
	const strbytes = cursor.i32('nstrbytes');
	if (strbytes < 0) {
		cursor.fail(`nstrbytes is negative (${strbytes})`, 'nstrbytes');
	}

	const numstatus = cursor.i32('numstatus');
	const numnames = cursor.count('numnames', 4);
	if (numstatus !== 0 && numstatus !== numnames) {
		cursor.fail(`numstatus ${numstatus} must be 0 or numnames (${numnames})`, 'numstatus');
	}

	if (numstatus > 0 && numnames * 8 > cursor.remaining) {
		cursor.fail(`numnames ${numnames} with statuses needs at least ${numnames * 8} bytes but only ${cursor.remaining} remain`, 'numnames');
	}

	const names: string[] = [];
	const statuses: number[] = [];
	for (let i = 0; i < numnames; i++) {
		if (numstatus > 0) {
			statuses.push(cursor.i32('status'));
		}

		const n = cursor.strlen('namelen');
		names.push(cursor.str(n, 'name'));
		cursor.pad('name');
	}

	cursor.done();
	return numstatus > 0 ? {names, statuses} : {names};
}

// ---------------------------------------------------------------------------
// PMNS_IDS (both directions) and DESC_IDS

function encodeIdList(type: number, status: number, pmids: number[], from: number): Buffer {
	const w = new Writer(20 + (4 * pmids.length), type, from).i32(status).i32(pmids.length);
	for (const id of pmids) {
		w.u32(id);
	}

	return w.done();
}

function decodeIdList(buf: Uint8Array, type: number): PcpIdList {
	const {cursor} = open(buf, type);
	const status = cursor.i32('sts');
	const n = cursor.count('numids', 4);
	const pmids: number[] = [];
	for (let i = 0; i < n; i++) {
		pmids.push(cursor.u32('pmid'));
	}

	cursor.done();
	return {status, pmids};
}

/**
 * PMNS_IDS. As the reply to a PMNS_NAMES lookup: status = number of names
 * found, PM_ID_NULL for each unknown name. As a request (pmNameID): status 0,
 * one pmid.
 */
export function encodeIds(status: number, pmids: number[], from = 0): Buffer {
	return encodeIdList(PDU.PMNS_IDS, status, pmids, from);
}

export function decodeIds(buf: Uint8Array): PcpIdList {
	return decodeIdList(buf, PDU.PMNS_IDS);
}

/** DESC_IDS (pmLookupDescs); libpcp writes status -1. */
export function encodeDescIds(pmids: number[], from = 0, status = -1): Buffer {
	return encodeIdList(PDU.DESC_IDS, status, pmids, from);
}

export function decodeDescIds(buf: Uint8Array): PcpIdList {
	return decodeIdList(buf, PDU.DESC_IDS);
}

// ---------------------------------------------------------------------------
// DESC_REQ / DESC / DESCS

export function encodeDescReq(pmid: number, from = 0): Buffer {
	return new Writer(16, PDU.DESC_REQ, from).u32(pmid).done();
}

export function decodeDescReq(buf: Uint8Array): number {
	const {cursor} = open(buf, PDU.DESC_REQ);
	exactLength(cursor, 16);
	return cursor.u32('pmid');
}

function writeDesc(w: Writer, d: PcpDesc): void {
	w.u32(d.pmid).i32(d.type).u32(d.indom).i32(d.sem).u32(encodeUnits(d.units));
}

function readDesc(cursor: Cursor): PcpDesc {
	const pmid = cursor.u32('pmid');
	const type = cursor.i32('type');
	const indom = cursor.u32('indom');
	const sem = cursor.i32('sem');
	const units = decodeUnits(cursor.u32('units'));
	return {
		pmid, type, indom, sem, units,
	};
}

export function encodeDesc(desc: PcpDesc, from = 0): Buffer {
	const w = new Writer(32, PDU.DESC, from);
	writeDesc(w, desc);
	return w.done();
}

export function decodeDesc(buf: Uint8Array): PcpDesc {
	const {cursor} = open(buf, PDU.DESC);
	exactLength(cursor, 32);
	return readDesc(cursor);
}

/** DESCS: an unknown pmid comes back as pmid PM_ID_NULL with the rest zero (docs/pcp.md#descriptors). */
export function encodeDescs(descs: PcpDesc[], from = 0): Buffer {
	const w = new Writer(16 + (20 * descs.length), PDU.DESCS, from).i32(descs.length);
	for (const d of descs) {
		writeDesc(w, d);
	}

	return w.done();
}

export function decodeDescs(buf: Uint8Array): PcpDesc[] {
	const {cursor} = open(buf, PDU.DESCS);
	const n = cursor.count('numdescs', 20);
	const descs: PcpDesc[] = [];
	for (let i = 0; i < n; i++) {
		descs.push(readDesc(cursor));
	}

	cursor.done();
	return descs;
}

// ---------------------------------------------------------------------------
// INSTANCE_REQ / INSTANCE

export function encodeInstanceReq(request: InstanceRequest, from = 0): Buffer {
	const name = utf8(request.name);
	return new Writer(32 + pad4(name.length), PDU.INSTANCE_REQ, from)
		.u32(request.indom)
		.i32(0)
		.i32(0) // Timestamp, zero for pmcd
		.i32(request.inst)
		.i32(name.length)
		.bytes(name)
		.pad()
		.done();
}

export function decodeInstanceReq(buf: Uint8Array): InstanceRequest {
	const {cursor} = open(buf, PDU.INSTANCE_REQ);
	const indom = cursor.u32('indom');
	cursor.skip(8, 'when');
	const inst = cursor.i32('inst');
	const n = cursor.strlen('namelen');
	const name = cursor.str(n, 'name');
	cursor.pad('name');
	cursor.done();
	return {indom, inst, name};
}

export function encodeInstance(reply: InstanceReply, from = 0): Buffer {
	const names = reply.instances.map(i => utf8(i.name));
	let len = 20;
	for (const n of names) {
		len += 8 + pad4(n.length);
	}

	const w = new Writer(len, PDU.INSTANCE, from).u32(reply.indom).i32(reply.instances.length);
	for (const [i, entry] of reply.instances.entries()) {
		const name = names[i]!;
		w.i32(entry.inst).i32(name.length).bytes(name).pad();
	}

	return w.done();
}

export function decodeInstance(buf: Uint8Array): InstanceReply {
	const {cursor} = open(buf, PDU.INSTANCE);
	const indom = cursor.u32('indom');
	const n = cursor.count('numinst', 8);
	const instances: InstanceEntry[] = [];
	for (let i = 0; i < n; i++) {
		const inst = cursor.i32('inst');
		const len = cursor.strlen('namelen');
		instances.push({inst, name: cursor.str(len, 'name')});
		cursor.pad('name');
	}

	cursor.done();
	return {indom, instances};
}

// ---------------------------------------------------------------------------
// PROFILE

/** The empty profile pminfo and pmval send before the first fetch (28 bytes). */
export const emptyProfile: Profile = {ctxid: 0, globalState: 0, profiles: []};

export function encodeProfile(profile: Profile, from = 0): Buffer {
	let len = 28 + (16 * profile.profiles.length);
	for (const p of profile.profiles) {
		len += 4 * p.instances.length;
	}

	const w = new Writer(len, PDU.PROFILE, from).i32(profile.ctxid).i32(profile.globalState).i32(profile.profiles.length).i32(0);
	for (const p of profile.profiles) {
		w.u32(p.indom).i32(p.state).i32(p.instances.length).i32(0);
	}

	for (const p of profile.profiles) {
		for (const inst of p.instances) {
			w.i32(inst);
		}
	}

	return w.done();
}

export function decodeProfile(buf: Uint8Array): Profile {
	const {cursor} = open(buf, PDU.PROFILE);
	const ctxid = cursor.i32('ctxid');
	const globalState = cursor.i32('g_state');
	const numprof = cursor.count('numprof', 16, 4);
	cursor.skip(4, 'pad');
	const heads: Array<{indom: number; state: number; numinst: number}> = [];
	let total = 0;
	for (let i = 0; i < numprof; i++) {
		const indom = cursor.u32('indom');
		const state = cursor.i32('state');
		const numinst = cursor.i32('numinst');
		cursor.skip(4, 'pad');
		if (numinst < 0) {
			cursor.fail(`numinst is negative (${numinst}) in profile ${i}`, 'numinst');
		}

		total += numinst;
		if (total * 4 > cursor.end - PDU_HEADER_BYTES) {
			cursor.fail(`numinst ${numinst} in profile ${i} makes ${total} instances, more than len ${cursor.end} can hold`, 'numinst');
		}

		heads.push({indom, state, numinst});
	}

	if (total * 4 !== cursor.remaining) {
		cursor.fail(`${total} instance ids need ${total * 4} bytes but ${cursor.remaining} remain`, 'numinst');
	}

	const profiles: ProfileEntry[] = heads.map(h => {
		const instances: number[] = [];
		for (let i = 0; i < h.numinst; i++) {
			instances.push(cursor.i32('inst'));
		}

		return {indom: h.indom, state: h.state, instances};
	});
	cursor.done();
	return {ctxid, globalState, profiles};
}

// ---------------------------------------------------------------------------
// FETCH / HIGHRES_FETCH

function encodeFetchPdu(type: number, request: FetchRequest, from: number): Buffer {
	const w = new Writer(28 + (4 * request.pmids.length), type, from).i32(request.ctxid).i32(0).i32(0).i32(request.pmids.length);
	for (const id of request.pmids) {
		w.u32(id);
	}

	return w.done();
}

/** FETCH, for servers without the HIGHRES feature; reply RESULT. */
export function encodeFetch(request: FetchRequest, from = 0): Buffer {
	return encodeFetchPdu(PDU.FETCH, request, from);
}

/** HIGHRES_FETCH; reply HIGHRES_RESULT. */
export function encodeHighresFetch(request: FetchRequest, from = 0): Buffer {
	return encodeFetchPdu(PDU.HIGHRES_FETCH, request, from);
}

/** Decode FETCH or HIGHRES_FETCH (numpmid 0 decodes; pmcd answers it with PM_ERR_IPC). */
export function decodeFetch(buf: Uint8Array): FetchRequest & {type: number} {
	const {cursor, header} = open(buf, PDU.FETCH, PDU.HIGHRES_FETCH);
	const ctxid = cursor.i32('ctxid');
	cursor.skip(8, 'when');
	const n = cursor.count('numpmid', 4);
	const pmids: number[] = [];
	for (let i = 0; i < n; i++) {
		pmids.push(cursor.u32('pmid'));
	}

	cursor.done();
	return {type: header.type, ctxid, pmids};
}

// ---------------------------------------------------------------------------
// RESULT / HIGHRES_RESULT (docs/pcp.md#fetch-and-result)

/** The payload of a value block, or undefined for INSITU values. */
function blockPayload(atom: PcpAtom, pmid: number): Uint8Array | undefined {
	const {type, value} = atom;
	const bad = (): never => {
		throw new PduError(`cannot encode ${typeof value} value as PM_TYPE ${type} for pmid ${pmid}`, PDU.RESULT, 'value');
	};

	switch (type) {
		case PM_TYPE.I32:
		case PM_TYPE.U32: {
			return typeof value === 'number' ? undefined : bad();
		}

		case PM_TYPE.I64:
		case PM_TYPE.U64: {
			if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) {
				return bad();
			}

			const b = Buffer.alloc(8);
			const big = BigInt(value);
			if (type === PM_TYPE.I64) {
				b.writeBigInt64BE(BigInt.asIntN(64, big));
			} else {
				b.writeBigUInt64BE(BigInt.asUintN(64, big));
			}

			return b;
		}

		case PM_TYPE.FLOAT:
		case PM_TYPE.DOUBLE: {
			if (typeof value !== 'number') {
				return bad();
			}

			const b = Buffer.alloc(type === PM_TYPE.FLOAT ? 4 : 8);
			if (type === PM_TYPE.FLOAT) {
				b.writeFloatBE(value);
			} else {
				b.writeDoubleBE(value);
			}

			return b;
		}

		case PM_TYPE.STRING: {
			// Strings carry one NUL, counted in vlen (docs/pcp.md#value-blocks).
			return typeof value === 'string' ? Buffer.concat([utf8(value), Buffer.alloc(1)]) : bad();
		}

		default: {
			return value instanceof Uint8Array ? value : bad();
		}
	}
}

function encodeResultPdu(type: number, result: PcpResult, from: number): Buffer {
	const preamble = type === PDU.HIGHRES_RESULT ? 20 : 12;
	// Plan: vset sizes, then value blocks back to back after the last vset.
	type Planned = {vset: PcpValueSet; insitu: boolean; payloads: Array<Uint8Array | undefined>};
	const planned: Planned[] = [];
	let vsetBytes = 0;
	let blockBytes = 0;
	for (const vset of result.vsets) {
		if (vset.status === 'error' && !(vset.code < 0)) {
			throw new PduError(`pmid ${vset.pmid}: an error vset needs a negative code, not ${vset.code}`, type, 'numval');
		}

		if (vset.status !== 'ok' || vset.values.length === 0) {
			planned.push({vset, insitu: true, payloads: []});
			vsetBytes += 8;
			continue;
		}

		const payloads = vset.values.map(a => blockPayload(a, vset.pmid));
		const insitu = payloads[0] === undefined;
		if (payloads.some(p => (p === undefined) !== insitu)) {
			throw new PduError(`pmid ${vset.pmid} mixes INSITU and value-block types in one vset`, type, 'valfmt');
		}

		for (const p of payloads) {
			if (p !== undefined) {
				if (p.length + PM_VAL_HDR_SIZE > PM_VAL_VLEN_MAX) {
					throw new PduError(`value of ${p.length} bytes for pmid ${vset.pmid} exceeds the 24-bit vlen`, type, 'vlen');
				}

				blockBytes += pad4(PM_VAL_HDR_SIZE + p.length);
			}
		}

		planned.push({vset, insitu, payloads});
		vsetBytes += 12 + (8 * vset.values.length);
	}

	const len = PDU_HEADER_BYTES + preamble + vsetBytes + blockBytes;
	const w = new Writer(len, type, from);
	if (type === PDU.HIGHRES_RESULT) {
		w.i32(result.vsets.length).i64(BigInt(Math.floor(result.sec))).i64(BigInt(Math.floor(result.nsec)));
	} else {
		w.i32(result.sec).i32(Math.floor(result.nsec / 1000)).i32(result.vsets.length);
	}

	let blockAt = PDU_HEADER_BYTES + preamble + vsetBytes;
	const blocks: Array<{type: number; payload: Uint8Array}> = [];
	for (const {vset, insitu, payloads} of planned) {
		w.u32(vset.pmid);
		if (vset.status === 'error') {
			w.i32(vset.code);
			continue;
		}

		if (vset.status === 'novalues' || vset.values.length === 0) {
			w.i32(0); // NumVal 0 has no valfmt word (docs/pcp.md#fetch-and-result)
			continue;
		}

		const valfmt = insitu ? PM_VAL.INSITU : (vset.valfmt === PM_VAL.SPTR ? PM_VAL.SPTR : PM_VAL.DPTR);
		w.i32(vset.values.length).i32(valfmt);
		for (const [i, atom] of vset.values.entries()) {
			w.i32(atom.inst);
			const payload = payloads[i];
			if (payload === undefined) {
				// BlockPayload returned undefined, so the value is a number (INSITU).
				const v = typeof atom.value === 'number' ? atom.value : 0;
				if (atom.type === PM_TYPE.U32) {
					w.u32(v);
				} else {
					w.i32(v);
				}
			} else {
				w.u32(blockAt / 4);
				blocks.push({type: atom.type, payload});
				blockAt += pad4(PM_VAL_HDR_SIZE + payload.length);
			}
		}
	}

	for (const {type: vtype, payload} of blocks) {
		w.u32(((vtype & 0xff) << 24) | (PM_VAL_HDR_SIZE + payload.length)).bytes(payload).pad();
	}

	return w.done();
}

/** RESULT: reply to FETCH, and the pmStore request (C>S) (timestamp in microseconds). */
export function encodeResult(result: PcpResult, from = 0): Buffer {
	return encodeResultPdu(PDU.RESULT, result, from);
}

/** HIGHRES_RESULT: reply to HIGHRES_FETCH. */
export function encodeHighresResult(result: PcpResult, from = 0): Buffer {
	return encodeResultPdu(PDU.HIGHRES_RESULT, result, from);
}

function decodeBlockValue(cursor: Cursor, vtype: number, start: number, payloadLen: number, where: string): Value {
	const b = cursor.buf;
	const fixed = (n: number): void => {
		if (payloadLen !== n) {
			cursor.fail(`${where}: value block of type ${vtype} has ${payloadLen} payload bytes, expected ${n}`, 'vlen');
		}
	};

	switch (vtype) {
		case PM_TYPE.I32: {
			fixed(4);
			return b.readInt32BE(start);
		}

		case PM_TYPE.U32: {
			fixed(4);
			return b.readUInt32BE(start);
		}

		case PM_TYPE.I64: {
			fixed(8);
			return b.readBigInt64BE(start);
		}

		case PM_TYPE.U64: {
			fixed(8);
			return b.readBigUInt64BE(start);
		}

		case PM_TYPE.FLOAT: {
			fixed(4);
			return b.readFloatBE(start);
		}

		case PM_TYPE.DOUBLE: {
			fixed(8);
			return b.readDoubleBE(start);
		}

		case PM_TYPE.STRING: {
			// Up to the first NUL: libpcp's strings are C strings (pmval pads its store with NULs).
			const nul = b.subarray(start, start + payloadLen).indexOf(0);
			return b.toString('utf8', start, start + (nul === -1 ? payloadLen : nul));
		}

		default: {
			// AGGREGATE, AGGREGATE_STATIC, EVENT, HIGHRES_EVENT, unknown: raw bytes (a copy).
			return new Uint8Array(b.subarray(start, start + payloadLen));
		}
	}
}

function insituValue(raw: number, type: number | undefined): {type: number; value: number} {
	if (type === PM_TYPE.U32) {
		return {type, value: raw >>> 0};
	}

	if (type === PM_TYPE.FLOAT) {
		// Old-style INSITU float (libpcp pmExtractValue still accepts it).
		const b = Buffer.alloc(4);
		b.writeInt32BE(raw);
		return {type, value: b.readFloatBE(0)};
	}

	return {type: PM_TYPE.I32, value: raw};
}

/**
 * The latest RESULT timestamp secmon accepts: 9999-12-31T23:59:59Z. Every later step turns the
 * timestamp into a Date and prints it as ISO 8601 (toISOString() has four-digit years only, and
 * a Date ends at 8.64e15 ms); pmcd stamps results with the host clock (pmcd/src/pmcd.c), so a
 * value past this or before 1970 is a broken or hostile peer, not a time to display.
 */
export const MAX_RESULT_SEC = 253_402_300_799;

function decodeResultPdu(buf: Uint8Array, type: number, options: DecodeResultOptions): PcpResult {
	const {cursor} = open(buf, type);
	let sec: number;
	let nsec: number;
	let numpmid: number;
	if (type === PDU.HIGHRES_RESULT) {
		numpmid = cursor.count('numpmid', 8, 16);
		const s = cursor.i64('sec');
		const ns = cursor.i64('nsec');
		if (s < 0n || s > BigInt(MAX_RESULT_SEC)) {
			cursor.fail(`sec ${s} is not a time from 1970 to 9999 (0 to ${MAX_RESULT_SEC})`, 'sec');
		}

		if (ns < 0n || ns >= 1_000_000_000n) {
			cursor.fail(`nsec ${ns} is out of range (0 to 999999999)`, 'nsec');
		}

		sec = Number(s);
		nsec = Number(ns);
	} else {
		sec = cursor.i32('tv_sec');
		if (sec < 0) {
			cursor.fail(`tv_sec ${sec} is before 1970`, 'tv_sec');
		}

		const usec = cursor.i32('tv_usec');
		if (usec < 0 || usec >= 1_000_000) {
			cursor.fail(`tv_usec ${usec} is out of range`, 'tv_usec');
		}

		nsec = usec * 1000;
		numpmid = cursor.count('numpmid', 8);
	}

	// Pass 1: walk the vsets, remember where each value block should be.
	type Pending = {pmid: number; numval: number; valfmt: number; at: number};
	const pending: Pending[] = [];
	for (let i = 0; i < numpmid; i++) {
		const pmid = cursor.u32('pmid');
		const numval = cursor.i32('numval');
		if (numval <= 0) {
			pending.push({
				pmid, numval, valfmt: -1, at: -1,
			});
			continue;
		}

		const valfmt = cursor.i32('valfmt');
		if (valfmt !== PM_VAL.INSITU && valfmt !== PM_VAL.DPTR && valfmt !== PM_VAL.SPTR) {
			cursor.fail(`vset ${i} (pmid ${pmid}) has valfmt ${valfmt}`, 'valfmt');
		}

		if (numval * 8 > cursor.remaining) {
			cursor.fail(`vset ${i} (pmid ${pmid}) numval ${numval} needs ${numval * 8} bytes but only ${cursor.remaining} remain`, 'numval');
		}

		pending.push({
			pmid, numval, valfmt, at: cursor.pos,
		});
		cursor.pos += numval * 8;
	}

	// Layout rule (docs/pcp.md#value-blocks, libpcp __pmDecodeValueSet): the value blocks
	// start where the vsets end and fill the rest of the PDU exactly.
	const vsetEnd = cursor.pos;
	const blockStarts: Array<{at: number; size: number}> = [];
	const vsets: PcpValueSet[] = [];
	for (const [i, p] of pending.entries()) {
		if (p.numval < 0) {
			vsets.push({pmid: p.pmid, status: 'error', code: p.numval});
			continue;
		}

		if (p.numval === 0) {
			vsets.push({pmid: p.pmid, status: 'novalues'});
			continue;
		}

		const values: PcpAtom[] = [];
		for (let j = 0; j < p.numval; j++) {
			const inst = cursor.buf.readInt32BE(p.at + (j * 8));
			const word = cursor.buf.readInt32BE(p.at + (j * 8) + 4);
			if (p.valfmt === PM_VAL.INSITU) {
				values.push({inst, ...insituValue(word, options.typeOf?.(p.pmid))});
				continue;
			}

			const where = `vset ${i} (pmid ${p.pmid}) value ${j}`;
			const at = word * 4;
			if (word < 0 || at < vsetEnd || at + PM_VAL_HDR_SIZE > cursor.end) {
				cursor.fail(`${where}: value block offset ${word} words (byte ${at}) is outside the value area [${vsetEnd}, ${cursor.end})`, 'value');
			}

			const head = cursor.buf.readUInt32BE(at);
			const vtype = head >>> 24;
			const vlen = head & PM_VAL_VLEN_MAX;
			if (vlen < PM_VAL_HDR_SIZE || at + vlen > cursor.end) {
				cursor.fail(`${where}: vlen ${vlen} at byte ${at} does not fit in len ${cursor.end}`, 'vlen');
			}

			blockStarts.push({at, size: pad4(vlen)});
			values.push({inst, type: vtype, value: decodeBlockValue(cursor, vtype, at + PM_VAL_HDR_SIZE, vlen - PM_VAL_HDR_SIZE, where)});
		}

		vsets.push({
			pmid: p.pmid, status: 'ok', valfmt: p.valfmt, values,
		});
	}

	const sortedBlocks = blockStarts.toSorted((a, b) => a.at - b.at);
	let expected = vsetEnd;
	for (const block of sortedBlocks) {
		if (block.at !== expected) {
			cursor.fail(`value block at byte ${block.at}, expected byte ${expected}: blocks must follow the vsets back to back`, 'value');
		}

		expected += block.size;
	}

	if (expected !== cursor.end) {
		cursor.fail(`value blocks end at byte ${expected} but len is ${cursor.end}`, 'len');
	}

	return {sec, nsec, vsets};
}

export function decodeResult(buf: Uint8Array, options: DecodeResultOptions = {}): PcpResult {
	return decodeResultPdu(buf, PDU.RESULT, options);
}

export function decodeHighresResult(buf: Uint8Array, options: DecodeResultOptions = {}): PcpResult {
	return decodeResultPdu(buf, PDU.HIGHRES_RESULT, options);
}

// ---------------------------------------------------------------------------
// TEXT_REQ / TEXT

/** TEXT_REQ: type = PM_TEXT.ONELINE|HELP combined with PM_TEXT.PMID|INDOM. */
export function encodeTextReq(ident: number, type: number, from = 0): Buffer {
	return new Writer(20, PDU.TEXT_REQ, from).u32(ident).i32(type).done();
}

export function decodeTextReq(buf: Uint8Array): TextRequest {
	const {cursor} = open(buf, PDU.TEXT_REQ);
	exactLength(cursor, 20);
	return {ident: cursor.u32('ident'), type: cursor.i32('type')};
}

export function encodeText(ident: number, text: string, from = 0): Buffer {
	const bytes = utf8(text);
	return new Writer(20 + pad4(bytes.length), PDU.TEXT, from).u32(ident).i32(bytes.length).bytes(bytes).pad().done();
}

export function decodeText(buf: Uint8Array): TextReply {
	const {cursor} = open(buf, PDU.TEXT);
	const ident = cursor.u32('ident');
	const n = cursor.strlen('buflen');
	const text = cursor.str(n, 'text');
	cursor.pad('text');
	cursor.done();
	return {ident, text};
}

// ---------------------------------------------------------------------------
// LABEL_REQ / LABEL (LABEL is not padded: docs/pcp.md#framing)

/** LABEL_REQ: type is one PM_LABEL bit; ident PM_ID_NULL for CONTEXT. */
export function encodeLabelReq(ident: number, type: number, from = 0): Buffer {
	return new Writer(20, PDU.LABEL_REQ, from).u32(ident).i32(type).done();
}

export function decodeLabelReq(buf: Uint8Array): LabelRequest {
	const {cursor} = open(buf, PDU.LABEL_REQ);
	exactLength(cursor, 20);
	return {ident: cursor.u32('ident'), type: cursor.i32('type')};
}

/** Layout as libpcp's __pmSendLabel: all set headers with their labels, then all JSON, unpadded. */
export function encodeLabel(reply: LabelReply, from = 0): Buffer {
	const jsons = reply.sets.map(s => utf8(s.json));
	let labelsNeed = 28;
	let jsonNeed = 0;
	for (const [i, s] of reply.sets.entries()) {
		if (s.nlabels > 0 && s.labels.length !== s.nlabels) {
			throw new PduError(`label set ${i} has nlabels ${s.nlabels} but ${s.labels.length} labels`, PDU.LABEL, 'nlabels');
		}

		labelsNeed += 16 + (s.nlabels > 0 ? 8 * s.nlabels : 0);
		jsonNeed += jsons[i]!.length;
	}

	const w = new Writer(labelsNeed + jsonNeed, PDU.LABEL, from).u32(reply.ident).i32(reply.type).i32(0).i32(reply.sets.length);
	let jsonAt = labelsNeed;
	for (const [i, s] of reply.sets.entries()) {
		const json = jsons[i]!;
		w.i32(s.inst).i32(s.nlabels).i32(jsonAt).i32(json.length);
		jsonAt += json.length;
		if (s.nlabels > 0) {
			for (const l of s.labels) {
				w.buf.writeUInt16BE(l.name & 0xff_ff, w.pos);
				w.buf.writeUInt8(l.nameLen & 0xff, w.pos + 2);
				w.buf.writeUInt8(l.flags & 0xff, w.pos + 3);
				w.buf.writeUInt16BE(l.value & 0xff_ff, w.pos + 4);
				w.buf.writeUInt16BE(l.valueLen & 0xff_ff, w.pos + 6);
				w.pos += 8;
			}
		}
	}

	for (const json of jsons) {
		w.bytes(json);
	}

	return w.done();
}

const maxLabels = (1 << 8) - 1;
const maxLabelJson = (1 << 16) - 1;

export function decodeLabel(buf: Uint8Array): LabelReply {
	const {cursor} = open(buf, PDU.LABEL);
	const ident = cursor.u32('ident');
	const type = cursor.i32('type');
	cursor.skip(4, 'padding');
	const nsets = cursor.count('nsets', 16);
	const sets: PcpLabelSet[] = [];
	const jsonAreas: Array<{offset: number; len: number}> = [];
	let jsonTotal = 0;
	for (let i = 0; i < nsets; i++) {
		const inst = cursor.i32('inst');
		const nlabels = cursor.i32('nlabels');
		const jsonOffset = cursor.i32('json');
		const jsonLen = cursor.i32('jsonlen');
		if (jsonLen < 0 || jsonOffset < 0 || jsonOffset + jsonLen > cursor.end) {
			cursor.fail(`set ${i}: JSON at byte ${jsonOffset}, ${jsonLen} bytes, is outside len ${cursor.end}`, 'json');
		}

		// Each set has a JSON area of its own (libpcp writes them one after the other): sets all
		// pointing at the same bytes would have us decode the PDU's JSON millions of times over.
		jsonTotal += jsonLen;
		if (jsonTotal > cursor.end) {
			cursor.fail(`set ${i}: the sets' JSON areas add up to ${jsonTotal} bytes, more than the ${cursor.end}-byte PDU (they overlap)`, 'json');
		}

		// libpcp's __pmDecodeLabel refuses these as corrupt (PM_MAXLABELS, PM_MAXLABELJSONLEN in pmapi.h).
		if (nlabels >= maxLabels) {
			cursor.fail(`set ${i}: ${nlabels} labels, libpcp takes fewer than ${maxLabels}`, 'nlabels');
		}

		if (jsonLen >= maxLabelJson) {
			cursor.fail(`set ${i}: ${jsonLen} bytes of JSON, libpcp takes fewer than ${maxLabelJson}`, 'jsonlen');
		}

		if (nlabels > 0 && nlabels * 8 > cursor.remaining) {
			cursor.fail(`set ${i}: nlabels ${nlabels} needs ${nlabels * 8} bytes but only ${cursor.remaining} remain`, 'nlabels');
		}

		const labels: PcpLabel[] = [];
		for (let j = 0; j < nlabels; j++) {
			const b = cursor.buf;
			const at = cursor.pos;
			const label = {
				name: b.readUInt16BE(at), nameLen: b[at + 2]!, flags: b[at + 3]!, value: b.readUInt16BE(at + 4), valueLen: b.readUInt16BE(at + 6),
			};
			cursor.pos += 8;
			if (label.name + label.nameLen > jsonLen || label.value + label.valueLen > jsonLen) {
				cursor.fail(`set ${i} label ${j}: name/value offsets fall outside the ${jsonLen}-byte JSON`, 'labels');
			}

			labels.push(label);
		}

		jsonAreas.push({offset: jsonOffset, len: jsonLen});
		sets.push({
			inst, nlabels, json: cursor.buf.toString('utf8', jsonOffset, jsonOffset + jsonLen), labels,
		});
	}

	// The JSON follows the set headers (unpadded) and nothing may trail it.
	let end = cursor.pos;
	for (const [i, area] of jsonAreas.entries()) {
		if (area.len > 0 && area.offset < cursor.pos) {
			cursor.fail(`set ${i}: JSON at byte ${area.offset} overlaps the label sets (which end at byte ${cursor.pos})`, 'json');
		}

		end = Math.max(end, area.offset + area.len);
	}

	if (end !== cursor.end) {
		cursor.fail(`${cursor.end - end} unexpected bytes after byte ${end} (len ${cursor.end})`, 'len');
	}

	return {ident, type, sets};
}

/** The name/value pairs of a label set, e.g. {hostname: '"vm"'} (values stay JSON text). */
export function labelPairs(set: PcpLabelSet): Array<{name: string; value: string; flags: number}> {
	const json = utf8(set.json);
	return set.labels.map(l => ({
		name: json.toString('utf8', l.name, l.name + l.nameLen),
		value: json.toString('utf8', l.value, l.value + l.valueLen),
		flags: l.flags,
	}));
}

/**
 * Build a label set from flat name → JSON-able value pairs, as a PMDA would:
 * compact JSON with sorted names, offsets computed.
 */
export function makeLabelSet(inst: number, labels: Record<string, string | number | boolean | null>, flags: number): PcpLabelSet {
	const names = Object.keys(labels).toSorted();
	let json = '{';
	let bytes = 1;
	const out: PcpLabel[] = [];
	for (const [i, name] of names.entries()) {
		if (i > 0) {
			json += ',';
			bytes += 1;
		}

		const k = JSON.stringify(name);
		const v = JSON.stringify(labels[name]);
		const kLen = Buffer.byteLength(k);
		const vLen = Buffer.byteLength(v);
		out.push({
			name: bytes + 1, nameLen: kLen - 2, flags, value: bytes + kLen + 1, valueLen: vLen,
		});
		json += `${k}:${v}`;
		bytes += kLen + 1 + vLen;
	}

	json += '}';
	return {
		inst, nlabels: out.length, json, labels: out,
	};
}

// ---------------------------------------------------------------------------
// Any PDU

/** Decode any PDU by its header type (a 20-byte ERROR is the greeting). */
export function decodePdu(buf: Uint8Array, options: DecodeResultOptions = {}): DecodedPdu {
	const {type, from, len} = readHeader(buf);
	switch (type) {
		case PDU.ERROR: {
			return len === 20 ? {kind: 'greeting', from, greeting: decodeGreeting(buf)} : {kind: 'error', from, code: decodeError(buf)};
		}

		case PDU.CREDS: {
			return {kind: 'creds', from, creds: decodeCreds(buf)};
		}

		case PDU.PMNS_TRAVERSE:
		case PDU.PMNS_CHILD: {
			const {subtype, name} = decodeNameRequest(buf);
			return type === PDU.PMNS_TRAVERSE
				? {
					kind: 'traverse', from, subtype, name,
				}
				: {
					kind: 'child', from, subtype, name,
				};
		}

		case PDU.PMNS_NAMES: {
			return {kind: 'names', from, names: decodeNames(buf)};
		}

		case PDU.PMNS_IDS: {
			return {kind: 'ids', from, ids: decodeIds(buf)};
		}

		case PDU.DESC_REQ: {
			return {kind: 'descReq', from, pmid: decodeDescReq(buf)};
		}

		case PDU.DESC: {
			return {kind: 'desc', from, desc: decodeDesc(buf)};
		}

		case PDU.DESC_IDS: {
			return {kind: 'descIds', from, ids: decodeDescIds(buf)};
		}

		case PDU.DESCS: {
			return {kind: 'descs', from, descs: decodeDescs(buf)};
		}

		case PDU.INSTANCE_REQ: {
			return {kind: 'instanceReq', from, request: decodeInstanceReq(buf)};
		}

		case PDU.INSTANCE: {
			return {kind: 'instance', from, reply: decodeInstance(buf)};
		}

		case PDU.PROFILE: {
			return {kind: 'profile', from, profile: decodeProfile(buf)};
		}

		case PDU.FETCH:
		case PDU.HIGHRES_FETCH: {
			const {ctxid, pmids} = decodeFetch(buf);
			return {kind: type === PDU.FETCH ? 'fetch' : 'highresFetch', from, request: {ctxid, pmids}};
		}

		case PDU.RESULT: {
			return {kind: 'result', from, result: decodeResult(buf, options)};
		}

		case PDU.HIGHRES_RESULT: {
			return {kind: 'highresResult', from, result: decodeHighresResult(buf, options)};
		}

		case PDU.TEXT_REQ: {
			return {kind: 'textReq', from, request: decodeTextReq(buf)};
		}

		case PDU.TEXT: {
			return {kind: 'text', from, reply: decodeText(buf)};
		}

		case PDU.LABEL_REQ: {
			return {kind: 'labelReq', from, request: decodeLabelReq(buf)};
		}

		case PDU.LABEL: {
			return {kind: 'label', from, reply: decodeLabel(buf)};
		}

		default: {
			throw new PduError(`unsupported PDU type ${pduTypeName(type)}`, type, 'type');
		}
	}
}
