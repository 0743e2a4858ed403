/**
 * Seed inputs for the fuzz targets: real captures and the fixtures of the tests under
 * test/protocols/ (each block names its test), so every mutation starts from bytes a real
 * collector sent.
 */
import {captured, pduBytes} from '../test/protocols/pcp/fixtures/captures.js';
import {encodeFrame} from '../source/protocols/zabbix/frame.js';
import {formatFixed16} from '../source/protocols/livestatus/protocol.js';

const hex = (text: string): Buffer => Buffer.from(text.replaceAll(/\s+/g, ''), 'hex');

/** Every PDU of the pmcd 6.0.3 / pminfo / pmval captures (test/protocols/pcp/fixtures/captures.json). */
export const pcpPdus: Buffer[] = captured.map(pdu => pduBytes(pdu));

/** Each capture's PDUs in one direction, back to back, as the byte stream the reader got. */
export const pcpStreams: Buffer[] = (() => {
	const streams = new Map<string, Buffer[]>();
	for (const pdu of captured) {
		const key = `${pdu.capture} ${pdu.dir}`;
		streams.set(key, [...streams.get(key) ?? [], pduBytes(pdu)]);
	}

	return [...streams.values()].map(list => Buffer.concat(list));
})();

/** zabbix_agentd 6.0.14 exchanges (test/protocols/zabbix/frame.test.ts, docs/zabbix.md#requests-and-responses). */
const zabbixCaptured = [
	hex('5a 42 58 44 01 0a 00 00 00 00 00 00 00 61 67 65 6e 74 2e 70 69 6e 67'),
	hex('5a 42 58 44 01 01 00 00 00 00 00 00 00 31'),
	hex('5a 42 58 44 03 15 00 00 00 0d 00 00 00 78 9c 4b 4c 4f cd 2b d1 2b 4b 2d 2a ce cc cf 03 00 24 1a 05 44'),
	hex('5a 42 58 44 01 06 00 00 00 00 00 00 00 36 2e 30 2e 31 34'),
	hex(`5a 42 58 44 01 26 00 00 00 00 00 00 00 5a 42 58 5f 4e 4f 54 53 55 50 50 4f 52 54 45 44 00
		55 6e 73 75 70 70 6f 72 74 65 64 20 69 74 65 6d 20 6b 65 79 2e`),
	// zabbix_agent2 puts the data length in reserved (docs/zabbix.md#frame).
	hex('5a42584401 01000000 01000000 31'),
];

/** The captured frames, and the same values in the compressed and large (0x04) forms. */
export const zabbixFrames: Buffer[] = [
	...zabbixCaptured,
	encodeFrame(Buffer.from('6.0.14'), {compress: true}),
	encodeFrame(Buffer.from('ZBX_NOTSUPPORTED\0Unsupported item key.'), {large: true}),
	encodeFrame(Buffer.from('1'), {large: true, compress: true}),
	encodeFrame(Buffer.from('0.98\r\n'.repeat(40)), {compress: true}),
];

/** Livestatus answers (test/protocols/livestatus/protocol.test.ts, docs/icinga-livestatus-mon.md#livestatus-protocol). */
const livestatusBodies: Array<[number, string]> = [
	[200, '[["secmon-local","load",0,1,"LOAD OK - total load average: 0.65, 0.47, 0.28","load1=0.650;5.000;10.000;0; load5=0.470;4.000;6.000;0;",1795475130,0.01]]\n'],
	[200, '[["web-01",1,0,"","",-1,0],["secmon-local",0,1,"PING OK","rta=0.5ms;100;200;0",1795475130,0.02]]\n'],
	[200, '[["connections","connections_rate","program_version","num_hosts"],[3,0.1,"r2.13.6-1",2]]\n'],
	[200, '[]\n'],
	[404, 'Table \'nosuch\' does not exist.\n'],
	[452, 'Error: Column \'bogus\' does not exist in table \'hosts\'.\n\nStacktrace:\n 0# __cxa_throw\n'],
];

export const livestatusAnswers: Buffer[] = livestatusBodies.map(([code, body]) => Buffer.from(formatFixed16(code, Buffer.byteLength(body)) + body, 'utf8'));

/** Tokens of Livestatus answers: JSON punctuation, a second header, edge numbers. */
export const livestatusTokens = ['200          34\n', '[', ']', ',', '"', '\\u0000', '\\', 'null', '1e308', '-1', '{}', '\n', '452 ', '   '];

/** `list opstatus` from mon 1.2.0 (test/protocols/mon/protocol.test.ts, docs/icinga-livestatus-mon.md#mon-protocol), with its status line. */
const opstatus = [
	'group=local service=closed-port opstatus=0 last_opstatus=0 exitval=1 timer=4 last_success=0 last_trap=0 last_check=1795474890 ack=0 monitor=tcp.monitor\\20-p\\2025898 last_summary=localhost last_detail=\\0alocalhost\\20could\\20not\\20connect:\\20Connection\\20refused\\0a last_failure=1795474889 interval=15 monitor_duration=1 monitor_running=0 last_alert=1795474889 first_failure=1795474843 failure_duration=55',
	'group=local service=load-perf opstatus=1 last_opstatus=1 exitval=0 timer=3 last_success=1795474888 last_check=1795474888 last_summary=LOAD\\20OK\\20-\\20total\\20load\\20average:\\200.32,\\200.46,\\200.25|load1=0.320;8.000;16.000;0;\\20load5=0.460;6.000;12.000;0;\\20load15=0.250;4.000;8.000;0;\\20 last_detail=nagios_rc=0\\0a interval=15 alerts_sent=0',
	'group=local service=ok-perf opstatus=1 last_summary=all\\20fine|answer=42;50;60;0;100\\20\\27wait\\20time\\27=250ms last_detail=details\\20follow\\0a',
	'group=local service=new opstatus=7 last_summary= last_detail= last_check=0',
];

export const monReplies: Buffer[] = [
	Buffer.from(`${opstatus.join('\n')}\n220 list opstatus completed\n`),
	Buffer.from(`${opstatus[1]!}\r\n220 list opstatus completed\r\n`),
	Buffer.from('520 command could not be executed, unknown command\n'),
	Buffer.from('530 login unsuccessful\n'),
	Buffer.from('1795474898 Mon Nov 23 23:01:38 2026\n220 servertime completed\n'),
];

export const monTokens = ['\n', '\r\n', '220 ', '520 ', '530 ', ' ', '=', '\\', '\\\\', '\\zz', '\\c3\\a9', '\\00', 'opstatus=', 'group=', 'service=', 'last_summary=', '|', 'last_check=-1', 'opstatus=99'];

/** Plugin output and perfdata strings (test/protocols/shared/perfdata.test.ts, checks.test.ts, mon). */
export const perfdataStrings: Buffer[] = [
	'load1=0.650;5.000;10.000;0; load5=0.470;4.000;6.000;0;  \'fan speed\'=1200;;;0; \'it\'\'s\'=1',
	'LOAD OK - total load average: 0.32, 0.46, 0.25|load1=0.320;8.000;16.000;0; load5=0.460;6.000;12.000;0; load15=0.250;4.000;8.000;0;',
	'/=24236785664B;216442024755;243497277849;0;270552530944 users=0;20;50;0 requests=1795474980c',
	'temp=23.650000C;28;29;0;50 humidity=50.300000%;80;90;0;100',
	'rta=0.5ms;100;200;0 t=250us up=2h mem=2KiB disk=1.5GB;;;0;4GB net=8Mb x=3frobs',
	'time=U;@10:20;~:5;; pl=0%;20;60;0;100 \'wait time\'=250ms',
	'all fine|answer=42;50;60;0;100 \'wait time\'=250ms',
	'["temp=23.650000C;28;29;0;50",{"type":"PerfdataValue","label":"api_num_endpoints","value":0,"unit":"","counter":false,"warn":5,"crit":10,"min":0,"max":100}]',
].map(text => Buffer.from(text, 'utf8'));

export const perfdataTokens = ['\'', '\'\'', '=', ';', '@', '~', ':', 'U', '.', ',', 'e', 'e999', '-', '+', ' ', '|', 'Ki', 'GB', 'ms', 'c', '%', '0', '9', '{', '}', '"', '[', ']', 'null', '"label":"x"'];

/** Icinga 2.13 REST answers (test/protocols/shared/checks.test.ts, test/protocols/icinga/bounds.test.ts, docs/icinga-livestatus-mon.md#api-requests). */
const icingaService = JSON.stringify({
	results: [{
		name: 'web-01!temperature', type: 'Service', attrs: {
			name: 'temperature', state: 0, last_check_result: {
				active: true, check_source: 'icinga2-master', command: 'dummy', execution_start: 1_795_474_979.641_283, execution_end: 1_795_474_979.641_283, exit_status: 0, output: 'room temperature 23.650000 C', performance_data: ['temp=23.650000C;28;29;0;50', 'humidity=50.300000%;80;90;0;100', 'requests=1795474980c'], state: 0, type: 'CheckResult',
			},
		},
	}, {name: 'web-01', type: 'Host', attrs: {name: 'web-01', state: 1, last_check_result: null}}],
});
const icingaStatus = JSON.stringify({
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
	],
});
const icingaEvent = JSON.stringify({
	check_result: {output: 'PING OK', performance_data: ['rta=0.5ms;100;200;0'], state: 0}, host: 'web-01', service: 'ping', timestamp: 1_795_474_979.6, type: 'CheckResult',
});

function httpResponse(status: string, body: string, chunked = false): Buffer {
	const head = `HTTP/1.1 ${status}\r\nServer: Icinga/r2.13.6-1\r\nContent-Type: application/json\r\n`;
	if (chunked) {
		const half = Math.floor(body.length / 2);
		const parts = [body.slice(0, half), body.slice(half)].map(part => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
		return Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n${parts.join('')}0\r\n\r\n`);
	}

	return Buffer.from(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export const icingaResponses: Buffer[] = [
	httpResponse('200 OK', icingaService),
	httpResponse('200 OK', icingaStatus, true),
	httpResponse('404 No objects found', '{"error":404,"status":"No objects found."}'),
	httpResponse('401 Unauthorized', '<h1>Unauthorized. Please check your user credentials.</h1>'),
	httpResponse('200 OK', `${icingaEvent}\n${icingaEvent}\n`, true),
];

export const httpTokens = ['\r\n', '\r\n\r\n', 'Content-Length: ', 'Transfer-Encoding: chunked\r\n', 'Connection: close\r\n', '0\r\n\r\n', 'HTTP/1.1 ', '100 Continue\r\n\r\n', ':', ' ', '\n', '{', '}', '"results":', 'null', '[', ']'];
