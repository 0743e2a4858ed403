import {readFileSync} from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {PcpClient, type PcpConnectOptions} from '../../../source/protocols/pcp/client.js';
import {
	FEATURE, PDU, PM_ERR, PM_ID_NULL, PM_INDOM_NULL, PM_LABEL, PM_SEM, PM_TEXT, PM_TYPE, pmInDom,
} from '../../../source/protocols/pcp/constants.js';
import {PcpError} from '../../../source/protocols/pcp/errors.js';
import {
	type PcpAtom, type PcpValueSet, decodeNameRequest, decodePdu, encodeError, encodeGreeting, encodeHighresResult,
	encodeIds, encodeNames, encodeResult, labelPairs, readHeader,
} from '../../../source/protocols/pcp/pdu.js';
import {PduReader} from '../../../source/protocols/pcp/reader.js';
import type {SecureMode, TlsFacts} from '../../../source/security/types.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {freePort} from '../../helpers/ports.js';

// ---------------------------------------------------------------------------
// Helpers

/**
 * The test's own TLS upgrade: by default no verification (that is the
 * security layer's job), facts reported.
 */
function trivialUpgrade(client?: {cert: string; key: string}, verify?: tls.ConnectionOptions): PcpConnectOptions['upgrade'] {
	return async socket => new Promise((resolve, reject) => {
		const stream = tls.connect({
			socket,
			rejectUnauthorized: false,
			...(client ? {cert: readFileSync(client.cert), key: readFileSync(client.key)} : {}),
			...verify,
		});
		stream.once('error', reject);
		stream.once('secureConnect', () => {
			const peer = stream.getPeerCertificate();
			const facts: TlsFacts = {
				version: stream.getProtocol() ?? '',
				cipher: stream.getCipher().name,
				basis: 'accepted-once',
				sha256: peer.fingerprint256,
				sha1: peer.fingerprint,
				subject: [peer.subject?.CN ?? ''].flat().join(', '),
				validTo: new Date(peer.valid_to),
			};
			resolve({stream, facts});
		});
	});
}

const refuseUpgrade: PcpConnectOptions['upgrade'] = async () => {
	throw new Error('the test did not expect a TLS upgrade');
};

async function connect(peer: {host: string; port: number}, secure: SecureMode, extra: Partial<PcpConnectOptions> = {}): Promise<PcpClient> {
	return PcpClient.connect({
		host: peer.host, port: peer.port, secure, upgrade: refuseUpgrade, ...extra,
	});
}

async function failure(promise: Promise<unknown>): Promise<Error> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof Error) {
			return error;
		}

		throw new Error(`rejected with a non-Error: ${String(error)}`, {cause: error});
	}

	throw new Error('expected a rejection');
}

/** The PCP code of a PcpError (undefined for anything else). */
function pcpCode(value: unknown): number | undefined {
	return value instanceof PcpError ? value.code : undefined;
}

async function rejectionCode(promise: Promise<unknown>): Promise<number | undefined> {
	return pcpCode(await failure(promise));
}

function hintOf(error: unknown): string | undefined {
	return error instanceof SecmonError ? error.hint : undefined;
}

/** The pmids of a lookup in which every name must be known. */
function known(ids: Array<number | PcpError>): number[] {
	return ids.map(id => {
		if (typeof id !== 'number') {
			throw id;
		}

		return id;
	});
}

type FakeServer = {port: number; host: string; sockets: net.Socket[]; close: () => Promise<void>};

/** A loopback TCP server on port 0 whose behaviour the test scripts. */
async function fakeServer(onConnection: (socket: net.Socket) => void): Promise<FakeServer> {
	const sockets: net.Socket[] = [];
	const server = net.createServer(socket => {
		sockets.push(socket);
		socket.on('error', () => undefined);
		onConnection(socket);
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('the fake server has no TCP address');
	}

	const {port} = address;
	return {
		port,
		host: '127.0.0.1',
		sockets,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
}

/**
 * A tiny PCP server built on the codec: greeting with `features`, then the
 * test's handler answers each PDU (undefined = no reply). Records what it got.
 */
async function fakePcp(features: number, answer: (pdu: Buffer) => Buffer | undefined): Promise<FakeServer & {received: Buffer[]}> {
	const received: Buffer[] = [];
	const server = await fakeServer(socket => {
		const reader = new PduReader();
		socket.write(encodeGreeting({features}));
		socket.on('data', chunk => {
			for (const pdu of reader.push(chunk)) {
				received.push(pdu);
				const reply = answer(pdu);
				if (reply) {
					socket.write(reply);
				}
			}
		});
	});
	return {...server, received};
}

const sampleTypes = {
	'sample.long.million': {type: PM_TYPE.I32, value: 1_000_000},
	'sample.ulong.million': {type: PM_TYPE.U32, value: 1_000_000},
	'sample.longlong.million': {type: PM_TYPE.I64, value: 1_000_000n},
	'sample.ulonglong.million': {type: PM_TYPE.U64, value: 1_000_000n},
	'sample.float.ten': {type: PM_TYPE.FLOAT, value: 10},
	'sample.double.ten': {type: PM_TYPE.DOUBLE, value: 10},
	'sample.string.hullo': {type: PM_TYPE.STRING, value: 'hullo world!'},
	'sample.string.null': {type: PM_TYPE.STRING, value: ''},
	'sample.aggregate.hullo': {type: PM_TYPE.AGGREGATE, value: new Uint8Array(Buffer.from('hullo world!'))},
	'sample.negative.instant.m_32': {type: PM_TYPE.I32, value: -9999},
	'sample.negative.instant.m_double': {type: PM_TYPE.DOUBLE, value: -9999},
} as const;

// ---------------------------------------------------------------------------
// Real pmcd, plain

describe('PcpClient against a real plain pmcd', () => {
	let peer: PmcdPeer;
	let client: PcpClient;

	beforeAll(async () => {
		peer = await startPmcd('plain');
		client = await connect(peer, 'off');
	});

	afterAll(async () => {
		client?.close();
		await peer?.stop();
	});

	test('greeting features: HIGHRES, DESCS, LABELS, no SECURE', () => {
		expect(client.features & FEATURE.HIGHRES).toBe(FEATURE.HIGHRES);
		expect(client.features & FEATURE.DESCS).toBe(FEATURE.DESCS);
		expect(client.features & FEATURE.SECURE).toBe(0);
		expect(client.tls).toBeUndefined();
		expect(client.plainBecauseRelaxed).toBe(false);
		expect(client.where).toBe(`${peer.host}:${peer.port}`);
	});

	test('traverse: a leaf, a subtree, the root, an unknown name', async () => {
		expect(await client.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		const load = await client.traverse('sample.long');
		expect(load).toContain('sample.long.million');
		expect(load.every(name => name.startsWith('sample.long.'))).toBe(true);
		const all = await client.traverse('');
		expect(all.length).toBeGreaterThan(1000);
		expect(all).toContain('kernel.all.load');
		const error = await failure(client.traverse('no.such.metric'));
		expect(error).toBeInstanceOf(PcpError);
		expect(pcpCode(error)).toBe(PM_ERR.NAME);
		expect(error.message).toBe('Unknown metric name');
	});

	test('lookupNames: batch with an unknown name, a lone unknown name, many names', async () => {
		const [ncpu, unknown, load] = await client.lookupNames(['hinv.ncpu', 'no.such.metric', 'kernel.all.load']);
		expect(ncpu).toBe(0x0f_00_00_20);
		expect(load).toBe(0x0f_00_08_00);
		expect(unknown).toBeInstanceOf(PcpError);
		expect(pcpCode(unknown)).toBe(PM_ERR.NAME);
		// One unknown name alone comes back as ERROR, not PMNS_IDS (docs/pcp.md#pmns-requests).
		const [alone] = await client.lookupNames(['no.such.metric']);
		expect(pcpCode(alone)).toBe(PM_ERR.NAME);
		expect(await client.lookupNames([])).toEqual([]);
		// Every name pmcd knows: several 63 KiB batches.
		const all = await client.traverse('');
		const ids = await client.lookupNames(all);
		expect(ids).toHaveLength(all.length);
		expect(ids.every(id => typeof id === 'number' && id !== PM_ID_NULL)).toBe(true);
	});

	test('namesOf and children', async () => {
		expect(await client.namesOf(0x0f_00_00_20)).toEqual(['hinv.ncpu']);
		expect(await rejectionCode(client.namesOf(0x0f_3f_ff_ff))).toBe(PM_ERR.PMID);
		const hinv = await client.children('hinv');
		expect(hinv).toContainEqual({name: 'ncpu', leaf: true});
		const root = await client.children('');
		expect(root).toContainEqual({name: 'sample', leaf: false});
		expect(root).toContainEqual({name: 'kernel', leaf: false});
	});

	test('descriptor: hinv.ncpu, kernel.all.load, unknown pmid', async () => {
		expect(await client.descriptor(0x0f_00_00_20)).toEqual({
			pmid: 0x0f_00_00_20,
			type: PM_TYPE.U32,
			indom: PM_INDOM_NULL,
			sem: PM_SEM.DISCRETE,
			units: {
				dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
			},
		});
		expect(await client.descriptor(0x0f_00_08_00)).toMatchObject({type: PM_TYPE.FLOAT, indom: pmInDom(60, 2), sem: PM_SEM.INSTANT});
		expect(await rejectionCode(client.descriptor(0x0f_3f_ff_ff))).toBe(PM_ERR.PMID);
	});

	test('descriptors: one DESC_IDS for several pmids, unknown ones as PcpError', async () => {
		const [ncpu, unknown, load] = await client.descriptors([0x0f_00_00_20, 0x0f_3f_ff_ff, 0x0f_00_08_00]);
		expect(ncpu).toMatchObject({pmid: 0x0f_00_00_20, type: PM_TYPE.U32});
		expect(pcpCode(unknown)).toBe(PM_ERR.PMID);
		expect(load).toMatchObject({pmid: 0x0f_00_08_00, type: PM_TYPE.FLOAT});
	});

	test('instances: whole indom, by number, by name, unknown indom', async () => {
		const indom = pmInDom(60, 2);
		expect(await client.instances(indom)).toEqual([{inst: 1, name: '1 minute'}, {inst: 5, name: '5 minute'}, {inst: 15, name: '15 minute'}]);
		expect(await client.instanceName(indom, 5)).toBe('5 minute');
		expect(await client.instanceId(indom, '15 minute')).toBe(15);
		expect(await rejectionCode(client.instanceName(indom, 7))).toBe(PM_ERR.INST);
		expect(await rejectionCode(client.instances(pmInDom(60, 4000)))).toBe(PM_ERR.INDOM);
	});

	test('fetch: every sample PMDA value type, novalues, per-metric errors', async () => {
		const names = [...Object.keys(sampleTypes), 'sample.negative.instant.m_64', 'sample.bad.novalues', 'sample.bad.unknown', 'sample.bad.nosupport', 'sample.needprofile'];
		const ids = await client.lookupNames(names);
		const pmids = known(ids);
		// Descriptors first, so that the INSITU U32 value decodes unsigned.
		for (const pmid of pmids.slice(0, Object.keys(sampleTypes).length)) {
			await client.descriptor(pmid);
		}

		const result = await client.fetch(pmids);
		expect(Math.abs((result.sec * 1000) - Date.now())).toBeLessThan(60_000);
		expect(result.nsec).toBeGreaterThanOrEqual(0);
		expect(result.vsets.map(v => v.pmid)).toEqual(pmids);
		const byName = new Map<string, PcpValueSet>(names.map((name, i) => [name, result.vsets[i]!]));
		const atom = (name: string): PcpAtom | undefined => {
			const vset = byName.get(name);
			return vset?.status === 'ok' ? vset.values[0] : undefined;
		};

		for (const [name, expected] of Object.entries(sampleTypes)) {
			expect(atom(name), name).toEqual({inst: -1, type: expected.type, value: expected.value});
		}

		expect(atom('sample.negative.instant.m_64')?.type).toBe(PM_TYPE.I64);
		expect(typeof atom('sample.negative.instant.m_64')?.value).toBe('bigint');
		expect(byName.get('sample.bad.novalues')).toMatchObject({status: 'novalues'});
		expect(byName.get('sample.bad.unknown')).toMatchObject({status: 'error', code: PM_ERR.PMID});
		expect(byName.get('sample.bad.nosupport')).toMatchObject({status: 'error', code: PM_ERR.APPVERSION});
		expect(byName.get('sample.needprofile')).toMatchObject({status: 'error', code: PM_ERR.PROFILE});
	});

	test('fetch of an indom metric and of nothing', async () => {
		const result = await client.fetch([0x0f_00_08_00]);
		const [vset] = result.vsets;
		expect(vset?.status).toBe('ok');
		expect(vset?.status === 'ok' && vset.values.map(v => v.inst)).toEqual([1, 5, 15]);
		expect(vset?.status === 'ok' && vset.values.every(v => v.type === PM_TYPE.FLOAT && typeof v.value === 'number')).toBe(true);
		const nothing = await client.fetch([]);
		expect(nothing.vsets).toEqual([]);
	});

	test('text: one-line, help, empty help, unknown', async () => {
		expect(await client.text(0x0f_00_08_00, PM_TEXT.PMID | PM_TEXT.ONELINE)).toBe('1, 5 and 15 minute load average');
		expect(await client.text(0x0f_00_08_00, PM_TEXT.PMID | PM_TEXT.HELP)).toBe('');
		// Empty indom help: pminfo -T falls back to the one-line text (docs/pcp.md#help-text).
		expect(await client.text(pmInDom(60, 2), PM_TEXT.INDOM | PM_TEXT.HELP)).toBe('');
		expect(await client.text(pmInDom(60, 2), PM_TEXT.INDOM | PM_TEXT.ONELINE)).toBe('load averages for 1, 5, and 15 minutes');
		expect(await rejectionCode(client.text(0x0f_3f_ff_ff, PM_TEXT.ONELINE))).toBe(PM_ERR.TEXT);
	});

	test('labels of the context', async () => {
		const reply = await client.labels(0, PM_LABEL.CONTEXT);
		const names = reply.sets.flatMap(set => labelPairs(set).map(pair => pair.name));
		expect(names).toContain('hostname');
	});

	test('concurrent calls are serialized and each gets its own reply', async () => {
		const calls = Array.from({length: 40}, async (_, i) => {
			switch (i % 4) {
				case 0: {
					return client.traverse('hinv.ncpu');
				}

				case 1: {
					return client.descriptor(0x0f_00_00_20).then(d => d.pmid);
				}

				case 2: {
					return client.instanceName(pmInDom(60, 2), 15);
				}

				default: {
					return client.traverse('no.such.metric').catch((error: unknown) => pcpCode(error));
				}
			}
		});
		const results = await Promise.all(calls);
		for (const [i, result] of results.entries()) {
			expect(result).toEqual([['hinv.ncpu'], 0x0f_00_00_20, '15 minute', PM_ERR.NAME][i % 4]);
		}
	});

	test('relaxed mode against a plain pmcd continues in plain text and says so', async () => {
		const relaxed = await connect(peer, 'relaxed');
		try {
			expect(relaxed.plainBecauseRelaxed).toBe(true);
			expect(relaxed.tls).toBeUndefined();
			expect(await relaxed.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		} finally {
			relaxed.close();
		}
	});

	test('enforce mode against a plain pmcd: TLS_REQUIRED (exit 5), nothing sent', async () => {
		const error = await failure(connect(peer, 'enforce'));
		expect(error).toBeInstanceOf(SecmonError);
		expect(error).toMatchObject({code: 'TLS_REQUIRED', exitCode: 5});
		expect(error.message).toContain(`"${peer.host}:${peer.port}"`);
		expect(hintOf(error)).toMatch(/relaxed/v);
	});

	test('close(): pending requests reject, later ones too, no stray errors', async () => {
		const session = await connect(peer, 'off');
		const pending = session.traverse('');
		session.close();
		const error = await failure(pending);
		expect(error).toBeInstanceOf(SecmonError);
		expect(session.closed).toBe(true);
		expect(await failure(session.traverse('hinv.ncpu'))).toBeInstanceOf(SecmonError);
		session.close();
	});

	test('an aborted signal ends the session', async () => {
		const controller = new AbortController();
		const session = await connect(peer, 'off', {signal: controller.signal});
		expect(await session.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		controller.abort(new Error('stop now'));
		const afterAbort = await failure(session.traverse('hinv.ncpu'));
		expect(afterAbort.message).toBe('stop now');
		const connectAborted = await failure(connect(peer, 'off', {signal: controller.signal}));
		expect(connectAborted.message).toBe('stop now');
	});
});

// ---------------------------------------------------------------------------
// Real pmcd with TLS

describe('PcpClient against a real TLS-offering pmcd', () => {
	let peer: PmcdPeer;

	beforeAll(async () => {
		peer = await startPmcd('offer');
	});

	afterAll(async () => {
		await peer?.stop();
	});

	test.each(['enforce', 'relaxed'] as const)('%s: upgrades to TLS after CREDS and speaks PDUs inside it', async mode => {
		const client = await connect(peer, mode, {upgrade: trivialUpgrade()});
		try {
			expect(client.features & (FEATURE.SECURE | FEATURE.SECURE_ACK)).toBe(FEATURE.SECURE | FEATURE.SECURE_ACK);
			expect(client.tls).toMatchObject({version: 'TLSv1.3', basis: 'accepted-once', subject: 'collector'});
			expect(client.plainBecauseRelaxed).toBe(false);
			const result = await client.fetch(known(await client.lookupNames(['hinv.ncpu'])));
			expect(result.vsets[0]).toMatchObject({status: 'ok', values: [{inst: -1, type: PM_TYPE.I32}]});
			expect(await client.instances(pmInDom(60, 2))).toHaveLength(3);
		} finally {
			client.close();
		}
	});

	test('off: plain CREDS although TLS is offered', async () => {
		const client = await connect(peer, 'off');
		try {
			expect(client.features & FEATURE.SECURE).toBe(FEATURE.SECURE);
			expect(client.tls).toBeUndefined();
			expect(await client.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		} finally {
			client.close();
		}
	});

	test('an upgrade function that refuses (untrusted certificate) fails connect: no plain fallback', async () => {
		const refusal = new SecmonError('TRUST_REJECTED', 'certificate not trusted');
		let handed: net.Socket | undefined;
		const error = await failure(connect(peer, 'relaxed', {
			async upgrade(socket) {
				handed = socket;
				throw refusal;
			},
		}));
		expect(error).toBe(refusal);
		expect(handed?.destroyed).toBe(true);
		// Pmcd is not left blocked in SSL_accept (docs/pcp.md#tls-upgrade): the next session works.
		const client = await connect(peer, 'enforce', {upgrade: trivialUpgrade()});
		expect(await client.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		client.close();
	});

	test('a raw TLS failure in the upgrade becomes TLS_FAILED', async () => {
		// Verification on, against an empty CA list: Node's own "unable to verify" error.
		const error = await failure(connect(peer, 'enforce', {upgrade: trivialUpgrade(undefined, {rejectUnauthorized: true, ca: []})}));
		expect(error).toMatchObject({code: 'TLS_FAILED'});
	});
});

describe('PcpClient against a real pmcd that requires client certificates', () => {
	let peer: PmcdPeer;

	beforeAll(async () => {
		peer = await startPmcd('require');
	});

	afterAll(async () => {
		await peer?.stop();
	});

	test('with the client certificate: works', async () => {
		const client = await connect(peer, 'enforce', {upgrade: trivialUpgrade({cert: peer.clientCert, key: peer.clientKey})});
		try {
			expect(client.features & FEATURE.CERT_REQD).toBe(FEATURE.CERT_REQD);
			expect(client.tls?.version).toBe('TLSv1.3');
			expect(await client.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		} finally {
			client.close();
		}
	});

	test('off mode: CLIENT_CERT_REQUIRED from the greeting, with the --cert hint', async () => {
		const error = await failure(connect(peer, 'off'));
		expect(error).toMatchObject({code: 'CLIENT_CERT_REQUIRED'});
		expect(error.message).toBe(`Cannot connect to PMCD on host "${peer.host}:${peer.port}": PMCD requires a client certificate`);
		expect(hintOf(error)).toContain('--secure enforce --cert FILE --key FILE');
	});

	test.each(['enforce', 'relaxed'] as const)('%s without a certificate: the late TLS 1.3 alert fails connect with CLIENT_CERT_REQUIRED', async mode => {
		const error = await failure(connect(peer, mode, {upgrade: trivialUpgrade()}));
		expect(error).toMatchObject({code: 'CLIENT_CERT_REQUIRED'});
		expect(error.message).toBe(`PMCD on host "${peer.host}:${peer.port}" requires a client certificate (TLS: tlsv13 alert certificate required)`);
		expect(hintOf(error)).toContain('--cert FILE --key FILE');
	});

	test('a certificate from another CA: TLS_FAILED', async () => {
		const error = await failure(connect(peer, 'enforce', {upgrade: trivialUpgrade({cert: peer.otherClientCert, key: peer.otherClientKey})}));
		expect(error).toMatchObject({code: 'TLS_FAILED'});
		expect(error.message).toBe(`TLS with PMCD on host "${peer.host}:${peer.port}" failed: tlsv1 alert unknown ca`);
		expect(hintOf(error)).toMatch(/does not trust the issuer/v);
	});

	test('without the probe, the rejection reaches the first request instead', async () => {
		const client = await connect(peer, 'enforce', {upgrade: trivialUpgrade(), probeAfterUpgrade: false});
		const error = await failure(client.traverse('hinv.ncpu'));
		expect(error).toMatchObject({code: 'CLIENT_CERT_REQUIRED'});
		expect(client.closed).toBe(true);
	});
});

// ---------------------------------------------------------------------------
// Failures without a real pmcd

describe('PcpClient connection failures', () => {
	test('nothing listening: CONNECT_FAILED "Connection refused", as pminfo says it', async () => {
		const port = await freePort();
		const error = await failure(connect({host: '127.0.0.1', port}, 'off'));
		expect(error).toMatchObject({code: 'CONNECT_FAILED', exitCode: 1});
		expect(error.message).toBe(`Cannot connect to PMCD on host "127.0.0.1:${port}": Connection refused`);
		expect(hintOf(error)).toMatch(/pmcd is running/v);
	});

	test('IPv6 literal: brackets in messages', async () => {
		const port = await freePort();
		const error = await failure(connect({host: '::1', port}, 'off'));
		expect(error.message).toMatch(new RegExp(`^Cannot connect to PMCD on host "\\[::1\\]:${port}": `, 'v'));
	});

	test('a server that accepts and never writes: TIMEOUT within the connect timeout', async () => {
		const server = await fakeServer(() => undefined);
		try {
			const started = Date.now();
			const error = await failure(connect(server, 'off', {connectTimeoutMs: 300}));
			const elapsed = Date.now() - started;
			expect(error).toMatchObject({code: 'TIMEOUT'});
			expect(error.message).toBe(`Cannot connect to PMCD on host "127.0.0.1:${server.port}": Timeout waiting for a response from PMCD`);
			expect(elapsed).toBeGreaterThanOrEqual(250);
			expect(elapsed).toBeLessThan(2000);
		} finally {
			await server.close();
		}
	});

	test('a server that stops answering: TIMEOUT per request, then the session is dead', async () => {
		const server = await fakePcp(FEATURE.HIGHRES, () => undefined);
		try {
			const client = await connect(server, 'off', {requestTimeoutMs: 300});
			const started = Date.now();
			const error = await failure(client.traverse('hinv.ncpu'));
			expect(Date.now() - started).toBeLessThan(2000);
			expect(error).toMatchObject({code: 'TIMEOUT', message: 'Timeout waiting for a response from PMCD'});
			expect(client.closed).toBe(true);
			expect(await failure(client.traverse('x'))).toBe(error);
		} finally {
			await server.close();
		}
	});

	test('a hostile server announcing a 2 GiB PDU: PROTOCOL, no allocation', async () => {
		const server = await fakePcp(FEATURE.HIGHRES, () => {
			const header = Buffer.alloc(12);
			header.writeInt32BE(0x7f_ff_ff_ff, 0);
			header.writeInt32BE(PDU.PMNS_NAMES, 4);
			return header;
		});
		try {
			const client = await connect(server, 'off');
			const error = await failure(client.traverse('hinv.ncpu'));
			expect(error).toMatchObject({code: 'PROTOCOL'});
			expect(error.message).toMatch(/^PMCD on host "127\.0\.0\.1:\d+" sent a bad PDU: PMNS_NAMES PDU header announces len 2147483647, more than the 67108864-byte limit$/v);
			expect(client.closed).toBe(true);
		} finally {
			await server.close();
		}
	});

	test('malformed replies and wrong reply types: PROTOCOL', async () => {
		const server = await fakePcp(FEATURE.HIGHRES, pdu => {
			if (readHeader(pdu).type === PDU.CREDS) {
				return undefined;
			}

			const {name} = decodeNameRequest(pdu);
			if (name === 'bad') {
				const reply = encodeNames(['a']);
				reply.writeInt32BE(99, 20); // Numnames beyond the PDU
				return reply;
			}

			return encodeIds(1, [1]); // Wrong type for a TRAVERSE
		});
		try {
			const first = await connect(server, 'off');
			const malformed = await failure(first.traverse('bad'));
			expect(malformed).toMatchObject({code: 'PROTOCOL'});
			expect(malformed.message).toMatch(/Malformed PMNS_NAMES PDU: numnames 99/v);
			const second = await connect(server, 'off');
			const wrongType = await failure(second.traverse('other'));
			expect(wrongType).toMatchObject({code: 'PROTOCOL'});
			expect(wrongType.message).toMatch(/answered PMNS_TRAVERSE with PMNS_IDS/v);
		} finally {
			await server.close();
		}
	});

	test('a HIGHRES_RESULT stamped in the year 318857 (sec 1e13): PROTOCOL naming the field, not a Date error later', async () => {
		const server = await fakePcp(FEATURE.HIGHRES, pdu => {
			const decoded = decodePdu(pdu);
			return decoded.kind === 'highresFetch' ? encodeHighresResult({sec: 1e13, nsec: 0, vsets: [{pmid: 7, status: 'novalues'}]}) : undefined;
		});
		try {
			const client = await connect(server, 'off');
			const error = await failure(client.fetch([7]));
			expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
			expect(error.message).toMatch(/sent a bad reply: .*sec 10000000000000 is not a time from 1970 to 9999/v);
		} finally {
			await server.close();
		}
	});

	test('not a PCP server (HTTP-like greeting): PROTOCOL', async () => {
		const server = await fakeServer(socket => {
			socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
		});
		try {
			const error = await failure(connect(server, 'off'));
			expect(error).toMatchObject({code: 'PROTOCOL'});
			expect(error.message).toMatch(/^127\.0\.0\.1:\d+ did not send a PCP greeting \(.*announces len 1213486160/v);
			expect(hintOf(error)).toMatch(/pmcd port/v);
		} finally {
			await server.close();
		}
	});

	test('greeting with an error status (1.x numbering): CONNECT_FAILED with pmcd\'s text', async () => {
		const server = await fakeServer(socket => {
			socket.end(encodeGreeting({status: PM_ERR.PERMISSION, features: 0}));
		});
		try {
			const error = await failure(connect(server, 'off'));
			expect(error).toMatchObject({code: 'CONNECT_FAILED'});
			expect(error.message).toBe(`Cannot connect to PMCD on host "127.0.0.1:${server.port}": No permission to perform requested operation`);
		} finally {
			await server.close();
		}
	});

	test('a server closing mid-session: CONNECT_FAILED, "IPC channel closed"', async () => {
		const server = await fakePcp(FEATURE.HIGHRES, () => undefined);
		try {
			const client = await connect(server, 'off');
			const pending = client.traverse('x');
			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
			server.sockets[0]?.end();
			const error = await failure(pending);
			expect(error).toMatchObject({code: 'CONNECT_FAILED'});
			expect(error.message).toBe(`Lost connection to PMCD on host "127.0.0.1:${server.port}": IPC channel closed`);
		} finally {
			await server.close();
		}
	});

	test('secure-ack with an error: TLS_FAILED; data before the ClientHello: PROTOCOL', async () => {
		const refuse = await fakePcp(FEATURE.SECURE | FEATURE.SECURE_ACK, () => encodeError(PM_ERR.PERMISSION));
		const chatty = await fakePcp(FEATURE.SECURE | FEATURE.SECURE_ACK, () => Buffer.concat([encodeError(0), Buffer.from('extra')]));
		try {
			expect(await failure(connect(refuse, 'enforce', {upgrade: trivialUpgrade()}))).toMatchObject({code: 'TLS_FAILED'});
			expect(await failure(connect(chatty, 'enforce', {upgrade: trivialUpgrade()}))).toMatchObject({code: 'PROTOCOL'});
		} finally {
			await refuse.close();
			await chatty.close();
		}
	});
});

describe('PcpClient PDU sequence (fake server built on the codec)', () => {
	test('no HIGHRES: PROFILE once, then FETCH (not HIGHRES_FETCH), RESULT accepted; CREDS first with our pid', async () => {
		const server = await fakePcp(0, pdu => {
			const decoded = decodePdu(pdu);
			if (decoded.kind === 'fetch') {
				return encodeResult({
					sec: 1_700_000_000, nsec: 5_000_000, vsets: decoded.request.pmids.map(id => ({
						pmid: id, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.I32, value: id}],
					})),
				});
			}

			if (decoded.kind === 'highresFetch') {
				return encodeHighresResult({sec: 0, nsec: 0, vsets: []});
			}

			if (decoded.kind === 'result') {
				return encodeError(PM_ERR.PERMISSION);
			}

			return undefined;
		});
		try {
			const client = await connect(server, 'off');
			const first = await client.fetch([7, 8]);
			expect(first.vsets.map(v => v.status === 'ok' && v.values[0]?.value)).toEqual([7, 8]);
			const second = await client.fetch([9]);
			expect(second).toMatchObject({sec: 1_700_000_000, nsec: 5_000_000});
			expect(await rejectionCode(client.store([{
				pmid: 1, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.I32, value: 1}],
			}]))).toBe(PM_ERR.PERMISSION);
			client.close();
			const kinds = server.received.map(pdu => decodePdu(pdu).kind);
			expect(kinds).toEqual(['creds', 'profile', 'fetch', 'fetch', 'result']);
			expect(readHeader(server.received[0]!).from).toBe(process.pid);
		} finally {
			await server.close();
		}
	});

	test('fetch of a U32 metric whose descriptor is known decodes the INSITU value unsigned', async () => {
		const server = await fakePcp(FEATURE.HIGHRES, pdu => {
			const decoded = decodePdu(pdu);
			if (decoded.kind === 'descReq') {
				return Buffer.from('0000002000007005000000000000000100000001ffffffff0000000400000000', 'hex');
			}

			if (decoded.kind === 'highresFetch') {
				return encodeHighresResult({
					sec: 0, nsec: 0, vsets: [{
						pmid: 1, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.U32, value: 0xff_ff_ff_fe}],
					}],
				});
			}

			return undefined;
		});
		try {
			const client = await connect(server, 'off');
			const before = await client.fetch([1]);
			expect(before.vsets[0]).toMatchObject({values: [{type: PM_TYPE.I32, value: -2}]});
			expect(await client.descriptor(1)).toMatchObject({type: PM_TYPE.U32});
			const after = await client.fetch([1]);
			expect(after.vsets[0]).toMatchObject({values: [{type: PM_TYPE.U32, value: 0xff_ff_ff_fe}]});
			client.close();
		} finally {
			await server.close();
		}
	});

	test('TLS requested: CREDS carries SECURE|SECURE_ACK and the ClientHello follows the ack', async () => {
		const got: Buffer[] = [];
		const onHello = (socket: net.Socket) => (hello: Buffer) => {
			got.push(hello);
			socket.destroy();
		};

		const server = await fakeServer(socket => {
			socket.write(encodeGreeting({features: FEATURE.SECURE | FEATURE.SECURE_ACK | FEATURE.HIGHRES}));
			socket.once('data', chunk => {
				got.push(chunk);
				socket.write(encodeError(0));
				socket.once('data', onHello(socket));
			});
		});
		try {
			const error = await failure(connect(server, 'enforce', {upgrade: trivialUpgrade()}));
			expect(error).toBeInstanceOf(SecmonError);
			expect(decodePdu(got[0]!)).toMatchObject({kind: 'creds', creds: [{type: 1, version: 2, flags: FEATURE.SECURE | FEATURE.SECURE_ACK}]});
			expect(got[1]?.[0]).toBe(0x16); // TLS handshake record
		} finally {
			await server.close();
		}
	});
});
