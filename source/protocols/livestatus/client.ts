/**
 * A Livestatus session: queries one at a time over one connection with `KeepAlive: on` and
 * `ResponseHeader: fixed16` (docs/icinga-livestatus-mon.md#livestatus-protocol: the connection stays open after every answer,
 * errors included). A connection the server closed while idle is replaced before the next query.
 */
import type {Duplex} from 'node:stream';
import {SecmonError} from '../../errors.js';
import type {Target} from '../../security/types.js';
import {sizeText} from '../shared/bounds.js';
import {StreamClosed, StreamReader, streamFailure} from '../shared/stream-reader.js';
import {
	fixed16Length, livestatusError, parseFixed16, parseRows,
} from './protocol.js';

export type LivestatusClientOptions = {
	open: () => Promise<Duplex>;
	target: Target;
	/** "host:port" for messages. */
	where: string;
	tls: boolean;
	clientCert: boolean;
	requestTimeoutMs: number;
};

export type Answer = {code: number; body: string};

/**
 * The longest answer body secmon reads. Livestatus has no limit of its own (Checkmk's livestatus
 * OutputBuffer grows as needed, livestatus/src/OutputBuffer.cc), so this is ours: `GET services`
 * with every column on a site of 100k services and long plugin outputs stays far below 256 MiB.
 */
export const maxLivestatusAnswerBytes = 256 * 1024 * 1024;

export class LivestatusClient {
	private readonly options: LivestatusClientOptions;
	private reader: StreamReader | undefined;
	private queue: Promise<unknown> = Promise.resolve();

	constructor(options: LivestatusClientOptions) {
		this.options = options;
	}

	/** Make sure a connection exists (used by the opener, so trust and TLS errors come first). */
	async connect(): Promise<void> {
		if (!this.reader?.usable) {
			this.reader?.close();
			this.reader = new StreamReader(await this.options.open());
			this.reader.idle(bytes => this.unsolicited(bytes));
		}
	}

	/** Livestatus speaks only when asked: bytes between answers close the connection. */
	private unsolicited(bytes: number): SecmonError {
		return new SecmonError(
			'PROTOCOL',
			`Livestatus at ${this.options.where} sent ${bytes} byte(s) while no query was outstanding; secmon closed the connection`,
			'Livestatus answers only queries: check that this port is Livestatus. The next query opens a new connection',
		);
	}

	private failure(error: unknown, fresh: boolean): SecmonError {
		const {where, requestTimeoutMs, tls, target, clientCert} = this.options;
		return streamFailure(error, fresh, {
			who: `Livestatus at ${where}`,
			requestTimeoutMs,
			timeoutHint: 'Check that the site is running (omd status) and this port is Livestatus, or give a longer --timeout',
			refusedHint: 'The TLS proxy (stunnel) may have refused us or may not reach Livestatus: check its log. A client certificate may be required (--cert FILE --key FILE)',
			closedHint: 'Check the Livestatus log of the site; the query may be malformed',
			tls,
			target,
			clientCert,
		});
	}

	private async once(text: string): Promise<Answer & {fresh: boolean; received: number}> {
		const fresh = !this.reader?.usable;
		await this.connect();
		const reader = this.reader!;
		const before = reader.received;
		// One deadline for the whole answer, from the query sent to its last byte.
		const deadline = Date.now() + this.options.requestTimeoutMs;
		const left = () => Math.max(1, deadline - Date.now());
		const tooLong = () => new SecmonError('PROTOCOL', `Livestatus at ${this.options.where} sent an answer over ${sizeText(maxLivestatusAnswerBytes)}; secmon stops there`, 'Narrow the query with Filter: or Columns:');
		try {
			reader.expect(fixed16Length + maxLivestatusAnswerBytes, tooLong);
			reader.stream.write(text);
			const header = parseFixed16(await reader.readBytes(fixed16Length, left()));
			if (header.length > maxLivestatusAnswerBytes) {
				throw new SecmonError('PROTOCOL', `Livestatus at ${this.options.where} announced an answer of ${header.length} bytes, over ${sizeText(maxLivestatusAnswerBytes)}; secmon stops there`, 'Narrow the query with Filter: or Columns:');
			}

			// Bytes past the announced length are not part of this answer.
			reader.expect(header.length, () => new SecmonError(
				'PROTOCOL',
				`Livestatus at ${this.options.where} sent more than the ${header.length} bytes its answer header announced; secmon closed the connection`,
				'Check that this port is Livestatus',
			));
			const body = (await reader.readBytes(header.length, left())).toString('utf8');
			reader.idle(bytes => this.unsolicited(bytes));
			return {
				code: header.code, body, fresh, received: reader.received - before,
			};
		} catch (error) {
			reader.close();
			this.reader = undefined;
			const received = reader.received - before;
			if (!fresh && received === 0 && error instanceof StreamClosed) {
				// The idle connection was closed under us: one retry on a new connection.
				throw new RetryableClose();
			}

			throw this.failure(error, fresh);
		}
	}

	/** Send one request (a whole `GET …\n…\n\n`) and read its answer. Queued behind earlier ones. */
	async request(text: string): Promise<Answer> {
		const run = async (): Promise<Answer> => {
			try {
				const {code, body} = await this.once(text);
				return {code, body};
			} catch (error) {
				if (error instanceof RetryableClose) {
					const {code, body} = await this.once(text);
					return {code, body};
				}

				throw error;
			}
		};

		const result = this.queue.then(run, run);
		this.queue = result.catch(() => undefined);
		return result;
	}

	/** A JSON query that must answer 200: rows, or a SecmonError for the code. */
	async rows(text: string): Promise<unknown[][]> {
		const {code, body} = await this.request(text);
		if (code !== 200) {
			throw livestatusError(code, body, this.options.where);
		}

		return parseRows(body, this.options.where);
	}

	close(): void {
		this.reader?.close();
		this.reader = undefined;
	}
}

class RetryableClose extends Error {
	constructor() {
		super('idle connection closed');
	}
}
