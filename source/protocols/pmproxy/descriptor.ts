/** pmproxy's REST API (PMWEBAPI), HTTPS or HTTP on one port. Data and lazy imports only (../shared/descriptor.ts). */
import type {ProtocolDescriptor} from '../shared/descriptor.js';

const defaultPort = 44_322;

export const pmproxy: ProtocolDescriptor<'pmproxy'> = {
	name: 'pmproxy',
	schemes: ['pmproxy', 'pmproxys'],
	defaultPort,
	tls: 'direct',
	help: [
		['pmproxy://host[:port][?hostspec=H]', `PCP's pmproxy REST API (${defaultPort}), TLS when offered`],
		['pmproxys://host[:port]', 'pmproxy, TLS required'],
	],
	async open(target, plan, hooks) {
		const {openPmproxy} = await import('./open.js');
		return openPmproxy(target, plan, hooks);
	},
	verify: {
		async probe(input) {
			const {probeDirect} = await import('../shared/probe.js');
			// pmproxy without TLS closes the connection on the hello (docs/pmproxy.md#tls).
			return probeDirect(input, {closedMeansNoTls: true});
		},
		secureScheme: 'pmproxys',
		hintMetric: 'hinv.ncpu',
		servernameFromEnv: true,
		noTls: host => [
			'Turn TLS on in pmproxy: secure.enabled = true in pmproxy.conf and a tls.conf with tls-cert-file and tls-key-file (PCP_TLSCONF_PATH), made with',
			`  secmon pki issue --cn ${host} && secmon pki snippet pmproxy --server ${host}`,
			'then restart pmproxy. (pmproxy:// reads it in plain HTTP, said loudly, in relaxed mode; this command does not verify that.)',
		],
	},
};
