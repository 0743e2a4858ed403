import {describe, expect, test} from 'vitest';
import {metricNames} from '../../../source/metrics/derived/infer.js';
import {parseDerivedExpression} from '../../../source/metrics/derived/parser.js';

describe('quoted metric names (secmon\'s `...`, for keys PCP names cannot spell)', () => {
	test('a Zabbix key with parameters is one operand; [..] after it is still an instance filter', () => {
		const parsed = parseDerivedExpression('`system.cpu.load[all,avg1]` * 100 + `vfs.fs.size[/,total]`[x] + hinv.ncpu');
		expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
		if (parsed.ok) {
			expect(metricNames(parsed.tree)).toEqual(['system.cpu.load[all,avg1]', 'vfs.fs.size[/,total]', 'hinv.ncpu']);
		}
	});

	test('a backslash escapes the next character', () => {
		const parsed = parseDerivedExpression('`web.page.get[a\\`b,\\\\]`');
		expect(parsed.ok && metricNames(parsed.tree)).toEqual(['web.page.get[a`b,\\]']);
	});

	test('unterminated or empty: a syntax error pointing at it', () => {
		for (const [text, message] of [['`abc', 'unterminated quoted name'], ['`` + 1', 'empty quoted name']] as const) {
			const parsed = parseDerivedExpression(text);
			expect(parsed, text).toMatchObject({ok: false, message});
		}
	});
});
