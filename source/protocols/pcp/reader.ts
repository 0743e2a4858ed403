/**
 * Stream framer for PCP PDUs: bytes in, whole PDUs out.
 *
 * PDUs are not always 4-byte aligned in the stream (LABEL is unpadded,
 * docs/pcp.md#framing), so nothing here assumes alignment. Every byte is copied at
 * most once: a PDU inside one chunk is returned as a zero-copy slice, a PDU
 * spread over chunks is assembled once. Small chunks are gathered into a
 * staging buffer so that a peer trickling bytes cannot make us keep millions
 * of tiny Buffers. The header's len is checked as soon as its 4 bytes arrive.
 */
import {PDU_HEADER_BYTES, pduTypeName} from './constants.js';
import {PduError} from './errors.js';

export const DEFAULT_MAX_PDU_BYTES = 64 * 1024 * 1024;

const stageBytes = 16 * 1024;

export type PduReaderOptions = {
	/** Largest PDU accepted (header len); default 64 MiB. */
	maxPduBytes?: number;
};

export class PduReader {
	readonly maxPduBytes: number;
	/** Whole chunks waiting, oldest first, from index #first on. */
	#chunks: Array<Buffer | undefined> = [];
	#first = 0;
	/** Bytes of #chunks[#first] already consumed. */
	#head = 0;
	/** Small chunks are copied here; it is the virtual last chunk. */
	#stage: Buffer | undefined;
	#stageUsed = 0;
	#buffered = 0;
	/** Len of the PDU at the front, once its header has been read. */
	#pendingLen: number | undefined;
	#failed: PduError | undefined;

	constructor(options: PduReaderOptions = {}) {
		const max = options.maxPduBytes ?? DEFAULT_MAX_PDU_BYTES;
		if (!Number.isSafeInteger(max) || max < PDU_HEADER_BYTES || max > 0x7f_ff_ff_ff) {
			throw new RangeError(`maxPduBytes must be an integer from 12 to 2^31-1, not ${max}`);
		}

		this.maxPduBytes = max;
	}

	/** Bytes received and not yet returned as a PDU. */
	get buffered(): number {
		return this.#buffered;
	}

	/** True while part of a PDU is waiting for more bytes. */
	get partial(): boolean {
		return this.#buffered > 0;
	}

	/** Add bytes from the stream. */
	append(chunk: Uint8Array): void {
		if (chunk.length === 0) {
			return;
		}

		const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
		this.#buffered += buf.length;
		if (buf.length < stageBytes / 4) {
			if (this.#stage === undefined || this.#stageUsed + buf.length > this.#stage.length) {
				this.#flushStage();
				this.#stage = Buffer.allocUnsafe(stageBytes);
			}

			buf.copy(this.#stage, this.#stageUsed);
			this.#stageUsed += buf.length;
			return;
		}

		this.#flushStage();
		this.#chunks.push(buf);
	}

	/**
	 * The next complete PDU (header included), or undefined if it has not all
	 * arrived. Throws PduError when a header announces fewer than 12 or more
	 * than maxPduBytes bytes; the reader then stays failed (close the stream).
	 */
	next(): Buffer | undefined {
		if (this.#failed) {
			throw this.#failed;
		}

		if (this.#pendingLen === undefined) {
			if (this.#buffered < 4) {
				return undefined;
			}

			const header = this.#peek(Math.min(this.#buffered, 8));
			const len = header.readInt32BE(0);
			const type = header.length >= 8 ? header.readInt32BE(4) : undefined;
			if (len < PDU_HEADER_BYTES || len > this.maxPduBytes) {
				const what = type === undefined ? 'PDU' : `${pduTypeName(type)} PDU`;
				this.#failed = len < PDU_HEADER_BYTES
					? new PduError(`${what} header announces len ${len}, less than the 12-byte header`, undefined, 'len')
					: new PduError(`${what} header announces len ${len}, more than the ${this.maxPduBytes}-byte limit`, undefined, 'len');
				throw this.#failed;
			}

			this.#pendingLen = len;
		}

		if (this.#buffered < this.#pendingLen) {
			return undefined;
		}

		const pdu = this.#take(this.#pendingLen);
		this.#pendingLen = undefined;
		return pdu;
	}

	/** Append, then return every PDU now complete (throws like next()). */
	push(chunk: Uint8Array): Buffer[] {
		this.append(chunk);
		const out: Buffer[] = [];
		for (let pdu = this.next(); pdu !== undefined; pdu = this.next()) {
			out.push(pdu);
		}

		return out;
	}

	/** Everything buffered, e.g. to hand bytes after a handshake to another layer. */
	drain(): Buffer {
		const all = this.#take(this.#buffered);
		this.#pendingLen = undefined;
		return all;
	}

	#flushStage(): void {
		if (this.#stage !== undefined && this.#stageUsed > 0) {
			this.#chunks.push(this.#stage.subarray(0, this.#stageUsed));
			// The staged bytes now belong to the chunk list; start a fresh stage next time.
			this.#stage = undefined;
			this.#stageUsed = 0;
		}
	}

	/** Copy of the first n buffered bytes (n small), without consuming them. */
	#peek(n: number): Buffer {
		const out = Buffer.alloc(n);
		let got = 0;
		let offset = this.#head;
		for (let i = this.#first; i < this.#chunks.length && got < n; i++) {
			const c = this.#chunks[i];
			if (c === undefined) {
				break;
			}

			got += c.copy(out, got, offset, Math.min(c.length, offset + n - got));
			offset = 0;
		}

		if (got < n && this.#stage !== undefined) {
			this.#stage.copy(out, got, offset, offset + n - got);
		}

		return out;
	}

	/** Consume the first n buffered bytes (n <= buffered). */
	#take(n: number): Buffer {
		this.#buffered -= n;
		const firstChunk = this.#chunks[this.#first];
		if (firstChunk === undefined) {
			// Everything is in the stage.
			const stage = this.#stage ?? Buffer.alloc(0);
			const out = stage.subarray(this.#head, this.#head + n);
			this.#head += n;
			if (this.#head === this.#stageUsed) {
				// Fully consumed: the returned slice keeps the old stage alive, so drop it.
				this.#stage = undefined;
				this.#stageUsed = 0;
				this.#head = 0;
			}

			return out;
		}

		if (firstChunk.length - this.#head >= n) {
			const out = firstChunk.subarray(this.#head, this.#head + n);
			this.#head += n;
			if (this.#head === firstChunk.length) {
				this.#advance();
			}

			return out;
		}

		// Spread over several chunks (and maybe the stage): assemble once.
		const out = Buffer.allocUnsafe(n);
		let got = 0;
		while (got < n) {
			const c = this.#chunks[this.#first];
			if (c === undefined) {
				const stage = this.#stage!;
				stage.copy(out, got, this.#head, this.#head + (n - got));
				this.#head += n - got;
				got = n;
				if (this.#head === this.#stageUsed) {
					this.#stage = undefined;
					this.#stageUsed = 0;
					this.#head = 0;
				}

				break;
			}

			const take = Math.min(c.length - this.#head, n - got);
			c.copy(out, got, this.#head, this.#head + take);
			got += take;
			this.#head += take;
			if (this.#head === c.length) {
				this.#advance();
			}
		}

		return out;
	}

	#advance(): void {
		this.#chunks[this.#first] = undefined; // Let it be collected
		this.#first++;
		this.#head = 0;
		if (this.#first === this.#chunks.length) {
			this.#chunks = [];
			this.#first = 0;
		} else if (this.#first > 1024 && this.#first * 2 > this.#chunks.length) {
			this.#chunks = this.#chunks.slice(this.#first);
			this.#first = 0;
		}
	}
}
