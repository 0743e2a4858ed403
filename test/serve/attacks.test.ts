/**
 * `secmon serve` keeps serving under attack: one address holding many idle
 * TLS sessions, several addresses filling the whole table, a wave of idle TCP
 * connections, stalled TLS handshakes. The attacker connects from 127.0.0.2
 * (and 127.0.0.4); a real Debian pminfo from 127.0.0.1 must still get its
 * value, the attacker's excess connections get PM_ERR_CONNLIMIT, and every
 * attacking socket is closed in the end.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, afterEach, beforeAll, describe, expect, test,
} from 'vitest';
import {PDU, PM_ERR} from '../../source/protocols/pcp/constants.js';
import {decodeError, encodeCreds, readHeader} from '../../source/protocols/pcp/pdu.js';
import {addressKey} from '../../source/serve/server.js';
import {runPminfo} from '../helpers/pminfo.js';
import {
	clientTlsConf, RawClient, secureFlags, startCollector, type TestCollector,
} from './helpers.js';

const attacker = '127.0.0.2';
const secondAttacker = '127.0.0.4';
const perAddress = 8;

/** Connections the attacker tries: more than its share, so some must be refused. */
const wave = perAddress + 4;

/** Until the server closes it; generous, since only "it was closed" is asserted. */
const closeWaitMs = 15_000;

describe('secmon serve under attack', () => {
	let dir: string;
	let collector: TestCollector | undefined;
	let clients: RawClient[] = [];

	beforeAll(() => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-attack-'));
	});

	afterEach(async () => {
		for (const client of clients) {
			client.destroy();
		}

		clients = [];
		await collector?.stop();
		collector = undefined;
	});

	afterAll(() => {
		rmSync(dir, {recursive: true, force: true});
	});

	async function start(args: string[]): Promise<TestCollector> {
		collector = await startCollector(args);
		return collector;
	}

	/** A real pminfo over verified TLS, from 127.0.0.1. */
	async function pminfoServed(served: TestCollector): Promise<void> {
		const conf = clientTlsConf(dir, `verify-${served.port}.conf`, {ca: served.caFile!});
		const result = await runPminfo(['-h', served.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
		expect(result.stderr).toBe('');
		expect(result.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		expect(result.code).toBe(0);
	}

	/** `count` connections from `from`, each having read its greeting; split into greeted and refused. */
	async function connectWave(port: number, from: string, count: number): Promise<{greeted: RawClient[]; refused: RawClient[]}> {
		const greeted: RawClient[] = [];
		const refused: RawClient[] = [];
		for (let i = 0; i < count; i++) {
			const client = await RawClient.connect(port, from);
			clients.push(client);
			const {status} = await client.greeting();
			if (status === 0) {
				greeted.push(client);
			} else {
				expect(status).toBe(PM_ERR.CONNLIMIT);
				refused.push(client);
			}
		}

		return {greeted, refused};
	}

	/** CREDS asking for TLS, the secure-ack, then a complete handshake and silence. */
	async function idleTlsSession(client: RawClient): Promise<void> {
		client.send(encodeCreds(secureFlags, process.pid));
		const ack = await client.next();
		expect(readHeader(ack).type).toBe(PDU.ERROR);
		expect(decodeError(ack)).toBe(0);
		await client.upgrade();
	}

	async function allClosed(sockets: RawClient[]): Promise<void> {
		const closed = await Promise.all(sockets.map(async client => client.closedWithin(closeWaitMs)));
		expect(closed.every(Boolean)).toBe(true);
	}

	test('(a) one address holding idle TLS sessions beyond its cap: the excess is refused, pminfo from another address is served', async () => {
		const served = await start(['--max-per-address', String(perAddress)]);
		const {greeted, refused} = await connectWave(served.port, attacker, wave);
		expect(greeted).toHaveLength(perAddress);
		expect(refused).toHaveLength(wave - perAddress);
		await Promise.all(greeted.map(async client => idleTlsSession(client)));
		await pminfoServed(served);
		// The cap made room, not a timeout: every attacking session is still open (the idle timeout is 15 min).
		expect(greeted.filter(client => client.closed)).toHaveLength(0);
		await allClosed(refused);
		expect(served.stderr.text).toContain(`${attacker} already holds ${perAddress} connections (limit per address ${perAddress}`);
	});

	test('a pminfo from an address at its cap is refused the way pmcd refuses it', async () => {
		const served = await start(['--max-per-address', String(perAddress)]);
		const {greeted} = await connectWave(served.port, '127.0.0.1', perAddress);
		expect(greeted).toHaveLength(perAddress);
		const conf = clientTlsConf(dir, `verify-${served.port}.conf`, {ca: served.caFile!});
		const result = await runPminfo(['-h', served.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
		expect(result.stderr).toContain('PMCD connection limit for this host exceeded');
		expect(result.code).not.toBe(0);
	});

	test('(a) idle TLS sessions are closed after --idle-timeout', async () => {
		const served = await start(['--max-per-address', String(perAddress), '--idle-timeout', '1sec']);
		const {greeted} = await connectWave(served.port, attacker, perAddress);
		await Promise.all(greeted.map(async client => idleTlsSession(client)));
		await pminfoServed(served);
		await allClosed(greeted);
		expect(served.stderr.text).toContain('idle for 1 s');
	});

	test('(a) two addresses filling every slot: a newcomer closes the least active session of the biggest holder', async () => {
		const slots = (2 * perAddress) - 1;
		const served = await start(['--max-per-address', String(perAddress), '--max-clients', String(slots)]);
		const first = await connectWave(served.port, attacker, perAddress);
		const second = await connectWave(served.port, secondAttacker, wave);
		expect(first.greeted).toHaveLength(perAddress);
		expect(second.greeted).toHaveLength(perAddress - 1);
		// One after the other, so that the first attacker's first session is the least recently active.
		for (const client of first.greeted) {
			await idleTlsSession(client);
		}

		await Promise.all(second.greeted.map(async client => idleTlsSession(client)));
		expect(served.server.connections).toBe(slots);
		await pminfoServed(served);
		// Exactly one session was given up for pminfo: the biggest holder's least recently active.
		expect(await first.greeted[0]!.closedWithin(closeWaitMs)).toBe(true);
		expect([...first.greeted, ...second.greeted].filter(client => client.closed)).toHaveLength(1);
		expect(served.stderr.text).toMatch(/evicted to make room for a client from 127\.0\.0\.1/v);
		await allClosed(second.refused);
	});

	test('(b) a wave of idle TCP connections: the excess is refused, pminfo is served, the wave is closed at the deadline', async () => {
		const served = await start(['--max-per-address', String(perAddress), '--max-clients', String(wave), '--handshake-timeout', '2sec']);
		const {greeted, refused} = await connectWave(served.port, attacker, wave);
		expect(greeted).toHaveLength(perAddress);
		expect(refused).toHaveLength(wave - perAddress);
		await pminfoServed(served);
		await allClosed([...greeted, ...refused]);
		expect(served.stderr.text).toMatch(/no usable session \(CREDS and TLS handshake\) within 2 s/v);
	});

	test('(c) stalled TLS handshakes (nothing, or half a ClientHello, after CREDS): pminfo is served, the stallers are closed', async () => {
		const served = await start(['--max-per-address', String(perAddress), '--handshake-timeout', '2sec']);
		const {greeted, refused} = await connectWave(served.port, attacker, wave);
		expect(refused).toHaveLength(wave - perAddress);
		for (const [index, client] of greeted.entries()) {
			client.send(encodeCreds(secureFlags, process.pid));
			expect(decodeError(await client.next())).toBe(0); // The secure-ack.
			if (index % 2 === 0) {
				// A handshake record announcing 512 bytes of ClientHello, then only 100 of them.
				client.send(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), Buffer.alloc(89, 0x5a)]));
			}
		}

		await pminfoServed(served);
		await allClosed([...greeted, ...refused]);
		expect(served.stderr.text).toMatch(/no usable session \(CREDS and TLS handshake\) within 2 s/v);
	});
});

describe('per-address counting', () => {
	test('IPv4 and IPv4-mapped are one address; IPv6 counts by /64', () => {
		expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
		expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
		expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
		expect(addressKey('2001:db8:1:2::bbbb')).toBe('2001:db8:1:2::/64');
		expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
		expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
		expect(addressKey('::1')).toBe('0:0:0:0::/64');
		expect(addressKey(undefined)).toBe('unknown');
	});
});
