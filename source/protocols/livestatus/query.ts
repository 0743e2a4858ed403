/**
 * `--query` for scripts: one raw Livestatus GET, its body written to stdout as the collector sent
 * it (JSON unless the query names another OutputFormat). Errors go to stderr with what to do, and
 * as one JSON error object on stdout with --json, like every other secmon failure.
 */
import type {Writable} from 'node:stream';
import type {SessionHooks} from '../../io.js';
import {
	errorJson, exitCodes, formatError, SecmonError,
} from '../../errors.js';
import type {Plan} from '../../plan.js';
import type {HostSpec} from '../../target.js';
import {safeJson, terminalSafe} from '../../safe-text.js';
import {openLivestatusClient} from './open.js';
import {livestatusError, prepareRawQuery} from './protocol.js';

export async function runLivestatusQuery(target: HostSpec, plan: Plan, hooks: SessionHooks, query: string, io: {stdout: Writable; stderr: Writable}): Promise<number> {
	const report = (error: unknown): number => {
		if (plan.json) {
			io.stdout.write(safeJson({...errorJson(error), host: target.host, port: target.port}) + '\n');
		}

		io.stderr.write(formatError(error) + '\n');
		return error instanceof SecmonError ? error.exitCode : exitCodes.failure;
	};

	if (target.protocol !== 'livestatus') {
		return report(new SecmonError('USAGE', `--query is for livestatus:// collectors, not ${target.protocol}://`, 'Use --host livestatus://HOST:PORT --query \'GET hosts\\nColumns: name state\''));
	}

	let text: string;
	try {
		text = prepareRawQuery(query);
	} catch (error) {
		return report(error);
	}

	let session;
	try {
		session = await openLivestatusClient(target, plan, hooks);
	} catch (error) {
		return report(error);
	}

	try {
		const {code, body} = await session.client.request(text);
		if (code !== 200) {
			return report(livestatusError(code, body, target.display));
		}

		terminalSafe(io.stdout)(body.endsWith('\n') ? body : `${body}\n`);
		return exitCodes.ok;
	} catch (error) {
		return report(error);
	} finally {
		session.client.close();
	}
}
