/** The Zabbix agent (passive checks). Data and lazy imports only (../shared/descriptor.ts). */
import type {ProtocolDescriptor} from '../shared/descriptor.js';

const defaultPort = 10_050;

export const zabbix: ProtocolDescriptor<'zabbix'> = {
	name: 'zabbix',
	schemes: ['zabbix'],
	defaultPort,
	tls: 'psk-or-direct',
	help: [['zabbix://host[:port]', `Zabbix agent (${defaultPort})`]],
	async open(target, plan, hooks) {
		const {openZabbix} = await import('./open.js');
		return openZabbix(target, plan, hooks);
	},
	verify: {
		async probe(input) {
			const {probeZabbix} = await import('./probe.js');
			return probeZabbix(input);
		},
		secureScheme: 'zabbix',
		hintMetric: 'agent.ping',
		servernameFromEnv: false,
		withoutClientCert: [
			'A Zabbix agent with TLSAccept=cert always wants a client certificate: add --cert FILE --key FILE (make one with: secmon pki issue --client --cn "secmon client");',
			'for TLSAccept=psk set SECMON_PSK_IDENTITY and SECMON_PSK_FILE instead.',
		],
	},
};
