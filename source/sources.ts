/**
 * Which protocol serves a --host, by its scheme. Each entry opens a verified
 * session (through source/connect.ts and source/security) and returns the
 * common MetricSource; modules are imported lazily so that a PCP run never
 * loads the Zabbix or Icinga code and vice versa.
 */
import type {SessionHooks} from './io.js';
import {SecmonError} from './errors.js';
import type {MetricSource} from './metrics/source.js';
import type {Plan} from './plan.js';
import type {HostSpec, Protocol} from './target.js';

export type OpenSource = (target: HostSpec, plan: Plan, hooks: SessionHooks) => Promise<MetricSource>;

const openers: Partial<Record<Protocol, () => Promise<OpenSource>>> = {
	async pcp() {
		const [{openPcp}, {PcpSource}] = await Promise.all([import('./connect.js'), import('./protocols/pcp/source.js')]);
		return async (target, plan, hooks) => {
			const {client} = await openPcp(target, plan, hooks);
			return new PcpSource(client, target);
		};
	},
	async zabbix() {
		const {openZabbix} = await import('./protocols/zabbix/open.js');
		return openZabbix;
	},
	async icinga() {
		const {openIcinga} = await import('./protocols/icinga/open.js');
		return openIcinga;
	},
	async livestatus() {
		const {openLivestatus} = await import('./protocols/livestatus/open.js');
		return openLivestatus;
	},
	async mon() {
		const {openMon} = await import('./protocols/mon/open.js');
		return openMon;
	},
};

export async function openSource(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<MetricSource> {
	const opener = openers[target.protocol];
	if (!opener) {
		throw new SecmonError('USAGE', `${target.protocol}:// collectors are not supported by this build of secmon`, 'Use pcp://, pcps:// or one of the schemes listed in secmon --help.');
	}

	return (await opener())(target, plan, hooks);
}
