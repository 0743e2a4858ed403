import {describe, expect, it} from 'vitest';
import {colorWanted, paint, paintProblem} from '../source/color.js';

const terminal = {isTTY: true};
const pipe = {isTTY: false};

describe('colorWanted', () => {
	it('colours a terminal, never a pipe or file', () => {
		expect(colorWanted(terminal, {})).toBe(true);
		expect(colorWanted(pipe, {})).toBe(false);
		expect(colorWanted({}, {})).toBe(false);
	});

	it('NO_COLOR set and not empty turns colour off; empty or unset does not (no-color.org)', () => {
		expect(colorWanted(terminal, {NO_COLOR: '1'})).toBe(false);
		expect(colorWanted(terminal, {NO_COLOR: '0'})).toBe(false);
		expect(colorWanted(terminal, {NO_COLOR: 'false'})).toBe(false);
		expect(colorWanted(terminal, {NO_COLOR: ''})).toBe(true);
		expect(colorWanted(terminal, {NO_COLOR: undefined})).toBe(true);
		expect(colorWanted(pipe, {NO_COLOR: ''})).toBe(false);
	});

	it('FORCE_COLOR=0 and TERM=dumb also turn it off; FORCE_COLOR does not colour a pipe', () => {
		expect(colorWanted(terminal, {FORCE_COLOR: '0'})).toBe(false);
		expect(colorWanted(terminal, {TERM: 'dumb'})).toBe(false);
		expect(colorWanted(terminal, {FORCE_COLOR: '1', TERM: 'xterm-256color'})).toBe(true);
		expect(colorWanted(pipe, {FORCE_COLOR: '1'})).toBe(false);
	});
});

describe('paint', () => {
	it('wraps in green, yellow or bold red with matching resets, only when colour is on', () => {
		expect(paint('fine', 'ok', true)).toBe('\u001B[32mfine\u001B[39m');
		expect(paint('soon', 'warn', true)).toBe('\u001B[33msoon\u001B[39m');
		expect(paint('bad', 'error', true)).toBe('\u001B[1;31mbad\u001B[22;39m');
		for (const tone of ['ok', 'warn', 'error'] as const) {
			expect(paint('text', tone, false)).toBe('text');
		}
	});

	it('paintProblem leaves ok text uncoloured', () => {
		expect(paintProblem('fine', 'ok', true)).toBe('fine');
		expect(paintProblem('soon', 'warn', true)).toBe(paint('soon', 'warn', true));
		expect(paintProblem('bad', 'error', true)).toBe(paint('bad', 'error', true));
		expect(paintProblem('bad', 'error', false)).toBe('bad');
	});
});
