/**
 * A line-based trust prompt for terminals where Ink cannot draw live (CI=true: Ink prints only the
 * last frame at exit, so an Ink prompt would be invisible). Same text and answers as the Ink prompt:
 * y saves, o accepts once, a pasted SHA-256 that matches saves, anything else (default) refuses.
 */
import {createInterface} from 'node:readline';
import process from 'node:process';
import type {Writable} from 'node:stream';
import {colorWanted} from '../../color.js';
import {normalizeFingerprint} from '../../security/certificate.js';
import {promptLines, promptQuestion} from '../../security/messages.js';
import type {Ask, PromptAnswer} from '../../security/types.js';

export {isCi} from '../../terminal.js';

/** The answer a typed line means for a certificate with this SHA-256. */
export function answerOf(line: string, sha256: string): PromptAnswer {
	const text = line.trim();
	if (/^y(?:es)?$/iv.test(text)) {
		return 'save';
	}

	if (/^o(?:nce)?$/iv.test(text)) {
		return 'once';
	}

	try {
		return normalizeFingerprint(text) === sha256 ? 'save' : 'reject';
	} catch {
		return 'reject';
	}
}

export function lineAsk(input: NodeJS.ReadableStream, output: Writable, color = colorWanted(output, process.env)): Ask {
	return async question => {
		output.write(`${promptLines(question, new Date(), color).join('\n')}\n${promptQuestion}`);
		const reader = createInterface({input, terminal: false});
		try {
			const line = await new Promise<string>(resolve => {
				reader.once('line', resolve);
				reader.once('close', () => {
					resolve('');
				});
			});
			return answerOf(line, question.certificate.sha256);
		} finally {
			reader.close();
		}
	};
}
