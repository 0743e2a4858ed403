/**
 * Protocol details the real tools seldom exercise, checked with a raw client
 * against the answers pmcd gives (docs/pcp.md#wire-protocol): PMNS_CHILD, the three
 * INSTANCE_REQ forms, DESC_IDS, profile filtering, text for instance domains.
 */
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {
	PDU, PM_ERR, PM_PROFILE, PM_TEXT,
} from '../../source/protocols/pcp/constants.js';
import {
	decodeDescs, decodeError, decodeHighresResult, decodeInstance, decodeNames, decodeText, emptyProfile, encodeChild, encodeDescIds,
	encodeHighresFetch, encodeInstanceReq, encodeProfile, encodeTextReq, readHeader,
} from '../../source/protocols/pcp/pdu.js';
import {linuxIndom} from '../../source/serve/linux/metrics.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {RawClient, startCollector, type TestCollector} from './helpers.js';

const loadPmid = 0x0f_00_08_00; // Kernel.all.load 60.2.0

describe('protocol details, secmon serve next to pmcd', () => {
	let collector: TestCollector;
	let pmcd: PmcdPeer;
	let ours: RawClient;
	let theirs: RawClient;

	/** Send the same request to both servers and return both replies. */
	async function both(request: Buffer): Promise<[Buffer, Buffer]> {
		ours.send(request);
		theirs.send(request);
		return Promise.all([ours.next(), theirs.next()]);
	}

	beforeAll(async () => {
		[collector, pmcd] = await Promise.all([startCollector(['--tls', 'off']), startPmcd('plain')]);
		[ours, theirs] = await Promise.all([RawClient.connect(collector.port), RawClient.connect(pmcd.port)]);
		await Promise.all([ours.handshake(), theirs.handshake()]);
	});

	afterAll(async () => {
		ours?.destroy();
		theirs?.destroy();
		await Promise.all([collector?.stop(), pmcd?.stop()]);
	});

	test('PMNS_CHILD: immediate children with leaf (0) / non-leaf (1) status; a leaf has none', async () => {
		const [a] = await both(encodeChild('kernel.all', 1));
		expect(decodeNames(a)).toEqual({names: ['load', 'cpu', 'uptime'], statuses: [0, 1, 0]});
		const [leaf, pmcdLeaf] = await both(encodeChild('hinv.ncpu', 1));
		expect(decodeNames(leaf)).toEqual(decodeNames(pmcdLeaf));
		const [unknown, pmcdUnknown] = await both(encodeChild('no.such', 1));
		expect(decodeError(unknown)).toBe(PM_ERR.NAME);
		expect(decodeError(pmcdUnknown)).toBe(PM_ERR.NAME);
	});

	test('INSTANCE_REQ: whole domain, by number (inst -1 + name), by name (id, no name), errors', async () => {
		const requests = [
			{indom: linuxIndom.load, inst: -1, name: ''},
			{indom: linuxIndom.load, inst: 5, name: ''},
			{indom: linuxIndom.load, inst: -1, name: '15 minute'},
			{indom: linuxIndom.load, inst: -1, name: '15'},
			{indom: linuxIndom.netdev, inst: -1, name: 'lo'},
		];
		for (const request of requests) {
			const [a, b] = await both(encodeInstanceReq(request));
			expect(decodeInstance(a), JSON.stringify(request)).toEqual(decodeInstance(b));
		}

		for (const request of [{indom: linuxIndom.load, inst: 7, name: ''}, {indom: linuxIndom.load, inst: -1, name: 'forever'}, {indom: 0x0f_00_00_63, inst: -1, name: ''}]) {
			const [a, b] = await both(encodeInstanceReq(request));
			expect(readHeader(a).type).toBe(PDU.ERROR);
			expect(decodeError(a), JSON.stringify(request)).toBe(decodeError(b));
		}
	});

	test('DESC_IDS: descriptors in order, PM_ID_NULL for an unknown pmid', async () => {
		const [a, b] = await both(encodeDescIds([loadPmid, 0x0f_00_03_ff, 0x0f_00_00_20]));
		expect(decodeDescs(a)).toEqual(decodeDescs(b));
		expect(decodeDescs(a)[1]?.pmid).toBe(0xFF_FF_FF_FF);
	});

	test('text for instance domains and unknown identifiers', async () => {
		for (const type of [PM_TEXT.ONELINE | PM_TEXT.INDOM, PM_TEXT.HELP | PM_TEXT.INDOM]) {
			const [a, b] = await both(encodeTextReq(linuxIndom.load, type));
			expect(decodeText(a).text).toBe(decodeText(b).text);
		}

		const [a, b] = await both(encodeTextReq(0x0f_00_03_ff, PM_TEXT.ONELINE | PM_TEXT.PMID));
		expect(decodeError(a)).toBe(PM_ERR.TEXT);
		expect(decodeError(a)).toBe(decodeError(b));
	});

	test('a PROFILE selects instances per context; other contexts keep theirs', async () => {
		ours.send(encodeProfile({
			ctxid: 1, globalState: PM_PROFILE.INCLUDE, profiles: [{indom: linuxIndom.load, state: PM_PROFILE.EXCLUDE, instances: [5]}],
		}));
		ours.send(encodeProfile({...emptyProfile, ctxid: 2}));
		ours.send(encodeHighresFetch({ctxid: 1, pmids: [loadPmid]}));
		const only5 = decodeHighresResult(await ours.next()).vsets[0];
		expect(only5?.status === 'ok' && only5.values.map(v => v.inst)).toEqual([5]);
		ours.send(encodeHighresFetch({ctxid: 2, pmids: [loadPmid]}));
		const all = decodeHighresResult(await ours.next()).vsets[0];
		expect(all?.status === 'ok' && all.values.map(v => v.inst)).toEqual([1, 5, 15]);
		ours.send(encodeProfile({
			ctxid: 1, globalState: PM_PROFILE.INCLUDE, profiles: [{indom: linuxIndom.load, state: PM_PROFILE.INCLUDE, instances: [1, 5, 15]}],
		}));
		ours.send(encodeHighresFetch({ctxid: 1, pmids: [loadPmid]}));
		const none = decodeHighresResult(await ours.next()).vsets[0];
		expect(none?.status).toBe('novalues');
	});
});
