/**
 * The session hooks of a command run from a shell (main command, `secmon pmval`, enroll): the
 * trust prompt drawn with Ink, which is loaded only when a prompt must really be shown (the
 * `--json` fast path never loads it: test/e2e/build.test.ts), and the command line for the
 * "re-run with …" hints.
 */
import process from 'node:process';
import type {Io, SessionHooks} from '../io.js';
import type {Ask} from '../security/types.js';

export const inkAsk: Ask = async question => {
	const {askWithInk} = await import('../render/tui/ask.js');
	return askWithInk(question);
};

/** The run's command line, one frozen copy: every collector's hints are built from it once (shell.ts). */
const commandLine: readonly string[] = Object.freeze(process.argv.slice(2));

/** `warn`: where the command's non-fatal warnings go (its sink's notices, or stderr); `ask` for a shared prompt. */
export function sessionHooks(io: Io, warn: (message: string) => void, ask: Ask = inkAsk): SessionHooks {
	return {
		ask, warn, env: io.env, argv: commandLine,
	};
}
