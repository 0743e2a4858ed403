/**
 * The interactive `Ask` for the trust layer: renders <TrustPrompt> on the terminal and resolves
 * with the answer. Plain .ts with dynamic imports, so that importing this module (e.g. from
 * cli.tsx) loads neither ink nor react: only a real prompt pays for them (docs/design.md#layering-rules: React only
 * in the TUI).
 */
import {SecmonError} from '../../errors.js';
import {untrustedMessage} from '../../security/messages.js';
import type {PromptAnswer, TrustQuestion} from '../../security/types.js';

export type AskStreams = {
	stdin?: NodeJS.ReadStream;
	/** Where the prompt is drawn; default stderr when it is a terminal (keeps stdout for data), else stdout. */
	output?: NodeJS.WriteStream;
};

export async function askWithInk(question: TrustQuestion, streams: AskStreams = {}): Promise<PromptAnswer> {
	const stdin = streams.stdin ?? process.stdin;
	const output = streams.output ?? (process.stderr.isTTY ? process.stderr : process.stdout);
	if (!stdin.isTTY) {
		// Nobody can answer: refuse exactly as the non-interactive path does.
		const {message, hint} = untrustedMessage({target: question.target, certificate: question.certificate, reason: question.reason});
		throw new SecmonError('TRUST_REQUIRED', message, hint);
	}

	// Ink in CI mode draws only its last frame, at exit: the prompt would be invisible. Ask by line.
	const {isCi, lineAsk} = await import('./line-ask.js');
	if (isCi(process.env)) {
		return lineAsk(stdin, output)(question);
	}

	// Ink before the component: the CommonJS build hands it the Ink loaded here (rolldown.config.js).
	const [{render}, {createElement}] = await Promise.all([import('ink'), import('react')]);
	const {TrustPrompt} = await import('./trust-prompt.js');

	return new Promise<PromptAnswer>((resolve, reject) => {
		let answer: PromptAnswer = 'reject';
		const instance = render(
			createElement(TrustPrompt, {
				question,
				onAnswer(value: PromptAnswer) {
					answer = value;
					// Let the final frame ("Trusted and saved.") render before leaving.
					setImmediate(() => {
						instance.unmount();
					});
				},
			}),
			{
				stdin, stdout: output, stderr: output, exitOnCtrlC: false, patchConsole: false,
			},
		);
		instance.waitUntilExit().then(() => {
			resolve(answer);
		}, (error: unknown) => {
			reject(error instanceof Error ? error : new Error(String(error)));
		});
	});
}
