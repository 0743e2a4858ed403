/** PCP's pmcd: the default protocol. Data and lazy imports only (../shared/descriptor.ts). */
import type {ProtocolDescriptor} from '../shared/descriptor.js';

const defaultPort = 44_321;

export const pcp: ProtocolDescriptor<'pcp'> = {
	name: 'pcp',
	schemes: ['pcp', 'pcps'],
	defaultPort,
	tls: 'upgrade',
	help: [
		['host, host:port, [v6]:port', `PCP pmcd (default port ${defaultPort})`],
		['pcp://host[:port]  pcps://host[:port]', 'PCP; pcps:// means --secure enforce'],
	],
	async open(target, plan, hooks) {
		const [{openPcp}, {PcpSource}] = await Promise.all([import('./open.js'), import('./source.js')]);
		const {client} = await openPcp(target, plan, hooks);
		return new PcpSource(client, target);
	},
	verify: {
		async probe(input) {
			const {probePcp} = await import('./probe.js');
			return probePcp(input);
		},
		secureScheme: 'pcps',
		hintMetric: 'hinv.ncpu',
		servernameFromEnv: false,
		noTls: host => [
			'Turn TLS on in pmcd: make a certificate and the tls.conf lines with',
			`  secmon pki issue --cn ${host} && secmon pki snippet pmcd --server ${host}`,
			'then restart pmcd. (Plain text is possible with --secure relaxed or off, but not verified by this command.)',
		],
	},
};
