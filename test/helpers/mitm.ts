import net from 'node:net';

/**
A man in the middle on loopback in front of a real pmcd: it forwards bytes both ways and, while
`strip` is on, clears the TLS offer (the SECURE feature bit, libpcp's PDU_FLAG_SECURE) in pmcd's
greeting. The greeting is the first PDU pmcd sends, 20 bytes, unauthenticated: an ERROR PDU whose
last 32-bit word carries the feature bits in its low 16 bits (libpcp src/libpcp/src/pdu.c
__pmSendXtendError), so anyone on the path can do this.
*/
export type GreetingStripper = {
	host: string;
	port: number;
	/** host:port as secmon takes it. */
	address: string;
	/** Clear the TLS offer in greetings of new connections. */
	strip: boolean;
	/** Connections accepted so far. */
	accepted: number;
	/** Drop every connection in flight (the client sees a reset and reconnects). */
	dropAll(): void;
	close(): Promise<void>;
};

const greetingBytes = 20;
/** PDU_FLAG_SECURE | PDU_FLAG_SECURE_ACK | PDU_FLAG_CERT_REQD (libpcp src/include/pcp/libpcp.h). */
const tlsFeatureBits = 0x1 | 0x10 | 0x80;

export async function startGreetingStripper(upstream: {host: string; port: number}, host = '127.0.0.1'): Promise<GreetingStripper> {
	const sockets = new Set<net.Socket>();
	const state = {strip: false, accepted: 0};
	const server = net.createServer(client => {
		state.accepted++;
		const {strip} = state;
		const server = net.connect(upstream);
		sockets.add(client);
		sockets.add(server);
		let seen = 0;
		const greeting = Buffer.alloc(greetingBytes);
		server.on('data', (chunk: Buffer) => {
			if (seen >= greetingBytes || !strip) {
				seen += chunk.length;
				client.write(chunk);
				return;
			}

			// Gather the greeting (it may arrive in pieces), edit it, then pass everything on.
			const take = Math.min(greetingBytes - seen, chunk.length);
			chunk.copy(greeting, seen, 0, take);
			seen += take;
			if (seen === greetingBytes) {
				const challenge = greeting.readUInt32BE(16);
				greeting.writeUInt32BE((challenge & ~tlsFeatureBits) >>> 0, 16);
				client.write(greeting);
			}

			if (take < chunk.length) {
				seen += chunk.length - take;
				client.write(chunk.subarray(take));
			}
		});
		client.on('data', (chunk: Buffer) => server.write(chunk));
		const end = () => {
			client.destroy();
			server.destroy();
			sockets.delete(client);
			sockets.delete(server);
		};

		for (const socket of [client, server]) {
			socket.on('error', end);
			socket.on('close', end);
		}
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host, port: 0}, resolve);
	});
	const {port} = server.address() as net.AddressInfo;
	const dropAll = () => {
		for (const socket of sockets) {
			socket.destroy();
		}
	};

	return {
		host,
		port,
		address: `${host}:${port}`,
		get strip() {
			return state.strip;
		},
		set strip(value: boolean) {
			state.strip = value;
		},
		get accepted() {
			return state.accepted;
		},
		dropAll,
		async close() {
			dropAll();
			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

/** A TCP relay on loopback whose upstream can be switched: a collector whose port turns from TLS to plain text. */
export type Relay = {
	address: string;
	port: number;
	upstream: {host: string; port: number};
	close(): Promise<void>;
};

export async function startRelay(upstream: {host: string; port: number}, host = '127.0.0.1'): Promise<Relay> {
	const sockets = new Set<net.Socket>();
	const state = {upstream};
	const server = net.createServer(client => {
		const peer = net.connect(state.upstream);
		for (const socket of [client, peer]) {
			sockets.add(socket);
			socket.on('error', () => {
				client.destroy();
				peer.destroy();
			});
			socket.on('close', () => {
				sockets.delete(socket);
				client.destroy();
				peer.destroy();
			});
		}

		client.pipe(peer);
		peer.pipe(client);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host, port: 0}, resolve);
	});
	const {port} = server.address() as net.AddressInfo;
	return {
		address: `${host}:${port}`,
		port,
		get upstream() {
			return state.upstream;
		},
		set upstream(value) {
			state.upstream = value;
		},
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}
