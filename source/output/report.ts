/**
 * The one error reporter: every command that fails reports through here, so a failure looks the
 * same everywhere — the human text (message, then the hint) on stderr and, when the output is
 * machine-readable (`--json`), one `{"type":"error",…}` line on stdout first (readme "--json").
 */
import type {Writable} from 'node:stream';
import {exitCodes, formatError, isSecmonError} from '../errors.js';
import {errorLine} from '../render/ndjson.js';

/** The collector a failure belongs to: its host and port go into the JSON line. */
export type At = {host: string; port: number; hostspec?: string | undefined};

/** The exit code a failure ends the run with (readme "Exit codes"). */
export function exitCodeOf(error: unknown): number {
	return isSecmonError(error) ? error.exitCode : exitCodes.failure;
}

/** Reports `error` and returns its exit code. */
export function reportError(io: {stdout: Writable; stderr: Writable}, error: unknown, options: {json: boolean; at?: At | undefined}): number {
	if (options.json) {
		io.stdout.write(errorLine(error, options.at) + '\n');
	}

	io.stderr.write(formatError(error) + '\n');
	return exitCodeOf(error);
}
