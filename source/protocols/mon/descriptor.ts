/** mon behind stunnel. Data and lazy imports only (../shared/descriptor.ts). */
import type {ProtocolDescriptor} from '../shared/descriptor.js';

const defaultPort = 2583;

export const mon: ProtocolDescriptor<'mon'> = {
	name: 'mon',
	schemes: ['mon'],
	defaultPort,
	tls: 'direct',
	help: [['mon://host[:port]', `mon behind stunnel (${defaultPort})`]],
	async open(target, plan, hooks) {
		const {openMon} = await import('./open.js');
		return openMon(target, plan, hooks);
	},
	verify: {
		async probe(input) {
			const {probeDirect} = await import('../shared/probe.js');
			return probeDirect(input);
		},
		secureScheme: 'mon',
		servernameFromEnv: true,
	},
};
