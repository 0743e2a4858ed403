/** Checkmk Livestatus behind TLS (stunnel). Data and lazy imports only (../shared/descriptor.ts). */
import type {ProtocolDescriptor} from '../shared/descriptor.js';

const defaultPort = 6557;

export const livestatus: ProtocolDescriptor<'livestatus'> = {
	name: 'livestatus',
	schemes: ['livestatus'],
	defaultPort,
	tls: 'direct',
	help: [['livestatus://host[:port]', `Checkmk Livestatus behind TLS (${defaultPort})`]],
	async open(target, plan, hooks) {
		const {openLivestatus} = await import('./open.js');
		return openLivestatus(target, plan, hooks);
	},
	verify: {
		async probe(input) {
			const {probeDirect} = await import('../shared/probe.js');
			return probeDirect(input);
		},
		secureScheme: 'livestatus',
		servernameFromEnv: true,
	},
};
