import {PassThrough} from 'node:stream';
import {describe, expect, test} from 'vitest';
import {answerOf, isCi, lineAsk} from '../../../source/render/tui/line-ask.js';
import {question} from './fixtures.js';

describe('line prompt (CI=true terminals)', () => {
	const {sha256} = question.certificate;

	test('y saves, o accepts once, a matching fingerprint saves, anything else refuses', () => {
		expect(answerOf('y', sha256)).toBe('save');
		expect(answerOf(' YES ', sha256)).toBe('save');
		expect(answerOf('o', sha256)).toBe('once');
		expect(answerOf(sha256.replaceAll(':', '').toLowerCase(), sha256)).toBe('save');
		expect(answerOf('', sha256)).toBe('reject');
		expect(answerOf('n', sha256)).toBe('reject');
		expect(answerOf('AA:BB', sha256)).toBe('reject');
		expect(answerOf('0'.repeat(64), sha256)).toBe('reject');
	});

	test('prints the certificate facts and reads one line', async () => {
		const input = new PassThrough();
		const output = new PassThrough();
		let printed = '';
		output.on('data', (chunk: Buffer) => {
			printed += chunk.toString();
		});
		const answer = lineAsk(input, output)(question);
		input.write('o\n');
		expect(await answer).toBe('once');
		expect(printed).toContain('The authenticity of collector collector:44321 can\'t be established.');
		expect(printed).toContain(`SHA-256:  ${sha256}`);
		expect(printed).toContain('[N] no');
	});

	test('end of input refuses', async () => {
		const input = new PassThrough();
		const answer = lineAsk(input, new PassThrough())(question);
		input.end();
		expect(await answer).toBe('reject');
	});

	test('CI detection matches Ink\'s', () => {
		expect(isCi({CI: 'true'})).toBe(true);
		expect(isCi({CI: '1'})).toBe(true);
		expect(isCi({CI: 'false'})).toBe(false);
		expect(isCi({CI: '0'})).toBe(false);
		expect(isCi({CONTINUOUS_INTEGRATION: 'yes'})).toBe(true);
		expect(isCi({})).toBe(false);
	});
});
