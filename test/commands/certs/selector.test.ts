import {describe, expect, it} from 'vitest';
import {parseSelector} from '../../../source/commands/certs/selector.js';

describe('parseSelector', () => {
	it('parses what refusals print and what people type', () => {
		expect(parseSelector('collector:44321')).toEqual({text: 'collector:44321', host: 'collector', port: 44_321});
		expect(parseSelector('[::1]:44321')).toEqual({text: '[::1]:44321', host: '::1', port: 44_321});
		expect(parseSelector('::1')).toEqual({text: '::1', host: '::1'});
		expect(parseSelector('pcps://collector')).toMatchObject({host: 'collector', port: 44_321});
		expect(parseSelector('zabbix://agent')).toMatchObject({host: 'agent', port: 10_050});
		expect(parseSelector('collector')).toEqual({text: 'collector', host: 'collector'});
		expect(parseSelector('secmon test CA')).toEqual({text: 'secmon test CA'});
		const hex = 'ab'.repeat(32);
		expect(parseSelector(hex).fingerprint).toBe(Array.from({length: 32}, () => 'AB').join(':'));
		expect(parseSelector(`SHA256:${hex.toUpperCase()}`).fingerprint).toMatch(/^AB:AB:/);
	});
});
