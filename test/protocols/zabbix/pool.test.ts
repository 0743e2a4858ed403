/**
 * The Zabbix pool's politeness (concurrency, slow start, back-off) and its timeout and refusal
 * texts, against a small ZBXD server in this process: a real agent cannot report them.
 */
import net from 'node:net';
import {describe, expect, it} from 'vitest';
import {ZabbixError} from '../../../source/protocols/zabbix/errors.js';
import {encodeFrame, FrameDecoder} from '../../../source/protocols/zabbix/frame.js';
import {ZabbixAgent, zabbixGet} from '../../../source/protocols/zabbix/pool.js';
import {zabbixPort} from '../../helpers/zabbix.js';

async function failure(promise: Promise<unknown>): Promise<ZabbixError> {
	try {
		await promise;
	} catch (error) {
		expect(error).toBeInstanceOf(ZabbixError);
		return error as ZabbixError;
	}

	throw new Error('expected a failure');
}

describe('pool politeness (a ZBXD server in this process)', () => {
	type Server = {port: number; active: number; maxActive: number; connections: number; close: () => void};

	async function server(behaviour: 'answer' | 'refuse'): Promise<Server> {
		const state = {
			port: 0, active: 0, maxActive: 0, connections: 0, close() {
				tcp.close();
			},
		};
		const tcp = net.createServer(socket => {
			state.connections++;
			state.active++;
			state.maxActive = Math.max(state.maxActive, state.active);
			socket.on('error', () => undefined);
			if (behaviour === 'refuse') {
				state.active--;
				socket.destroy();
				return;
			}

			const decoder = new FrameDecoder();
			socket.on('data', chunk => {
				const frame = decoder.push(chunk);
				if (frame) {
					// Answer a little later, so that concurrent connections overlap.
					setTimeout(() => {
						// In flight from accept to answer: the client sees the answer only after this.
						state.active--;
						socket.end(encodeFrame(Buffer.from(`echo:${frame.data.toString()}`)));
					}, 20);
				}
			});
		});
		state.port = await zabbixPort();
		await new Promise<void>(resolve => {
			tcp.listen(state.port, '127.0.0.1', resolve);
		});
		return state;
	}

	it('uses at most `concurrency` connections, one until the agent has answered', async () => {
		const fake = await server('answer');
		try {
			const zabbix = new ZabbixAgent({host: '127.0.0.1', port: fake.port, tls: {kind: 'unencrypted'}});
			const keys = Array.from({length: 30}, (_, index) => `k${index}`);
			const seen: number[] = [];
			const results = await zabbix.getMany(keys, (_result, index) => {
				seen.push(index);
			});
			expect(results.map(result => result.ok && result.reply.response)).toEqual(keys.map(key => ({kind: 'value', value: `echo:${key}`})));
			expect(seen[0]).toBe(0);
			expect(fake.maxActive).toBe(3);
			expect(fake.connections).toBe(30);
			const wide = new ZabbixAgent({
				host: '127.0.0.1', port: fake.port, tls: {kind: 'unencrypted'}, concurrency: 5,
			});
			fake.maxActive = 0;
			await wide.getMany(keys);
			expect(fake.maxActive).toBe(5);
		} finally {
			fake.close();
		}
	});

	it('after a refusal: no further connections, and none until the back-off expires', async () => {
		const fake = await server('refuse');
		try {
			const zabbix = new ZabbixAgent({
				host: '127.0.0.1', port: fake.port, tls: {kind: 'unencrypted'}, backoffMs: 300,
			});
			const results = await zabbix.getMany(['a', 'b', 'c', 'd']);
			expect(results.every(result => !result.ok)).toBe(true);
			expect(fake.connections).toBe(1);
			await zabbix.getMany(['a', 'b']);
			expect(fake.connections).toBe(1);
			expect(zabbix.nextAttemptAt).toBeGreaterThan(Date.now());
			await new Promise(resolve => {
				setTimeout(resolve, 350);
			});
			await zabbix.getMany(['a', 'b']);
			expect(fake.connections).toBe(2);
			// The second failure doubles the wait.
			expect(zabbix.nextAttemptAt - Date.now()).toBeGreaterThan(400);
		} finally {
			fake.close();
		}
	});

	it('times out a silent peer with zabbix_get\'s message', async () => {
		const silent = net.createServer(socket => {
			socket.on('error', () => undefined);
		});
		const port = await zabbixPort();
		await new Promise<void>(resolve => {
			silent.listen(port, '127.0.0.1', resolve);
		});
		try {
			const started = Date.now();
			const error = await failure(zabbixGet({
				host: '127.0.0.1', port, tls: {kind: 'unencrypted'}, timeoutMs: 300, key: 'agent.ping',
			}));
			expect(Date.now() - started).toBeLessThan(2000);
			expect(error.zabbixText).toBe('Timeout while executing operation');
			expect(error.code).toBe('TIMEOUT');
		} finally {
			silent.close();
		}
	});

	it('reports a refused port like zabbix_get', async () => {
		const port = await zabbixPort();
		const error = await failure(zabbixGet({
			host: '127.0.0.1', port, tls: {kind: 'unencrypted'}, key: 'agent.ping',
		}));
		expect(error.zabbixText).toBe(`Get value error: cannot connect to [[127.0.0.1]:${port}]: [111] Connection refused`);
	});
});

describe('-P in the pool (a ZBXD server in this process)', () => {
	/** A pre-7 agent (JSON is an unknown key to it) or a Zabbix 7 one; counts requests by kind. */
	async function agent(kind: 'old' | 'new'): Promise<{port: number; json: number; plain: number; close: () => void}> {
		const state = {
			port: 0, json: 0, plain: 0, close() {
				tcp.close();
			},
		};
		const tcp = net.createServer(socket => {
			socket.on('error', () => undefined);
			const decoder = new FrameDecoder();
			socket.on('data', chunk => {
				const frame = decoder.push(chunk);
				if (!frame) {
					return;
				}

				const body = frame.data.toString();
				const isJson = body.startsWith('{');
				state[isJson ? 'json' : 'plain']++;
				let answer: string;
				if (kind === 'new' && isJson) {
					const {data} = JSON.parse(body) as {data: Array<{key: string}>};
					answer = JSON.stringify({version: '7.0.0', variant: 2, data: [{value: `v:${data[0]!.key}`}]});
				} else {
					answer = isJson ? 'ZBX_NOTSUPPORTED\0Invalid item key format.' : `v:${body}`;
				}

				setTimeout(() => socket.end(encodeFrame(Buffer.from(answer))), 5);
			});
		});
		state.port = await zabbixPort();
		await new Promise<void>(resolve => {
			tcp.listen(state.port, '127.0.0.1', resolve);
		});
		return state;
	}

	const keys = Array.from({length: 30}, (_, index) => `k${index}`);
	const values = keys.map(key => ({kind: 'value', value: `v:${key}`}));

	it('auto and an old agent: one JSON request for the whole run, then plain keys over 3 connections', async () => {
		const old = await agent('old');
		try {
			const zabbix = new ZabbixAgent({
				host: '127.0.0.1', port: old.port, tls: {kind: 'unencrypted'}, protocol: 'auto',
			});
			const results = await zabbix.getMany(keys);
			expect(results.map(result => result.ok && result.reply.response)).toEqual(values);
			expect(results.every(result => result.ok && result.reply.protocol === 'plaintext')).toBe(true);
			expect([old.json, old.plain]).toEqual([1, 30]);
			expect(zabbix.protocol).toBe('plaintext');
			await zabbix.getMany(keys);
			expect([old.json, old.plain]).toEqual([1, 60]);
		} finally {
			old.close();
		}
	});

	it('auto and a Zabbix 7 agent: JSON only, with version and variant', async () => {
		const seven = await agent('new');
		try {
			const zabbix = new ZabbixAgent({
				host: '127.0.0.1', port: seven.port, tls: {kind: 'unencrypted'}, protocol: 'auto',
			});
			const results = await zabbix.getMany(keys);
			expect(results.map(result => result.ok && result.reply.response)).toEqual(values);
			const [first] = results;
			expect(first?.ok && first.reply.json).toEqual({
				kind: 'value', value: 'v:k0', version: '7.0.0', variant: 2,
			});
			expect([seven.json, seven.plain]).toEqual([30, 0]);
		} finally {
			seven.close();
		}
	});

	it('json and an old agent: every key fails with zabbix_get 7\'s text, none is resent plain', async () => {
		const old = await agent('old');
		try {
			const zabbix = new ZabbixAgent({
				host: '127.0.0.1', port: old.port, tls: {kind: 'unencrypted'}, protocol: 'json',
			});
			const results = await zabbix.getMany(keys.slice(0, 4));
			expect(results.map(result => !result.ok && (result.error as ZabbixError).zabbixText)).toEqual(Array.from({length: 4}, () => 'Get value error: JSON protocol requested but received plaintext response'));
			expect([old.json, old.plain]).toEqual([4, 0]);
		} finally {
			old.close();
		}
	});

	it('the default here is plaintext (the commands pass auto)', async () => {
		const seven = await agent('new');
		try {
			await new ZabbixAgent({host: '127.0.0.1', port: seven.port, tls: {kind: 'unencrypted'}}).getMany(keys.slice(0, 3));
			expect([seven.json, seven.plain]).toEqual([0, 3]);
		} finally {
			seven.close();
		}
	});
});
