import {describe, expect, test} from 'vitest';
import {
	checkLeaves, MetricTree, objectsOf, sampleOf, wantedFor, type CheckObject,
} from '../../../source/protocols/shared/checks.js';
import {parsePerfdata} from '../../../source/protocols/shared/perfdata.js';
import {checkObject, splitServiceName, statusObjects} from '../../../source/protocols/icinga/source.js';

/** The captured web-01!temperature result of docs/icinga-livestatus-mon.md#check-results. */
const temperature = {
	active: true,
	check_source: 'icinga2-master',
	command: 'dummy',
	execution_start: 1_795_474_979.641_283,
	execution_end: 1_795_474_979.641_283,
	exit_status: 0,
	output: 'room temperature 23.650000 C',
	performance_data: ['temp=23.650000C;28;29;0;50', 'humidity=50.300000%;80;90;0;100', 'requests=1795474980c'],
	state: 0,
	type: 'CheckResult',
};

function service(host: string, name: string, perf: string): CheckObject {
	return {
		kind: 'service',
		parts: [host, name],
		leaves: checkLeaves({
			state: 0, stateNames: ['OK'], output: 'ok', perfdata: parsePerfdata(perf).values, what: `service ${host}!${name}`,
		}),
	};
}

describe('check results as metrics', () => {
	test('a captured Icinga service result becomes state, status, output, timing and perfdata leaves', () => {
		const object = checkObject('service', 'web-01!temperature', 0, temperature);
		expect(object.parts).toEqual(['web-01', 'temperature']);
		const tree = new MetricTree([object]);
		expect(tree.resolve(['service:web-01!temperature']).names).toEqual([
			'service:web-01!temperature.state',
			'service:web-01!temperature.status',
			'service:web-01!temperature.output',
			'service:web-01!temperature.last_check',
			'service:web-01!temperature.execution_time',
			'service:web-01!temperature.temp',
			'service:web-01!temperature.humidity',
			'service:web-01!temperature.requests',
		]);
		expect(tree.values('service:web-01!temperature.status')).toEqual({status: 'ok', values: [{value: 'OK'}]});
		expect(tree.values('service:web-01!temperature.temp')).toEqual({status: 'ok', values: [{value: 23.65}]});
		expect(tree.desc('service:web-01!temperature.requests')).toMatchObject({semantics: 'counter', unitsText: 'count', type: 'double'});
		expect(tree.desc('service:web-01!temperature.humidity')).toMatchObject({unitsText: '%', oneline: 'performance data "humidity" of service web-01!temperature (warn 80, crit 90, min 0, max 100)'});
		expect(tree.desc('service:web-01!temperature.state')?.oneline).toBe('check state of service web-01!temperature: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN');
	});

	test('perfdata warn;crit become the descriptor\'s thresholds; the browser gets kind › object › leaf', () => {
		const tree = new MetricTree([checkObject('service', 'web-01!temperature', 0, temperature), checkObject('host', 'web1.example.com', 0, null)]);
		expect(tree.desc('service:web-01!temperature.temp')?.thresholds).toEqual({
			warn: {
				start: 0, end: 28, inside: false, text: '28',
			},
			crit: {
				start: 0, end: 29, inside: false, text: '29',
			},
		});
		expect(tree.desc('service:web-01!temperature.requests')?.thresholds).toBeUndefined();
		const names = tree.browse();
		expect(names).toContainEqual({name: 'service:web-01!temperature.temp', path: ['service', 'web-01', 'temperature', 'temp']});
		// Host names with dots stay one node.
		expect(names).toContainEqual({name: 'host:web1.example.com.state', path: ['host', 'web1.example.com', 'state']});
		expect(names).toHaveLength(tree.entries.length);
	});

	test('before the first check (last_check_result null) there are no values, only descriptors', () => {
		const tree = new MetricTree([checkObject('host', 'web-01', 0, null)]);
		expect(tree.values('host:web-01.state')).toEqual({status: 'novalues'});
		expect(tree.values('host:web-01.status')).toEqual({status: 'novalues'});
		expect(tree.desc('host:web-01.state')?.oneline).toContain('0 UP, 1 DOWN');
	});

	test('perfdata labels that clash with fixed leaves or repeat are renamed, not dropped', () => {
		const object = service('h', 's', 'state=1 output=2 x=3 x=4');
		expect(object.leaves.map(leaf => leaf.leaf)).toEqual(['state', 'status', 'output', 'perf.state', 'perf.output', 'x', 'x#2']);
	});

	test('names expand along the structure only, never by string prefix (host names hold dots)', () => {
		const tree = new MetricTree([
			service('web1', 'load', 'load1=1'),
			service('web1.example.com', 'load', 'load1=2'),
			{
				kind: 'host', parts: ['web1.example.com'], leaves: checkLeaves({
					state: 0, stateNames: ['UP'], output: 'up', perfdata: [], what: 'host',
				}),
			},
		]);
		expect(tree.resolve(['service:web1']).names).toEqual([
			'service:web1!load.state', 'service:web1!load.status', 'service:web1!load.output', 'service:web1!load.load1',
		]);
		expect(tree.resolve(['host:web1.example.com.state']).names).toEqual(['host:web1.example.com.state']);
		expect(tree.resolve(['host:web1']).errors).toEqual([{name: 'host:web1', message: 'Unknown metric name'}]);
		expect(tree.resolve(['service:web1!lo']).errors).toHaveLength(1);
		expect(tree.resolve(['service']).names).toHaveLength(8);
		expect(tree.resolve([]).names).toHaveLength(11);
		// Duplicates collapse, order follows the first mention.
		expect(tree.resolve(['service:web1!load.load1', 'service:web1']).names[0]).toBe('service:web1!load.load1');
		expect(tree.resolve(['service:web1!load.load1', 'service:web1']).names).toHaveLength(4);
	});

	test('samples carry the selected names; objectsOf finds their objects', () => {
		const a = service('h', 'a', 'x=1');
		const b = service('h', 'b', 'y=2');
		const tree = new MetricTree([a, b]);
		expect(objectsOf(tree, ['service:h!b.y'])).toEqual([b]);
		const sample = sampleOf(new MetricTree([a]), ['service:h!a.x', 'service:h!b.y'], 'h:1', new Date(0));
		expect(sample.metrics).toEqual([
			{name: 'service:h!a.x', result: {status: 'ok', values: [{value: 1}]}},
			{name: 'service:h!b.y', result: {status: 'novalues'}},
		]);
	});

	test('wantedFor narrows the queries', () => {
		expect(wantedFor([])).toEqual({hosts: 'all', services: 'all', status: true});
		expect(wantedFor(['service:web-01!temperature.temp'])).toEqual({hosts: 'none', services: new Set(['web-01']), status: false});
		expect(wantedFor(['host:a.b.state'])).toEqual({hosts: new Set(['a', 'a.b', 'a.b.state']), services: 'none', status: false});
		expect(wantedFor(['host', 'status:CIB'])).toEqual({hosts: 'all', services: 'none', status: true});
		expect(wantedFor(['service:x', 'service'])).toEqual({hosts: 'none', services: 'all', status: false});
	});
});

describe('Icinga /v1/status', () => {
	test('component perfdata objects and CIB numbers become status: leaves', () => {
		const objects = statusObjects({
			results: [
				{
					name: 'CIB', perfdata: [], status: {
						num_services_ok: 6, num_hosts_down: 1, uptime: 15.9, note: 'x',
					},
				},
				{
					name: 'ApiListener', perfdata: [{
						type: 'PerfdataValue', label: 'api_num_endpoints', value: 0, unit: '', counter: false,
					}], status: {api: {}},
				},
				{name: 'FileLogger', perfdata: [], status: {filelogger: {}}},
			],
		});
		const tree = new MetricTree(objects);
		expect(tree.resolve(['status']).names).toEqual([
			'status:ApiListener.api_num_endpoints',
			'status:CIB.num_services_ok',
			'status:CIB.num_hosts_down',
			'status:CIB.uptime',
		]);
		expect(tree.values('status:CIB.num_services_ok')).toEqual({status: 'ok', values: [{value: 6}]});
	});

	test('service names split at the first "!"', () => {
		expect(splitServiceName('web-01!temperature')).toEqual(['web-01', 'temperature']);
		expect(splitServiceName('h!a!b')).toEqual(['h', 'a!b']);
	});
});
