/**
 * Wide characters (CJK, emoji: two terminal columns) in peer text must stay inside their pane:
 * the rows are cut by display width, as Ink and the terminal count it.
 */
import {render} from 'ink-testing-library';
import {Box} from 'ink';
import stringWidth from 'string-width';
import {describe, expect, test} from 'vitest';
import {Pane} from '../../../source/render/tui/pane.js';
import {
	initialState, panesOf, reduce, type PaneModel,
} from '../../../source/render/tui/state.js';
import {Zoom} from '../../../source/render/tui/zoom.js';
import {
	freeDesc, loadDesc, readDesc, sampleAt, tlsFacts,
} from './fixtures.js';

const host = 'collector:44321';
const cjkName = '数据库服务器实例名称非常长的名字';
const emojiValue = '🔥🔥🔥 hot 🔥';

function panes(): PaneModel[] {
	let state = initialState({
		hosts: [{id: host, secureMode: 'enforce'}], metrics: [], intervalMs: 1000, raw: false, samples: 0, now: 0,
	});
	state = reduce(state, {
		type: 'connected', host, at: 0, tls: tlsFacts, descs: [loadDesc, freeDesc, readDesc], missing: [],
	});
	state = reduce(state, {
		type: 'sample', host, at: 0, rttMs: 1, sample: sampleAt(0, {load: [1.5, 1, 0.5], free: 1_572_864, reads: {vda: 0}}),
	});
	state = reduce(state, {
		type: 'sample', host, at: 1000, rttMs: 1, sample: sampleAt(1, {load: [2.25, 1.2, 0.6], free: 1_048_576, reads: {vda: 2_500_000}}),
	});
	return panesOf(state);
}

/** A pane whose instance names are CJK and whose values hold emoji (as a hostile or just foreign peer may send). */
function widePane(pane: PaneModel): PaneModel {
	return {
		...pane,
		rows: pane.rows.map((row, index) => ({
			...row, name: `${cjkName}${index}`, text: index === 0 ? emojiValue : `${row.text}🔥`,
		})),
	};
}

function borders(line: string, at: number): [string, string] {
	// The characters at display columns `at` and `at + 49` (a pane 50 columns wide).
	let column = 0;
	let left = '';
	let right = '';
	for (const {segment} of new Intl.Segmenter().segment(line)) {
		if (column === at) {
			left = segment;
		}

		if (column === at + 49) {
			right = segment;
		}

		column += stringWidth(segment);
	}

	return [left, right];
}

describe('wide characters', () => {
	test('two panes side by side in 100 columns: every line at most 100 columns, each pane\'s borders in place', () => {
		const [left, right] = panes().map(pane => widePane(pane));
		const screen = (
			<Box flexDirection='row' width={100}>
				<Pane pane={left!} width={50} height={8} focused={false} showHost={false}/>
				<Pane pane={right!} width={50} height={8} focused={false} showHost={false}/>
			</Box>
		);
		const {lastFrame} = render(screen);
		const lines = (lastFrame() ?? '').split('\n');
		expect(lines.length).toBe(8);
		// The CJK names and the emoji are drawn (cut where they do not fit), not dropped.
		expect(lines.join('\n')).toContain('数据库');
		expect(lines.join('\n')).toContain('🔥');
		for (const [index, line] of lines.entries()) {
			expect(stringWidth(line), `line ${index}: ${line}`).toBeLessThanOrEqual(100);
			if (index > 0 && index < lines.length - 1) {
				expect(borders(line, 0), `line ${index}: ${line}`).toEqual(['│', '│']);
				expect(borders(line, 50), `line ${index}: ${line}`).toEqual(['│', '│']);
			}
		}
	});

	test('the zoom keeps wide names and values inside its border', () => {
		const pane = widePane(panes()[0]!);
		const rows = pane.rows.map(row => ({
			...row, min: emojiValue, avg: '中文', max: row.text, samples: 2,
		}));
		const {lastFrame} = render(<Zoom pane={pane} rows={rows} width={60} height={16} active={false}/>);
		const lines = (lastFrame() ?? '').split('\n');
		for (const [index, line] of lines.entries()) {
			expect(stringWidth(line), `line ${index}: ${line}`).toBeLessThanOrEqual(60);
			if (index > 0 && index < lines.length - 1) {
				expect(borders(line, 0)[0], `line ${index}: ${line}`).toBe('║');
			}
		}

		expect(lines.some(line => line.includes('数据库'))).toBe(true);
		const rowLine = lines.find(line => line.includes('数据库'))!;
		expect(stringWidth(rowLine)).toBe(60);
		expect(rowLine.endsWith('║')).toBe(true);
	});
});
