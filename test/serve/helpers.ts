/**
 * Helpers for the `secmon serve` tests: a collector started in-process the way
 * `secmon serve` starts it (temporary secmon home, loopback port from this
 * issue's range 45500-45599), PCP client tls.conf files, and a raw PCP
 * client for the misbehaving-client tests.
 */
import {
	mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import tls from 'node:tls';
import {FEATURE} from '../../source/protocols/pcp/constants.js';
import {decodeGreeting, encodeCreds, type Greeting} from '../../source/protocols/pcp/pdu.js';
import {PduReader} from '../../source/protocols/pcp/reader.js';
import {parseServeArgs} from '../../source/serve/args.js';
import {startServe, type RunningServe} from '../../source/serve/command.js';
import type {ServerLimits} from '../../source/serve/server.js';
import {isPortFree} from '../helpers/ports.js';

/** Ports 45500-45599 belong to these tests; each vitest worker gets its own 25. */
const sliceSize = 25;
let nextOffset = 0;

export async function servePort(): Promise<number> {
	const pool = Number.parseInt(process.env['VITEST_POOL_ID'] ?? '1', 10);
	const base = 45_500 + ((((Number.isFinite(pool) && pool > 0 ? pool : 1) - 1) % 4) * sliceSize);
	for (let i = 0; i < sliceSize; i++) {
		const port = base + ((nextOffset + i) % sliceSize);
		if (await isPortFree(port, '127.0.0.1')) {
			nextOffset = (nextOffset + i + 1) % sliceSize;
			return port;
		}
	}

	throw new Error(`no free port in ${base}-${base + sliceSize - 1}; stop leftover collectors (ss -ltnp 'sport >= :${base}')`);
}

/** Collects what the command writes, for assertions on its messages. */
export class Capture extends Writable {
	text = '';

	override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
		this.text += chunk.toString();
		callback();
	}
}

export type TestCollector = RunningServe & {
	home: string;
	port: number;
	address: string;
	stdout: Capture;
	stderr: Capture;
	/** Close the collector and remove its temporary home (unless `keepHome`). */
	stop(): Promise<void>;
};

/** `secmon serve --listen 127.0.0.1:PORT ARGS…` in-process, with a fresh secmon home unless one is given. */
export async function startCollector(args: string[] = [], options: {home?: string; limits?: Partial<ServerLimits>} = {}): Promise<TestCollector> {
	const home = options.home ?? mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-test-'));
	const stdout = new Capture();
	const stderr = new Capture();
	for (let attempt = 0; ; attempt++) {
		const port = await servePort();
		const parsed = parseServeArgs(['--listen', `127.0.0.1:${port}`, ...args]);
		if (parsed === 'help') {
			throw new Error('unexpected --help');
		}

		try {
			const running = await startServe(parsed, {stdout, stderr, env: {SECMON_HOME: home}}, options.limits);
			return {
				...running,
				home,
				port,
				address: `127.0.0.1:${port}`,
				stdout,
				stderr,
				async stop() {
					await running.close();
					if (!options.home) {
						rmSync(home, {recursive: true, force: true});
					}
				},
			};
		} catch (error) {
			// Someone took the port between the check and the bind: try the next one.
			if (attempt >= 3 || !String(error).includes('in use')) {
				throw error;
			}
		}
	}
}

/** A PCP client tls.conf (docs/pcp.md#tls-configuration): verify the server against `ca`, optionally with a client certificate. */
export function clientTlsConf(dir: string, name: string, options: {ca?: string; cert?: string; key?: string}): string {
	const lines: string[] = [];
	if (options.ca) {
		lines.push(`tls-ca-cert-file = ${options.ca}`, 'tls-verify-clients = true');
	}

	if (options.cert && options.key) {
		lines.push(`tls-client-cert-file = ${options.cert}`, `tls-client-key-file = ${options.key}`);
	}

	const file = path.join(dir, name);
	writeFileSync(file, lines.join('\n') + '\n');
	return file;
}

/**
 * A raw PCP connection for misbehaving-client tests: reads the greeting, can
 * send CREDS and arbitrary bytes, and collects whole PDUs from the server.
 */
export class RawClient {
	/** Connect to 127.0.0.1:port, from `localAddress` (any of 127.0.0.0/8) when given. */
	static async connect(port: number, localAddress?: string): Promise<RawClient> {
		const socket = net.connect({host: '127.0.0.1', port, ...(localAddress ? {localAddress} : {})});
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve);
			socket.once('error', reject);
		});
		return new RawClient(socket);
	}

	readonly socket: net.Socket;
	closed = false;
	private readonly reader = new PduReader();
	private readonly pdus: Buffer[] = [];
	private waiters: Array<() => void> = [];
	private readonly onData = (chunk: Buffer) => {
		this.pdus.push(...this.reader.push(chunk));
		this.wake();
	};

	private constructor(socket: net.Socket) {
		this.socket = socket;
		socket.on('data', this.onData);
		socket.on('close', () => {
			this.closed = true;
			this.wake();
		});
		socket.on('error', () => undefined);
	}

	async greeting(): Promise<Greeting> {
		return decodeGreeting(await this.next());
	}

	/** Greeting, then CREDS with these feature flags (0 = plain). */
	async handshake(flags = 0): Promise<Greeting> {
		const greeting = await this.greeting();
		this.send(encodeCreds(flags, process.pid));
		return greeting;
	}

	send(bytes: Uint8Array): void {
		this.socket.write(bytes);
	}

	/** The next PDU from the server; rejects if the connection closes first or after `ms`. */
	async next(ms = 5000): Promise<Buffer> {
		const deadline = Date.now() + ms;
		for (;;) {
			const pdu = this.pdus.shift();
			if (pdu) {
				return pdu;
			}

			if (this.closed) {
				throw new Error('connection closed');
			}

			const left = deadline - Date.now();
			if (left <= 0) {
				throw new Error(`no PDU within ${ms} ms`);
			}

			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, left);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	/** Resolves true when the server closes the connection within `ms`. */
	async closedWithin(ms: number): Promise<boolean> {
		const deadline = Date.now() + ms;
		while (!this.closed && Date.now() < deadline) {
			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}

		return this.closed;
	}

	/**
	 * After the secure-ack: complete a TLS handshake on this connection and keep
	 * the session open without a request. The server is not verified (the
	 * attacker in the tests does not care); `closed` still tracks the connection.
	 */
	async upgrade(): Promise<tls.TLSSocket> {
		this.socket.off('data', this.onData);
		const secure = tls.connect({socket: this.socket, rejectUnauthorized: false});
		secure.on('error', () => undefined);
		await new Promise<void>((resolve, reject) => {
			secure.once('secureConnect', resolve);
			secure.once('close', () => {
				reject(new Error('closed during the TLS handshake'));
			});
		});
		secure.on('data', () => undefined);
		return secure;
	}

	destroy(): void {
		this.socket.destroy();
	}

	private wake(): void {
		const {waiters} = this;
		this.waiters = [];
		for (const wake of waiters) {
			wake();
		}
	}
}

export const secureFlags = FEATURE.SECURE | FEATURE.SECURE_ACK;
