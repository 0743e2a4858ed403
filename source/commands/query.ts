/**
 * `secmon --host livestatus://… --query 'GET …'`: the body on stdout as the collector sent it,
 * a failure through the one reporter (one JSON error object on stdout too with --json).
 */
import type {Writable} from 'node:stream';
import type {SessionHooks} from '../io.js';
import {exitCodes} from '../errors.js';
import type {Plan} from '../plan.js';
import type {HostSpec} from '../target.js';
import {terminalSafe} from '../safe-text.js';
import {reportError} from '../output/report.js';
import {livestatusQuery} from '../protocols/livestatus/query.js';

export async function runLivestatusQuery(target: HostSpec, plan: Plan, hooks: SessionHooks, query: string, io: {stdout: Writable; stderr: Writable}): Promise<number> {
	let body: string;
	try {
		body = await livestatusQuery(target, plan, hooks, query);
	} catch (error) {
		return reportError(io, error, {json: plan.format === 'json', at: target});
	}

	terminalSafe(io.stdout)(body.endsWith('\n') ? body : `${body}\n`);
	return exitCodes.ok;
}
