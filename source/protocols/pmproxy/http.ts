/**
 * HTTP/1.1 GETs to pmproxy over connections the opener hands us (a verified TLS stream from
 * TlsConnector, or plain TCP when plain text was allowed: open.ts), with keep-alive. Everything a
 * peer sends is bounded: the headers (Node's parser), the body (counted as it comes), the time
 * from request to last byte, and the JSON (json.ts). HTTP basic authentication is sent only
 * after pmproxy asked for it: a 401, or (api.ts) a context its pmcd refused for want of
 * credentials (docs/pmproxy.md#authentication).
 */
import http from 'node:http';
import type {Duplex} from 'node:stream';
import {SecmonError} from '../../errors.js';
import {limitError} from '../shared/bounds.js';
import {JsonError, parseJson, type JsonValue} from './json.js';

/** All response header lines together. pmproxy sends eight short headers (docs/pmproxy.md#http). */
export const maxPmproxyHeaderBytes = 16 * 1024;

/**
 * One response body. The largest answer secmon asks for is a whole-namespace /pmapi/metric
 * (every metric's descriptor, labels and help text): about 3 MiB for a Linux host with the
 * sample PMDA; leave room for large hosts.
 */
export const maxPmproxyBodyBytes = 64 * 1024 * 1024;

export type HttpResponse = {status: number; text: string; authenticate?: string};

export type PmproxyHttpOptions = {
	/** A connection: verified TLS, or plain TCP where plain text is allowed. */
	open: () => Promise<Duplex>;
	/** "pmproxy at host:port", for messages. */
	who: string;
	hostHeader: string;
	requestTimeoutMs: number;
	/** A connection or TLS failure → the SecmonError to report. */
	failure: (error: unknown) => SecmonError;
	/** The password file's USER:PASSWORD, read when pmproxy first asks (401). */
	credentials?: () => Promise<{user: string; password: string}>;
	/** The clock for request deadlines (tests move it); Date.now by default. */
	now?: () => number;
};

class OpenerAgent extends http.Agent {
	private readonly opener: () => Promise<Duplex>;

	constructor(opener: () => Promise<Duplex>) {
		super({keepAlive: true, maxSockets: 1});
		this.opener = opener;
	}

	override createConnection(_options: http.ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | undefined {
		this.opener().then(stream => {
			callback?.(null, stream);
		}, (error: unknown) => {
			callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex);
		});
		return undefined;
	}
}

export class PmproxyHttp {
	private readonly agent: OpenerAgent;
	private readonly open = new Set<http.ClientRequest>();
	private authorization: string | undefined;
	private readonly options: PmproxyHttpOptions;
	/** Set by close(): nothing is sent any more, not even a retry. */
	private closed = false;
	/** GETs sent again after a kept-alive socket was closed under them (see once()). */
	retriedResets = 0;

	constructor(options: PmproxyHttpOptions) {
		this.options = options;
		this.agent = new OpenerAgent(options.open);
	}

	tooMuch(what: string, limit: number, unit?: string): SecmonError {
		return limitError(this.options.who, what, limit, 'Check that this port is pmproxy\'s (default 44322); secmon keeps what a peer sends within these limits', unit);
	}

	/**
	 * One GET, the whole body read (at most maxPmproxyBodyBytes) within the request deadline.
	 * A kept-alive socket that pmproxy closed or reset before a byte of the answer arrived (it
	 * drops idle connections, and a request can cross that close) gets the GET once more on a
	 * fresh connection: only for a reused socket (a fresh one failing is a real failure), never
	 * after any response byte, never twice, never after close(), and never for a context request
	 * sent with credentials (it is not idempotent: each one creates a context, with credentials a
	 * SASL login to pmcd; docs/pmproxy.md#http). The retry has only what is left of the first
	 * attempt's deadline (`deadlineAt`), so one GET never takes longer than requestTimeoutMs.
	 */
	private async once(path: string, deadlineAt?: number): Promise<HttpResponse> {
		const retried = deadlineAt !== undefined;
		const now = this.options.now ?? (() => Date.now());
		if (this.closed) {
			throw this.closedError(path);
		}

		if (deadlineAt !== undefined && deadlineAt - now() <= 0) {
			throw this.timeoutError(path);
		}

		return new Promise((resolve, reject) => {
			const headers: http.OutgoingHttpHeaders = {host: this.options.hostHeader, accept: 'application/json', 'user-agent': 'secmon'};
			if (this.authorization !== undefined) {
				// pmproxy 6.0.3 compares the header's name case-sensitively (docs/pmproxy.md#authentication):
				// "authorization" is ignored, so the name is sent as written here.
				headers['Authorization'] = this.authorization;
			}

			const request = http.request({
				agent: this.agent, method: 'GET', path, headers, maxHeaderSize: maxPmproxyHeaderBytes,
			});
			this.open.add(request);
			let settled = false;
			let deadline: NodeJS.Timeout | undefined;
			// Bytes of the answer seen on the socket (decrypted ones, for TLS), and the socket.
			let answered = 0;
			let gotResponse = false;
			let socket: Duplex | undefined;
			const count = (chunk: Buffer) => {
				answered += chunk.length;
			};

			const finish = (error: unknown, response?: HttpResponse) => {
				clearTimeout(deadline);
				socket?.off('data', count);
				if (settled) {
					return;
				}

				settled = true;
				if (response) {
					resolve(response);
				} else {
					reject(error instanceof SecmonError ? error : this.options.failure(error));
				}
			};

			// The first attempt's deadline runs from its socket; a retry's is what is left of it.
			let startedAt: number | undefined;
			const arm = (ms: number) => {
				deadline ??= setTimeout(() => {
					const error = this.timeoutError(path);
					finish(error);
					request.destroy(error);
				}, ms);
			};

			if (deadlineAt !== undefined) {
				arm(deadlineAt - now());
			}

			request.once('socket', (assigned: Duplex) => {
				socket = assigned;
				// Another listener beside the HTTP parser's: the socket already flows, nothing changes for it.
				socket.on('data', count);
				startedAt ??= now();
				arm(this.options.requestTimeoutMs);
			});
			request.once('close', () => {
				this.open.delete(request);
			});
			// `on`: a request can emit more than one error, and an unhandled one would be thrown at the process.
			request.on('error', (error: NodeJS.ErrnoException) => {
				// "socket hang up" (closed with no answer) is ECONNRESET too.
				if (!settled && !retried && !this.closed && request.reusedSocket && answered === 0 && !gotResponse
					&& (error.code === 'ECONNRESET' || error.code === 'EPIPE') && !this.createsLogin(path)) {
					settled = true;
					clearTimeout(deadline);
					socket?.off('data', count);
					this.retriedResets++;
					this.once(path, (startedAt ?? now()) + this.options.requestTimeoutMs).then(resolve, reject);
					return;
				}

				finish(this.closed ? this.closedError(path) : (error.code === 'HPE_HEADER_OVERFLOW' ? this.tooMuch('response headers', maxPmproxyHeaderBytes) : error));
			});
			request.once('response', (response: http.IncomingMessage) => {
				gotResponse = true;
				response.on('error', error => {
					finish(error);
				});
				const length = Number(response.headers['content-length'] ?? 0);
				if (length > maxPmproxyBodyBytes) {
					const error = this.tooMuch(`a response body (Content-Length ${length})`, maxPmproxyBodyBytes);
					finish(error);
					request.destroy(error);
					return;
				}

				const chunks: Buffer[] = [];
				let received = 0;
				response.on('data', (chunk: Buffer) => {
					received += chunk.length;
					if (received > maxPmproxyBodyBytes) {
						const error = this.tooMuch('a response body', maxPmproxyBodyBytes);
						finish(error);
						request.destroy(error);
						return;
					}

					chunks.push(chunk);
				});
				response.once('end', () => {
					const authenticate = response.headers['www-authenticate'];
					finish(undefined, {
						status: response.statusCode ?? 0,
						text: Buffer.concat(chunks, received).toString('utf8'),
						...(typeof authenticate === 'string' ? {authenticate} : {}),
					});
				});
			});
			request.end();
		});
	}

	private timeoutError(path: string): SecmonError {
		return new SecmonError(
			'TIMEOUT',
			`${this.options.who} did not answer GET ${path.split('?')[0]} within ${this.options.requestTimeoutMs} ms`,
			'Check that pmproxy and the pmcd behind it are healthy (pmproxy\'s log), or give a longer --timeout',
		);
	}

	private closedError(path: string): SecmonError {
		return new SecmonError(
			'CONNECT_FAILED',
			`the session with ${this.options.who} was closed before GET ${path.split('?')[0]} was answered`,
			'Nothing was sent after the close; start the command again to read it',
		);
	}

	/** A context request with credentials: each one is a new context and a SASL login to pmcd. */
	private createsLogin(path: string): boolean {
		return this.authorization !== undefined && /^\/pmapi\/context(?:\?|$)/.test(path);
	}

	/**
	 * Reads the password file and sends its credentials with every request from now on. False
	 * when there is no password file (or only plain HTTP: open.ts gives none then) or they are
	 * already sent, so a caller retries at most once.
	 */
	async authenticate(): Promise<boolean> {
		if (this.authorization !== undefined || this.options.credentials === undefined) {
			return false;
		}

		const {user, password} = await this.options.credentials();
		this.authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
		return true;
	}

	/**
	 * A GET; on a 401, or a 403 that is not one of pmproxy's JSON answers (how a pmproxy started
	 * with -S, from PCP 7, refuses a request without credentials: http.c on_headers_complete, an
	 * HTML page; a JSON 403 is about a context identifier), the password file's credentials are
	 * sent once (if there is one, and they were not sent already).
	 */
	async get(path: string): Promise<HttpResponse> {
		const response = await this.once(path);
		const asks = response.status === 401 || (response.status === 403 && !response.text.trimStart().startsWith('{'));
		if (!asks || !await this.authenticate()) {
			return response;
		}

		return this.once(path);
	}

	/** The body as JSON (json.ts), whatever the status; a body that is not JSON is an error naming the path. */
	json(response: HttpResponse, path: string): JsonValue {
		try {
			return parseJson(response.text);
		} catch (error) {
			const detail = error instanceof JsonError ? error.message : String(error);
			throw new SecmonError(
				'PROTOCOL',
				`${this.options.who} sent a body that is not JSON for ${path.split('?')[0]} (HTTP ${response.status}: ${detail})`,
				'Check that this port is pmproxy\'s REST API (default 44322, http.enabled and pcp.enabled in pmproxy.conf)',
			);
		}
	}

	get hasAuthorization(): boolean {
		return this.authorization !== undefined;
	}

	close(): void {
		this.closed = true;
		for (const request of this.open) {
			// With an error, so that each one's 'error' comes and its GET rejects now (closedError).
			request.destroy(new Error('closed by secmon'));
		}

		this.agent.destroy();
	}
}
