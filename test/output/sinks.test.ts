/**
 * The output seam: the one error reporter, and each stream format's sink writing samples,
 * errors and notices where its format says.
 */
import {Writable} from 'node:stream';
import {describe, expect, test} from 'vitest';
import {SecmonError} from '../../source/errors.js';
import {openSink} from '../../source/output/format.js';
import {reportError} from '../../source/output/report.js';
import type {Show} from '../../source/plan.js';
import {
	freeDesc, loadDesc, readDesc, sampleAt, tlsFacts,
} from '../render/tui/fixtures.js';

function capture() {
	const out = {stdout: '', stderr: ''};
	const stream = (key: 'stdout' | 'stderr') => new Writable({
		write(chunk: Buffer, _encoding, callback) {
			out[key] += chunk.toString();
			callback();
		},
	});
	return {out, io: {stdout: stream('stdout'), stderr: stream('stderr')}};
}

const show: Show = {
	fetch: false, desc: false, pmid: false, pmidLong: false, oneline: false, help: false,
};
const descs = new Map([loadDesc, freeDesc, readDesc].map(d => [d.name, d]));
const origin = {
	target: 'collector:44321', host: 'collector', port: 44_321, tls: tlsFacts,
};
const refused = new SecmonError('TRUST_REQUIRED', 'collector:44321 is not trusted', 'Run it with --accept-new');

describe('reportError', () => {
	test('text: the message and hint on stderr, nothing on stdout, the exit code returned', () => {
		const {out, io} = capture();
		expect(reportError(io, refused, {json: false, at: origin})).toBe(3);
		expect(out).toEqual({stdout: '', stderr: 'secmon: collector:44321 is not trusted\nRun it with --accept-new\n'});
	});

	test('json: one error line on stdout too, with the collector after the documented keys', () => {
		const {out, io} = capture();
		expect(reportError(io, new Error('boom'), {json: true, at: origin})).toBe(1);
		expect(out.stdout).toBe('{"type":"error","code":"INTERNAL","message":"boom","exitCode":1,"host":"collector","port":44321}\n');
		expect(out.stderr).toBe('secmon: boom\n');
		const bare = capture();
		reportError(bare.io, refused, {json: true});
		expect(JSON.parse(bare.out.stdout)).toEqual({
			type: 'error', code: 'TRUST_REQUIRED', message: 'collector:44321 is not trusted', hint: 'Run it with --accept-new', exitCode: 3,
		});
	});
});

describe('sinks', () => {
	const first = sampleAt(0, {load: [0.5, 12.25, 0.3], free: 22_020_096, reads: {vda: 1000, nvme0n1: 0}});
	const second = sampleAt(2, {load: [0.5, 12.25, 0.3], free: 22_020_096, reads: {vda: 1200, nvme0n1: 10}});

	test('text: a block per sample, rates from the collector\'s previous sample', async () => {
		const {out, io} = capture();
		const sink = await openSink('text', io, {show, raw: false});
		const write = sink.collector(origin);
		write(first, descs);
		expect(out.stdout).toContain('  disk.dev.read: (rate after the next sample)\n');
		out.stdout = '';
		write(second, descs);
		expect(out.stdout).toContain('  disk.dev.read\n    vda       100/s\n    nvme0n1     5/s\n');
		// Another collector starts without a previous sample.
		out.stdout = '';
		sink.collector({...origin, target: 'other:44321'})(second, descs);
		expect(out.stdout).toContain('  disk.dev.read: (rate after the next sample)\n');
	});

	test('tui writes as text where a stream is needed', async () => {
		const {io} = capture();
		expect((await openSink('tui', io, {show, raw: false})).format).toBe('text');
	});

	test('json: one line per metric naming the collector; errors as JSON too', async () => {
		const {out, io} = capture();
		const sink = await openSink('json', io, {show, raw: false});
		sink.heading('collector:44321');
		sink.collector(origin)(first, descs);
		const lines = out.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
		expect(lines.map(line => line['metric'])).toEqual(first.metrics.map(metric => metric.name));
		expect(lines[0]).toMatchObject({
			type: 'sample', host: 'collector', port: 44_321, tls: {version: 'TLSv1.3'},
		});
		out.stdout = '';
		expect(sink.error(refused, origin)).toBe(3);
		expect(JSON.parse(out.stdout)).toMatchObject({code: 'TRUST_REQUIRED', host: 'collector', port: 44_321});
	});

	test('json while sampling: counters carry the raw value and pmval\'s rate (null first), other metrics no rate', async () => {
		const {out, io} = capture();
		const sink = await openSink('json', io, {show, raw: false, job: 'live'});
		const write = sink.collector(origin);
		const cpu = {
			...readDesc, name: 'kernel.all.cpu.user', indom: 0xff_ff_ff_ff, units: {
				...readDesc.units, dimCount: 0, dimTime: 1, scaleTime: 2,
			}, unitsText: 'millisec',
		};
		const withCpu = new Map([...descs, [cpu.name, cpu]]);
		const cpuAt = (sample: ReturnType<typeof sampleAt>, ms: number) => ({...sample, metrics: [...sample.metrics, {name: cpu.name, result: {status: 'ok' as const, values: [{value: BigInt(ms)}]}}]});
		const lines = () => out.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
		write(cpuAt(first, 10_000), withCpu);
		expect(lines().map(line => [line['metric'], line['rateUnits'], line['value'] ?? line['instances']])).toEqual([
			['kernel.all.load', undefined, [{id: 1, name: '1 minute', value: 0.5}, {id: 5, name: '5 minute', value: 12.25}, {id: 15, name: '15 minute', value: 0.3}]],
			['mem.util.free', undefined, 22_020_096],
			['disk.dev.read', 'count / sec', [{
				id: 0, name: 'vda', value: 1000, rate: null,
			}, {
				id: 1, name: 'nvme0n1', value: 0, rate: null,
			}]],
			['kernel.all.cpu.user', 'time utilization', 10_000],
		]);
		expect(lines()[3]).toMatchObject({rate: null});
		out.stdout = '';
		// Two seconds later: 200 and 10 reads, 1500 ms of CPU (0.75 s per second).
		write(cpuAt(second, 11_500), withCpu);
		expect(lines()[2]!['instances']).toEqual([{
			id: 0, name: 'vda', value: 1200, rate: 100,
		}, {
			id: 1, name: 'nvme0n1', value: 10, rate: 5,
		}]);
		expect(lines()[3]).toMatchObject({value: 11_500, rate: 0.75, rateUnits: 'time utilization'});
		// A counter that went backwards (a restart) has no rate, not a negative one.
		out.stdout = '';
		write(cpuAt(sampleAt(4, {reads: {vda: 5, nvme0n1: 20}}), 12_000), withCpu);
		expect(lines()[0]!['instances']).toEqual([{
			id: 0, name: 'vda', value: 5, rate: null,
		}, {
			id: 1, name: 'nvme0n1', value: 20, rate: 5,
		}]);
		// One shot (pminfo's job): no rate fields.
		const once = capture();
		(await openSink('json', once.io, {show, raw: false, job: 'pminfo'})).collector(origin)(second, descs);
		expect(once.out.stdout).not.toContain('rate');
	});

	test('pminfo: a heading per collector, values as pminfo -f prints them, notices on stderr', async () => {
		const {out, io} = capture();
		const sink = await openSink('pminfo', io, {show, raw: false});
		sink.heading('collector:44321');
		sink.collector(origin)(first, descs);
		expect(out.stdout).toMatch(/^\n== collector:44321 ==\n\nkernel\.all\.load\n {4}inst \[1 or "1 minute"\] value 0\.5\n/v);
		sink.notice('secmon: warning: \u001B[31mred\u001B[0m');
		expect(out.stderr).toBe('secmon: warning: \\x1b[31mred\\x1b[0m\n');
		expect(sink.error(refused)).toBe(3);
		expect(out.stdout).not.toContain('TRUST_REQUIRED');
	});
});
