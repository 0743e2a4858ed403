import {describe, expect, it} from 'vitest';
import {isSafeText, safeText} from '../source/safe-text.js';

describe('safeText: peer text made inert for a terminal', () => {
	it('leaves ordinary text alone, Unicode included', () => {
		for (const text of ['kernel.all.load', '1 minute', 'Ärger über Ölpreise', '日本語', 'a\\x1b stays literal', '']) {
			expect(safeText(text)).toBe(text);
			expect(isSafeText(text)).toBe(true);
		}
	});

	it('escapes the window-title and clear-screen sequences and a dangling OSC', () => {
		expect(safeText('\u001B]0;owned\u0007')).toBe('\\x1b]0;owned\\x07');
		expect(safeText('\u001B[2J\u001B[H')).toBe('\\x1b[2J\\x1b[H');
		expect(safeText('name\u001B]0;')).toBe('name\\x1b]0;');
	});

	it('escapes DEL, every C1 character (U+009B is a one-byte CSI) and NUL', () => {
		expect(safeText('a\u007Fb')).toBe('a\\x7fb');
		expect(safeText('\u009B2J')).toBe('\\x9b2J');
		expect(safeText('\u0085\u009F\u0080')).toBe('\\x85\\x9f\\x80');
		expect(safeText('\u0000')).toBe('\\x00');
	});

	it('escapes bidi overrides, isolates and marks, and line separators', () => {
		expect(safeText('CN=evil\u202Emoc.elgoog')).toBe('CN=evil\\u202emoc.elgoog');
		for (const code of [0x20_2A, 0x20_2B, 0x20_2C, 0x20_2D, 0x20_2E, 0x20_66, 0x20_67, 0x20_68, 0x20_69, 0x20_0E, 0x20_0F, 0x06_1C, 0x20_28, 0x20_29]) {
			const char = String.fromCodePoint(code);
			expect(safeText(char)).toBe(`\\u${code.toString(16).padStart(4, '0')}`);
			expect(isSafeText(char)).toBe(false);
		}
	});

	it('escapes line breaks and tabs in one-line text, keeps them in multi-line text', () => {
		expect(safeText('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
		expect(safeText('a\nb\tc\rd', {multiline: true})).toBe('a\nb\tc\\rd');
		expect(safeText('help\n\u001B[31mred', {multiline: true})).toBe('help\n\\x1b[31mred');
	});

	it('never lets a raw control byte through, for every code point below U+00A0', () => {
		for (let code = 0; code < 0xA0; code++) {
			const out = safeText(`x${String.fromCodePoint(code)}y`);
			expect(out).not.toMatch(/[\u0000-\u001F\u007F-\u009F]/v);
		}
	});
});
