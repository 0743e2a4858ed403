/**
 * What a protocol folder tells the rest of secmon about itself (../registry.ts lists them): its
 * schemes and default port, how TLS is reached, its lines in `secmon --help`, how it opens a
 * MetricSource and how `secmon verify` probes it. A descriptor module is loaded on every run, so
 * it holds data and lazy imports only: the protocol's code loads when a target needs it.
 */
import type {SessionHooks} from '../../io.js';
import type {MetricSource} from '../../metrics/source.js';
import type {Plan} from '../../plan.js';
import type {HostSpec} from '../../target.js';
import type {Probe, ProbeInput} from './probe.js';

/**
 * How TLS is reached: `upgrade`, in-band after a plain greeting (PCP, docs/pcp.md#secure-modes);
 * `direct`, TLS from the first byte (HTTPS, stunnel); `psk-or-direct`, TLS-PSK or certificates from
 * the first byte (Zabbix, docs/zabbix.md).
 */
export type TlsReach = 'upgrade' | 'direct' | 'psk-or-direct';

export type ProtocolDescriptor<Name extends string = string> = {
	name: Name;
	/** The URL schemes of `--host` that choose this protocol (the first is the default protocol's when no scheme is given). */
	schemes: readonly string[];
	defaultPort: number;
	tls: TlsReach;
	/** Its lines under "Collectors" in `secmon --help`: [what to type, what it is]. */
	help: ReadonlyArray<readonly [string, string]>;
	open(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<MetricSource>;
	verify: {
		probe(input: ProbeInput): Promise<Probe>;
		/** The scheme of the command verify suggests, one that requires TLS (pcps for PCP). */
		secureScheme: string;
		/** A metric that command fetches, so it runs as printed. */
		hintMetric?: string;
		/** --servername defaults to SECMON_SERVERNAME, as the Icinga, Livestatus and mon openers do (shared/direct-tls.ts). */
		servernameFromEnv: boolean;
		/** Next steps when the certificate is not trusted and no client certificate was given. */
		withoutClientCert?: readonly string[];
		/** Next steps when the collector offers no TLS (default: the failure's hint). */
		noTls?: (host: string) => string[];
	};
};

/**
 * The descriptor of a protocol reached over TLS from the first byte with a certificate (Icinga,
 * Livestatus and mon behind stunnel): the scheme is the protocol's name, `secmon verify` probes it
 * with a direct TLS handshake (./probe.ts probeDirect), and --servername defaults to
 * SECMON_SERVERNAME. `what` is its line in `secmon --help`; `opener` is the folder's own lazy
 * import of the function that opens its MetricSource.
 */
export function directTlsDescriptor<Name extends string>(name: Name, defaultPort: number, what: string, opener: () => Promise<ProtocolDescriptor['open']>): ProtocolDescriptor<Name> {
	return {
		name,
		schemes: [name],
		defaultPort,
		tls: 'direct',
		help: [[`${name}://host[:port]`, `${what} (${defaultPort})`]],
		async open(target, plan, hooks) {
			const open = await opener();
			return open(target, plan, hooks);
		},
		verify: {
			async probe(input) {
				const {probeDirect} = await import('./probe.js');
				return probeDirect(input);
			},
			secureScheme: name,
			servernameFromEnv: true,
		},
	};
}
