/**
 * Hostile Livestatus peers in this process (plain TCP): bytes nobody asked for between two
 * queries, an answer past its announced length, an answer over the size limit, a dripped answer
 * past the whole-answer deadline.
 */
import net from 'node:net';
import {describe, expect, test} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {LivestatusClient, maxLivestatusAnswerBytes} from '../../../source/protocols/livestatus/client.js';
import {formatFixed16} from '../../../source/protocols/livestatus/protocol.js';

type Peer = {port: number; connections: number; closed: number; close: () => void};

/** A server that calls `onQuery(socket, n)` for the n-th query (counted over all connections). */
async function hostile(onQuery: (socket: net.Socket, n: number) => void): Promise<Peer> {
	let queries = 0;
	const peer: Peer = {
		port: 0, connections: 0, closed: 0, close() {
			server.close();
		},
	};
	const server = net.createServer(socket => {
		peer.connections++;
		socket.on('error', () => undefined);
		socket.on('close', () => {
			peer.closed++;
		});
		let text = '';
		socket.on('data', chunk => {
			text += chunk.toString('latin1');
			while (text.includes('\n\n')) {
				text = text.slice(text.indexOf('\n\n') + 2);
				onQuery(socket, ++queries);
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	peer.port = (server.address() as net.AddressInfo).port;
	return peer;
}

function client(peer: Peer, requestTimeoutMs = 5000): LivestatusClient {
	return new LivestatusClient({
		open: async () => new Promise((resolve, reject) => {
			const socket = net.connect(peer.port, '127.0.0.1', () => {
				resolve(socket);
			});
			socket.once('error', reject);
		}),
		target: {host: '127.0.0.1', port: peer.port},
		where: `127.0.0.1:${peer.port}`,
		tls: false,
		clientCert: false,
		requestTimeoutMs,
	});
}

const query = 'GET status\nResponseHeader: fixed16\nKeepAlive: on\nOutputFormat: json\n\n';
const answer = (body: string) => formatFixed16(200, Buffer.byteLength(body)) + body;

async function failure(promise: Promise<unknown>): Promise<SecmonError> {
	const error = await promise.then(() => undefined, (error: unknown) => error);
	if (error instanceof SecmonError) {
		return error;
	}

	throw new Error(`expected a SecmonError, got ${String(error)}`);
}

async function until(condition: () => boolean): Promise<void> {
	while (!condition()) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}
}

describe('Livestatus limits', () => {
	test('bytes sent between two queries close the connection; the next query opens a new one and gets its own answer', async () => {
		const peer = await hostile((socket, n) => {
			socket.write(answer(`[[${n}]]`));
			if (n === 1) {
				// Unsolicited, after the answer: it must not become the answer to query 2.
				setTimeout(() => socket.write(answer('[["unsolicited"]]')), 50);
			}
		});
		const livestatus = client(peer);
		try {
			expect(await livestatus.rows(query)).toEqual([[1]]);
			await until(() => peer.closed === 1);
			expect(await livestatus.rows(query)).toEqual([[2]]);
			expect(peer.connections).toBe(2);
		} finally {
			livestatus.close();
			peer.close();
		}
	});

	test('bytes past the announced length are a protocol error', async () => {
		const peer = await hostile(socket => {
			socket.write(answer('[[1]]') + 'garbage');
		});
		const livestatus = client(peer);
		try {
			const error = await failure(livestatus.rows(query));
			expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
			expect(error.message).toBe(`Livestatus at 127.0.0.1:${peer.port} sent more than the 5 bytes its answer header announced; secmon closed the connection`);
		} finally {
			livestatus.close();
			peer.close();
		}
	});

	test('an answer announced over the limit is refused from its header', async () => {
		const peer = await hostile(socket => {
			socket.write(formatFixed16(200, maxLivestatusAnswerBytes + 1));
			socket.write(Buffer.alloc(1024 * 1024, 0x20));
		});
		const livestatus = client(peer);
		try {
			const error = await failure(livestatus.rows(query));
			expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
			expect(error.message).toBe(`Livestatus at 127.0.0.1:${peer.port} announced an answer of ${maxLivestatusAnswerBytes + 1} bytes, over 256 MiB; secmon stops there`);
		} finally {
			livestatus.close();
			peer.close();
		}
	});

	test('an answer whose header and body each come within the timeout, but not both, ends at the whole-answer deadline', async () => {
		const peer = await hostile(socket => {
			const body = '[[1]]';
			setTimeout(() => socket.write(formatFixed16(200, body.length)), 400);
			setTimeout(() => socket.write(body), 800);
		});
		const livestatus = client(peer, 600);
		try {
			const error = await failure(livestatus.rows(query));
			expect(error).toMatchObject({code: 'TIMEOUT', message: `Livestatus at 127.0.0.1:${peer.port} did not answer within 600 ms`});
		} finally {
			livestatus.close();
			peer.close();
		}
	});
});
