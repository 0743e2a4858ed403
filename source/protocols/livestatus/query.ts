/**
 * `--query` for scripts: one raw Livestatus GET, its body as the collector sent it (JSON unless
 * the query names another OutputFormat). A refusal is thrown as a SecmonError with what to do;
 * commands/query.ts writes the body or reports the error.
 */
import type {SessionHooks} from '../../io.js';
import {SecmonError} from '../../errors.js';
import type {Plan} from '../../plan.js';
import type {HostSpec} from '../../target.js';
import {openLivestatusClient} from './open.js';
import {livestatusError, prepareRawQuery} from './protocol.js';

export async function livestatusQuery(target: HostSpec, plan: Plan, hooks: SessionHooks, query: string): Promise<string> {
	if (target.protocol !== 'livestatus') {
		throw new SecmonError('USAGE', `--query is for livestatus:// collectors, not ${target.protocol}://`, 'Use --host livestatus://HOST:PORT --query \'GET hosts\\nColumns: name state\'');
	}

	const text = prepareRawQuery(query);
	const session = await openLivestatusClient(target, plan, hooks);
	try {
		const {code, body} = await session.client.request(text);
		if (code !== 200) {
			throw livestatusError(code, body, target.display);
		}

		return body;
	} finally {
		session.client.close();
	}
}
