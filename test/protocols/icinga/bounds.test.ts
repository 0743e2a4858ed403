/**
 * Hostile "Icinga 2 APIs" in this process, speaking raw HTTP/1.1 over plain TCP (the TLS layer
 * is TlsConnector's business and tested with the real Icinga): endless chunked bodies, a
 * Content-Length over the limit, headers over the limit, headers dripped past the deadline, an
 * endless event-stream line. IcingaHttp gets its sockets from a connector that dials the port.
 */
import net from 'node:net';
import {describe, expect, test} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {
	IcingaHttp, maxIcingaBodyBytes, maxIcingaEventLineBytes, maxIcingaHeaderBytes,
} from '../../../source/protocols/icinga/http.js';
import type {TlsConnector} from '../../../source/security/tls-connector.js';
import {makeRequestCertificate, maxEnrollMessageBytes, requestCertificate} from '../../../source/protocols/icinga/enroll.js';

type Peer = {port: number; close: () => void};

/** A server that answers each request (once its header block is in) with `answer(socket)`. */
async function hostile(answer: (socket: net.Socket) => void): Promise<Peer> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		let text = '';
		socket.on('data', chunk => {
			text += chunk.toString('latin1');
			if (text.includes('\r\n\r\n')) {
				text = '';
				answer(socket);
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		port: (server.address() as net.AddressInfo).port,
		close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
		},
	};
}

/** A server that calls `answer(socket)` once the client sent anything. */
async function hostileRaw(answer: (socket: net.Socket) => void): Promise<Peer> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		socket.once('data', () => {
			answer(socket);
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		port: (server.address() as net.AddressInfo).port,
		close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
		},
	};
}

function icinga(peer: Peer, requestTimeoutMs = 10_000): IcingaHttp {
	const connector = {
		options: {target: {host: '127.0.0.1', port: peer.port}},
		clientCert: false,
		async open() {
			return new Promise<net.Socket>((resolve, reject) => {
				const socket = net.connect(peer.port, '127.0.0.1', () => {
					resolve(socket);
				});
				socket.once('error', reject);
			});
		},
	} as unknown as TlsConnector;
	return new IcingaHttp({
		connector, where: `127.0.0.1:${peer.port}`, hostHeader: `127.0.0.1:${peer.port}`, auth: {}, requestTimeoutMs,
	});
}

/** Writes `next()` while the socket takes it, until it is destroyed. */
function pump(socket: net.Socket, next: () => string | Buffer): void {
	const write = () => {
		while (!socket.destroyed) {
			if (!socket.write(next())) {
				socket.once('drain', write);
				return;
			}
		}
	};

	write();
}

async function failure(promise: Promise<unknown>): Promise<SecmonError> {
	const error = await promise.then(() => undefined, (error: unknown) => error);
	if (error instanceof SecmonError) {
		return error;
	}

	throw new Error(`expected a SecmonError, got ${String(error)}`);
}

const mib = (bytes: number) => `${bytes / 2 ** 20} MiB`;

describe('Icinga 2 API limits', () => {
	test('an endless chunked body ends at the body limit', async () => {
		const chunk = `10000\r\n${'a'.repeat(0x1_00_00)}\r\n`;
		const peer = await hostile(socket => {
			socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
			pump(socket, () => chunk);
		});
		const http = icinga(peer);
		try {
			const error = await failure(http.request('GET', '/v1/status'));
			expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
			expect(error.message).toBe(`Icinga 2 at 127.0.0.1:${peer.port} sent a response body over ${mib(maxIcingaBodyBytes)}; secmon stops there`);
		} finally {
			http.close();
			peer.close();
		}
	});

	test('a Content-Length over the limit is refused before the body', async () => {
		const peer = await hostile(socket => {
			socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${maxIcingaBodyBytes + 1}\r\n\r\n`);
		});
		const http = icinga(peer);
		try {
			const error = await failure(http.request('GET', '/v1/status'));
			expect(error.message).toBe(`Icinga 2 at 127.0.0.1:${peer.port} sent a response body (Content-Length ${maxIcingaBodyBytes + 1}) over ${mib(maxIcingaBodyBytes)}; secmon stops there`);
		} finally {
			http.close();
			peer.close();
		}
	});

	test('a Content-Length over the limit with body bytes behind it: one clean error, nothing thrown at the process (found by npm run fuzz)', async () => {
		for (const length of [maxIcingaBodyBytes + 1, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
			const peer = await hostile(socket => {
				socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"results":[{"status":{}}]}`);
			});
			const http = icinga(peer);
			try {
				const error = await failure(http.request('GET', '/v1/status'));
				expect(error.message).toBe(`Icinga 2 at 127.0.0.1:${peer.port} sent a response body (Content-Length ${length}) over ${mib(maxIcingaBodyBytes)}; secmon stops there`);
				// Let any late error surface inside the test (vitest fails a run on an uncaught one).
				await new Promise(resolve => {
					setTimeout(resolve, 50);
				});
			} finally {
				http.close();
				peer.close();
			}
		}
	});

	test('endless response headers, or one endless header line, end at the header limit', async () => {
		for (const header of ['X-Pad: 0123456789abcdef\r\n', 'a'.repeat(4096)]) {
			let first = true;
			const peer = await hostile(socket => {
				socket.write('HTTP/1.1 200 OK\r\nX-Long: ');
				pump(socket, () => {
					const data = first ? `x\r\n${header}` : header;
					first = false;
					return data;
				});
			});
			const http = icinga(peer);
			try {
				const error = await failure(http.request('GET', '/v1'));
				expect(error).toMatchObject({code: 'PROTOCOL', message: `Icinga 2 at 127.0.0.1:${peer.port} sent response headers over ${maxIcingaHeaderBytes / 1024} KiB; secmon stops there`});
			} finally {
				http.close();
				peer.close();
			}
		}
	});

	test('headers dripped one line per 200 ms end at the deadline for the whole response', async () => {
		const peer = await hostile(socket => {
			socket.write('HTTP/1.1 200 OK\r\n');
			const timer = setInterval(() => {
				if (socket.destroyed) {
					clearInterval(timer);
					return;
				}

				socket.write('X-Drip: 1\r\n');
			}, 200);
		});
		const http = icinga(peer, 700);
		try {
			const error = await failure(http.request('GET', '/v1'));
			expect(error).toMatchObject({code: 'TIMEOUT', message: `Icinga 2 at 127.0.0.1:${peer.port} did not answer GET /v1 within 700 ms`});
		} finally {
			http.close();
			peer.close();
		}
	});

	test('a body dripped in chunks every 200 ms ends at the deadline for the whole response', async () => {
		const peer = await hostile(socket => {
			socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n');
			const timer = setInterval(() => {
				if (socket.destroyed) {
					clearInterval(timer);
					return;
				}

				socket.write('1\r\n \r\n');
			}, 200);
		});
		const http = icinga(peer, 700);
		try {
			const error = await failure(http.request('GET', '/v1'));
			expect(error).toMatchObject({code: 'TIMEOUT', message: `Icinga 2 at 127.0.0.1:${peer.port} did not answer GET /v1 within 700 ms`});
		} finally {
			http.close();
			peer.close();
		}
	});

	test('an event stream: split lines are joined, an endless line ends the stream with the line limit', async () => {
		const event = JSON.stringify({type: 'CheckResult', host: 'h', text: 'é'.repeat(10)});
		const bytes = Buffer.from(`${event}\n${event}\n`);
		const block = Buffer.alloc(0x1_00_00, 'b');
		const peer = await hostile(socket => {
			socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
			// Two events cut inside a UTF-8 sequence, then a line without end.
			for (const part of [bytes.subarray(0, 50), bytes.subarray(50)]) {
				socket.write(`${part.length.toString(16)}\r\n`);
				socket.write(part);
				socket.write('\r\n');
			}

			pump(socket, () => Buffer.concat([Buffer.from('10000\r\n'), block, Buffer.from('\r\n')]));
		});
		const http = icinga(peer);
		const objects: unknown[] = [];
		try {
			const ended = await new Promise<SecmonError | undefined>((resolve, reject) => {
				http.stream('/v1/events', {types: ['CheckResult'], queue: 'q'}, {action: 'stream', permission: 'events/CheckResult'}, object => objects.push(object), resolve).catch(reject);
			});
			expect(objects).toEqual([JSON.parse(event), JSON.parse(event)]);
			expect(ended).toMatchObject({code: 'PROTOCOL', message: `Icinga 2 at 127.0.0.1:${peer.port} sent an event-stream line over ${mib(maxIcingaEventLineBytes)}; secmon stops there`});
		} finally {
			http.close();
			peer.close();
		}
	});
});

describe('enroll: the master\'s JSON-RPC messages', () => {
	test('a netstring declaring 9999999999 bytes, then endless data, ends at the message limit', async () => {
		const peer = await hostileRaw(socket => {
			socket.write('9999999999:{');
			pump(socket, () => 'x'.repeat(0x1_00_00));
		});
		const socket = net.connect(peer.port, '127.0.0.1');
		try {
			const {certPem} = await makeRequestCertificate('secmon-agent', 1024);
			const error = await failure(requestCertificate(socket, {certPem, timeoutMs: 10_000, where: `127.0.0.1:${peer.port}`}));
			expect(error).toMatchObject({code: 'PROTOCOL', message: `the Icinga 2 master 127.0.0.1:${peer.port} sent a JSON-RPC message over ${maxEnrollMessageBytes / 2 ** 20} MiB; secmon stops there`});
		} finally {
			socket.destroy();
			peer.close();
		}
	});
});
