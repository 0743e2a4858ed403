import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import type {MetricDesc, Sample} from '../../../source/metrics/model.js';
import {
	Pane, clip, clipMiddle, paneTitle, rowColumns, selectRows,
} from '../../../source/render/tui/pane.js';
import {
	initialState, panesOf, reduce, zoomOf, type MonitorState, type PaneModel, type RowModel,
} from '../../../source/render/tui/state.js';
import {Zoom} from '../../../source/render/tui/zoom.js';
import {
	freeDesc, loadDesc, readDesc, sampleAt, tlsFacts,
} from './fixtures.js';

const host = 'collector:44321';

/** Panes after two samples, as the app would draw them. */
function panes(options: {raw?: boolean; reads?: Record<string, number>; reads2?: Record<string, number>} = {}): PaneModel[] {
	let state = initialState({
		hosts: [{id: host, secureMode: 'enforce'}], metrics: [], intervalMs: 1000, raw: options.raw ?? false, samples: 0, now: 0,
	});
	state = reduce(state, {
		type: 'connected', host, at: 0, tls: tlsFacts, descs: [loadDesc, freeDesc, readDesc], missing: [],
	});
	state = reduce(state, {
		type: 'sample', host, at: 0, rttMs: 1, sample: sampleAt(0, {load: [1.5, 1, 0.5], free: 1_572_864, reads: options.reads ?? {vda: 0}}),
	});
	state = reduce(state, {
		type: 'sample', host, at: 1000, rttMs: 1, sample: sampleAt(1, {load: [2.25, 1.2, 0.6], free: 1_048_576, reads: options.reads2 ?? {vda: 2_500_000}}),
	});
	return panesOf(state);
}

function draw(pane: PaneModel, extra: Partial<{width: number; height: number; focused: boolean; showHost: boolean; notice: {text: string; color: string}}> = {}): string {
	const {lastFrame} = render(<Pane pane={pane} width={extra.width ?? 44} height={extra.height ?? 8} focused={extra.focused ?? false} showHost={extra.showHost ?? false} {...(extra.notice ? {notice: extra.notice} : {})}/>);
	return lastFrame() ?? '';
}

describe('Pane', () => {
	test('instance rows with names, values and a sparkline', () => {
		const frame = draw(panes()[0]!);
		expect(frame).toContain('kernel.all.load  instant');
		const row = frame.split('\n').find(line => line.includes('1 minute'))!;
		// From zero: 1.5 → 2.25 is two thirds of the way up, not the whole height.
		expect(row).toMatch(/1 minute {2,}2\.25 +▆█ │$/v);
		expect(frame).toContain('15 minute');
	});

	test('bytes are scaled (Kbyte → MiB / GiB)', () => {
		const frame = draw(panes()[1]!);
		expect(frame).toContain('mem.util.free  instant, Kbyte');
		// 1.5 GiB then 1 GiB, on an axis from zero.
		expect(frame).toMatch(/1\.00 GiB +█▆/v);
	});

	test('counters are rates per second, or raw counts with r', () => {
		expect(draw(panes()[2]!)).toMatch(/disk\.dev\.read {2}rate\/s, count[\s\S]*vda +2\.50M\/s/v);
		expect(draw(panes({raw: true})[2]!)).toMatch(/raw counter, count[\s\S]*vda +2\.50M /v);
	});

	test('many instances: the largest values, and the title says so', () => {
		const reads: Record<string, number> = {};
		const reads2: Record<string, number> = {};
		for (let i = 0; i < 12; i++) {
			reads[`sd${String.fromCodePoint(97 + i)}`] = 0;
			reads2[`sd${String.fromCodePoint(97 + i)}`] = i * 10;
		}

		const frame = draw(panes({reads, reads2})[2]!, {height: 6, width: 64});
		expect(frame).toContain('disk.dev.read top 3 of 12 by value  rate/s, count');
		expect(draw(panes({reads, reads2})[2]!, {height: 6, width: 40})).toContain('disk.dev.read top 3/12  count');
		const names = frame.split('\n').slice(2, 5).map(line => /sd\w/v.exec(line)?.[0]);
		expect(names).toEqual(['sdl', 'sdk', 'sdj']);
	});

	test('the collector in the title with several hosts, a notice line when it is away', () => {
		const pane = {...panes()[0]!, hostPhase: 'disconnected' as const};
		const frame = draw(pane, {width: 64, showHost: true, notice: {text: 'disconnected · retry in 4 s · connection refused', color: 'red'}});
		expect(frame).toContain('kernel.all.load @ collector:44321');
		expect(frame).toContain('disconnected · retry in 4 s · connection refused');
		expect(frame).toContain('1 minute');
	});

	test('messages instead of rows: waiting, missing metric, errors', () => {
		const waiting: PaneModel = {
			key: 'k', host, metric: 'a.b', hostPhase: 'connecting', rate: false, axis: {floor: 'zero'}, status: 'waiting', rows: [],
		};
		expect(draw(waiting)).toContain('connecting…');
		expect(draw({...waiting, status: 'missing', message: 'Unknown metric name'})).toContain('not available: Unknown metric name');
		expect(draw({...waiting, status: 'error', message: 'No permission'})).toContain('error: No permission');
	});

	test('the focused pane has a double border', () => {
		expect(draw(panes()[0]!, {focused: true})).toMatch(/^╔/v);
		expect(draw(panes()[0]!)).toMatch(/^╭/v);
	});
});

describe('pane titles', () => {
	const pane = {...panes()[0]!, host: '127.0.0.1:46103'};
	const text = (parts: ReturnType<typeof paneTitle>) => parts.metric + parts.top + parts.host + parts.details;

	test('narrow: the host is shortened first (both ends kept), then dropped, then the mode; metric and units stay', () => {
		const free = {...panes()[1]!, host: '127.0.0.1:46103'};
		expect(text(paneTitle(free, 1, true, 60))).toBe('mem.util.free @ 127.0.0.1:46103  instant, Kbyte');
		expect(text(paneTitle(free, 1, true, 40))).toBe('mem.util.free @ 127.…103  instant, Kbyte');
		expect(text(paneTitle(pane, 3, true, 34))).toBe('kernel.all.load @ 127…103  instant');
		expect(text(paneTitle(free, 1, true, 34))).toBe('mem.util.free  instant, Kbyte');
		expect(text(paneTitle(free, 1, true, 24))).toBe('mem.util.free  Kbyte');
		expect(text(paneTitle(free, 1, true, 12))).toBe('mem.…  Kbyte');
	});

	test('clipMiddle keeps both ends', () => {
		expect(clipMiddle('127.0.0.1:46103', 9)).toBe('127.…6103');
		expect(clipMiddle('short', 9)).toBe('short');
	});
});

describe('utilisation panes', () => {
	const time = {
		dimSpace: 0, dimTime: 1, dimCount: 0, scaleSpace: 0, scaleTime: 2, scaleCount: 0,
	};
	const cpuUser: MetricDesc = {
		name: 'kernel.all.cpu.user', type: 'u64', semantics: 'counter', units: time, unitsText: 'millisec',
	};
	const percpuIdle: MetricDesc = {
		name: 'kernel.percpu.cpu.idle', type: 'u64', semantics: 'counter', units: time, unitsText: 'millisec',
	};
	const utilUser: MetricDesc = {
		name: 'kernel.cpu.util.user', type: 'double', semantics: 'instant', units: {...time, dimTime: 0, scaleTime: 0}, unitsText: 'none',
	};

	function cpuPanes(ncpu: number | undefined, raw = false): PaneModel[] {
		let state = initialState({
			hosts: [{id: host, secureMode: 'enforce'}], metrics: [], intervalMs: 1000, raw, samples: 0, now: 0,
		});
		state = reduce(state, {
			type: 'connected', host, at: 0, tls: tlsFacts, descs: [cpuUser, percpuIdle, utilUser], missing: [],
		});
		const at = (seconds: number, user: number, idle: [number, number], util: number): Sample => ({
			target: host,
			timestamp: new Date(Date.UTC(2026, 10, 24, 12, 0, seconds)),
			metrics: [
				{name: 'kernel.all.cpu.user', result: {status: 'ok', values: [{instance: -1, value: BigInt(user)}]}},
				{name: 'kernel.percpu.cpu.idle', result: {status: 'ok', values: [{instance: 0, name: 'cpu0', value: BigInt(idle[0])}, {instance: 1, name: 'cpu1', value: BigInt(idle[1])}]}},
				{name: 'kernel.cpu.util.user', result: {status: 'ok', values: [{instance: -1, value: util}]}},
			],
		});
		state = reduce(state, {
			type: 'sample', host, at: 0, rttMs: 1, sample: at(0, 10_000, [5000, 5000], 40), ...(ncpu === undefined ? {} : {ncpu}),
		});
		state = reduce(state, {
			type: 'sample', host, at: 1000, rttMs: 1, sample: at(1, 10_900, [5250, 6000], 45), ...(ncpu === undefined ? {} : {ncpu}),
		});
		return panesOf(state);
	}

	test('kernel.all.cpu.* time (ms/s) over hinv.ncpu: % of all CPUs, the unit said', () => {
		const frame = draw(cpuPanes(2)[0]!, {width: 60});
		// 900 ms in 1 s over 2 CPUs.
		expect(frame).toContain('kernel.all.cpu.user  % of 2 CPUs (millisec/s)');
		// On a 0–100 axis (the first sample has no rate: a blank).
		expect(frame).toMatch(/45\.0 % +▄ │/v);
	});

	test('before the CPU count is known: % of one CPU, said so', () => {
		expect(draw(cpuPanes(undefined)[0]!, {width: 60})).toMatch(/% of one CPU \(millisec\/s\)[\s\S]*90\.0 %/v);
	});

	test('kernel.percpu.cpu.*: per CPU, in instance order', () => {
		const frame = draw(cpuPanes(2)[1]!, {width: 60});
		expect(frame).toContain('kernel.percpu.cpu.idle  % of the time (millisec/s)');
		expect(frame).toMatch(/cpu0 +25\.0 %[\s\S]*cpu1 +100\.0 %/v);
	});

	test('derived kernel.cpu.util.* are percentages already; r shows raw counters', () => {
		expect(draw(cpuPanes(2)[2]!, {width: 60})).toMatch(/kernel\.cpu\.util\.user +% of all CPUs[\s\S]*45\.0 %/v);
		expect(draw(cpuPanes(2, true)[0]!, {width: 60})).toMatch(/raw counter, millisec[\s\S]*10\.9 s/v);
	});
});

describe('one unit and one number of decimals per pane', () => {
	const count = {
		dimSpace: 0, dimTime: 0, dimCount: 1, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
	};
	const nodeFree: MetricDesc = {...freeDesc, name: 'mem.numa.util.free'};
	const procs: MetricDesc = {
		name: 'kernel.all.nprocs', type: 'u32', semantics: 'instant', units: count, unitsText: 'count',
	};
	const time = {
		dimSpace: 0, dimTime: 1, dimCount: 0, scaleSpace: 0, scaleTime: 2, scaleCount: 0,
	};
	const cpuUser: MetricDesc = {
		name: 'kernel.all.cpu.user', type: 'u64', semantics: 'counter', units: time, unitsText: 'millisec',
	};

	/** A state after one sample per list of values of `desc` (instances 0, 1, 2…). */
	function sampled(desc: MetricDesc, ...samples: Array<Array<number | bigint>>): MonitorState {
		let state = initialState({
			hosts: [{id: host, secureMode: 'enforce'}], metrics: [], intervalMs: 1000, raw: false, samples: 0, now: 0,
		});
		state = reduce(state, {
			type: 'connected', host, at: 0, tls: tlsFacts, descs: [desc], missing: [],
		});
		for (const [index, values] of samples.entries()) {
			state = reduce(state, {
				type: 'sample',
				host,
				at: index * 1000,
				rttMs: 1,
				ncpu: 2,
				sample: {
					target: host,
					timestamp: new Date(Date.UTC(2026, 10, 24, 12, 0, index)),
					metrics: [{name: desc.name, result: {status: 'ok', values: values.map((value, instance) => ({instance, name: `i${instance}`, value}))}}],
				},
			});
		}

		return state;
	}

	const texts = (state: MonitorState) => panesOf(state)[0]!.rows.map(row => row.text);
	/** Where each value row's decimal point is on the drawn pane. */
	const points = (frame: string) => frame.split('\n').filter(line => /^│ i\d/v.test(line)).map(line => line.indexOf('.'));

	test('a load of exactly 1 beside 1.99 reads 1.00, and the decimal points line up', () => {
		const state = sampled(loadDesc, [1, 1.99, 0.5]);
		expect(texts(state)).toEqual(['1.00', '1.99', '0.50']);
		const frame = draw(panesOf(state)[0]!);
		expect(new Set(points(frame)).size).toBe(1);
		expect(points(frame)).toHaveLength(3);
	});

	test('the decimals follow the largest value of the pane', () => {
		expect(texts(sampled(loadDesc, [12.5, 1, 0.26]))).toEqual(['12.5', '1.0', '0.3']);
		expect(texts(sampled(loadDesc, [250.4, 1, 0.26]))).toEqual(['250', '1', '0']);
		const frame = draw(panesOf(sampled(loadDesc, [12.5, 1, 0.26]))[0]!);
		expect(new Set(points(frame)).size).toBe(1);
	});

	test('one unit for the pane: 21 GiB beside 512 MiB is 0.5 GiB', () => {
		// Kbyte: 22020096 KiB is 21 GiB, 524288 KiB 512 MiB.
		expect(texts(sampled(nodeFree, [22_020_096n, 524_288n]))).toEqual(['21.0 GiB', '0.5 GiB']);
		expect(texts(sampled(nodeFree, [1023n, 512n]))).toEqual(['1023 KiB', '512 KiB']);
		// 1023.996 KiB would round to "1024": the pane goes to MiB.
		expect(texts(sampled({...nodeFree, type: 'double'}, [1023.996, 512]))).toEqual(['1.00 MiB', '0.50 MiB']);
	});

	test('whole numbers in the metric\'s own unit stay whole; a rate is not whole', () => {
		expect(texts(sampled(procs, [2, 12, 140]))).toEqual(['2', '12', '140']);
		// One unit for the column, as pmrep's: small values beside a large one read as about nothing.
		expect(texts(sampled(procs, [2, 120, 14_000]))).toEqual(['0.0k', '0.1k', '14.0k']);
		expect(texts(sampled({...procs, semantics: 'counter'}, [0n, 0n], [3n, 12n]))).toEqual(['3.0/s', '12.0/s']);
	});

	test('percentages always have one decimal', () => {
		const state = sampled({...cpuUser, name: 'kernel.percpu.cpu.user'}, [0n, 0n], [250n, 1000n]);
		expect(texts(state)).toEqual(['25.0 %', '100.0 %']);
	});

	test('zoom: now, min, avg and max in one format; a percentage pane\'s min/avg/max in %', () => {
		const load = zoomOf(sampled(loadDesc, [1, 0.5, 0.25], [2, 0.5, 0.25]), `${host} kernel.all.load`)!;
		expect(load.rows.map(row => [row.text, row.min, row.avg, row.max])).toEqual([
			['2.00', '1.00', '1.50', '2.00'],
			['0.50', '0.50', '0.50', '0.50'],
			['0.25', '0.25', '0.25', '0.25'],
		]);
		const whole = zoomOf(sampled(procs, [2, 10], [3, 10]), `${host} kernel.all.nprocs`)!;
		// The average of 2 and 3 is not whole: the whole table takes the decimals.
		expect(whole.rows.map(row => [row.text, row.min, row.avg, row.max])).toEqual([['3.0', '2.0', '2.5', '3.0'], ['10.0', '10.0', '10.0', '10.0']]);
		// 900 ms/s over 2 CPUs, then 1800 ms/s: 45 % and 90 %.
		const cpu = zoomOf(sampled(cpuUser, [10_000n], [10_900n], [12_700n]), `${host} kernel.all.cpu.user`)!;
		expect(cpu.rows.map(row => [row.text, row.min, row.avg, row.max])).toEqual([['90.0 %', '45.0 %', '67.5 %', '90.0 %']]);
		const {lastFrame} = render(<Zoom pane={cpu.pane} rows={cpu.rows} width={100} height={12} active={false}/>);
		expect(lastFrame()).toContain('kernel.all.cpu.user @ collector:44321  % of 2 CPUs (millisec/s) · min/avg/max over 2 sample(s)');
		expect(lastFrame()).toMatch(/i0 +90\.0 % +45\.0 % +67\.5 % +90\.0 %/v);
	});
});

describe('pane helpers', () => {
	const row = (name: string, value?: number): RowModel => ({
		key: name, name, text: String(value), history: [], ...(value === undefined ? {} : {value}),
	});

	test('selectRows keeps collector order when all fit, ranks by value otherwise', () => {
		const rows = [row('a', 1), row('b'), row('c', 3), row('d', 2)];
		expect(selectRows(rows, 4).map(r => r.name)).toEqual(['a', 'b', 'c', 'd']);
		expect(selectRows(rows, 2).map(r => r.name)).toEqual(['c', 'd']);
	});

	test('clip marks cut text', () => {
		expect(clip('abcdef', 4)).toBe('abc…');
		expect(clip('abc', 4)).toBe('abc');
		expect(clip('abc', 0)).toBe('');
	});

	test('rowColumns leaves room for a sparkline or drops it when narrow', () => {
		expect(rowColumns([row('1 minute', 1)], 36)).toEqual({name: 8, value: 8, spark: 17});
		expect(rowColumns([row('', 1)], 36)).toEqual({name: 0, value: 8, spark: 27});
		expect(rowColumns([row('verylongname', 1)], 14)).toMatchObject({spark: 0});
	});
});
