/**
 * The Zabbix `ZBXD` frame (docs/zabbix.md#frame), pure Buffer ↔ objects, no sockets.
 *
 *   "ZBXD" | flags u8 | data length u32le | reserved u32le | data        (13-byte header)
 *   with flag 0x04 (large) both length fields are u64le                  (21-byte header)
 *
 * flags: 0x01 protocol (must be set), 0x02 zlib-compressed body (reserved = uncompressed length),
 * 0x04 large. zabbix_agent2 fills `reserved` with the data length even when uncompressed, so only
 * flag 0x02 decides about decompression, never `reserved != 0` (docs/zabbix.md#frame).
 */
import {deflateSync, inflateSync} from 'node:zlib';
import {SecmonError} from '../../errors.js';
import {sizeText} from '../shared/bounds.js';

export const zbxMagic = Buffer.from('ZBXD', 'latin1');
export const flagProtocol = 0x01;
export const flagCompress = 0x02;
export const flagLarge = 0x04;
const knownFlags = flagProtocol | flagCompress | flagLarge;

export const headerSize = 13;
export const largeHeaderSize = 21;

/**
 * Default limit for one response body (compressed and uncompressed alike). Zabbix itself receives
 * frames up to ZBX_MAX_RECV_DATA_SIZE (64 MiB in Zabbix 2.x, 1 GiB since; include/zbxcommon.h),
 * but an agent item value is far smaller: vfs.file.contents stops at ZBX_MAX_DB_FILE_SIZE, 64 KiB
 * (src/libs/zbxsysinfo/common/file.c), because the server's history tables hold no more. 64 MiB
 * keeps every real value and bounds what a peer that is not an agent makes secmon hold.
 */
export const defaultMaxFrameBytes = 64 * 1024 * 1024;

export const notSupported = 'ZBX_NOTSUPPORTED';

/** Builds a request frame: header + the item key in UTF-8 (no NUL, no newline; docs/zabbix.md#frame). */
export function encodeRequest(key: string, options: {compress?: boolean} = {}): Buffer {
	const data = Buffer.from(key, 'utf8');
	return encodeFrame(data, options);
}

/** Any payload in a `ZBXD` frame; compressed frames carry the uncompressed length in `reserved`. */
export function encodeFrame(data: Uint8Array, options: {compress?: boolean; large?: boolean} = {}): Buffer {
	const body = options.compress ? deflateSync(data) : Buffer.from(data);
	const flags = flagProtocol | (options.compress ? flagCompress : 0) | (options.large ? flagLarge : 0);
	const reserved = options.compress ? data.length : 0;
	if (options.large) {
		const header = Buffer.alloc(largeHeaderSize);
		zbxMagic.copy(header, 0);
		header[4] = flags;
		header.writeBigUInt64LE(BigInt(body.length), 5);
		header.writeBigUInt64LE(BigInt(reserved), 13);
		return Buffer.concat([header, body]);
	}

	if (body.length > 0xFF_FF_FF_FF) {
		throw new SecmonError('USAGE', `A Zabbix frame of ${body.length} bytes needs the large (0x04) format`);
	}

	const header = Buffer.alloc(headerSize);
	zbxMagic.copy(header, 0);
	header[4] = flags;
	header.writeUInt32LE(body.length, 5);
	header.writeUInt32LE(reserved, 9);
	return Buffer.concat([header, body]);
}

export type Frame = {
	flags: number;
	/** The payload, already inflated when flag 0x02 was set. */
	data: Buffer;
	/** Bytes on the wire including the header. */
	wireBytes: number;
};

function protocolError(message: string, hint?: string): SecmonError {
	return new SecmonError('PROTOCOL', message, hint ?? 'The peer does not speak the Zabbix agent protocol (ZBXD framing); check the host and port');
}

/**
 * Incremental decoder for exactly one frame (the agent answers once per connection and then
 * closes, docs/zabbix.md#frame). Feed it with `push(chunk)`; it returns the frame once complete.
 * Bytes after the frame, a bad header, an oversized length and `end()` before completion are errors.
 */
export class FrameDecoder {
	readonly maxBytes: number;
	private readonly chunks: Buffer[] = [];
	private received = 0;
	private header?: {flags: number; size: number; dataLength: number; reserved: number};
	private frame?: Frame;

	constructor(options: {maxBytes?: number} = {}) {
		this.maxBytes = options.maxBytes ?? defaultMaxFrameBytes;
	}

	/** Total bytes pushed so far. */
	get bytesReceived(): number {
		return this.received;
	}

	/** Returns the frame when this chunk completed it, otherwise undefined. */
	push(chunk: Uint8Array): Frame | undefined {
		if (chunk.length === 0) {
			return undefined;
		}

		if (this.frame) {
			throw protocolError(`The agent sent ${chunk.length} bytes after its complete response`);
		}

		this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
		this.received += chunk.length;
		if (!this.header) {
			// Only the first 21 bytes are joined to read the header; the body is joined once, at the end.
			this.header = parseHeader(this.prefix(largeHeaderSize), this.maxBytes);
			if (!this.header) {
				return undefined;
			}
		}

		const total = this.header.size + this.header.dataLength;
		if (this.received < total) {
			return undefined;
		}

		if (this.received > total) {
			throw protocolError(`The agent sent ${this.received - total} bytes more than the ${this.header.dataLength} its header declared`);
		}

		const buffered = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, total);
		const body = buffered.subarray(this.header.size, total);
		// One chunk is the socket's buffer: copy it; a joined buffer is ours already.
		const owned = this.chunks.length === 1 ? Buffer.from(body) : body;
		const data = (this.header.flags & flagCompress) === 0 ? owned : inflate(body, this.header.reserved, this.maxBytes);
		this.frame = {flags: this.header.flags, data, wireBytes: total};
		this.chunks.length = 0;
		return this.frame;
	}

	/** The first `count` bytes received (fewer when fewer came), copying at most `count` bytes. */
	private prefix(count: number): Buffer {
		const first = this.chunks[0]!;
		if (first.length >= count || this.chunks.length === 1) {
			return first.subarray(0, count);
		}

		return Buffer.concat(this.chunks, Math.min(count, this.received)).subarray(0, count);
	}

	/** Call when the peer closed; returns the frame or throws for a truncated one. */
	end(): Frame {
		if (this.frame) {
			return this.frame;
		}

		if (this.received === 0) {
			throw new SecmonError('PEER_ERROR', 'The agent closed the connection without answering');
		}

		if (this.header) {
			throw protocolError(`The agent closed the connection after ${this.received - this.header.size} of ${this.header.dataLength} data bytes (truncated response)`);
		}

		throw protocolError(`The agent closed the connection after ${this.received} bytes, in the middle of the ZBXD header`);
	}
}

function parseHeader(buffer: Buffer, maxBytes: number): {flags: number; size: number; dataLength: number; reserved: number} | undefined {
	// Check the magic as soon as its bytes are here, so garbage fails fast.
	const magicBytes = Math.min(buffer.length, 4);
	if (!buffer.subarray(0, magicBytes).equals(zbxMagic.subarray(0, magicBytes))) {
		const shown = JSON.stringify(buffer.subarray(0, Math.min(buffer.length, 16)).toString('latin1'));
		throw protocolError(`The response does not start with "ZBXD" (got ${shown})`);
	}

	if (buffer.length < 5) {
		return undefined;
	}

	const flags = buffer[4]!;
	if ((flags & flagProtocol) === 0 || (flags & ~knownFlags) !== 0) {
		throw protocolError(`Unsupported ZBXD flags 0x${flags.toString(16).padStart(2, '0')} (known: 0x01 protocol, 0x02 compressed, 0x04 large; 0x01 is mandatory)`);
	}

	const large = (flags & flagLarge) !== 0;
	const size = large ? largeHeaderSize : headerSize;
	if (buffer.length < size) {
		return undefined;
	}

	let dataLength: number;
	let reserved: number;
	if (large) {
		const length64 = buffer.readBigUInt64LE(5);
		const reserved64 = buffer.readBigUInt64LE(13);
		checkSize(length64, maxBytes, 'data length');
		dataLength = Number(length64);
		if ((flags & flagCompress) !== 0) {
			checkSize(reserved64, maxBytes, 'uncompressed length');
		}

		// Only meaningful with 0x02; agent2 fills it regardless (docs/zabbix.md#frame).
		reserved = reserved64 > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(reserved64);
	} else {
		dataLength = buffer.readUInt32LE(5);
		reserved = buffer.readUInt32LE(9);
		checkSize(BigInt(dataLength), maxBytes, 'data length');
		if ((flags & flagCompress) !== 0) {
			checkSize(BigInt(reserved), maxBytes, 'uncompressed length');
		}
	}

	return {
		flags, size, dataLength, reserved,
	};
}

function checkSize(value: bigint, maxBytes: number, what: string): void {
	if (value > BigInt(maxBytes)) {
		throw new SecmonError('PROTOCOL', `The agent's response declares a ${what} of ${value} bytes, over ${sizeText(maxBytes)}; secmon stops there`, 'Ask for a smaller item (e.g. a smaller file), or check that the port really is a Zabbix agent');
	}
}

function inflate(body: Buffer, expected: number, maxBytes: number): Buffer {
	let data: Buffer;
	try {
		data = inflateSync(body, {maxOutputLength: Math.max(1, maxBytes)});
	} catch (error) {
		throw protocolError(`The agent's compressed response could not be inflated: ${(error as Error).message}`);
	}

	if (data.length !== expected) {
		throw protocolError(`The agent's compressed response inflated to ${data.length} bytes, but its header declared ${expected}`);
	}

	return data;
}

/** Decodes a whole buffer holding exactly one frame. */
export function decodeFrame(buffer: Uint8Array, options: {maxBytes?: number} = {}): Frame {
	const decoder = new FrameDecoder(options);
	decoder.push(buffer);
	return decoder.end();
}

export type AgentResponse
	= | {kind: 'value'; value: string}
		| {kind: 'notsupported'; reason: string};

/**
 * Interprets a passive-check response body (docs/zabbix.md#zbx_notsupported): `ZBX_NOTSUPPORTED\0reason` (or
 * `ZBX_NOTSUPPORTED` alone) means unsupported; anything else is the value as text.
 */
export function parseResponse(data: Uint8Array): AgentResponse {
	const buffer = Buffer.from(data.buffer, data.byteOffset, data.length);
	const marker = Buffer.from(notSupported, 'latin1');
	const head = buffer.subarray(0, marker.length);
	if (head.equals(marker) && (buffer.length === marker.length || buffer[marker.length] === 0)) {
		const reason = buffer.length > marker.length + 1 ? buffer.subarray(marker.length + 1).toString('utf8') : '';
		return {kind: 'notsupported', reason};
	}

	return {kind: 'value', value: buffer.toString('utf8')};
}

/**
 * What zabbix_get prints for a response body (its get_value(): C strings, so output stops at the
 * first NUL; trailing CR/LF trimmed). `ZBX_NOTSUPPORTED` without a reason prints as is.
 */
export function formatLikeZabbixGet(data: Uint8Array): string {
	const buffer = Buffer.from(data.buffer, data.byteOffset, data.length);
	const cString = (b: Buffer) => {
		const nul = b.indexOf(0);
		return (nul === -1 ? b : b.subarray(0, nul)).toString('utf8');
	};

	const first = cString(buffer);
	if (first === notSupported && buffer.length > notSupported.length + 1) {
		return `${notSupported}: ${cString(buffer.subarray(notSupported.length + 1)).replace(/[\r\n]+$/, '')}`;
	}

	return first.replace(/[\r\n]+$/, '');
}
