/**
 * Pull-style reading from a stream (Livestatus, mon, Icinga's enroll): wait for N bytes or one line,
 * with a timeout. Errors are kept until read, so a late TLS alert (TLS 1.3 delivers a rejected
 * client certificate on the first read, docs/icinga-livestatus-mon.md#stunnel) surfaces at the read that waits for it.
 */
import type {Duplex} from 'node:stream';
import {SecmonError} from '../../errors.js';
import {tlsFailure} from '../../security/tls.js';
import type {Target} from '../../security/types.js';

export class StreamClosed extends Error {
	/** Bytes received on this stream before it closed. */
	readonly received: number;

	constructor(received: number) {
		super('stream closed');
		this.received = received;
	}
}

export class ReadTimeout extends Error {
	constructor() {
		super('read timed out');
	}
}

/**
 * Bytes a reader holds at most unless a client says otherwise: more than any answer of the line
 * protocols that use it without their own limit (Icinga's pki::RequestCertificate reply is two
 * PEM certificates, a few KiB).
 */
export const defaultMaxBufferedBytes = 1024 * 1024;

export class StreamReader {
	readonly stream: Duplex;
	received = 0;
	/** Buffered chunks, joined only when a read takes bytes (so reading is linear in what arrives). */
	private chunks: Buffer[] = [];
	private length = 0;
	/** Offset of the first "\n" in the buffered bytes, -1 when there is none. */
	private newline = -1;
	private error: Error | undefined;
	private ended = false;
	private wake: (() => void) | undefined;
	private maxBytes = defaultMaxBufferedBytes;
	private tooMuch: () => Error = () => new SecmonError('PROTOCOL', `the peer sent more than ${defaultMaxBufferedBytes} bytes at once; secmon stops there`, 'Check the host and port');
	/** Set while no request is outstanding: any byte then is unsolicited. */
	private unsolicited: ((bytes: number) => Error) | undefined;

	constructor(stream: Duplex) {
		this.stream = stream;
		stream.on('data', (chunk: Buffer) => {
			this.received += chunk.length;
			if (this.error) {
				return;
			}

			if (this.unsolicited) {
				this.fail(this.unsolicited(chunk.length));
				return;
			}

			if (this.newline === -1) {
				const at = chunk.indexOf(10);
				this.newline = at === -1 ? -1 : this.length + at;
			}

			this.chunks.push(chunk);
			this.length += chunk.length;
			if (this.length > this.maxBytes) {
				this.fail(this.tooMuch());
				return;
			}

			this.notify();
		});
		stream.on('error', (error: Error) => {
			this.error ??= error;
			this.notify();
		});
		stream.on('close', () => {
			this.ended = true;
			this.notify();
		});
		stream.on('end', () => {
			this.ended = true;
			this.notify();
		});
	}

	/** Closed, failed, or half-closed by the peer: a new request needs a new connection. */
	get usable(): boolean {
		return !this.ended && this.error === undefined && !this.stream.destroyed && this.stream.writable;
	}

	/** Bytes already buffered but not consumed (for lock-step checks). */
	get pending(): number {
		return this.length;
	}

	/**
	 * A request is outstanding: the peer may now send, and at most `maxBytes` may be buffered at
	 * once; past that the stream is closed and the next read throws `tooMuch()`.
	 */
	expect(maxBytes: number, tooMuch: () => Error): void {
		this.unsolicited = undefined;
		this.maxBytes = maxBytes;
		this.tooMuch = tooMuch;
		if (this.length > maxBytes) {
			this.fail(tooMuch());
		}
	}

	/**
	 * No request is outstanding: bytes left over, or any byte that arrives before the next
	 * `expect()`, close the stream (they are never buffered); `error` says what happened.
	 */
	idle(error: (bytes: number) => Error): void {
		this.unsolicited = error;
		if (this.length > 0) {
			this.fail(error(this.length));
		}
	}

	/** Keep the first error, drop what is buffered, close the stream. */
	private fail(error: Error): void {
		this.error ??= error;
		this.chunks = [];
		this.length = 0;
		this.newline = -1;
		this.stream.destroy();
		this.notify();
	}

	private notify(): void {
		const {wake} = this;
		this.wake = undefined;
		wake?.();
	}

	private async waitFor(ready: () => boolean, timeoutMs: number): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!ready()) {
			if (this.error) {
				throw this.error;
			}

			if (this.ended) {
				throw new StreamClosed(this.received);
			}

			const left = deadline - Date.now();
			if (left <= 0) {
				throw new ReadTimeout();
			}

			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, left);
				this.wake = () => {
					clearTimeout(timer);
					resolve();
				};
			});
		}
	}

	/** Remove and return the first `count` buffered bytes (count <= length). */
	private take(count: number): Buffer {
		let out: Buffer;
		const first = this.chunks[0]!;
		if (first.length >= count) {
			out = first.subarray(0, count);
			if (first.length === count) {
				this.chunks.shift();
			} else {
				this.chunks[0] = first.subarray(count);
			}
		} else {
			out = Buffer.allocUnsafe(count);
			let got = 0;
			while (got < count) {
				const chunk = this.chunks[0]!;
				const used = chunk.copy(out, got, 0, Math.min(chunk.length, count - got));
				got += used;
				if (used === chunk.length) {
					this.chunks.shift();
				} else {
					this.chunks[0] = chunk.subarray(used);
				}
			}
		}

		this.length -= count;
		if (this.newline >= count) {
			this.newline -= count;
		} else {
			// The newline (if any) was taken: find the next one in what is left.
			this.newline = -1;
			let offset = 0;
			for (const chunk of this.chunks) {
				const at = chunk.indexOf(10);
				if (at !== -1) {
					this.newline = offset + at;
					break;
				}

				offset += chunk.length;
			}
		}

		return out;
	}

	async readBytes(count: number, timeoutMs: number): Promise<Buffer> {
		await this.waitFor(() => this.length >= count, timeoutMs);
		return count === 0 ? Buffer.alloc(0) : this.take(count);
	}

	/**
	 * One line without its "\n" (a "\r" before it is dropped too). A line longer than `maxLength`
	 * closes the stream and throws `tooLong()`.
	 */
	async readLine(timeoutMs: number, maxLength = 1024 * 1024, tooLong: () => Error = () => new SecmonError('PROTOCOL', `the peer sent a line over ${maxLength} bytes; secmon stops there`, 'Check the host and port')): Promise<string> {
		await this.waitFor(() => {
			if (this.newline === -1 ? this.length > maxLength : this.newline > maxLength) {
				this.fail(tooLong());
				throw this.error!;
			}

			return this.newline !== -1;
		}, timeoutMs);
		let line = this.take(this.newline + 1).subarray(0, -1).toString('utf8');
		if (line.endsWith('\r')) {
			line = line.slice(0, -1);
		}

		return line;
	}

	close(): void {
		this.stream.destroy();
	}
}

/** What a line-protocol client says when its stream fails; the words differ per service. */
export type StreamFailureText = {
	/** "Livestatus at host:port", "mon at host:port" */
	who: string;
	requestTimeoutMs: number;
	timeoutHint: string;
	/** When a fresh TLS connection closed before any answer: the proxy's or peer's refusal. */
	refusedHint: string;
	closedHint: string;
	tls: boolean;
	target: Target;
	clientCert: boolean;
};

/**
 * One mapping of stream failures to SecmonErrors for the line protocols behind
 * stunnel (Livestatus, mon): timeouts, closes (refused vs cut short) and TLS alerts.
 */
export function streamFailure(error: unknown, fresh: boolean, text: StreamFailureText): SecmonError {
	if (error instanceof SecmonError) {
		return error;
	}

	if (error instanceof ReadTimeout) {
		return new SecmonError('TIMEOUT', `${text.who} did not answer within ${text.requestTimeoutMs} ms`, text.timeoutHint);
	}

	if (error instanceof StreamClosed) {
		return new SecmonError(
			'PROTOCOL',
			`${text.who} closed the connection ${error.received === 0 ? 'without answering' : 'in the middle of an answer'}`,
			text.tls && fresh && error.received === 0 ? text.refusedHint : text.closedHint,
		);
	}

	return text.tls
		? tlsFailure(error, {target: text.target, clientCert: text.clientCert})
		: new SecmonError('CONNECT_FAILED', `${text.who}: ${error instanceof Error ? error.message : String(error)}`, 'Check the host, port and network');
}
