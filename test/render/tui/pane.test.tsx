import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {
	Pane, clip, rowColumns, selectRows,
} from '../../../source/render/tui/pane.js';
import {
	initialState, panesOf, reduce, type PaneModel, type RowModel,
} from '../../../source/render/tui/state.js';
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
		expect(row).toMatch(/1 minute {2,}2\.25 +▁█ │$/v);
		expect(frame).toContain('15 minute');
	});

	test('bytes are scaled (Kbyte → MiB / GiB)', () => {
		const frame = draw(panes()[1]!);
		expect(frame).toContain('mem.util.free  instant, Kbyte');
		expect(frame).toMatch(/1\.00 GiB +█▁/v);
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

		const frame = draw(panes({reads, reads2})[2]!, {height: 6});
		expect(frame).toContain('top 3 of 12');
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
			key: 'k', host, metric: 'a.b', hostPhase: 'connecting', rate: false, status: 'waiting', rows: [],
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
