/**
 * Pull-style reading from a stream (also used by the mon client): wait for N bytes or one line,
 * with a timeout. Errors are kept until read, so a late TLS alert (TLS 1.3 delivers a rejected
 * client certificate on the first read, others.md §2.3) surfaces at the read that waits for it.
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

export class StreamReader {
	readonly stream: Duplex;
	received = 0;
	private buffer: Buffer = Buffer.alloc(0);
	private error: Error | undefined;
	private ended = false;
	private wake: (() => void) | undefined;

	constructor(stream: Duplex) {
		this.stream = stream;
		stream.on('data', (chunk: Buffer) => {
			this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
			this.received += chunk.length;
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
		return this.buffer.length;
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

	async readBytes(count: number, timeoutMs: number): Promise<Buffer> {
		await this.waitFor(() => this.buffer.length >= count, timeoutMs);
		const out = this.buffer.subarray(0, count);
		this.buffer = this.buffer.subarray(count);
		return out;
	}

	/** One line without its "\n" (a "\r" before it is dropped too). */
	async readLine(timeoutMs: number, maxLength = 1024 * 1024): Promise<string> {
		await this.waitFor(() => {
			if (this.buffer.length > maxLength && !this.buffer.subarray(0, maxLength).includes(10)) {
				throw new Error(`line longer than ${maxLength} bytes`);
			}

			return this.buffer.includes(10);
		}, timeoutMs);
		const newline = this.buffer.indexOf(10);
		let line = this.buffer.subarray(0, newline).toString('utf8');
		this.buffer = this.buffer.subarray(newline + 1);
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
