/** The Icinga 2 REST API, always over TLS. Data and lazy imports only (../shared/descriptor.ts). */
import type {ProtocolDescriptor} from '../shared/descriptor.js';

const defaultPort = 5665;

export const icinga: ProtocolDescriptor<'icinga'> = {
	name: 'icinga',
	schemes: ['icinga'],
	defaultPort,
	tls: 'direct',
	help: [['icinga://host[:port]', `Icinga 2 REST API (${defaultPort})`]],
	async open(target, plan, hooks) {
		const {openIcinga} = await import('./open.js');
		return openIcinga(target, plan, hooks);
	},
	verify: {
		async probe(input) {
			const {probeDirect} = await import('../shared/probe.js');
			return probeDirect(input);
		},
		secureScheme: 'icinga',
		servernameFromEnv: true,
	},
};
