import {describe, expect, test} from 'vitest';
import {
	assertCommand, monError, parseOpstatusLine, parseStatusLine, unescapeMon,
} from '../../../source/protocols/mon/protocol.js';
import {parseOpstatus} from '../../../source/protocols/mon/source.js';
import {MetricTree} from '../../../source/protocols/shared/checks.js';

/** Captured from mon 1.3.6 over stunnel (docs/icinga-livestatus-mon.md#mon-protocol and the test peer). */
const opstatus = [
	'group=local service=closed-port opstatus=0 last_opstatus=0 exitval=1 timer=4 last_success=0 last_trap=0 last_check=1795474890 ack=0 monitor=tcp.monitor\\20-p\\2025898 last_summary=localhost last_detail=\\0alocalhost\\20could\\20not\\20connect:\\20Connection\\20refused\\0a last_failure=1795474889 interval=15 monitor_duration=1 monitor_running=0 last_alert=1795474889 first_failure=1795474843 failure_duration=55',
	'group=local service=load-perf opstatus=1 last_opstatus=1 exitval=0 timer=3 last_success=1795474888 last_check=1795474888 last_summary=LOAD\\20OK\\20-\\20total\\20load\\20average:\\200.32,\\200.46,\\200.25|load1=0.320;8.000;16.000;0;\\20load5=0.460;6.000;12.000;0;\\20load15=0.250;4.000;8.000;0;\\20 last_detail=nagios_rc=0\\0a interval=15 alerts_sent=0',
	'group=local service=ok-perf opstatus=1 last_summary=all\\20fine|answer=42;50;60;0;100\\20\\27wait\\20time\\27=250ms last_detail=details\\20follow\\0a',
	'group=local service=new opstatus=7 last_summary= last_detail= last_check=0',
];

describe('mon replies', () => {
	test('status lines are three digits and a blank; everything else is data', () => {
		expect(parseStatusLine('220 list opstatus completed')).toEqual({code: 220, message: 'list opstatus completed'});
		expect(parseStatusLine('530 login unsuccessful')).toEqual({code: 530, message: 'login unsuccessful'});
		expect(parseStatusLine('220')).toEqual({code: 220, message: ''});
		expect(parseStatusLine('1795474898 Mon Nov 23 23:01:38 2026')).toBeUndefined();
		expect(parseStatusLine('version 9745')).toBeUndefined();
	});

	test('esc_str is undone: \\xx bytes (UTF-8), \\\\, quotes', () => {
		expect(unescapeMon('LOAD\\20OK')).toBe('LOAD OK');
		expect(unescapeMon('\\27wait\\20time\\27')).toBe('\'wait time\'');
		expect(unescapeMon('a\\\\b')).toBe('a\\b');
		expect(unescapeMon('\\c3\\a9t\\c3\\a9')).toBe('été');
		expect(unescapeMon('\\zz')).toBe('\\zz');
	});

	test('an opstatus line is key=value pairs', () => {
		expect(parseOpstatusLine(opstatus[0]!)).toMatchObject({
			group: 'local', service: 'closed-port', opstatus: '0', monitor: 'tcp.monitor -p 25898', last_detail: '\nlocalhost could not connect: Connection refused\n',
		});
	});

	test('an opstatus key is the peer\'s text: "__proto__" and "constructor" are keys like any other', () => {
		const fields = parseOpstatusLine('__proto__=x constructor=y group=g');
		expect(Object.entries(fields)).toEqual([['__proto__', 'x'], ['constructor', 'y'], ['group', 'g']]);
		expect(parseOpstatusLine('group=g').constructor).toBeUndefined();
	});

	test('captured opstatus → services with state, status words, summaries and perfdata', () => {
		const tree = new MetricTree(parseOpstatus(opstatus));
		expect(tree.values('service:local!closed-port.status')).toEqual({status: 'ok', values: [{value: 'FAIL'}]});
		expect(tree.values('service:local!closed-port.state')).toEqual({status: 'ok', values: [{value: 0}]});
		expect(tree.values('service:local!closed-port.detail')).toEqual({status: 'ok', values: [{value: 'localhost could not connect: Connection refused'}]});
		expect(tree.values('service:local!closed-port.failure_duration')).toEqual({status: 'ok', values: [{value: 55}]});
		expect(tree.values('service:local!closed-port.last_success')).toEqual({status: 'novalues'});
		expect(tree.values('service:local!load-perf.output')).toEqual({status: 'ok', values: [{value: 'LOAD OK - total load average: 0.32, 0.46, 0.25'}]});
		expect(tree.values('service:local!load-perf.load15')).toEqual({status: 'ok', values: [{value: 0.25}]});
		expect(tree.values('service:local!ok-perf.wait time')).toEqual({status: 'ok', values: [{value: 0.25}]});
		expect(tree.desc('service:local!ok-perf.wait time')).toMatchObject({unitsText: 'sec'});
		expect(tree.values('service:local!new.status')).toEqual({status: 'ok', values: [{value: 'UNTESTED'}]});
		expect(tree.values('service:local!new.output')).toEqual({status: 'novalues'});
		expect(tree.values('status:mon.services')).toEqual({status: 'ok', values: [{value: 4}]});
		expect(tree.values('status:mon.failures')).toEqual({status: 'ok', values: [{value: 1}]});
		expect(tree.desc('service:local!ok-perf.state')?.oneline).toContain('0 FAIL, 1 OK');
	});

	test('520 and 530 say what to do; commands are one line', () => {
		expect(monError('disable service local load', {code: 520, message: 'command could not be executed, unknown command'}, 'h:1').hint).toMatch(/auth\.cf/);
		expect(monError('list opstatus local,nosuch', {code: 520, message: 'local,nosuch does not exist'}, 'h:1').message).toBe('mon at h:1: local,nosuch does not exist');
		const login = monError('login', {code: 530, message: 'login unsuccessful'}, 'h:1');
		expect(login.message).toBe('mon at h:1 refused the login: 530 login unsuccessful');
		expect(login.message).not.toContain('secret');
		expect(() => {
			assertCommand('list opstatus\nquit');
		}).toThrow(/one line/);
		expect(() => {
			assertCommand('');
		}).toThrow(/one line/);
	});
});
