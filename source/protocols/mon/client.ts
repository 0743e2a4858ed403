/**
 * mon client session: strictly lock-step (docs/icinga-livestatus-mon.md#mon-protocol: mon runs one command per packet and
 * leaves pipelined lines unread), one command at a time. mon closes idle clients after 30 s; a
 * closed connection is replaced (and the login repeated) before the next command.
 */
import type {Duplex} from 'node:stream';
import {SecmonError} from '../../errors.js';
import type {Target} from '../../security/types.js';
import {limitError} from '../shared/bounds.js';
import {StreamClosed, StreamReader, streamFailure} from '../shared/stream-reader.js';
import {
	assertCommand, monError, parseStatusLine, type StatusLine,
} from './protocol.js';

export type MonClientOptions = {
	open: () => Promise<Duplex>;
	target: Target;
	where: string;
	tls: boolean;
	clientCert: boolean;
	requestTimeoutMs: number;
	login?: {user: string; password: string};
};

export type Reply = {status: StatusLine; lines: string[]};

/**
 * Limits on one reply. mon's longest is `list opstatus`: one line per service (mon's
 * client_command in mon: join of key=value pairs), whose last_detail is the monitor's output,
 * escaped (esc_str: up to 3 bytes per byte). A mon with thousands of services and pages of
 * output per service stays far below these.
 */
export const maxMonLineBytes = 1024 * 1024;
export const maxMonReplyLines = 200_000;
export const maxMonReplyBytes = 64 * 1024 * 1024;

export class MonClient {
	private readonly options: MonClientOptions;
	private reader: StreamReader | undefined;
	private queue: Promise<unknown> = Promise.resolve();

	constructor(options: MonClientOptions) {
		this.options = options;
	}

	private failure(error: unknown, fresh: boolean): SecmonError {
		const {where, requestTimeoutMs, tls, target, clientCert} = this.options;
		return streamFailure(error, fresh, {
			who: `mon at ${where}`,
			requestTimeoutMs,
			timeoutHint: 'Check that mon is running and that this port is mon (through stunnel for TLS), or give a longer --timeout',
			refusedHint: 'stunnel may have refused us (its log says why) or may not reach mon; a client certificate may be required (--cert FILE --key FILE)',
			closedHint: 'mon may have refused this client (clientallow in mon.cf) or stopped; check its log',
			tls,
			target,
			clientCert,
		});
	}

	/** mon speaks only when asked: bytes between replies close the connection. */
	private unsolicited(bytes: number): SecmonError {
		return new SecmonError(
			'PROTOCOL',
			`mon at ${this.options.where} sent ${bytes} byte(s) while no command was outstanding; secmon closed the connection`,
			'mon answers only commands: check that this port is mon. The next command opens a new connection',
		);
	}

	private tooMuch(what: string, limit: number, unit?: string): SecmonError {
		return limitError(`mon at ${this.options.where}`, what, limit, 'This does not look like mon; check the port', unit);
	}

	private async exchange(reader: StreamReader, command: string): Promise<Reply> {
		const verb = `"${command.split(' ')[0]!}"`;
		// One deadline for the whole reply, from the command sent to its status line.
		const deadline = Date.now() + this.options.requestTimeoutMs;
		reader.expect(maxMonReplyBytes, () => this.tooMuch(`a reply to ${verb}`, maxMonReplyBytes));
		reader.stream.write(`${command}\n`);
		const lines: string[] = [];
		let bytes = 0;
		for (;;) {
			const line = await reader.readLine(Math.max(1, deadline - Date.now()), maxMonLineBytes, () => this.tooMuch('a line', maxMonLineBytes));
			const status = parseStatusLine(line);
			if (status) {
				reader.idle(count => this.unsolicited(count));
				return {status, lines};
			}

			bytes += Buffer.byteLength(line) + 1;
			if (lines.length >= maxMonReplyLines) {
				throw this.tooMuch(`a reply to ${verb}`, maxMonReplyLines, 'lines');
			}

			if (bytes > maxMonReplyBytes) {
				throw this.tooMuch(`a reply to ${verb}`, maxMonReplyBytes);
			}

			lines.push(line);
		}
	}

	/** Make sure a connection exists; logs in when a login was given. */
	async connect(): Promise<void> {
		if (this.reader?.usable) {
			return;
		}

		this.reader?.close();
		const reader = new StreamReader(await this.options.open());
		reader.idle(count => this.unsolicited(count));
		this.reader = reader;
		const {login} = this.options;
		if (login) {
			try {
				const reply = await this.exchange(reader, `login ${login.user} ${login.password}`);
				if (reply.status.code !== 220) {
					// Never echo the command: it holds the password.
					throw monError('login', reply.status, this.options.where);
				}
			} catch (error) {
				reader.close();
				this.reader = undefined;
				throw this.failure(error, true);
			}
		}
	}

	private async once(command: string): Promise<Reply> {
		const fresh = !this.reader?.usable;
		await this.connect();
		const reader = this.reader!;
		const before = reader.received;
		try {
			return await this.exchange(reader, command);
		} catch (error) {
			reader.close();
			this.reader = undefined;
			if (!fresh && reader.received === before && error instanceof StreamClosed) {
				throw new RetryableClose();
			}

			throw this.failure(error, fresh);
		}
	}

	/** Send one command and read its reply; 520/530 are returned, not thrown. */
	async send(command: string): Promise<Reply> {
		assertCommand(command);
		const run = async (): Promise<Reply> => {
			try {
				return await this.once(command);
			} catch (error) {
				if (error instanceof RetryableClose) {
					return this.once(command);
				}

				throw error;
			}
		};

		const result = this.queue.then(run, run);
		this.queue = result.catch(() => undefined);
		return result;
	}

	/** A command that must succeed (220): its data lines. */
	async lines(command: string): Promise<string[]> {
		const reply = await this.send(command);
		if (reply.status.code !== 220) {
			throw monError(command, reply.status, this.options.where);
		}

		return reply.lines;
	}

	close(): void {
		const {reader} = this;
		this.reader = undefined;
		if (reader?.usable) {
			// Polite goodbye; the answer is not awaited.
			reader.stream.end('quit\n');
			setTimeout(() => {
				reader.close();
			}, 200).unref();
		} else {
			reader?.close();
		}
	}
}

class RetryableClose extends Error {
	constructor() {
		super('idle connection closed');
	}
}
