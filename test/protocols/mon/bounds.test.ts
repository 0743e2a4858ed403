/**
 * Hostile mon peers in this process (plain TCP): endless replies (many lines, one endless line,
 * too many bytes), a reply dripped a line at a time past the whole-reply deadline, and bytes
 * nobody asked for between two commands.
 */
import net from 'node:net';
import {describe, expect, test} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {
	MonClient, maxMonLineBytes, maxMonReplyBytes, maxMonReplyLines,
} from '../../../source/protocols/mon/client.js';

type Peer = {port: number; connections: number; closed: number; close: () => void};

/** A server that calls `onCommand(socket, n)` for the n-th command line (over all connections). */
async function hostile(onCommand: (socket: net.Socket, n: number) => void): Promise<Peer> {
	let commands = 0;
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
			while (text.includes('\n')) {
				text = text.slice(text.indexOf('\n') + 1);
				onCommand(socket, ++commands);
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	peer.port = (server.address() as net.AddressInfo).port;
	return peer;
}

function client(peer: Peer, requestTimeoutMs = 10_000): MonClient {
	return new MonClient({
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

async function failure(promise: Promise<unknown>): Promise<SecmonError> {
	const error = await promise.then(() => undefined, (error: unknown) => error);
	if (error instanceof SecmonError) {
		return error;
	}

	throw new Error(`expected a SecmonError, got ${String(error)}`);
}

/** Writes `next()` while the socket takes it, until it is destroyed (or `next` returns undefined). */
function pump(socket: net.Socket, next: () => string | Buffer | undefined): void {
	const write = () => {
		for (;;) {
			if (socket.destroyed) {
				return;
			}

			const data = next();
			if (data === undefined) {
				return;
			}

			if (!socket.write(data)) {
				socket.once('drain', write);
				return;
			}
		}
	};

	write();
}

async function until(condition: () => boolean): Promise<void> {
	while (!condition()) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}
}

describe('mon limits', () => {
	test('endless short lines end at the line-count limit', async () => {
		const peer = await hostile(socket => {
			pump(socket, () => 'x\n'.repeat(1000));
		});
		const mon = client(peer);
		try {
			const error = await failure(mon.lines('list opstatus'));
			expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
			expect(error.message).toBe(`mon at 127.0.0.1:${peer.port} sent a reply to "list" over ${maxMonReplyLines} lines; secmon stops there`);
		} finally {
			mon.close();
			peer.close();
		}
	});

	test('endless long lines end at the reply-size limit', async () => {
		const line = `${'y'.repeat(maxMonLineBytes - 1)}\n`;
		const peer = await hostile(socket => {
			pump(socket, () => line);
		});
		const mon = client(peer);
		try {
			const error = await failure(mon.lines('list opstatus'));
			expect(error.message).toBe(`mon at 127.0.0.1:${peer.port} sent a reply to "list" over ${maxMonReplyBytes / 2 ** 20} MiB; secmon stops there`);
		} finally {
			mon.close();
			peer.close();
		}
	});

	test('one endless line ends at the line-size limit', async () => {
		const block = 'z'.repeat(64 * 1024);
		const peer = await hostile(socket => {
			pump(socket, () => block);
		});
		const mon = client(peer);
		try {
			const error = await failure(mon.lines('list opstatus'));
			expect(error).toMatchObject({code: 'PROTOCOL', message: `mon at 127.0.0.1:${peer.port} sent a line over 1 MiB; secmon stops there`});
		} finally {
			mon.close();
			peer.close();
		}
	});

	test('a line every 100 ms keeps each read short but ends at the whole-reply deadline', async () => {
		const peer = await hostile(socket => {
			const timer = setInterval(() => {
				if (socket.destroyed) {
					clearInterval(timer);
					return;
				}

				socket.write('group=g service=s opstatus=1\n');
			}, 100);
		});
		const mon = client(peer, 700);
		try {
			const error = await failure(mon.lines('list opstatus'));
			expect(error).toMatchObject({code: 'TIMEOUT', message: `mon at 127.0.0.1:${peer.port} did not answer within 700 ms`});
		} finally {
			mon.close();
			peer.close();
		}
	});

	test('bytes sent between two commands close the connection; the next command opens a new one', async () => {
		const peer = await hostile((socket, n) => {
			socket.write(`v${n}\n220 version\n`);
			if (n === 1) {
				setTimeout(() => socket.write('v-unsolicited\n220 version\n'), 50);
			}
		});
		const mon = client(peer);
		try {
			expect(await mon.lines('version')).toEqual(['v1']);
			await until(() => peer.closed === 1);
			expect(await mon.lines('version')).toEqual(['v2']);
			expect(peer.connections).toBe(2);
		} finally {
			mon.close();
			peer.close();
		}
	});
});
