import {describe, expect, test} from 'vitest';
import {
	parsePerfdata, parsePerfItem, perfFromObject, perfMetricUnits, perfUnit, splitPerfdata, splitPluginOutput,
} from '../../../source/protocols/shared/perfdata.js';
import {parseRange} from '../../../source/metrics/thresholds.js';

describe('splitPerfdata', () => {
	test('splits on blanks and keeps quoted labels with spaces and doubled quotes together', () => {
		expect(splitPerfdata('load1=0.650;5.000;10.000;0; load5=0.470;4.000;6.000;0;  \'fan speed\'=1200;;;0; \'it\'\'s\'=1')).toEqual([
			'load1=0.650;5.000;10.000;0;',
			'load5=0.470;4.000;6.000;0;',
			'\'fan speed\'=1200;;;0;',
			'\'it\'\'s\'=1',
		]);
	});

	test('empty and blank strings have no items', () => {
		expect(splitPerfdata('')).toEqual([]);
		expect(splitPerfdata('   ')).toEqual([]);
	});
});

describe('parsePerfItem', () => {
	test('captured plugin strings (docs/icinga-livestatus-mon.md#check-results, docs/icinga-livestatus-mon.md#livestatus-metrics)', () => {
		expect(parsePerfItem('load1=1.070;5.000;10.000;0;')).toEqual({
			label: 'load1',
			value: 1.07,
			unit: '',
			counter: false,
			warn: {
				start: 0, end: 5, inside: false, text: '5.000',
			},
			crit: {
				start: 0, end: 10, inside: false, text: '10.000',
			},
			min: 0,
		});
		expect(parsePerfItem('/=24236785664B;216442024755;243497277849;0;270552530944')).toMatchObject({
			label: '/', value: 24_236_785_664, unit: 'bytes', min: 0, max: 270_552_530_944,
		});
		expect(parsePerfItem('users=0;20;50;0')).toMatchObject({label: 'users', value: 0, min: 0});
		expect(parsePerfItem('requests=1795474980c')).toMatchObject({
			label: 'requests', value: 1_795_474_980, unit: '', counter: true,
		});
		expect(parsePerfItem('temp=23.650000C;28;29;0;50')).toMatchObject({
			label: 'temp', value: 23.65, unit: 'degrees-celsius', max: 50,
		});
		expect(parsePerfItem('humidity=50.300000%;80;90;0;100')).toMatchObject({value: 50.3, unit: 'percent'});
	});

	test('units are normalised to seconds and bytes (SI K = 1000, IEC Ki = 1024)', () => {
		expect(parsePerfItem('rta=0.5ms;100;200;0')).toMatchObject({
			value: 0.0005, unit: 'seconds', warn: {end: 0.1}, crit: {end: 0.2},
		});
		expect(parsePerfItem('t=250us')).toMatchObject({value: 0.000_25, unit: 'seconds'});
		expect(parsePerfItem('up=2h')).toMatchObject({value: 7200, unit: 'seconds'});
		expect(parsePerfItem('mem=2KB')).toMatchObject({value: 2000, unit: 'bytes'});
		expect(parsePerfItem('mem=2KiB')).toMatchObject({value: 2048, unit: 'bytes'});
		expect(parsePerfItem('mem=1.5GB;;;0;4GB')).toMatchObject({value: 1.5e9, unit: 'bytes', min: 0});
		expect(parsePerfItem('net=8Mb')).toMatchObject({value: 8e6, unit: 'bits'});
		expect(parsePerfItem('x=3frobs')).toMatchObject({value: 3, unit: 'frobs'});
	});

	test('quoted labels, U, comma decimals, exponents, signs', () => {
		expect(parsePerfItem('\'fan speed\'=1200;;;0;')).toMatchObject({label: 'fan speed', value: 1200, min: 0});
		expect(parsePerfItem('\'it\'\'s\'=1')).toMatchObject({label: 'it\'s', value: 1});
		expect(parsePerfItem('\'a=b\'=2')).toMatchObject({label: 'a=b', value: 2});
		expect(parsePerfItem('unknown=U;1;2')).toMatchObject({label: 'unknown', value: undefined, warn: {end: 1}});
		expect(parsePerfItem('load=0,75')).toMatchObject({value: 0.75});
		expect(parsePerfItem('big=1e3')).toMatchObject({value: 1000});
		expect(parsePerfItem('neg=-4.5')).toMatchObject({value: -4.5});
		expect(parsePerfItem('half=.5')).toMatchObject({value: 0.5});
	});

	test('unreadable items throw a message naming them', () => {
		expect(() => parsePerfItem('noequals')).toThrow(/no "=" in "noequals"/);
		expect(() => parsePerfItem('=5')).toThrow(/empty label/);
		expect(() => parsePerfItem('x=abc')).toThrow(/value "abc" of "x" is not a number/);
		expect(() => parsePerfItem('\'open=5')).toThrow(/unterminated quote/);
	});
});

describe('parseRange', () => {
	test('the Monitoring Plugins range forms', () => {
		expect(parseRange('10')).toEqual({
			start: 0, end: 10, inside: false, text: '10',
		});
		expect(parseRange('10:')).toEqual({
			start: 10, end: Number.POSITIVE_INFINITY, inside: false, text: '10:',
		});
		expect(parseRange('~:10')).toEqual({
			start: Number.NEGATIVE_INFINITY, end: 10, inside: false, text: '~:10',
		});
		expect(parseRange('10:20')).toEqual({
			start: 10, end: 20, inside: false, text: '10:20',
		});
		expect(parseRange('@10:20')).toEqual({
			start: 10, end: 20, inside: true, text: '@10:20',
		});
		expect(parseRange('')).toBeUndefined();
		expect(parseRange('U')).toBeUndefined();
		expect(parseRange('x:y')).toBeUndefined();
	});
});

describe('parsePerfdata', () => {
	test('a Livestatus perf_data string (docs/icinga-livestatus-mon.md#livestatus-metrics) with a bad item in the middle', () => {
		const {values, errors} = parsePerfdata('load1=0.650;5.000;10.000;0; bogus load5=0.470;4.000;6.000;0; load15=0.280;3.000;4.000;0;');
		expect(values.map(v => [v.label, v.value])).toEqual([['load1', 0.65], ['load5', 0.47], ['load15', 0.28]]);
		expect(errors).toEqual(['no "=" in "bogus"']);
	});

	test('Icinga arrays mix strings and PerfdataValue objects (docs/icinga-livestatus-mon.md#check-results)', () => {
		const {values, errors} = parsePerfdata([
			'temp=23.650000C;28;29;0;50',
			{
				type: 'PerfdataValue', label: 'uptime', value: 16.73, unit: '', warn: null, crit: null, min: null, max: null, counter: false,
			},
			{
				type: 'PerfdataValue', label: 'sent', value: 5, unit: 'bytes', warn: 10, crit: 20, min: 0, max: null, counter: true,
			},
			42,
		]);
		expect(values).toEqual([
			expect.objectContaining({label: 'temp', value: 23.65}),
			{
				label: 'uptime', value: 16.73, unit: '', counter: false,
			},
			{
				label: 'sent', value: 5, unit: 'bytes', counter: true, warn: {
					start: 0, end: 10, inside: false, text: '10',
				}, crit: {
					start: 0, end: 20, inside: false, text: '20',
				}, min: 0,
			},
		]);
		expect(errors).toEqual(['perfdata entry is neither a string nor an object']);
	});

	test('null and undefined are empty', () => {
		expect(parsePerfdata(null)).toEqual({values: [], errors: []});
		expect(parsePerfdata(undefined)).toEqual({values: [], errors: []});
	});

	test('object form with a 2.13 plugin unit is normalised too', () => {
		expect(perfFromObject({label: 'rta', value: 5, unit: 'ms'})).toMatchObject({value: 0.005, unit: 'seconds'});
	});
});

describe('units in the metric model', () => {
	test('seconds, bytes, counters, percent', () => {
		expect(perfMetricUnits({unit: 'seconds', counter: false})).toMatchObject({unitsText: 'sec', semantics: 'instant', units: {dimTime: 1, scaleTime: 3}});
		expect(perfMetricUnits({unit: 'bytes', counter: true})).toMatchObject({unitsText: 'byte', semantics: 'counter', units: {dimSpace: 1}});
		expect(perfMetricUnits({unit: '', counter: true})).toMatchObject({unitsText: 'count', semantics: 'counter', units: {dimCount: 1}});
		expect(perfMetricUnits({unit: '', counter: false})).toMatchObject({unitsText: 'none', semantics: 'instant'});
		expect(perfMetricUnits({unit: 'percent', counter: false})).toMatchObject({unitsText: '%'});
		// A UOM is the peer's text: names of Object's own properties are UOMs like any other.
		expect(perfMetricUnits({unit: 'constructor', counter: false})).toMatchObject({unitsText: 'constructor'});
		expect(perfMetricUnits({unit: 'toString', counter: false})).toMatchObject({unitsText: 'toString'});
		expect(perfUnit('c')).toEqual({factor: 1, unit: ''});
	});
});

describe('splitPluginOutput', () => {
	test('text before the first |, perfdata after', () => {
		expect(splitPluginOutput('LOAD OK - total load average: 0.32, 0.46, 0.25|load1=0.320;8.000;16.000;0; ')).toEqual({
			text: 'LOAD OK - total load average: 0.32, 0.46, 0.25',
			perfdata: 'load1=0.320;8.000;16.000;0;',
		});
		expect(splitPluginOutput('no perfdata')).toEqual({text: 'no perfdata', perfdata: ''});
	});
});
