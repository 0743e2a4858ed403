import {describe, expect, it} from 'vitest';
import {
	describeKey, inferType, knownKey, parseKey, toMetricValues, zbxNotSupportedCode,
} from '../../../source/protocols/zabbix/keys.js';

describe('parseKey', () => {
	it('splits names and parameters like Zabbix', () => {
		expect(parseKey('agent.ping')).toEqual({name: 'agent.ping', params: []});
		expect(parseKey('system.cpu.load[all,avg1]')).toEqual({name: 'system.cpu.load', params: ['all', 'avg1']});
		expect(parseKey('net.if.in[eth0]')).toEqual({name: 'net.if.in', params: ['eth0']});
		expect(parseKey('vfs.fs.size[/,pused]')).toEqual({name: 'vfs.fs.size', params: ['/', 'pused']});
		expect(parseKey('x[ a , "b,c" ,"q\\"d",[1,2],]')).toEqual({name: 'x', params: ['a', 'b,c', 'q"d', '[1,2]', '']});
		expect(parseKey('vm.memory.size[]')).toEqual({name: 'vm.memory.size', params: ['']});
	});
});

describe('knownKey', () => {
	it('knows interface counters and their units', () => {
		expect(knownKey('net.if.in[lo]')).toMatchObject({type: 'u64', semantics: 'counter', unitsText: 'byte'});
		expect(knownKey('net.if.out[eth0,packets]')).toMatchObject({semantics: 'counter', unitsText: 'count'});
		expect(knownKey('net.if.total[eth0,bytes]')).toMatchObject({semantics: 'counter'});
		expect(knownKey('net.if.in[eth0,bogus]')).toBeUndefined();
	});

	it('knows percentages, bytes and loads', () => {
		expect(knownKey('system.cpu.util[,idle]')).toMatchObject({type: 'double', unitsText: '%'});
		expect(knownKey('vm.memory.size[available]')).toMatchObject({type: 'u64', unitsText: 'byte', semantics: 'instant'});
		expect(knownKey('vm.memory.size[pavailable]')).toMatchObject({type: 'double', unitsText: '%'});
		expect(knownKey('vfs.fs.size[/,pfree]')).toMatchObject({type: 'double'});
		expect(knownKey('vfs.fs.size[/]')).toMatchObject({type: 'u64', unitsText: 'byte'});
		expect(knownKey('system.cpu.load[all,avg5]')).toMatchObject({type: 'double', semantics: 'instant'});
		expect(knownKey('system.uptime')).toMatchObject({unitsText: 'sec'});
		expect(knownKey('custom.key')).toBeUndefined();
	});
});

describe('types and values', () => {
	it('infers a type from the text', () => {
		expect(inferType('1')).toBe('i64');
		expect(inferType('-42')).toBe('i64');
		expect(inferType('0.984863')).toBe('double');
		expect(inferType('1e3')).toBe('double');
		expect(inferType('6.0.14')).toBe('string');
		expect(inferType('')).toBe('string');
	});

	it('converts values per the description, 64-bit integers as bigint', () => {
		const counter = describeKey('net.if.in[lo]', {kind: 'value', value: '1'});
		expect(toMetricValues(counter, {kind: 'value', value: '18446744073709551615'})).toEqual({status: 'ok', values: [{value: 18_446_744_073_709_551_615n}]});
		const load = describeKey('system.cpu.load[all,avg1]');
		expect(toMetricValues(load, {kind: 'value', value: '0.250000'})).toEqual({status: 'ok', values: [{value: 0.25}]});
		expect(toMetricValues(load, {kind: 'value', value: 'n/a'})).toMatchObject({status: 'error'});
		const custom = describeKey('custom.key', {kind: 'value', value: '7'});
		expect(custom).toMatchObject({type: 'i64', semantics: 'instant'});
		expect(toMetricValues(custom, {kind: 'value', value: '7.5'})).toEqual({status: 'ok', values: [{value: 7.5}]});
		expect(describeKey('custom.text', {kind: 'value', value: 'hello'})).toMatchObject({type: 'string', semantics: 'discrete'});
	});

	it('turns ZBX_NOTSUPPORTED into an error value', () => {
		expect(toMetricValues(describeKey('x'), {kind: 'notsupported', reason: 'Unsupported item key.'})).toEqual({status: 'error', code: zbxNotSupportedCode, message: 'ZBX_NOTSUPPORTED: Unsupported item key.'});
	});
});
