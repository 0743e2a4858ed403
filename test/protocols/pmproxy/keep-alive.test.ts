/**
 * A kept-alive connection closed under a request (pmproxy drops idle connections; a GET can cross
 * that close): the GET is sent once more on a fresh connection, but only for a reused socket,
 * never after a byte of the answer, never twice. The servers here are written in the test, HTTP
 * and HTTPS (the test PKI), and close on cue: the Nth request on a connection, not after a time.
 */
import {readFileSync} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo, Socket} from 'node:net';
import tls from 'node:tls';
import {
	afterEach, describe, expect, it,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {PmproxyHttp, type PmproxyHttpOptions} from '../../../source/protocols/pmproxy/http.js';
import {connectTcp} from '../../../source/security/tls.js';
import {peerPki} from '../../helpers/pmcd.js';

/**
 * What the server does with a request: answer, close (FIN), reset (RST), or close after part of
 * the status line and headers ('partial-head': no response yet for Node) or after the headers
 * and part of the body ('partial-body').
 */
type Move = 'answer' | 'close' | 'reset' | 'partial-head' | 'partial-body' | 'hold';

type Fake = {
	port: number; connections: number; requests: string[]; client: PmproxyHttp; stop: () => Promise<void>;
	/** Resolves when the server has the next request (after its move was chosen). */
	nextRequest: () => Promise<void>;
};

const fakes: Fake[] = [];

afterEach(async () => {
	await Promise.all(fakes.splice(0).map(async fake => fake.stop()));
});

/**
 * A server whose move for each request is `plan(n, k)`: n counts connections from 1, k requests
 * on that connection from 1. `secure`: HTTPS with the test PKI's server certificate.
 */
async function fake(secure: boolean, plan: (connection: number, request: number) => Move, extra: Partial<PmproxyHttpOptions> = {}): Promise<Fake> {
	const pki = await peerPki();
	const state = {connections: 0, requests: [] as string[]};
	let onRequest: (() => void) | undefined;
	// By the client's port: the TCP socket under TLS, for an RST (a TLS socket cannot send one).
	const perSocket = new Map<number, {connection: number; count: number; raw: Socket}>();
	const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
		const {socket} = request;
		const seen = perSocket.get(socket.remotePort!)!;
		seen.count++;
		state.requests.push(`${seen.connection}.${seen.count} ${request.url ?? ''}`);
		const move = plan(seen.connection, seen.count);
		onRequest?.();
		switch (move) {
			case 'hold': {
				break;
			}

			case 'answer': {
				const body = JSON.stringify({context: 42, connection: seen.connection});
				response.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'Keep-Alive'});
				response.end(body);
				break;
			}

			case 'close': {
				socket.destroy();
				break;
			}

			case 'reset': {
				seen.raw.resetAndDestroy();
				break;
			}

			case 'partial-head':
			case 'partial-body': {
				socket.write(move === 'partial-head' ? 'HTTP/1.1 200 OK\r\nContent-Le' : 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"con', () => {
					socket.destroy();
				});
				break;
			}
		}
	};

	const server = secure
		? https.createServer({cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey)}, handler)
		: http.createServer(handler);
	server.keepAliveTimeout = 60_000;
	server.on('connection', (socket: Socket) => {
		state.connections++;
		perSocket.set(socket.remotePort!, {connection: state.connections, count: 0, raw: socket});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	const ca = readFileSync(pki.caFile);
	const client = new PmproxyHttp({
		open: secure
			? async () => new Promise((resolve, reject) => {
				const socket = tls.connect({
					host: '127.0.0.1', port, servername: 'localhost', ca,
				}, () => {
					resolve(socket);
				});
				socket.once('error', reject);
			})
			: async () => connectTcp({host: '127.0.0.1', port}, 5000),
		who: `pmproxy at 127.0.0.1:${port}`,
		hostHeader: `localhost:${port}`,
		requestTimeoutMs: 10_000,
		failure: error => (error instanceof SecmonError ? error : new SecmonError('CONNECT_FAILED', `failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)),
		...extra,
	});
	const result: Fake = {
		port,
		get connections() {
			return state.connections;
		},
		requests: state.requests,
		client,
		nextRequest: async () => new Promise(resolve => {
			onRequest = () => {
				onRequest = undefined;
				resolve();
			};
		}),
		async stop() {
			client.close();
			server.closeAllConnections();
			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
	fakes.push(result);
	return result;
}

describe.each([false, true])('keep-alive closed under a GET (HTTPS: %s)', secure => {
	it.each(['close', 'reset'] as const)('a reused socket %s before the answer: the GET goes once more on a fresh connection', async move => {
		// The second request on the first connection meets the close; every other request is answered.
		const server = await fake(secure, (connection, request) => (connection === 1 && request === 2 ? move : 'answer'));
		expect((await server.client.get('/pmapi/context?a=1')).status).toBe(200);
		const again = await server.client.get('/pmapi/42/fetch?names=x');
		expect(again.status).toBe(200);
		expect(again.text).toContain('"connection":2');
		expect(server.requests).toEqual(['1.1 /pmapi/context?a=1', '1.2 /pmapi/42/fetch?names=x', '2.1 /pmapi/42/fetch?names=x']);
		expect(server.client.retriedResets).toBe(1);
		// The fresh connection is kept alive as before.
		expect((await server.client.get('/pmapi/42/fetch?names=y')).text).toContain('"connection":2');
	});

	it('a fresh connection closed before the answer is a failure, not retried', async () => {
		const server = await fake(secure, () => 'close');
		await expect(server.client.get('/pmapi/context')).rejects.toThrow(SecmonError);
		expect(server.requests).toEqual(['1.1 /pmapi/context']);
		expect(server.client.retriedResets).toBe(0);
	});

	it.each(['partial-head', 'partial-body'] as const)('a reused socket closed after part of the answer arrived (%s) is a failure, not retried', async move => {
		const server = await fake(secure, (connection, request) => (connection === 1 && request === 2 ? move : 'answer'));
		await server.client.get('/pmapi/context');
		await expect(server.client.get('/pmapi/42/fetch?names=x')).rejects.toThrow(SecmonError);
		expect(server.requests).toEqual(['1.1 /pmapi/context', '1.2 /pmapi/42/fetch?names=x']);
		expect(server.client.retriedResets).toBe(0);
	});

	it('the retry happens once: a fresh connection closed again is the failure', async () => {
		const server = await fake(secure, (connection, request) => (connection === 1 && request === 1 ? 'answer' : 'close'));
		await server.client.get('/pmapi/context');
		await expect(server.client.get('/pmapi/42/fetch?names=x')).rejects.toThrow(SecmonError);
		expect(server.requests).toEqual(['1.1 /pmapi/context', '1.2 /pmapi/42/fetch?names=x', '2.1 /pmapi/42/fetch?names=x']);
		expect(server.client.retriedResets).toBe(1);
	});
});

describe.each([false, true])('close() and the retry (HTTPS: %s)', secure => {
	it('close() during a GET on a reused socket: the GET rejects at once and is not sent again', async () => {
		const server = await fake(secure, (connection, request) => (connection === 1 && request === 2 ? 'hold' : 'answer'));
		await server.client.get('/pmapi/context');
		const arrived = server.nextRequest();
		const pending = server.client.get('/pmapi/42/fetch?names=x');
		await arrived;
		server.client.close();
		// The request deadline is 10 s: a GET resent after close() would keep this waiting past the test's.
		await expect(pending).rejects.toThrow(/was closed before GET \/pmapi\/42\/fetch was answered/);
		await expect(server.client.get('/pmapi/42/fetch?names=y')).rejects.toThrow(/was closed/);
		expect(server.requests).toEqual(['1.1 /pmapi/context', '1.2 /pmapi/42/fetch?names=x']);
		expect(server.connections).toBe(1);
		expect(server.client.retriedResets).toBe(0);
	});

	it('the retry gets only what is left of the deadline: none left, it is a timeout and nothing is sent again', async () => {
		let clock = 1_000_000;
		const server = await fake(secure, (connection, request) => {
			if (connection === 1 && request === 2) {
				// The reset comes when the whole request deadline has gone by (the client's clock).
				clock += 10_000;
				return 'reset';
			}

			return 'answer';
		}, {now: () => clock});
		await server.client.get('/pmapi/context');
		await expect(server.client.get('/pmapi/42/fetch?names=x')).rejects.toThrow('did not answer GET /pmapi/42/fetch within 10000 ms');
		expect(server.requests).toEqual(['1.1 /pmapi/context', '1.2 /pmapi/42/fetch?names=x']);
	});

	it('a context request sent with credentials is not sent again (each one is a context and a SASL login)', async () => {
		const server = await fake(secure, (connection, request) => (connection === 1 && request === 2 ? 'reset' : 'answer'), {credentials: async () => ({user: 'mon', password: 'secret'})});
		await server.client.get('/pmapi/context');
		expect(await server.client.authenticate()).toBe(true);
		await expect(server.client.get('/pmapi/context?polltimeout=60')).rejects.toThrow(SecmonError);
		expect(server.requests).toEqual(['1.1 /pmapi/context', '1.2 /pmapi/context?polltimeout=60']);
		expect(server.client.retriedResets).toBe(0);
	});
});
