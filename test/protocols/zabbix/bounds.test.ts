/**
 * A hostile "agent" in this process: frames at and over the size limit, and a large valid frame
 * cut into uneven chunks (reassembly joins them once, so the answer is intact).
 */
import {randomBytes} from 'node:crypto';
import net from 'node:net';
import {describe, expect, it} from 'vitest';
import {zabbixGet} from '../../../source/protocols/zabbix/pool.js';
import {
	defaultMaxFrameBytes, encodeFrame, FrameDecoder, flagProtocol, headerSize, zbxMagic,
} from '../../../source/protocols/zabbix/frame.js';

/** A ZBXD server that answers every request with `answer(socket)` and counts the bytes it sent. */
async function hostile(answer: (socket: net.Socket) => void): Promise<{port: number; close: () => void}> {
	const server = net.createServer(socket => {
		socket.on('error', () => undefined);
		socket.setNoDelay(true);
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
			server.close();
		},
	};
}

/** Uneven chunk sizes, 1 byte to 64 KiB, from a fixed seed. */
function * chunkSizes(): Generator<number> {
	let seed = 12_345;
	for (;;) {
		seed = ((seed * 1_103_515_245) + 12_345) % 2_147_483_648;
		yield 1 + (seed % 65_536);
	}
}

function split(buffer: Buffer): Buffer[] {
	const chunks: Buffer[] = [];
	const sizes = chunkSizes();
	for (let at = 0; at < buffer.length;) {
		const size = sizes.next().value as number;
		chunks.push(buffer.subarray(at, at + size));
		at += size;
	}

	return chunks;
}

describe('Zabbix frame limits', () => {
	it('a frame declaring one byte over the limit is refused from its header, naming the agent', async () => {
		const header = Buffer.alloc(headerSize);
		zbxMagic.copy(header);
		header[4] = flagProtocol;
		header.writeUInt32LE(defaultMaxFrameBytes + 1, 5);
		let sent = 0;
		const peer = await hostile(socket => {
			// Header, then data without end: the client must stop at the header.
			socket.write(header);
			const block = Buffer.alloc(64 * 1024);
			const pump = () => {
				while (!socket.destroyed && sent < defaultMaxFrameBytes * 2 && socket.write(block)) {
					sent += block.length;
				}
			};

			socket.on('drain', pump);
			pump();
		});
		try {
			const error = await zabbixGet({
				host: '127.0.0.1', port: peer.port, tls: {kind: 'unencrypted'}, key: 'agent.ping', timeoutMs: 5000,
			}).then(() => undefined, (error: unknown) => error);
			expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
			expect((error as Error).message).toBe(`Zabbix agent 127.0.0.1:${peer.port}: The agent's response declares a data length of ${defaultMaxFrameBytes + 1} bytes, over 64 MiB; secmon stops there`);
		} finally {
			peer.close();
		}
	});

	it('a 32 MiB frame in chunks of 1 byte to 64 KiB decodes intact (decoder, and over TCP)', async () => {
		const data = randomBytes(32 * 1024 * 1024);
		const frame = encodeFrame(data);
		const decoder = new FrameDecoder();
		const chunks = split(frame);
		expect(chunks.length).toBeGreaterThan(500);
		const results = chunks.map(chunk => decoder.push(chunk));
		expect(results.slice(0, -1).every(result => result === undefined)).toBe(true);
		expect(results.at(-1)!.data.equals(data)).toBe(true);

		const peer = await hostile(socket => {
			for (const chunk of chunks) {
				socket.write(chunk);
			}

			socket.end();
		});
		try {
			const reply = await zabbixGet({
				host: '127.0.0.1', port: peer.port, tls: {kind: 'unencrypted'}, key: 'vfs.file.contents[/big]', timeoutMs: 20_000,
			});
			expect(reply.data.equals(data)).toBe(true);
		} finally {
			peer.close();
		}
	});

	it('a header split over 1-byte chunks still parses; bytes past the declared length are refused', () => {
		const frame = encodeFrame(Buffer.from('hello'));
		const decoder = new FrameDecoder();
		for (const byte of frame.subarray(0, -1)) {
			expect(decoder.push(Buffer.of(byte))).toBeUndefined();
		}

		expect(decoder.push(frame.subarray(-1))?.data.toString()).toBe('hello');
		const over = new FrameDecoder();
		over.push(frame.subarray(0, 3));
		expect(() => over.push(Buffer.concat([frame.subarray(3), Buffer.from('x')]))).toThrow(/1 bytes more than the 5/);
	});
});
