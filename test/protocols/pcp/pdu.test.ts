import {describe, expect, test} from 'vitest';
import type {Value} from '../../../source/metrics/model.js';
import {
	FEATURE, PDU, PM_ERR, PM_ID_NULL, PM_INDOM_NULL, PM_PROFILE, PM_SEM, PM_TYPE, PM_VAL, pmid, pmInDom,
} from '../../../source/protocols/pcp/constants.js';
import {PduError} from '../../../source/protocols/pcp/errors.js';
import {
	type DecodedPdu, type PcpResult, decodeCreds, decodeDesc, decodeDescIds, decodeDescReq, decodeDescs, decodeError,
	decodeFetch, decodeGreeting, decodeHighresResult, decodeIds, decodeInstance, decodeInstanceReq, decodeLabel,
	decodeLabelReq, decodeNameRequest, decodeNames, decodePdu, decodeProfile, decodeResult, decodeText, decodeTextReq,
	decodeUnits, emptyProfile, encodeChild, encodeCredList, encodeCreds, encodeDesc, encodeDescIds, encodeDescReq,
	encodeDescs, encodeError, encodeFetch, encodeGreeting, encodeHighresFetch, encodeHighresResult, encodeIds, encodeInstance,
	encodeInstanceReq, encodeLabel, encodeLabelReq, encodeNames, encodeProfile, encodeResult, encodeText, encodeTextReq,
	encodeTraverse, encodeUnits, labelPairs, MAX_RESULT_SEC, makeLabelSet, readHeader,
} from '../../../source/protocols/pcp/pdu.js';
import {type CapturedPdu, captured, pduBytes as bytes} from './fixtures/captures.js';

function find(capture: string, name: string, index = 0): Buffer {
	const hit = captured.filter(p => p.capture === capture && p.name === name)[index];
	if (!hit) {
		throw new Error(`no ${name} #${index} in ${capture}`);
	}

	return bytes(hit);
}

/** The encoder that rebuilds a decoded PDU. */
function reencode(d: DecodedPdu): Buffer {
	switch (d.kind) {
		case 'error': {
			return encodeError(d.code, d.from);
		}

		case 'greeting': {
			return encodeGreeting(d.greeting, d.from);
		}

		case 'creds': {
			return encodeCredList(d.creds, d.from);
		}

		case 'traverse': {
			return encodeTraverse(d.name, d.from);
		}

		case 'child': {
			return encodeChild(d.name, d.subtype, d.from);
		}

		case 'names': {
			return encodeNames(d.names.names, d.names.statuses, d.from);
		}

		case 'ids': {
			return encodeIds(d.ids.status, d.ids.pmids, d.from);
		}

		case 'descReq': {
			return encodeDescReq(d.pmid, d.from);
		}

		case 'desc': {
			return encodeDesc(d.desc, d.from);
		}

		case 'descIds': {
			return encodeDescIds(d.ids.pmids, d.from, d.ids.status);
		}

		case 'descs': {
			return encodeDescs(d.descs, d.from);
		}

		case 'instanceReq': {
			return encodeInstanceReq(d.request, d.from);
		}

		case 'instance': {
			return encodeInstance(d.reply, d.from);
		}

		case 'profile': {
			return encodeProfile(d.profile, d.from);
		}

		case 'fetch': {
			return encodeFetch(d.request, d.from);
		}

		case 'highresFetch': {
			return encodeHighresFetch(d.request, d.from);
		}

		case 'result': {
			return encodeResult(d.result, d.from);
		}

		case 'highresResult': {
			return encodeHighresResult(d.result, d.from);
		}

		case 'textReq': {
			return encodeTextReq(d.request.ident, d.request.type, d.from);
		}

		case 'text': {
			return encodeText(d.reply.ident, d.reply.text, d.from);
		}

		case 'labelReq': {
			return encodeLabelReq(d.request.ident, d.request.type, d.from);
		}

		case 'label': {
			return encodeLabel(d.reply, d.from);
		}
	}
}

/** The one captured PDU that does not re-encode byte for byte: pmval's store pads its string with NULs. */
const isWhoamiStore = (p: CapturedPdu) => p.capture === 'plain-pmval' && p.name === 'RESULT';

describe('real captured PDUs', () => {
	test('the fixture holds every kind of PDU the captures have', () => {
		const kinds = new Set(captured.map(p => p.name));
		const expected = [
			'ERROR',
			'CREDS',
			'PMNS_TRAVERSE',
			'PMNS_NAMES',
			'PMNS_IDS',
			'PROFILE',
			'HIGHRES_FETCH',
			'HIGHRES_RESULT',
			'DESC_REQ',
			'DESC',
			'INSTANCE_REQ',
			'INSTANCE',
			'TEXT_REQ',
			'TEXT',
			'LABEL_REQ',
			'LABEL',
			'RESULT',
		];
		for (const name of expected) {
			expect(kinds).toContain(name);
		}

		expect(captured.length).toBeGreaterThan(150);
	});

	test.each(captured.filter(p => !isWhoamiStore(p)).map(p => [`${p.capture} ${p.dir} ${p.name} len ${p.len}`, p] as const))('%s decodes and re-encodes byte for byte', (_label, p) => {
		const buf = bytes(p);
		const decoded = decodePdu(buf);
		expect(reencode(decoded).toString('hex')).toBe(p.hex);
	});

	test('greetings: plain 0x0e44, TLS 0x0e55, TLS + client cert 0x0ed5', () => {
		expect(decodeGreeting(find('plain-pminfo-f-kernel.all.load', 'ERROR'))).toEqual({
			status: 0, version: 2, licensed: 1, features: 0x0e_44,
		});
		expect(decodeGreeting(find('tls-enforce-pminfo-f-hinv.ncpu', 'ERROR'))).toEqual({
			status: 0, version: 2, licensed: 1, features: 0x0e_55,
		});
		const require = decodeGreeting(find('tls-require-clientcert-pminfo', 'ERROR'));
		expect(require.features).toBe(0x0e_d5);
		expect(require.features & FEATURE.CERT_REQD).toBe(FEATURE.CERT_REQD);
		expect(encodeGreeting({features: 0x0e_44}).toString('hex')).toBe(find('plain-pminfo-f-kernel.all.load', 'ERROR').toString('hex'));
	});

	test('CREDS: plain 0, TLS SECURE|SECURE_ACK, pminfo echoes CERT_REQD', () => {
		const plain = find('plain-pminfo-f-kernel.all.load', 'CREDS');
		expect(decodeCreds(plain)).toEqual([{type: 1, version: 2, flags: 0}]);
		expect(encodeCreds(0, readHeader(plain).from).equals(plain)).toBe(true);
		expect(decodeCreds(find('tls-enforce-pminfo-f-hinv.ncpu', 'CREDS'))[0]?.flags).toBe(0x11);
		expect(decodeCreds(find('tls-require-clientcert-pminfo', 'CREDS'))[0]?.flags).toBe(0x91);
		// The 16-byte secure-ack that follows.
		expect(decodeError(find('tls-enforce-pminfo-f-hinv.ncpu', 'ERROR', 1))).toBe(0);
	});

	test('PMNS_TRAVERSE request and PMNS_NAMES reply', () => {
		const request = find('plain-pminfo-f-kernel.all.load', 'PMNS_TRAVERSE');
		expect(encodeTraverse('kernel.all.load').equals(request)).toBe(true);
		expect(decodeNameRequest(request)).toEqual({type: PDU.PMNS_TRAVERSE, subtype: 0, name: 'kernel.all.load'});
		expect(decodeNames(find('plain-pminfo-f-kernel.all.load', 'PMNS_NAMES'))).toEqual({names: ['kernel.all.load']});
	});

	test('PMNS_NAMES lookup of 17 names and its PMNS_IDS reply', () => {
		const request = find('plain-value-encodings', 'PMNS_NAMES', 17 * 1);
		const {names} = decodeNames(request);
		expect(names).toHaveLength(17);
		expect(names[0]).toBe('sample.long.million');
		expect(names[16]).toBe('sample.needprofile');
		expect(encodeNames(names).equals(request)).toBe(true);
		const ids = decodeIds(find('plain-value-encodings', 'PMNS_IDS'));
		expect(ids.status).toBe(17);
		expect(ids.pmids[0]).toBe(pmid(29, 0, 13));
		expect(ids.pmids[0]).toBe(0x07_40_00_0d);
	});

	test('DESC of kernel.all.load and of a metric with units', () => {
		expect(decodeDescReq(find('plain-pminfo-dmtT', 'DESC_REQ'))).toBe(0x0f_00_08_00);
		expect(decodeDesc(find('plain-pminfo-dmtT', 'DESC'))).toEqual({
			pmid: 0x0f_00_08_00, type: PM_TYPE.FLOAT, indom: pmInDom(60, 2), sem: PM_SEM.INSTANT, units: decodeUnits(0),
		});
		// Sample.bad.unknown's DESC: type NOSUPPORT, indom NULL.
		const descs = captured.filter(p => p.capture === 'plain-value-encodings' && p.name === 'DESC').map(p => decodeDesc(bytes(p)));
		const nosupport = descs.find(d => d.pmid === 0x07_40_00_37);
		expect(nosupport).toMatchObject({type: PM_TYPE.NOSUPPORT, indom: PM_INDOM_NULL});
		expect(descs.map(d => d.type)).toEqual(expect.arrayContaining([0, 1, 2, 3, 4, 5, 6, 7]));
	});

	test('HIGHRES_RESULT of every value encoding (sample PMDA)', () => {
		const result = decodeHighresResult(find('plain-value-encodings', 'HIGHRES_RESULT'));
		expect(result.sec).toBe(0x6b_04_c7_d5);
		expect(result.nsec).toBe(0x3b_82_56_92);
		const byPmid = new Map(result.vsets.map(v => [v.pmid & 0x3_ff, v]));
		const value = (item: number) => {
			const v = byPmid.get(item);
			return v?.status === 'ok' ? v.values[0] : v;
		};

		expect(value(0x0d)).toEqual({inst: -1, type: PM_TYPE.I32, value: 1_000_000}); // Long.million, INSITU
		expect(value(0x17)).toEqual({inst: -1, type: PM_TYPE.I64, value: 1_000_000n}); // Longlong.million
		expect(value(0x65)).toEqual({inst: -1, type: PM_TYPE.U64, value: 1_000_000n});
		expect(value(0x10)).toEqual({inst: -1, type: PM_TYPE.FLOAT, value: 10});
		expect(value(0x1a)).toEqual({inst: -1, type: PM_TYPE.DOUBLE, value: 10});
		expect(value(0x1f)).toEqual({inst: -1, type: PM_TYPE.STRING, value: 'hullo world!'});
		expect(value(0x1e)).toEqual({inst: -1, type: PM_TYPE.STRING, value: ''});
		expect(value(0x22)).toEqual({inst: -1, type: PM_TYPE.AGGREGATE, value: new Uint8Array(Buffer.from('hullo world!'))});
		expect(value(0x91)).toEqual({inst: -1, type: PM_TYPE.I32, value: -9999});
		expect(value(0x92)).toEqual({inst: -1, type: PM_TYPE.I64, value: -9997n});
		expect(value(0x94)).toEqual({inst: -1, type: PM_TYPE.DOUBLE, value: -9999});
		expect(byPmid.get(0x8a)).toEqual({pmid: 0x07_40_00_8a, status: 'novalues'});
		expect(byPmid.get(0x36)).toEqual({pmid: 0x07_40_00_36, status: 'error', code: PM_ERR.PMID});
		expect(byPmid.get(0x37)).toEqual({pmid: 0x07_40_00_37, status: 'error', code: PM_ERR.APPVERSION});
		expect(byPmid.get(0x31)).toEqual({pmid: 0x07_40_00_31, status: 'error', code: PM_ERR.PROFILE});
		expect(result.vsets.find(v => v.pmid === 0x07_40_00_17)).toMatchObject({valfmt: PM_VAL.DPTR});
	});

	test('INSITU values decode as U32 or old-style FLOAT when the metric type is known', () => {
		const buf = encodeHighresResult({
			sec: 1, nsec: 2, vsets: [
				{
					pmid: 1, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.I32, value: -1}],
				},
				{
					pmid: 2, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.I32, value: 0x41_20_00_00}],
				},
			],
		});
		const types = new Map([[1, PM_TYPE.U32], [2, PM_TYPE.FLOAT]]);
		const result = decodeHighresResult(buf, {typeOf: id => types.get(id)});
		expect(result.vsets[0]).toMatchObject({values: [{type: PM_TYPE.U32, value: 0xff_ff_ff_ff}]});
		expect(result.vsets[1]).toMatchObject({values: [{type: PM_TYPE.FLOAT, value: 10}]});
		expect(decodeHighresResult(buf).vsets[0]).toMatchObject({values: [{type: PM_TYPE.I32, value: -1}]});
	});

	test('HIGHRES_RESULT of kernel.all.load: three float instances', () => {
		const result = decodeHighresResult(find('plain-pminfo-f-kernel.all.load', 'HIGHRES_RESULT'));
		expect(result.vsets).toHaveLength(1);
		const [vset] = result.vsets;
		expect(vset?.status).toBe('ok');
		if (vset?.status !== 'ok') {
			return;
		}

		expect(vset.values.map(v => v.inst)).toEqual([1, 5, 15]);
		expect(vset.values.map(v => typeof v.value === 'number' ? v.value.toPrecision(8) : v.value)).toEqual(['0.18000001', '0.28999999', '0.25000000']);
	});

	test('INSTANCE_REQ (whole indom) and INSTANCE', () => {
		const request = find('plain-pminfo-f-kernel.all.load', 'INSTANCE_REQ');
		expect(decodeInstanceReq(request)).toEqual({indom: pmInDom(60, 2), inst: -1, name: ''});
		expect(encodeInstanceReq({indom: pmInDom(60, 2), inst: -1, name: ''}).equals(request)).toBe(true);
		expect(decodeInstance(find('plain-pminfo-f-kernel.all.load', 'INSTANCE'))).toEqual({
			indom: pmInDom(60, 2),
			instances: [{inst: 1, name: '1 minute'}, {inst: 5, name: '5 minute'}, {inst: 15, name: '15 minute'}],
		});
	});

	test('TEXT_REQ, TEXT (ident in host byte order) and empty help', () => {
		expect(decodeTextReq(find('plain-pminfo-dmtT', 'TEXT_REQ'))).toEqual({ident: 0x0f_00_08_00, type: 5});
		expect(decodeText(find('plain-pminfo-dmtT', 'TEXT'))).toEqual({ident: 0x00_08_00_0f, text: '1, 5 and 15 minute load average'});
		expect(decodeText(find('plain-pminfo-dmtT', 'TEXT', 1)).text).toBe('');
	});

	test('LABEL: unpadded, JSON after the set headers, label offsets into it', () => {
		const context = find('plain-pminfo-l', 'LABEL');
		expect(context.length).toBe(159);
		const reply = decodeLabel(context);
		expect(reply.ident).toBe(PM_ID_NULL);
		expect(reply.type).toBe(1);
		expect(reply.sets).toHaveLength(1);
		expect(JSON.parse(reply.sets[0]!.json)).toMatchObject({domainname: 'localdomain', hostname: 'vm'});
		expect(labelPairs(reply.sets[0]!).map(p => [p.name, p.value, p.flags])).toEqual([
			['domainname', '"localdomain"', 1],
			['hostname', '"vm"', 1],
			['machineid', '"3d1219c7c4c5404aaa1f6d2a48adfda4"', 1],
		]);
		expect(labelPairs(decodeLabel(find('plain-pminfo-l', 'LABEL', 1)).sets[0]!)).toEqual([{name: 'agent', value: '"linux"', flags: 2}]);
		expect(decodeLabel(find('plain-pminfo-l', 'LABEL', 2)).sets).toEqual([]);
		expect(decodeLabelReq(find('plain-pminfo-l', 'LABEL_REQ', 1))).toEqual({ident: 60, type: 2});
	});

	test('makeLabelSet builds what pmcd sends', () => {
		const set = makeLabelSet(-1, {hostname: 'vm', domainname: 'localdomain', machineid: '3d1219c7c4c5404aaa1f6d2a48adfda4'}, 1);
		const built = encodeLabel({ident: PM_ID_NULL, type: 1, sets: [set]});
		expect(built.equals(find('plain-pminfo-l', 'LABEL'))).toBe(true);
	});

	test('pmval store (RESULT C>S): SPTR string padded with NULs, stripped at the first NUL', () => {
		const store = find('plain-pmval', 'RESULT');
		const result = decodeResult(store);
		expect(result).toMatchObject({sec: 0, nsec: 0});
		expect(result.vsets).toEqual([{
			pmid: 0x00_80_18_00,
			status: 'ok',
			valfmt: PM_VAL.SPTR,
			values: [{inst: -1, type: PM_TYPE.STRING, value: 'localhost (127.0.0.1) pmval -h 127.0.0.1:44410 -s 2 -t 0.5 kernel.all.load'}],
		}]);
		expect(decodeResult(encodeResult(result))).toEqual(result);
		expect(decodeError(find('plain-pmval', 'ERROR', 1))).toBe(0);
	});

	test('unknown name: ERROR PM_ERR_NAME', () => {
		expect(decodeError(find('plain-unknown-name', 'ERROR', 1))).toBe(PM_ERR.NAME);
	});
});

describe('encoders for forms the captures lack', () => {
	test('PROFILE: empty, and include/exclude lists (docs/pcp.md#profile)', () => {
		expect(encodeProfile(emptyProfile).toString('hex')).toBe(find('plain-pmval', 'PROFILE').toString('hex'));
		const profile = {
			ctxid: 0, globalState: PM_PROFILE.INCLUDE, profiles: [
				{indom: pmInDom(60, 2), state: PM_PROFILE.EXCLUDE, instances: [5]},
				{indom: pmInDom(29, 1), state: PM_PROFILE.INCLUDE, instances: [1, 2, 3]},
			],
		};
		const buf = encodeProfile(profile);
		expect(buf.length).toBe(28 + 32 + 16);
		expect(buf.subarray(28, 44).toString('hex')).toBe('0f000002000000010000000100000000');
		expect(decodeProfile(buf)).toEqual(profile);
	});

	test('INSTANCE_REQ by number and by name, INSTANCE replies', () => {
		const byNumber = {indom: pmInDom(60, 2), inst: 5, name: ''};
		expect(decodeInstanceReq(encodeInstanceReq(byNumber))).toEqual(byNumber);
		const byName = {indom: pmInDom(60, 2), inst: -1, name: '15 minute'};
		const buf = encodeInstanceReq(byName);
		expect(buf.length).toBe(32 + 12);
		expect(decodeInstanceReq(buf)).toEqual(byName);
		const reply = {indom: pmInDom(60, 2), instances: [{inst: 15, name: ''}]};
		expect(decodeInstance(encodeInstance(reply))).toEqual(reply);
	});

	test('FETCH and RESULT (no HIGHRES) round trip with every type', () => {
		const fetch = {ctxid: 0, pmids: [1, 2, 3]};
		const fetchBuf = encodeFetch(fetch);
		expect(readHeader(fetchBuf).type).toBe(PDU.FETCH);
		expect(decodeFetch(fetchBuf)).toEqual({type: PDU.FETCH, ...fetch});
		const result: PcpResult = {
			sec: 1_700_000_000, nsec: 123_456_000, vsets: [
				{
					pmid: 1, status: 'ok', valfmt: PM_VAL.INSITU, values: [{inst: 0, type: PM_TYPE.I32, value: -5}, {inst: 1, type: PM_TYPE.I32, value: 7}],
				},
				{
					pmid: 2, status: 'ok', valfmt: PM_VAL.INSITU, values: [{inst: -1, type: PM_TYPE.I32, value: 3_000_000_000 | 0}],
				},
				{
					pmid: 3, status: 'ok', valfmt: PM_VAL.DPTR, values: [
						{inst: 0, type: PM_TYPE.U64, value: 18_446_744_073_709_551_615n},
						{inst: 1, type: PM_TYPE.I64, value: -9_223_372_036_854_775_808n},
						{inst: 2, type: PM_TYPE.FLOAT, value: 0.5},
						{inst: 3, type: PM_TYPE.DOUBLE, value: Math.PI},
						{inst: 4, type: PM_TYPE.STRING, value: 'héllo'},
						{inst: 5, type: PM_TYPE.AGGREGATE, value: new Uint8Array([1, 2, 3, 4, 5])},
						{inst: 6, type: PM_TYPE.EVENT, value: new Uint8Array([9, 9, 9, 9])},
					],
				},
				{pmid: 4, status: 'novalues'},
				{pmid: 5, status: 'error', code: PM_ERR.NOAGENT},
			],
		};
		for (const [encode, decode] of [[encodeResult, decodeResult], [encodeHighresResult, decodeHighresResult]] as const) {
			const buf = encode(result);
			expect(buf.length % 4).toBe(0);
			expect(decode(buf)).toEqual(result);
		}

		expect(readHeader(encodeResult(result)).type).toBe(PDU.RESULT);
	});

	test('PMNS_CHILD, PMNS_NAMES with statuses, PMNS_IDS request, DESC_IDS, DESCS, ERROR', () => {
		expect(decodeNameRequest(encodeChild('sample', 1))).toEqual({type: PDU.PMNS_CHILD, subtype: 1, name: 'sample'});
		expect(decodeNameRequest(encodeTraverse(''))).toEqual({type: PDU.PMNS_TRAVERSE, subtype: 0, name: ''});
		expect(encodeTraverse('').length).toBe(20);
		const names = {names: ['long', 'ulong', 'x'], statuses: [1, 1, 0]};
		expect(decodeNames(encodeNames(names.names, names.statuses))).toEqual(names);
		expect(decodeIds(encodeIds(0, [0x0f_00_00_20]))).toEqual({status: 0, pmids: [0x0f_00_00_20]});
		expect(decodeDescIds(encodeDescIds([1, 2]))).toEqual({status: -1, pmids: [1, 2]});
		const descs = [
			{
				pmid: 0x0f_00_00_20, type: PM_TYPE.U32, indom: PM_INDOM_NULL, sem: PM_SEM.DISCRETE, units: decodeUnits(0),
			},
			{
				pmid: PM_ID_NULL, type: 0, indom: 0, sem: 0, units: decodeUnits(0),
			},
		];
		expect(decodeDescs(encodeDescs(descs))).toEqual(descs);
		expect(decodeError(encodeError(PM_ERR.IPC))).toBe(PM_ERR.IPC);
		expect(encodeError(PM_ERR.NAME).toString('hex')).toBe(find('plain-unknown-name', 'ERROR', 1).toString('hex'));
	});

	test('greeting status uses PCP 1.x numbering on the wire', () => {
		const buf = encodeGreeting({status: PM_ERR.PERMISSION, features: 0});
		expect(buf.readInt32BE(12)).toBe(-1042);
		expect(decodeGreeting(buf).status).toBe(PM_ERR.PERMISSION);
	});

	test('units bitfields (docs/pcp.md#identifiers)', () => {
		const cases: Array<[string, Record<string, number>]> = [
			['10010000', {dimSpace: 1, scaleSpace: 1}], // Kbyte
			['01002000', {dimTime: 1, scaleTime: 2}], // Millisec
			['00100000', {dimCount: 1}], // Count
			['1f003000', {dimSpace: 1, dimTime: -1, scaleTime: 3}], // Byte/sec
			['0f001000', {dimTime: -1, scaleTime: 1}], // /microsec
			['f0120600', {
				dimSpace: -1, dimCount: 1, scaleSpace: 2, scaleCount: 6,
			}], // Count x 10^6 / Mbyte
		];
		for (const [hex, fields] of cases) {
			const units = {
				dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0, ...fields,
			};
			const word = Number.parseInt(hex, 16);
			expect(decodeUnits(word)).toEqual(units);
			expect(encodeUnits(units)).toBe(word);
		}
	});

	test('encoders refuse values that do not fit their type', () => {
		const bad = (type: number, value: Value) => () => encodeResult({
			sec: 0, nsec: 0, vsets: [
				{
					pmid: 1, status: 'ok', valfmt: 0, values: [{inst: 0, type, value}],
				},
			],
		});
		expect(bad(PM_TYPE.I32, 'x')).toThrow(PduError);
		expect(bad(PM_TYPE.I64, 1.5)).toThrow(PduError);
		expect(bad(PM_TYPE.STRING, 5)).toThrow(PduError);
		expect(bad(PM_TYPE.AGGREGATE, 'x')).toThrow(PduError);
		expect(() => encodeResult({
			sec: 0, nsec: 0, vsets: [{
				pmid: 1, status: 'ok', valfmt: 0, values: [
					{inst: 0, type: PM_TYPE.I32, value: 1},
					{inst: 1, type: PM_TYPE.DOUBLE, value: 1},
				],
			}],
		})).toThrow(/mixes INSITU/v);
		expect(() => encodeNames(['a'], [0, 1])).toThrow(PduError);
	});
});

// ---------------------------------------------------------------------------
// Malformed input

/** Decode and report what happened: 'ok', 'PduError', or the unexpected error. */
function attempt(buf: Buffer): 'ok' | 'PduError' | Error {
	try {
		decodePdu(buf);
		return 'ok';
	} catch (error) {
		return error instanceof PduError ? 'PduError' : new Error(`not a PduError: ${String(error)}`, {cause: error});
	}
}

function withLen(buf: Buffer): Buffer {
	const copy = Buffer.from(buf);
	if (copy.length >= 4) {
		copy.writeInt32BE(copy.length, 0);
	}

	return copy;
}

/** Deterministic PRNG for the fuzz loop (mulberry32). */
function rng(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d_2b_79_f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

describe('malformed PDUs', () => {
	test('every truncation of every real PDU: PduError, or success only by dropping trailing padding', () => {
		let checked = 0;
		for (const p of captured) {
			const full = bytes(p);
			for (let k = 0; k < full.length; k++) {
				// Header len left as is: always a length mismatch.
				expect(attempt(full.subarray(0, k))).toBe('PduError');
				// Header len patched to the truncated size: the fields must catch it.
				const outcome = attempt(withLen(full.subarray(0, k)));
				if (outcome === 'ok' && p.name === 'ERROR' && p.len === 20 && k === 16) {
					// A greeting cut to 16 bytes is a well-formed plain ERROR.
				} else if (outcome === 'ok') {
					// Only padding may go (pmcd also accepts unpadded names, docs/pcp.md#pmns-requests) …
					expect(full.length - k, `${p.capture} ${p.name} truncated to ${k}`).toBeLessThan(4);
					// … and only if the dropped bytes are padding.
					expect(full.subarray(k).every(b => b === 0x7e || b === 0), `${p.capture} ${p.name} truncated to ${k}`).toBe(true);
				} else {
					expect(outcome, `${p.capture} ${p.name} truncated to ${k}`).toBe('PduError');
				}

				checked++;
			}
		}

		expect(checked).toBeGreaterThan(6000);
	});

	test('random corruption of real PDUs never throws anything but PduError', () => {
		const random = rng(42);
		for (let round = 0; round < 20; round++) {
			for (const p of captured) {
				const buf = Buffer.from(bytes(p));
				const flips = 1 + Math.floor(random() * 4);
				for (let i = 0; i < flips; i++) {
					// Keep the header's len and type so that the body decoders get exercised.
					const at = 12 + Math.floor(random() * Math.max(1, buf.length - 12));
					if (at < buf.length) {
						buf[at] = Math.floor(random() * 256);
					}
				}

				const outcome = attempt(buf);
				expect(outcome === 'ok' || outcome === 'PduError', `${p.capture} ${p.name}: ${String(outcome)}`).toBe(true);
			}
		}
	});

	test('header: shorter than 12, len < 12, len beyond the buffer', () => {
		expect(() => readHeader(Buffer.alloc(11))).toThrow(PduError);
		const small = Buffer.alloc(16);
		small.writeInt32BE(8, 0);
		expect(() => readHeader(small)).toThrow(/less than 12/v);
		const desc = find('plain-pminfo-dmtT', 'DESC');
		const long = Buffer.from(desc);
		long.writeInt32BE(0x7f_ff_ff_ff, 0);
		expect(() => decodeDesc(long)).toThrow(/does not match/v);
		expect(() => decodeDesc(Buffer.concat([desc, Buffer.alloc(4)]))).toThrow(PduError);
	});

	test('wrong PDU type names both types', () => {
		const result = find('plain-pminfo-f-kernel.all.load', 'HIGHRES_RESULT');
		expect(() => decodeDesc(result)).toThrow('Malformed HIGHRES_RESULT PDU: expected DESC, got HIGHRES_RESULT');
		expect(() => decodeResult(result)).toThrow(/expected RESULT, got HIGHRES_RESULT/v);
		const unknown = Buffer.from(find('plain-unknown-name', 'ERROR', 1));
		unknown.writeInt32BE(0x70_50, 4);
		expect(() => decodePdu(unknown)).toThrow(/unsupported PDU type 0x7050/v);
		// A 16-byte ERROR is no greeting.
		expect(() => decodeGreeting(unknown)).toThrow(PduError);
	});

	test('hostile counts fail fast, without allocating', () => {
		const hostile = (name: string, capture: string, offset: number, value: number, index = 0): void => {
			const buf = Buffer.from(find(capture, name, index));
			buf.writeInt32BE(value, offset);
			const started = performance.now();
			const error = (() => {
				try {
					decodePdu(buf);
				} catch (error_) {
					return error_;
				}

				return undefined;
			})();
			expect(error, `${name} field at ${offset} = ${value}`).toBeInstanceOf(PduError);
			expect(performance.now() - started).toBeLessThan(50);
		};

		for (const value of [0x7f_ff_ff_ff, 1_000_000, -1, -0x80_00_00_00]) {
			hostile('PMNS_NAMES', 'plain-pminfo-f-kernel.all.load', 20, value); // Numnames
			hostile('PMNS_IDS', 'plain-value-encodings', 16, value); // Numids
			hostile('INSTANCE', 'plain-pminfo-f-kernel.all.load', 16, value); // Numinst
			hostile('HIGHRES_RESULT', 'plain-value-encodings', 12, value); // Numpmid
			hostile('HIGHRES_FETCH', 'plain-value-encodings', 24, value); // Numpmid
			hostile('LABEL', 'plain-pminfo-l', 24, value); // Nsets
			hostile('PROFILE', 'plain-pmval', 20, value); // Numprof
			hostile('CREDS', 'plain-pmval', 12, value); // Numcreds
			hostile('TEXT', 'plain-pminfo-dmtT', 16, value); // Buflen
			hostile('PMNS_TRAVERSE', 'plain-pminfo-dmtT', 16, value); // Namelen
			hostile('INSTANCE_REQ', 'plain-pmval', 28, value); // Namelen
		}

		// Numval of the first vset of the 17-metric result.
		hostile('HIGHRES_RESULT', 'plain-value-encodings', 0x24, 0x7f_ff_ff_ff);
		// Nlabels and JSON offset of the context label set.
		hostile('LABEL', 'plain-pminfo-l', 32, 0x7f_ff_ff_ff);
		hostile('LABEL', 'plain-pminfo-l', 36, 0x7f_ff_ff_00);
		hostile('LABEL', 'plain-pminfo-l', 40, 1000);
	});

	test('value block offsets outside the value area, bad vlen, gaps, trailing bytes', () => {
		const original = find('plain-value-encodings', 'HIGHRES_RESULT');
		const patched = (offset: number, value: number): Buffer => {
			const buf = Buffer.from(original);
			buf.writeUInt32BE(value >>> 0, offset);
			return buf;
		};

		// Longlong.million's DPTR word (0x4e) is at byte 0x58.
		expect(original.readUInt32BE(0x58)).toBe(0x4e);
		expect(() => decodeHighresResult(patched(0x58, 0xff_ff))).toThrow(/outside the value area/v);
		expect(() => decodeHighresResult(patched(0x58, 0x0a))).toThrow(/outside the value area/v); // Points into the vsets
		expect(() => decodeHighresResult(patched(0x58, -1))).toThrow(/outside the value area/v);
		expect(() => decodeHighresResult(patched(0x58, 0x51))).toThrow(/back to back/v); // Two values share a block
		// The first block (at 0x138): vlen too small, too large, wrong for its type.
		expect(() => decodeHighresResult(patched(0x1_38, 0x02_00_00_02))).toThrow(/vlen/v);
		expect(() => decodeHighresResult(patched(0x1_38, 0x02_ff_ff_ff))).toThrow(/vlen/v);
		expect(() => decodeHighresResult(patched(0x1_38, 0x02_00_00_08))).toThrow(/expected 8/v);
		// Valfmt other than 0, 1, 2.
		expect(() => decodeHighresResult(patched(0x28, 7))).toThrow(/valfmt 7/v);
		// Trailing bytes after the last block, and a gap before the first one.
		expect(() => decodeHighresResult(withLen(Buffer.concat([original, Buffer.alloc(4)])))).toThrow(/len/v);
		const noBlocks = encodeHighresResult({sec: 0, nsec: 0, vsets: [{pmid: 1, status: 'novalues'}]});
		expect(() => decodeHighresResult(withLen(Buffer.concat([noBlocks, Buffer.alloc(8)])))).toThrow(PduError);
		// Nsec out of range.
		expect(() => decodeHighresResult(patched(0x18, 0x7f_ff_ff_ff))).toThrow(/nsec/v);
	});

	test('timestamps a Date cannot show are decode errors, the limits themselves decode', () => {
		const highres = (sec: number, nsec = 0) => encodeHighresResult({sec, nsec, vsets: [{pmid: 1, status: 'novalues'}]});
		expect(() => decodeHighresResult(highres(1e13))).toThrow(/sec 10000000000000 is not a time from 1970 to 9999/v);
		expect(() => decodeHighresResult(highres(MAX_RESULT_SEC + 1))).toThrow(PduError);
		expect(decodeHighresResult(highres(MAX_RESULT_SEC, 999_999_999))).toMatchObject({sec: MAX_RESULT_SEC, nsec: 999_999_999});
		expect(new Date((MAX_RESULT_SEC * 1000) + 999).toISOString()).toBe('9999-12-31T23:59:59.999Z');
		expect(() => decodeHighresResult(highres(-1))).toThrow(/sec -1 /v);
		expect(() => decodeHighresResult(highres(0, 1e9))).toThrow(/nsec 1000000000 is out of range/v);
		// RESULT (FETCH without HIGHRES): tv_sec is an i32, so only 1970 is a bound.
		const old = (sec: number) => encodeResult({sec, nsec: 0, vsets: [{pmid: 1, status: 'novalues'}]});
		expect(() => decodeResult(old(-1))).toThrow(/tv_sec -1 is before 1970/v);
		expect(decodeResult(old(0x7f_ff_ff_ff)).sec).toBe(0x7f_ff_ff_ff);
	});

	test('a 16 MiB hostile PDU is rejected in linear time', () => {
		const buf = Buffer.alloc(16 * 1024 * 1024);
		buf.writeInt32BE(buf.length, 0);
		buf.writeInt32BE(PDU.HIGHRES_RESULT, 4);
		buf.writeInt32BE(0x7f_ff_ff_ff, 12);
		const started = performance.now();
		expect(() => decodeHighresResult(buf)).toThrow(PduError);
		expect(performance.now() - started).toBeLessThan(500);
	});
});
