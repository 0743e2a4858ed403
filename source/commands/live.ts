/**
 * The live job (a sample every interval): the panes in a terminal (live/panes.ts, which loads
 * Ink only then), otherwise a stream of samples to the format's sink (live/stream.ts). A CI
 * terminal gets the stream as plain text and a line prompt: Ink in CI mode draws only the last
 * frame, at exit.
 */
import process from 'node:process';
import type {Io, SessionHooks} from '../io.js';
import type {Plan} from '../plan.js';
import type {Sink} from '../output/format.js';
import {runStream} from '../live/stream.js';

export async function runLive(plan: Plan, io: Io, hooks: SessionHooks, sink: Sink): Promise<number> {
	if (plan.format !== 'tui') {
		return runStream(plan, io, hooks, sink);
	}

	const {isCi, lineAsk} = await import('../render/tui/line-ask.js');
	if (isCi(io.env)) {
		// The 'tui' sink writes as 'text' (output/format.ts).
		return runStream({...plan, format: 'text'}, io, {...hooks, ask: lineAsk(process.stdin, io.stderr)}, sink);
	}

	const {runPanes} = await import('../live/panes.js');
	return runPanes(plan, io, hooks);
}
