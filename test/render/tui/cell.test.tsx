import {render} from 'ink-testing-library';
import {Box} from 'ink';
import stringWidth from 'string-width';
import {describe, expect, test} from 'vitest';
import {
	Cell, CellLine, fillPlaceholder, fit, fitSegments, isNarrow, overlay,
} from '../../../source/render/tui/cell.js';

describe('Cell', () => {
	test('fit pads or cuts to the width', () => {
		expect(fit('abc', 5)).toBe('abc  ');
		expect(fit('abc', 5, 'right')).toBe('  abc');
		expect(fit('abcdef', 4)).toBe('abc…');
		expect(fit('abc', 0)).toBe('');
	});

	test('the placeholder is replaced inside its colour codes', () => {
		expect(fillPlaceholder('\u001B[32m    \u001B[39m', '▁▂▃▄')).toBe('\u001B[32m▁▂▃▄\u001B[39m');
		expect(fillPlaceholder('  ', 'abcd')).toBe('ab');
		expect(fillPlaceholder('xyz', 'ab')).toBe('xyz');
	});

	test('the overlay puts the text in the placeholder\'s visible characters and keeps every style code', () => {
		const line = '\u001B[2mab  \u001B[22m\u001B[1m\u001B[33m   \u001B[39m\u001B[22m';
		expect(overlay(line, 'vda  1.2')).toBe('\u001B[2mvda \u001B[22m\u001B[1m\u001B[33m 1.\u001B[39m\u001B[22m');
		expect(overlay('     ', 'ab')).toBe('ab   ');
		expect(overlay('  ', 'abcd')).toBe('ab');
		expect(overlay('', 'abcd')).toBe('');
	});

	test('draws the text, not the placeholder, at the given width', () => {
		const cells = (
			<Box>
				<Cell text='1.23 MiB' width={10} align='right'/>
				<Cell text='▁▅█' width={3} color='green'/>
			</Box>
		);
		const {lastFrame} = render(cells);
		expect(lastFrame()).toBe('  1.23 MiB▁▅█');
	});

	test('a line of segments is cut with … at the width', () => {
		const segments = [{text: 'secmon'}, {text: ' every 1 s'}, {text: ' · 12:00:00', dim: true}];
		expect(fitSegments(segments, 12).map(s => s.text)).toEqual(['secmon', ' ever…']);
		expect(render(<CellLine segments={segments} width={20}/>).lastFrame()).toBe('secmon every 1 s · …');
		expect(render(<CellLine segments={[{text: 'vda  '}, {text: '   2.00/s', bold: true}, {text: ' '}, {text: '▁▅█', color: 'green'}]} width={40}/>).lastFrame()).toBe('vda     2.00/s ▁▅█');
	});

	test('fit counts display columns: wide characters take two, combining marks none', () => {
		expect(fit('中文', 5)).toBe('中文 ');
		expect(fit('中文', 4, 'right')).toBe('中文');
		// The third character would straddle the edge before "…": a space instead.
		expect(fit('中文字符', 6)).toBe('中文 …');
		expect(fit('中文字符', 5)).toBe('中文…');
		expect(fit('🔥🔥🔥', 4)).toBe('🔥 …');
		expect(stringWidth(fit('🔥🔥🔥', 4))).toBe(4);
		// E + COMBINING ACUTE ACCENT is one column.
		expect(fit('cafe\u0301', 5)).toBe('cafe\u0301 ');
		expect(fit('cafe\u0301s bar', 6)).toBe('cafe\u0301s…');
		expect(fit('a\tb', 4)).toBe('a b ');
		for (const width of [1, 2, 3, 7]) {
			expect(stringWidth(fit('数据🔥库e\u0301x', width))).toBe(width);
		}
	});

	test('every character the fast path takes for one column is one column to string-width and its own grapheme', () => {
		const segmenter = new Intl.Segmenter();
		let narrow = 0;
		for (let code = 0; code <= 0xFF_FF; code++) {
			const char = String.fromCodePoint(code);
			if (!isNarrow(char)) {
				continue;
			}

			narrow++;
			expect(stringWidth(char), `U+${code.toString(16)}`).toBe(1);
			expect([...segmenter.segment(`a${char}a`)].length, `U+${code.toString(16)}`).toBe(3);
		}

		// ASCII, Latin-1, punctuation, arrows, box drawing and blocks: the sparkline's among them.
		expect(narrow).toBeGreaterThan(600);
		expect(isNarrow('▁▂▃▄▅▆▇█ … · │')).toBe(true);
		expect(isNarrow('中')).toBe(false);
		expect(isNarrow('\u00AD')).toBe(false);
		expect(isNarrow('◽')).toBe(false);
	});

	test('fitSegments cuts by display width', () => {
		const cut = fitSegments([{text: '数据库  '}, {text: '🔥🔥'}], 9);
		expect(cut.map(s => s.text)).toEqual(['数据库  ', '…']);
		expect(fitSegments([{text: 'ok\tgo'}], 10).map(s => s.text)).toEqual(['ok go']);
	});

	test('the overlay gives each grapheme as many placeholder cells as its width and keeps every style code', () => {
		const line = '\u001B[2m    \u001B[22m\u001B[1m   \u001B[22m';
		// 数 takes the first two cells, 据 the next two; 🔥 the first two of the bold run, "x" the last.
		expect(overlay(line, '数据🔥x')).toBe('\u001B[2m数据\u001B[22m\u001B[1m🔥x\u001B[22m');
		// A wide grapheme with one cell left becomes a space; the text past it is dropped.
		expect(overlay('   ', 'a中文')).toBe('a中');
		expect(overlay('  ', 'a中')).toBe('a ');
		expect(overlay('     ', 'e\u0301\u200Bb')).toBe('e\u0301b   ');
		expect(overlay('   ', 'a\tb')).toBe('a b');
		for (const text of ['数据库服务器', '🔥🔥🔥', 'ab中', '中ab', 'e\u0301e\u0301e\u0301e\u0301']) {
			expect(stringWidth(overlay('     ', text))).toBe(5);
		}
	});

	test('a line of wide segments is exactly as wide as asked', () => {
		const segments = [{text: '数据库服务器实例  '}, {text: '🔥 hot', bold: true}, {text: ' '}, {text: '▁▅█', color: 'green'}];
		for (const width of [5, 9, 10, 17, 24, 40]) {
			const frame = render(<CellLine segments={segments} width={width}/>).lastFrame() ?? '';
			expect(stringWidth(frame), `${width}: ${frame}`).toBeLessThanOrEqual(width);
		}

		expect(render(<CellLine segments={segments} width={40}/>).lastFrame()).toBe('数据库服务器实例  🔥 hot ▁▅█');
		expect(render(<Box><Cell text='中文字符' width={5}/><Cell text='x' width={1}/></Box>).lastFrame()).toBe('中文…x');
	});
});
