import {describe, expect, test} from 'vitest';
import {
	buildQuery, formatFixed16, livestatusError, parseFixed16, parseRows, prepareRawQuery,
} from '../../../source/protocols/livestatus/protocol.js';
import {rowObject, statusObject} from '../../../source/protocols/livestatus/source.js';
import {MetricTree} from '../../../source/protocols/shared/checks.js';

describe('fixed16 header', () => {
	test('captured headers (docs/icinga-livestatus-mon.md#livestatus-protocol)', () => {
		expect(parseFixed16('200          34\n')).toEqual({code: 200, length: 34});
		expect(parseFixed16(Buffer.from('404          35\n'))).toEqual({code: 404, length: 35});
		expect(parseFixed16('452        2001\n')).toEqual({code: 452, length: 2001});
	});

	test('formatFixed16 writes what parseFixed16 reads, 16 bytes exactly', () => {
		for (const [code, length] of [[200, 0], [200, 72], [452, 1991], [200, 99_999_999_999]] as const) {
			const header = formatFixed16(code, length);
			expect(header).toHaveLength(16);
			expect(parseFixed16(header)).toEqual({code, length});
		}
	});

	test('anything else is a protocol error that names the bytes', () => {
		expect(() => parseFixed16('HTTP/1.1 400 Bad')).toThrow(/does not start with a Livestatus fixed16 header \(got "HTTP\/1.1 400 Bad"\)/);
		expect(() => parseFixed16('200 34\n')).toThrow(/fixed16/);
		expect(() => parseFixed16('20x          34\n')).toThrow(/fixed16/);
	});
});

describe('queries', () => {
	test('ResponseHeader, KeepAlive and OutputFormat come right after GET (Icinga quirk a)', () => {
		expect(buildQuery({
			table: 'services', columns: ['host_name', 'state'], filters: ['host_name = a', 'host_name = b'], or: true, keepAlive: true,
		})).toBe('GET services\nResponseHeader: fixed16\nKeepAlive: on\nOutputFormat: json\nColumns: host_name state\nFilter: host_name = a\nFilter: host_name = b\nOr: 2\n\n');
		expect(buildQuery({table: 'status'})).toBe('GET status\nResponseHeader: fixed16\nOutputFormat: json\n\n');
	});

	test('line breaks cannot smuggle headers in; odd tables and columns are refused', () => {
		expect(() => buildQuery({table: 'hosts', filters: ['name = a\nAuthUser: x']})).toThrow(/line break/);
		expect(() => buildQuery({table: 'hosts; x'})).toThrow(/invalid Livestatus table/);
		expect(() => buildQuery({table: 'hosts', columns: ['name state']})).toThrow(/invalid Livestatus column/);
	});

	test('raw queries: \\n escapes on one line, fixed16 first, json by default, no commands', () => {
		expect(prepareRawQuery('GET hosts\\nColumns: name state')).toBe('GET hosts\nResponseHeader: fixed16\nOutputFormat: json\nColumns: name state\n\n');
		expect(prepareRawQuery('GET hosts\nOutputFormat: csv\nResponseHeader: off\nKeepAlive: on\n\n')).toBe('GET hosts\nResponseHeader: fixed16\nOutputFormat: csv\n\n');
		expect(() => prepareRawQuery('COMMAND [1] DISABLE_NOTIFICATIONS')).toThrow(/does not send Livestatus commands/);
		expect(() => prepareRawQuery('GET hosts\n\nGET services')).toThrow(/empty line/);
		expect(() => prepareRawQuery('hosts')).toThrow(/starts with "GET TABLE"/);
	});
});

describe('answers', () => {
	test('error codes keep the first body line and say what to do', () => {
		const error = livestatusError(452, 'Error: Column \'bogus\' does not exist in table \'hosts\'.\n\nStacktrace:\n 0# __cxa_throw', 'h:1');
		expect(error.message).toBe('Livestatus at h:1 answered 452 (invalid request): Error: Column \'bogus\' does not exist in table \'hosts\'.');
		expect(error.hint).toMatch(/column names/);
		expect(livestatusError(404, 'Table \'nosuch\' does not exist.', 'h:1').message).toBe('Livestatus at h:1 answered 404 (table not found): Table \'nosuch\' does not exist.');
		expect(livestatusError(499, '', 'h:1').message).toBe('Livestatus at h:1 answered 499');
	});

	test('rows must be a JSON list of lists', () => {
		expect(parseRows('[["web-01",1]]', 'h:1')).toEqual([['web-01', 1]]);
		expect(() => parseRows('web-01;1', 'h:1')).toThrow(/not JSON/);
		expect(() => parseRows('{"a":1}', 'h:1')).toThrow(/not a list of rows/);
	});

	test('captured service and host rows (docs/icinga-livestatus-mon.md#livestatus-metrics) become check objects', () => {
		const service = rowObject('service', ['secmon-local', 'load', 0, 1, 'LOAD OK - total load average: 0.65, 0.47, 0.28', 'load1=0.650;5.000;10.000;0; load5=0.470;4.000;6.000;0;', 1_795_475_130, 0.01]);
		const host = rowObject('host', ['web-01', 1, 0, '', '', -1, 0]);
		const tree = new MetricTree([service!, host!]);
		expect(tree.values('service:secmon-local!load.load5')).toEqual({status: 'ok', values: [{value: 0.47}]});
		expect(tree.values('service:secmon-local!load.execution_time')).toEqual({status: 'ok', values: [{value: 0.01}]});
		// has_been_checked = 0: no state, no last_check (Icinga reports -1).
		expect(tree.values('host:web-01.state')).toEqual({status: 'novalues'});
		expect(tree.values('host:web-01.last_check')).toEqual({status: 'novalues'});
		expect(tree.desc('host:web-01.state')?.oneline).toContain('2 UNREACHABLE');
		expect(rowObject('service', ['only-host'])).toBeUndefined();
	});

	test('GET status: numbers become leaves, counters are those with a _rate twin', () => {
		const status = statusObject([['connections', 'connections_rate', 'program_version', 'num_hosts'], [3, 0.1, 'r2.13.6-1', 2]]);
		const tree = new MetricTree([status!]);
		expect(tree.resolve(['status:core']).names).toEqual(['status:core.connections', 'status:core.connections_rate', 'status:core.num_hosts']);
		expect(tree.desc('status:core.connections')?.semantics).toBe('counter');
		expect(tree.desc('status:core.num_hosts')?.semantics).toBe('instant');
		expect(statusObject([])).toBeUndefined();
	});
});
