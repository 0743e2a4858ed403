/**
 * Misbehaving clients never block the others: a stalled TLS handshake (which
 * freezes pmcd, docs/pcp.md#tls-upgrade), half a PDU, a trickle of bytes, malformed and
 * oversized PDUs, garbage, and many clients at once. Each test proves a real
 * pminfo is still served promptly while the bad client is connected.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {PDU, PM_ERR} from '../../source/protocols/pcp/constants.js';
import {
	decodeError, decodeGreeting, decodeHighresResult, decodeIds, decodeNames, emptyProfile, encodeHighresFetch, encodeNames, encodeProfile,
	encodeResult, encodeTraverse, readHeader,
} from '../../source/protocols/pcp/pdu.js';
import {whoamiPmid, hostnamePmid} from '../../source/serve/pmcd-source.js';
import {runPminfo} from '../helpers/pminfo.js';
import {
	clientTlsConf, RawClient, secureFlags, startCollector, type TestCollector,
} from './helpers.js';

const limits = {
	partialPduMs: 1000, credsMs: 1500, handshakeMs: 1500, refusedLingerMs: 1000,
};

/** A header announcing `len` bytes of type `type`, and nothing else. */
function header(len: number, type: number): Buffer {
	const buf = Buffer.alloc(12);
	buf.writeInt32BE(len, 0);
	buf.writeInt32BE(type, 4);
	return buf;
}

async function errorCode(client: RawClient): Promise<number> {
	const pdu = await client.next();
	expect(readHeader(pdu).type).toBe(PDU.ERROR);
	return decodeError(pdu);
}

describe('misbehaving clients never block the others', () => {
	let plain: TestCollector;
	let secure: TestCollector;
	let dir: string;
	let verifyConf: string;

	/** A real pminfo, timed: it must be served while the bad client hangs on. */
	async function servedPromptly(collector: TestCollector, env: Record<string, string> = {}): Promise<void> {
		const started = Date.now();
		const result = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu', 'kernel.all.load'], env, {timeout: 8000});
		expect(result.stderr).toBe('');
		expect(result.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		expect(Date.now() - started).toBeLessThan(3000);
	}

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-robust-'));
		[plain, secure] = await Promise.all([
			startCollector(['--tls', 'off'], {limits}),
			startCollector([], {limits}),
		]);
		verifyConf = clientTlsConf(dir, 'verify.conf', {ca: secure.caFile!});
	});

	afterAll(async () => {
		await Promise.all([plain?.stop(), secure?.stop()]);
		rmSync(dir, {recursive: true, force: true});
	});

	test('a stalled TLS handshake: others are served, the staller is dropped after the handshake timeout', async () => {
		const staller = await RawClient.connect(secure.port);
		const greeting = await staller.handshake(secureFlags);
		expect(greeting.features & secureFlags).toBe(secureFlags);
		expect(await errorCode(staller)).toBe(0); // The secure-ack; no ClientHello follows.
		await servedPromptly(secure, {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: verifyConf});
		expect(await staller.closedWithin(3000)).toBe(true);
		expect(secure.stderr.text).toMatch(/TLS handshake/v);
	});

	test('a client that connects and sends nothing is dropped after the CREDS timeout', async () => {
		const idle = await RawClient.connect(plain.port);
		await idle.greeting();
		await servedPromptly(plain);
		expect(await idle.closedWithin(3000)).toBe(true);
		expect(plain.stderr.text).toContain('sent no CREDS');
	});

	test('half a PDU: others are served, the client is dropped after the partial-PDU timeout', async () => {
		const half = await RawClient.connect(plain.port);
		await half.handshake();
		half.send(encodeTraverse('kernel').subarray(0, 10));
		await servedPromptly(plain);
		expect(await half.closedWithin(3000)).toBe(true);
		expect(plain.stderr.text).toContain('sent only part of a PDU');
	});

	test('a trickle of bytes does not keep a partial PDU alive (slowloris)', async () => {
		const slow = await RawClient.connect(plain.port);
		await slow.handshake();
		const pdu = Buffer.concat([header(60_000, PDU.PMNS_TRAVERSE), Buffer.alloc(60_000 - 12)]);
		const started = Date.now();
		let index = 0;
		const timer = setInterval(() => {
			if (!slow.closed && index < pdu.length) {
				slow.send(pdu.subarray(index, index + 1));
				index++;
			}
		}, 100);
		try {
			await servedPromptly(plain);
			expect(await slow.closedWithin(4000)).toBe(true);
			expect(Date.now() - started).toBeLessThan(3000);
		} finally {
			clearInterval(timer);
		}
	});

	test('a PDU over 64 KiB or under 12 bytes closes that connection only', async () => {
		for (const bad of [header(65_537, PDU.PMNS_NAMES), header(8, PDU.PMNS_NAMES), header(-1, PDU.ERROR)]) {
			const client = await RawClient.connect(plain.port);
			await client.handshake();
			client.send(bad);
			expect(await client.closedWithin(2000)).toBe(true);
		}

		await servedPromptly(plain);
	});

	test('anything but CREDS first is dropped without a reply (as pmcd does)', async () => {
		const client = await RawClient.connect(plain.port);
		await client.greeting();
		client.send(encodeTraverse(''));
		expect(await client.closedWithin(2000)).toBe(true);
		await expect(client.next(100)).rejects.toThrow(/closed/v);
	});

	test('unknown PDU types and garbage bodies get ERROR PM_ERR_IPC; the connection stays usable', async () => {
		const client = await RawClient.connect(plain.port);
		await client.handshake();
		client.send(header(12, 0x70_50));
		expect(await errorCode(client)).toBe(PM_ERR.IPC);
		// PMNS_NAMES claiming a million names in 24 bytes.
		const lying = Buffer.concat([header(24, PDU.PMNS_NAMES), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40])]);
		client.send(lying);
		expect(await errorCode(client)).toBe(PM_ERR.IPC);
		client.send(Buffer.concat([header(20, PDU.FETCH), Buffer.alloc(8, 0xff)]));
		expect(await errorCode(client)).toBe(PM_ERR.IPC);
		client.send(encodeNames(['hinv.ncpu']));
		const reply = await client.next();
		expect(decodeIds(reply).pmids).toEqual([0x0f_00_00_20]);
		client.destroy();
	});

	test('FETCH before PROFILE is PM_ERR_NOPROFILE; stores are refused except the client\'s own whoami', async () => {
		const client = await RawClient.connect(plain.port);
		await client.handshake();
		client.send(encodeHighresFetch({ctxid: 0, pmids: [hostnamePmid]}));
		expect(await errorCode(client)).toBe(PM_ERR.NOPROFILE);
		const store = (pmid: number, value: string) => encodeResult({
			sec: 0, nsec: 0, vsets: [{
				pmid, status: 'ok', valfmt: 2, values: [{inst: 0, type: 6, value}],
			}],
		});
		client.send(store(hostnamePmid, 'evil'));
		expect(await errorCode(client)).toBe(PM_ERR.PERMISSION);
		client.send(store(whoamiPmid, 'robustness test'));
		expect(await errorCode(client)).toBe(0);
		client.send(encodeProfile(emptyProfile));
		client.send(encodeHighresFetch({ctxid: 0, pmids: [whoamiPmid, hostnamePmid, 0x0f_00_03_ff, 0x1f_00_00_01]}));
		const result = decodeHighresResult(await client.next());
		const [whoami, hostname, unknown, noAgent] = result.vsets;
		expect(whoami?.status === 'ok' && whoami.values.map(v => v.value)).toEqual(['robustness test']);
		expect(hostname?.status === 'ok' && hostname.values[0]?.value).toBe(os.hostname());
		expect(unknown?.status === 'error' && unknown.code).toBe(PM_ERR.PMID);
		expect(noAgent?.status === 'error' && noAgent.code).toBe(PM_ERR.NOAGENT);
		client.destroy();
	});

	test('a client pipelining 20000 requests without reading gets every reply, in order', async () => {
		const client = await RawClient.connect(plain.port);
		await client.handshake();
		const requests = Array.from({length: 20_000}, (_, index) => encodeTraverse(index % 2 === 0 ? 'hinv' : 'kernel.all.load'));
		client.send(Buffer.concat(requests));
		await servedPromptly(plain);
		for (let index = 0; index < requests.length; index++) {
			const {names} = decodeNames(await client.next(10_000));
			expect(names[0]).toBe(index % 2 === 0 ? 'hinv.ncpu' : 'kernel.all.load');
		}

		client.destroy();
	});

	test('asking for TLS from a --tls off collector gets PM_ERR_NOTCONN, then the connection closes', async () => {
		const client = await RawClient.connect(plain.port);
		const greeting = await client.handshake(secureFlags);
		expect(greeting.features & secureFlags).toBe(0);
		expect(await errorCode(client)).toBe(PM_ERR.NOTCONN);
		expect(await client.closedWithin(2000)).toBe(true);
	});

	test('200 clients at once, each served', async () => {
		// From four loopback addresses: one address may hold 64 connections (--max-per-address).
		const clients = await Promise.all(Array.from({length: 200}, async (_, index) => RawClient.connect(plain.port, `127.0.0.${10 + (index % 4)}`)));
		try {
			await Promise.all(clients.map(async client => {
				await client.handshake();
				client.send(encodeTraverse('mem.util'));
				const reply = await client.next(10_000);
				expect(decodeNames(reply).names).toContain('mem.util.available');
			}));
			await servedPromptly(plain);
		} finally {
			for (const client of clients) {
				client.destroy();
			}
		}
	});

	test('beyond the connection limit the greeting carries PM_ERR_CONNLIMIT', async () => {
		const limited = await startCollector(['--tls', 'off'], {limits: {maxClients: 3}});
		const held: RawClient[] = [];
		try {
			for (let i = 0; i < 3; i++) {
				const client = await RawClient.connect(limited.port);
				await client.greeting();
				held.push(client);
			}

			const extra = await RawClient.connect(limited.port);
			const greeting = decodeGreeting(await extra.next());
			expect(greeting.status).toBe(PM_ERR.CONNLIMIT);
			const info = await runPminfo(['-h', limited.address, '-f', 'hinv.ncpu']);
			expect(info.stderr).toContain('PMCD connection limit for this host exceeded');
		} finally {
			for (const client of held) {
				client.destroy();
			}

			await limited.stop();
		}
	});
});
