/**
 * HTTP/1.1 to the Icinga 2 REST API over connections from TlsConnector (so every connection went
 * through secmon's trust decision): node:http with an Agent whose createConnection hands over our
 * verified TLS stream, with keep-alive. Error statuses become SecmonErrors that say what to do
 * (docs/icinga-livestatus-mon.md#api-authentication: 401 for unknown users and untrusted client certificates, 404 both for "no
 * such object" and for a missing permission).
 */
import http from 'node:http';
import type {Duplex} from 'node:stream';
import {SecmonError} from '../../errors.js';
import {tlsFailure} from '../../security/tls.js';
import {limitError} from '../shared/bounds.js';
import type {TlsConnector} from '../../security/tls-connector.js';

export type IcingaAuth = {
	/** "user:password" from a password file (sent as Basic authorization). */
	basic?: {user: string; password: string};
	/** Where the client certificate came from, for messages ("--cert /x.crt", "enrolled certificate …"). */
	certificate?: string;
};

export type HttpOptions = {
	connector: TlsConnector;
	/** "host:port" for messages. */
	where: string;
	/** Host header. */
	hostHeader: string;
	auth: IcingaAuth;
	requestTimeoutMs: number;
};

export type JsonResponse = {status: number; body: unknown; text: string};

/**
 * Response headers, all lines together (Node's parser counts them; a longer single line is over
 * it too). Icinga's HttpServerConnection sends a handful of short headers (Server, Content-Type,
 * Content-Length or Transfer-Encoding, Connection), well under 1 KiB.
 */
export const maxIcingaHeaderBytes = 16 * 1024;

/**
 * A response body, Content-Length or chunked. The largest answer secmon asks for is
 * /v1/objects/services with a few attrs (objectAttrs): some KiB per service, so 128 MiB holds
 * tens of thousands of services.
 */
export const maxIcingaBodyBytes = 128 * 1024 * 1024;

/**
 * One event-stream line (one JSON event). A CheckResult carries the plugin's output and
 * performance data, which plugins keep to kilobytes (Nagios cut them at 8 KiB,
 * MAX_PLUGIN_OUTPUT_LENGTH in include/nagios.h); Icinga does not cut them, so leave room.
 */
export const maxIcingaEventLineBytes = 16 * 1024 * 1024;

/** A response whose headers are in; `done()` ends its deadline, `expired()` is the deadline's error once it struck. */
type Sent = {response: http.IncomingMessage; done: () => void; expired: () => SecmonError | undefined};

class TrustedAgent extends http.Agent {
	private readonly connector: TlsConnector;

	constructor(connector: TlsConnector) {
		super({keepAlive: true, maxSockets: 4});
		this.connector = connector;
	}

	override createConnection(_options: http.ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | undefined {
		this.connector.open().then(stream => {
			callback?.(null, stream);
		}, (error: unknown) => {
			callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex);
		});
		return undefined;
	}
}

/** The "status" text of an Icinga error body ({"error":404,"status":"No objects found."}), or the first line of an HTML one. */
export function icingaErrorText(text: string): string {
	try {
		const parsed = JSON.parse(text) as unknown;
		if (typeof parsed === 'object' && parsed !== null && typeof (parsed as Record<string, unknown>)['status'] === 'string') {
			return (parsed as Record<string, string>)['status']!;
		}
	} catch {
		// Not JSON.
	}

	return text.replaceAll(/<[^>]*>/g, ' ').replaceAll(/\s+/g, ' ').trim().slice(0, 200);
}

export class IcingaHttp {
	private readonly options: HttpOptions;
	private readonly agent: TrustedAgent;
	private readonly open = new Set<http.ClientRequest>();

	constructor(options: HttpOptions) {
		this.options = options;
		this.agent = new TrustedAgent(options.connector);
	}

	private headers(body: string | undefined, override: boolean): http.OutgoingHttpHeaders {
		const headers: http.OutgoingHttpHeaders = {
			host: this.options.hostHeader,
			accept: 'application/json',
			'user-agent': 'secmon',
		};
		if (body !== undefined) {
			headers['content-type'] = 'application/json';
			headers['content-length'] = Buffer.byteLength(body);
		}

		if (override) {
			// Long filters go in the body: POST + X-HTTP-Method-Override: GET (docs/icinga-livestatus-mon.md#api-requests).
			headers['x-http-method-override'] = 'GET';
		}

		const {basic} = this.options.auth;
		if (basic) {
			headers.authorization = `Basic ${Buffer.from(`${basic.user}:${basic.password}`, 'utf8').toString('base64')}`;
		}

		return headers;
	}

	private failure(error: unknown): SecmonError {
		return tlsFailure(error, {target: this.options.connector.options.target, clientCert: this.options.connector.clientCert});
	}

	private tooMuch(what: string, limit: number): SecmonError {
		return limitError(`Icinga 2 at ${this.options.where}`, what, limit, 'Check that this port is the Icinga 2 API (default 5665); secmon keeps what a peer sends within these limits');
	}

	/**
	 * Send a request; resolves with the response once its headers are in. The request timeout is a
	 * deadline for the whole response (headers and body, from the request sent to its last byte):
	 * call `done()` when the body has been read, or the request is destroyed when it expires.
	 */
	private async send(method: 'GET' | 'POST', path: string, body: string | undefined, override: boolean): Promise<Sent> {
		return new Promise((resolve, reject) => {
			const request = http.request({
				agent: this.agent,
				method,
				path,
				headers: this.headers(body, override),
				maxHeaderSize: maxIcingaHeaderBytes,
			});
			this.open.add(request);
			const {requestTimeoutMs} = this.options;
			let expired: SecmonError | undefined;
			let deadline: NodeJS.Timeout | undefined;
			let finished = false;
			const expire = () => {
				expired = new SecmonError(
					'TIMEOUT',
					`Icinga 2 at ${this.options.where} did not answer ${method} ${path.split('?')[0]} within ${requestTimeoutMs} ms`,
					'Check that the Icinga 2 API is healthy (its log: /var/log/icinga2/icinga2.log), or give a longer --timeout',
				);
				request.destroy(expired);
			};

			// From the moment the request has its connection (the connector's own timeouts and a trust
			// prompt come before) to the last byte of the response.
			request.once('socket', () => {
				if (!finished) {
					deadline = setTimeout(expire, requestTimeoutMs);
				}
			});
			const done = () => {
				finished = true;
				clearTimeout(deadline);
			};

			request.once('close', () => {
				done();
				this.open.delete(request);
			});
			// `on`, not `once`: a request can emit more than one error (a reset after a refusal), and an
			// error event without a listener is thrown at the process (npm run fuzz found one).
			request.on('error', (error: NodeJS.ErrnoException) => {
				done();
				reject(error.code === 'HPE_HEADER_OVERFLOW' ? this.tooMuch('response headers', maxIcingaHeaderBytes) : this.failure(error));
			});
			request.once('response', (response: http.IncomingMessage) => {
				const length = Number(response.headers['content-length'] ?? 0);
				if (length > maxIcingaBodyBytes) {
					const error = this.tooMuch(`a response body (Content-Length ${length})`, maxIcingaBodyBytes);
					// Destroying the request destroys this response with the same error; it is reported once, here.
					response.on('error', () => undefined);
					request.destroy(error);
					reject(error);
					return;
				}

				resolve({response, done, expired: () => expired});
			});
			request.end(body);
		});
	}

	/** The whole body, at most maxIcingaBodyBytes (chunked bodies are counted as they come). */
	private async readBody({response, expired}: Sent): Promise<string> {
		const chunks: Buffer[] = [];
		let length = 0;
		try {
			for await (const chunk of response) {
				length += (chunk as Buffer).length;
				if (length > maxIcingaBodyBytes) {
					const error = this.tooMuch('a response body', maxIcingaBodyBytes);
					response.destroy(error);
					throw error;
				}

				chunks.push(chunk as Buffer);
			}
		} catch (error) {
			// A request destroyed by the deadline fails its response with "aborted": say why.
			throw this.failure(expired() ?? error);
		}

		return Buffer.concat(chunks, length).toString('utf8');
	}

	/** One request, the whole JSON body read. Statuses other than 2xx are returned, not thrown. */
	async request(method: 'GET' | 'POST', path: string, body?: unknown, options: {override?: boolean} = {}): Promise<JsonResponse> {
		const text = body === undefined ? undefined : JSON.stringify(body);
		const sent = await this.send(method, path, text, options.override ?? false);
		const {response, done} = sent;
		let raw: string;
		try {
			raw = await this.readBody(sent);
		} finally {
			done();
		}

		let parsed: unknown;
		try {
			parsed = raw === '' ? undefined : JSON.parse(raw) as unknown;
		} catch {
			parsed = undefined;
		}

		return {status: response.statusCode ?? 0, body: parsed, text: raw};
	}

	/**
	 * A JSON request that must succeed: 401/403/404/other statuses become errors that say what to
	 * do. `notFound` decides what a 404 means for this path.
	 */
	async json(method: 'GET' | 'POST', path: string, body: unknown, what: {action: string; permission: string; notFound?: 'empty' | 'error'}): Promise<unknown> {
		const response = await this.request(method, path, body, {override: method === 'POST'});
		if (response.status >= 200 && response.status < 300) {
			if (response.body === undefined) {
				throw new SecmonError('PROTOCOL', `Icinga 2 at ${this.options.where} sent a body that is not JSON for ${path.split('?')[0]}`, 'Check that this port is the Icinga 2 API (default 5665)');
			}

			return response.body;
		}

		if (response.status === 404 && what.notFound === 'empty') {
			return {results: []};
		}

		throw this.statusError(response, what);
	}

	statusError(response: JsonResponse, what: {action: string; permission: string}): SecmonError {
		const {where} = this.options;
		const detail = icingaErrorText(response.text);
		const {auth} = this.options;
		switch (response.status) {
			case 401: {
				const hint = auth.certificate
					? `The API did not map ${auth.certificate} to a user: it must be signed by the Icinga CA and its CN must be the client_cn of an ApiUser (conf.d/api-users.conf). Or give a password file (SECMON_PASSWORD_FILE) for an ApiUser with a password.`
					: (auth.basic
						? `Check the user name and password in the password file (ApiUser "${auth.basic.user}" in the master's conf.d/api-users.conf).`
						: 'Authenticate: a client certificate (--cert FILE --key FILE, or get one with: secmon enroll --host icinga://HOST --cn NAME --ticket-file FILE), or a password file with USER:PASSWORD (SECMON_PASSWORD_FILE).');
				return new SecmonError('PEER_ERROR', `Icinga 2 at ${where} refused to ${what.action}: HTTP 401 (${detail})`, hint);
			}

			case 403: {
				return new SecmonError('PEER_ERROR', `Icinga 2 at ${where} refused to ${what.action}: HTTP 403 (${detail})`, `Give the ApiUser the permission "${what.permission}".`);
			}

			case 404: {
				return new SecmonError(
					'PEER_ERROR',
					`Icinga 2 at ${where} could not ${what.action}: HTTP 404 (${detail})`,
					`Icinga answers 404 both for objects that do not exist and for a missing permission: check the names, and that the ApiUser has "${what.permission}".`,
				);
			}

			default: {
				return new SecmonError(
					'PEER_ERROR',
					`Icinga 2 at ${where} could not ${what.action}: HTTP ${response.status} (${detail})`,
					response.status >= 500 ? 'Check the Icinga 2 log on the master.' : 'This looks like a secmon bug or an Icinga version it does not know; please report it with this message.',
				);
			}
		}
	}

	/**
	 * A streaming POST (the event stream, docs/icinga-livestatus-mon.md#event-stream): one JSON object per line. Resolves once
	 * the status line is in (rejects with statusError for anything but 200), then calls onObject per
	 * line and onEnd once when the stream stops.
	 */
	async stream(path: string, body: unknown, what: {action: string; permission: string}, onObject: (object: unknown) => void, onEnd: (error?: SecmonError) => void): Promise<{close: () => void}> {
		const text = JSON.stringify(body);
		const sent = await this.send('POST', path, text, false);
		const {response, done} = sent;
		if (response.statusCode !== 200) {
			let raw: string;
			try {
				raw = await this.readBody(sent);
			} finally {
				done();
			}

			throw this.statusError({status: response.statusCode ?? 0, body: undefined, text: raw}, what);
		}

		// The stream is long-lived: no request deadline or idle timeout once it is open.
		done();
		response.socket.setTimeout(0);
		let ended = false;
		const end = (error?: SecmonError) => {
			if (!ended) {
				ended = true;
				onEnd(error);
			}
		};

		// The current line's chunks; only each new chunk is searched for "\n", so reading is linear.
		let pending: Buffer[] = [];
		let pendingBytes = 0;
		const line = (bytes: Buffer) => {
			const textLine = bytes.toString('utf8').trim();
			if (textLine !== '') {
				try {
					onObject(JSON.parse(textLine));
				} catch {
					// A line that is not JSON is skipped; the next one may be fine.
				}
			}
		};

		const overflow = () => {
			end(this.tooMuch('an event-stream line', maxIcingaEventLineBytes));
			response.destroy();
		};

		response.on('data', (chunk: Buffer) => {
			let rest = chunk;
			for (let newline = rest.indexOf(10); newline !== -1; newline = rest.indexOf(10)) {
				if (ended) {
					// Closed by an onObject.
					return;
				}

				if (pendingBytes + newline > maxIcingaEventLineBytes) {
					overflow();
					return;
				}

				line(pending.length === 0 ? rest.subarray(0, newline) : Buffer.concat([...pending, rest.subarray(0, newline)]));
				pending = [];
				pendingBytes = 0;
				rest = rest.subarray(newline + 1);
			}

			if (ended || rest.length === 0) {
				return;
			}

			pending.push(rest);
			pendingBytes += rest.length;
			if (pendingBytes > maxIcingaEventLineBytes) {
				overflow();
			}
		});
		response.once('end', () => {
			end();
		});
		response.once('error', error => {
			end(this.failure(error));
		});
		response.once('close', () => {
			end();
		});
		return {
			close() {
				ended = true;
				response.destroy();
			},
		};
	}

	close(): void {
		for (const request of this.open) {
			request.destroy();
		}

		this.agent.destroy();
	}
}
