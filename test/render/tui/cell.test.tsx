import {render} from 'ink-testing-library';
import {Box} from 'ink';
import {describe, expect, test} from 'vitest';
import {
	Cell, CellLine, fillPlaceholder, fit, fitSegments, overlay,
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
});
