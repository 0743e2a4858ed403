/**
 * The tests' JSON Schema subset validator (json-schema.ts) and the schemas in docs/schema/: good
 * lines pass, and each way a line can be wrong is caught, so that the check every --json run goes
 * through (json-lines.ts) can fail.
 */
import {readdirSync} from 'node:fs';
import {describe, expect, test} from 'vitest';
import {checkJsonLines, schemaFor} from './json-lines.js';
import {schemaDir, validateAgainst, validateWith} from './json-schema.js';

const sample = {
	type: 'sample',
	metric: 'kernel.all.load',
	host: 'collector',
	port: 44_321,
	timestamp: '2026-11-23T23:43:37.910Z',
	dataType: 'float',
	semantics: 'instant',
	units: 'none',
	instances: [{id: 1, name: '1 minute', value: 6.95}],
	tls: {
		version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', trust: 'pinned', sha256: '62:03',
	},
};

const counter = {
	...without(sample, 'instances'), metric: 'disk.dev.read', dataType: 'u64', semantics: 'counter', units: 'count', rateUnits: 'count / sec', value: '18446744073709551615', rate: null, tls: null,
};

const error = {
	type: 'error', code: 'CERT_CHANGED', message: 'the certificate changed', hint: 'line 1\nline 2', exitCode: 4, pinnedSha256: 'AA', presentedSha256: 'BB', fix: ['secmon certs remove c:1'], host: 'c', port: 1,
};

function without(value: Record<string, unknown>, key: string): Record<string, unknown> {
	return Object.fromEntries(Object.entries(value).filter(([name]) => name !== key));
}

describe('docs/schema', () => {
	test('good lines pass: samples (value, instances, error, novalues, aggregates, rates), errors, zabbix-get lines', () => {
		expect(validateAgainst(sample, 'secmon.json')).toEqual([]);
		expect(validateAgainst(counter, 'secmon.json')).toEqual([]);
		expect(validateAgainst({
			...without(sample, 'instances'), error: {code: -12_357, message: 'Unknown metric name'}, dataType: null, semantics: null, units: null,
		}, 'sample.json')).toEqual([]);
		expect(validateAgainst({...without(sample, 'instances'), novalues: true}, 'sample.json')).toEqual([]);
		expect(validateAgainst({...without(sample, 'instances'), value: {hex: '00ff'}, dataType: 'aggregate'}, 'sample.json')).toEqual([]);
		expect(validateAgainst({...without(sample, 'instances'), value: 1, agent: {protocol: 'json', version: '7.0.13', variant: 1}}, 'sample.json')).toEqual([]);
		expect(validateAgainst(error, 'secmon.json')).toEqual([]);
		expect(validateAgainst({
			key: 'agent.ping', value: '1', protocol: 'json', version: '7.0.13', variant: 1,
		}, 'zabbix-get.json')).toEqual([]);
		expect(validateAgainst({
			key: 'nodata', value: null, protocol: 'json', version: '7.0.13',
		}, 'zabbix-get.json')).toEqual([]);
		expect(validateAgainst({key: 'x', error: 'Unsupported item key.', protocol: 'plaintext'}, 'zabbix-get.json')).toEqual([]);
		expect(validateAgainst({key: 'x', error: 'Cannot connect', code: 'CONNECT_FAILED'}, 'zabbix-get.json')).toEqual([]);
	});

	test('bad lines are rejected, each with where and why', () => {
		expect(validateAgainst(without(sample, 'metric'), 'sample.json')).toContain('$: "metric" is required');
		expect(validateAgainst({...sample, port: '44321'}, 'sample.json')).toContain('$.port: "44321" is not of type integer');
		expect(validateAgainst({...sample, port: 1.5}, 'sample.json')).toContain('$.port: 1.5 is not of type integer');
		expect(validateAgainst({...sample, extra: 1}, 'sample.json')).toContain('$.extra: not allowed');
		expect(validateAgainst({...sample, type: 'samples'}, 'sample.json')).toContain('$.type: "samples" is not "sample"');
		expect(validateAgainst({...sample, semantics: 'gauge'}, 'sample.json')).toEqual(['$.semantics: "gauge" is not one of ["counter","instant","discrete",null]']);
		expect(validateAgainst({...sample, timestamp: '2026-11-23 23:43:37'}, 'sample.json')[0]).toMatch(/^\$\.timestamp: .* does not match/v);
		// Exactly one of value/instances/error/novalues.
		expect(validateAgainst({...sample, value: 1}, 'sample.json')).toContain('$: matches 2 of the oneOf schemas, not exactly one');
		expect(validateAgainst(without(sample, 'instances'), 'sample.json')).toContain('$: matches 0 of the oneOf schemas, not exactly one');
		expect(validateAgainst({
			...sample, instances: [{
				id: 1, name: 'a', value: 1, rate: 'fast',
			}],
		}, 'sample.json')).toContain('$.instances[0].rate: "fast" is not of type number | null');
		expect(validateAgainst({...sample, instances: [{id: 1, name: 'a', value: {hex: 'xyz'}}]}, 'sample.json')).toContain('$.instances[0].value.hex: "xyz" does not match ^(?:[0-9a-f]{2})*$');
		expect(validateAgainst({...sample, instances: [{id: 1, name: 'a', value: true}]}, 'sample.json')).toContain('$.instances[0].value: true is not of type number | string | object');
		expect(validateAgainst({...sample, tls: {...sample.tls, trust: 'trusted'}}, 'sample.json')).toHaveLength(1);
		// An error line's message is one line; the old banner in it is refused.
		expect(validateAgainst({...error, message: 'changed\n@@@@@@\n@ WARNING @'}, 'error.json')).toEqual(['$.message: "changed\\n@@@@@@\\n@ WARNING @" does not match ^[^\\n]*$']);
		expect(validateAgainst({...error, code: 'NOPE'}, 'error.json')).toHaveLength(1);
		expect(validateAgainst({...error, exitCode: 0}, 'error.json')).toHaveLength(1);
		// The main command's lines: a sample or an error, nothing else.
		expect(validateAgainst({type: 'notice', text: 'hello'}, 'secmon.json')).toEqual(['$: matches 0 of the oneOf schemas, not exactly one']);
		expect(validateAgainst({key: 'agent.ping', value: '1'}, 'zabbix-get.json')).toEqual(['$: matches 0 of the oneOf schemas, not exactly one']);
		expect(validateAgainst({
			key: 'x', value: '1', error: 'e', protocol: 'json',
		}, 'zabbix-get.json')).toEqual(['$: matches 0 of the oneOf schemas, not exactly one']);
	});

	test('the validator: anyOf, minimum, items, boolean schemas, $ref; unsupported keywords and dangling $refs are errors', () => {
		expect(validateWith([1, 2, -1], {type: 'array', items: {type: 'integer', minimum: 0}})).toEqual(['$[2]: -1 is less than 0']);
		expect(validateWith('x', {anyOf: [{type: 'null'}, {type: 'integer'}]})).toEqual(['$: matches none of the anyOf schemas']);
		expect(validateWith({a: 1}, {properties: {a: false}})).toEqual(['$.a: not allowed']);
		expect(validateWith(Number.NaN, {type: 'number'})).toHaveLength(1);
		expect(validateWith({x: {hex: 'zz'}}, {properties: {x: {$ref: 'sample.json#/$defs/value'}}})).toHaveLength(1);
		expect(() => validateWith(1, {maximum: 3})).toThrow('unsupported keyword maximum');
		expect(() => validateWith(1, {$ref: '#/$defs/missing'})).toThrow('unresolved $ref');
	});

	test('every schema file is JSON within the subset (each validates a value without throwing)', () => {
		const files = readdirSync(schemaDir).filter(file => file.endsWith('.json'));
		expect(files.toSorted()).toEqual(['certificate.json', 'certs-list.json', 'certs-show.json', 'enroll.json', 'error.json', 'missed.json', 'sample.json', 'secmon.json', 'sets-list.json', 'sets-show.json', 'verify.json', 'zabbix-get.json']);
		for (const file of files) {
			expect(() => validateAgainst({}, file), file).not.toThrow();
			expect(() => validateAgainst([{}], file), file).not.toThrow();
		}
	});
});

describe('json-lines: the check runSecmon applies to --json runs', () => {
	test('picks the schema by subcommand', () => {
		expect(schemaFor(['-h', 'x', '--json', 'm'])).toBe('secmon.json');
		expect(schemaFor(['zabbix-get', '--json', '-k', 'k'])).toBe('zabbix-get.json');
		expect(schemaFor(['certs', 'list', '--json'])).toBe('certs-list.json');
		expect(schemaFor(['certs', 'show', 'c:1', '--json'])).toBe('certs-show.json');
		expect(schemaFor(['verify', '--host', 'c', '--json'])).toBe('verify.json');
	});

	test('every complete line must be JSON matching the schema; a cut last line is left to its test', () => {
		expect(checkJsonLines(`${JSON.stringify(sample)}\n${JSON.stringify(error)}\n{"type":"sam`, 'secmon.json')).toHaveLength(2);
		expect(() => checkJsonLines('not json\n', 'secmon.json')).toThrow('not JSON');
		expect(() => checkJsonLines(`${JSON.stringify({...sample, port: -1})}\n`, 'secmon.json')).toThrow('does not match docs/schema/secmon.json');
	});
});
