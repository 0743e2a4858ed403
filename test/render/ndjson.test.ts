import {describe, expect, test} from 'vitest';
import {SecmonError} from '../../source/errors.js';
import {noUnits, type MetricDesc, type Sample} from '../../source/metrics/model.js';
import {
	errorLine, jsonValue, metricJson, metricLine, sampleToJson, tlsJson, type JsonSource,
} from '../../source/render/ndjson.js';
import type {TlsFacts} from '../../source/security/types.js';

const timestamp = new Date(Date.UTC(2026, 10, 23, 23, 3, 55, 123));

const tls: TlsFacts = {
	version: 'TLSv1.3',
	cipher: 'TLS_AES_256_GCM_SHA384',
	basis: 'pinned',
	sha256: 'AB:CD',
	sha1: '12:34',
	subject: 'CN=collector',
	validTo: new Date(0),
};

const plain: JsonSource = {host: 'collector', port: 44_322};

const load: MetricDesc = {
	name: 'kernel.all.load',
	type: 'float',
	semantics: 'instant',
	units: noUnits,
	unitsText: 'none',
	pmid: 0x0f_00_08_00,
	indom: 0x0f_00_00_02,
};

const free: MetricDesc = {
	name: 'mem.util.free',
	type: 'u64',
	semantics: 'instant',
	units: {...noUnits, dimSpace: 1, scaleSpace: 1},
	unitsText: 'Kbyte',
	indom: 0xff_ff_ff_ff,
};

describe('jsonValue', () => {
	test('numbers, non-finite numbers, strings, aggregates', () => {
		expect(jsonValue(0.22)).toBe(0.22);
		expect(jsonValue(-0)).toBe(-0);
		expect(jsonValue(Number.NaN)).toBe('NaN');
		expect(jsonValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
		expect(jsonValue(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
		expect(jsonValue('hullo world!')).toBe('hullo world!');
		expect(jsonValue(new TextEncoder().encode('hi\u0000'))).toEqual({hex: '686900'});
		expect(jsonValue(new Uint8Array())).toEqual({hex: ''});
	});

	test('64-bit integers are numbers up to 2^53-1, decimal strings beyond', () => {
		expect(jsonValue(9_007_199_254_740_991n)).toBe(9_007_199_254_740_991);
		expect(jsonValue(-9_007_199_254_740_991n)).toBe(-9_007_199_254_740_991);
		expect(jsonValue(9_007_199_254_740_992n)).toBe('9007199254740992');
		expect(jsonValue(-9_007_199_254_740_992n)).toBe('-9007199254740992');
		expect(jsonValue(18_446_744_073_709_551_615n)).toBe('18446744073709551615');
		expect(jsonValue(0n)).toBe(0);
	});

	test('float32 values get the shortest digits that read back as the same float', () => {
		expect(jsonValue(Math.fround(0.15), 'float')).toBe(0.15);
		expect(jsonValue(0.150_000_005_960_464_48, 'float')).toBe(0.15);
		expect(jsonValue(Math.fround(0.74), 'float')).toBe(0.74);
		expect(jsonValue(Math.fround(16_777_217), 'float')).toBe(16_777_216);
		expect(jsonValue(Math.fround(1e-45), 'float')).toBe(1e-45);
		expect(jsonValue(Math.fround(3.402_823_466e38), 'float')).toBe(3.402_823_5e38);
		// A double keeps every digit.
		expect(jsonValue(0.150_000_005_960_464_48, 'double')).toBe(0.150_000_005_960_464_48);
		for (let i = 0; i < 2000; i++) {
			const f = Math.fround((Math.random() - 0.5) * (10 ** ((i % 40) - 20)));
			const written = jsonValue(f, 'float') as number;
			expect(Math.fround(written)).toBe(f);
			// Never more than the 9 significant digits a float32 can need.
			expect(Number(written.toPrecision(9))).toBe(written);
		}
	});
});

describe('metric lines', () => {
	test('instances, with the documented key order and no whitespace', () => {
		const line = metricLine({
			metric: 'kernel.all.load',
			timestamp,
			desc: load,
			result: {status: 'ok', values: [{instance: 1, name: '1 minute', value: Math.fround(0.22)}, {instance: 5, name: '5 minute', value: Math.fround(0.35)}]},
			source: plain,
		});
		expect(line).toBe('{"type":"sample","metric":"kernel.all.load","host":"collector","port":44322,"timestamp":"2026-11-23T23:03:55.123Z","dataType":"float","semantics":"instant","units":"none","instances":[{"id":1,"name":"1 minute","value":0.22},{"id":5,"name":"5 minute","value":0.35}],"tls":null}');
	});

	test('a singular value, over TLS', () => {
		const line = metricLine({
			metric: 'mem.util.free',
			timestamp,
			desc: free,
			result: {status: 'ok', values: [{instance: -1, value: 23_593_228n}]},
			source: {...plain, tls},
		});
		expect(line).toBe('{"type":"sample","metric":"mem.util.free","host":"collector","port":44322,"timestamp":"2026-11-23T23:03:55.123Z","dataType":"u64","semantics":"instant","units":"Kbyte","value":23593228,"tls":{"version":"TLSv1.3","cipher":"TLS_AES_256_GCM_SHA384","trust":"pinned","sha256":"AB:CD"}}');
		expect(JSON.parse(line)).toMatchObject({value: 23_593_228, tls: {trust: 'pinned'}});
	});

	test('errors and no values', () => {
		expect(metricJson({
			metric: 'sample.bad.nosupport', timestamp, desc: free, result: {status: 'error', code: -12_350, message: 'Metric not supported by this version of monitored application'}, source: plain,
		})).toEqual({
			type: 'sample',
			metric: 'sample.bad.nosupport',
			host: 'collector',
			port: 44_322,
			timestamp: '2026-11-23T23:03:55.123Z',
			dataType: 'u64',
			semantics: 'instant',
			units: 'Kbyte',
			error: {code: -12_350, message: 'Metric not supported by this version of monitored application'},
			tls: null,
		});
		expect(metricLine({
			metric: 'sample.bad.novalues', timestamp, result: {status: 'novalues'}, source: plain,
		})).toBe('{"type":"sample","metric":"sample.bad.novalues","host":"collector","port":44322,"timestamp":"2026-11-23T23:03:55.123Z","dataType":null,"semantics":null,"units":null,"novalues":true,"tls":null}');
	});

	test('singular or instances', () => {
		const line = (values: Array<{instance?: number; name?: string; value: number}>, desc?: MetricDesc) => JSON.parse(metricLine({
			metric: 'm', timestamp, desc, result: {status: 'ok', values}, source: plain,
		})) as Record<string, unknown>;
		// No descriptor, one value without an instance: singular (Zabbix items look like this).
		expect(line([{value: 1}])).toMatchObject({value: 1});
		expect(line([{value: 1}])).not.toHaveProperty('instances');
		// A real indom is always a list, even of one.
		expect(line([{instance: 0, name: 'vda', value: 1}], load)).toMatchObject({instances: [{id: 0, name: 'vda', value: 1}]});
		// An instance id without a name, and several values without ids.
		expect(line([{instance: 3, value: 1}])).toMatchObject({instances: [{id: 3, name: null, value: 1}]});
		expect(line([{value: 1}, {value: 2}])).toMatchObject({instances: [{id: null, name: null, value: 1}, {id: null, name: null, value: 2}]});
		// An indom with no instances right now.
		expect(line([], load)).toMatchObject({instances: []});
	});

	test('hostile strings stay on one line and parse back', () => {
		const nasty = 'a\nb\r\u0000"\\\u2028\u{1F600}\uD800';
		const line = metricLine({
			metric: `x\n${nasty}`, timestamp, desc: {...free, type: 'string'}, result: {status: 'ok', values: [{value: nasty}]}, source: {host: 'h"\n', port: 1},
		});
		expect(line).not.toMatch(/[\n\r]/v);
		expect(line).not.toMatch(/\s$/v);
		const parsed = JSON.parse(line) as {value: string; host: string};
		expect(parsed.host).toBe('h"\n');
		expect(parsed.value.startsWith('a\nb\r\u0000"\\\u2028\u{1F600}')).toBe(true);
	});

	test('non-finite and huge values are strings, the rest numbers', () => {
		const parsed = JSON.parse(metricLine({
			metric: 'm',
			timestamp,
			result: {status: 'ok', values: [{instance: 1, value: Number.NaN}, {instance: 2, value: 2n ** 64n - 1n}, {instance: 3, value: new Uint8Array([1, 255])}]},
			source: plain,
		})) as {instances: Array<{value: unknown}>};
		expect(parsed.instances.map(instance => instance.value)).toEqual(['NaN', '18446744073709551615', {hex: '01ff'}]);
	});
});

describe('sampleToJson and errorLine', () => {
	test('one line per metric, in order, descriptors looked up by name', () => {
		const sample: Sample = {
			target: 'collector:44322',
			timestamp,
			metrics: [
				{name: 'kernel.all.load', result: {status: 'ok', values: [{instance: 1, name: '1 minute', value: 0.5}]}},
				{name: 'mem.util.free', result: {status: 'ok', values: [{value: 5n}]}},
				{name: 'nothing', result: {status: 'novalues'}},
			],
		};
		const lines = sampleToJson(sample, {...plain, tls}, new Map([['kernel.all.load', load], ['mem.util.free', free]]));
		expect(lines).toHaveLength(3);
		expect(lines.map(line => (JSON.parse(line) as {metric: string}).metric)).toEqual(['kernel.all.load', 'mem.util.free', 'nothing']);
		expect(JSON.parse(lines[1]!)).toMatchObject({value: 5, units: 'Kbyte', tls: {sha256: 'AB:CD'}});
		expect(JSON.parse(lines[2]!)).toMatchObject({novalues: true, dataType: null});
		for (const line of lines) {
			expect(line).not.toContain('\n');
		}
	});

	test('tlsJson', () => {
		expect(tlsJson(undefined)).toBeNull();
		expect(tlsJson(null)).toBeNull();
		expect(tlsJson(tls)).toEqual({
			version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', trust: 'pinned', sha256: 'AB:CD',
		});
	});

	test('errorLine uses errors.ts errorJson', () => {
		const error = new SecmonError('TRUST_REQUIRED', 'collector:44322 presented a certificate nobody has trusted yet', 'Run secmon trust collector:44322');
		expect(JSON.parse(errorLine(error))).toEqual({
			type: 'error', code: 'TRUST_REQUIRED', message: 'collector:44322 presented a certificate nobody has trusted yet', hint: 'Run secmon trust collector:44322', exitCode: 3,
		});
		expect(JSON.parse(errorLine(new Error('boom')))).toEqual({
			type: 'error', code: 'INTERNAL', message: 'boom', exitCode: 1,
		});
		expect(errorLine(new SecmonError('USAGE', 'two\nlines'))).not.toContain('\n');
	});

	test('errorLine: the message is its first line; the rest is the facts when the error has them, else detail lines', () => {
		expect(JSON.parse(errorLine(new SecmonError('CERT_INVALID', 'the certificate does not match --fingerprint\n  expected  SHA-256 AA\n\n  presented SHA-256 BB', 'Check it')))).toEqual({
			type: 'error', code: 'CERT_INVALID', message: 'the certificate does not match --fingerprint', hint: 'Check it', exitCode: 1, detail: ['expected  SHA-256 AA', 'presented SHA-256 BB'],
		});
		const changed = new SecmonError('CERT_CHANGED', 'it CHANGED\n@@@@\n@ WARNING @\n@@@@', 'secmon certs remove c:1', {facts: {pinnedSha256: 'AA', presentedSha256: 'BB', fix: ['secmon certs remove c:1']}});
		expect(JSON.parse(errorLine(changed, {host: 'c', port: 1}))).toEqual({
			type: 'error', code: 'CERT_CHANGED', message: 'it CHANGED', hint: 'secmon certs remove c:1', exitCode: 4, pinnedSha256: 'AA', presentedSha256: 'BB', fix: ['secmon certs remove c:1'], host: 'c', port: 1,
		});
		expect(JSON.parse(errorLine(new Error('first\nsecond')))).toEqual({
			type: 'error', code: 'INTERNAL', message: 'first', exitCode: 1, detail: ['second'],
		});
	});
});
