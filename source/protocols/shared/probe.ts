/**
 * What `secmon verify` learns from one collector (commands/verify.ts renders it and decides the
 * exit code), and the probe for collectors that speak TLS from the first byte. It never prompts,
 * never pins and sends nothing to a collector it does not trust (security/inspect.ts).
 */
import {isSecmonError, SecmonError} from '../../errors.js';
import {
	awaitClientCertVerdict, inspectTls, trustVerdict, type Inspection, type TrustVerdict,
} from '../../security/inspect.js';
import type {TrustStore} from '../../security/store.js';
import {connectTcp, TlsFailure, type TlsOptions} from '../../security/tls.js';
import type {HostSpec} from '../../target.js';

export type ProbeInput = {
	spec: HostSpec;
	caFile?: string;
	cert?: string;
	key?: string;
	servername?: string;
	timeoutMs: number;
	store: TrustStore;
	env: NodeJS.ProcessEnv;
	/** The command that would pin this collector (the refusal's hint appends --fingerprint/--accept-new). */
	rerunCommand: string;
};

export type Probe = {
	connected: boolean;
	tlsOffered?: boolean;
	inspection?: Inspection;
	verdict?: TrustVerdict;
	/** Failure outside the certificate: connect, no TLS, handshake, client certificate. */
	failure?: SecmonError;
	requiredByCollector?: boolean;
	/** false when the protocol checks no host name (Zabbix with --ca-file). */
	hostnameChecked?: boolean;
	/** Zabbix TLS-PSK instead of certificates: the identity, and the handshake's version and cipher. */
	psk?: {identity: string; tls?: {version: string; cipher: string}};
};

/** How long to listen after the handshake for a late client-certificate rejection. */
export const clientCertWaitMs = 1500;

export function probeTlsOptions(input: ProbeInput): TlsOptions {
	return {
		target: {host: input.spec.host, port: input.spec.port},
		...(input.servername === undefined ? {} : {servername: input.servername}),
		...(input.caFile === undefined ? {} : {caFile: input.caFile}),
		...(input.cert === undefined ? {} : {cert: input.cert}),
		...(input.key === undefined ? {} : {key: input.key}),
		acceptNew: false,
		store: input.store,
		timeoutMs: input.timeoutMs,
	};
}

/**
 * TLS from the first byte (Icinga, Livestatus, mon, Zabbix with certificates, pmproxy). `zabbixStyle`:
 * with --ca-file the host name is not checked (docs/zabbix.md#tls-from-node). `closedMeansNoTls`:
 * a close or reset of the hello (no client certificate offered, nothing TLS received) is "TLS not
 * offered", as the connecting path decides for pmproxy (docs/pmproxy.md#security-modes).
 */
export async function probeDirect(input: ProbeInput, {zabbixStyle = false, closedMeansNoTls = false}: {zabbixStyle?: boolean; closedMeansNoTls?: boolean} = {}): Promise<Probe> {
	const target = {host: input.spec.host, port: input.spec.port};
	let socket;
	try {
		socket = await connectTcp(target, input.timeoutMs);
	} catch (error) {
		return {connected: false, failure: isSecmonError(error) ? error : new SecmonError('CONNECT_FAILED', String(error))};
	}

	const inspection = await inspectTls(socket, probeTlsOptions(input));
	const probe: Probe = {connected: true, inspection};
	if (zabbixStyle && input.caFile !== undefined) {
		probe.hostnameChecked = false;
	}

	if (!inspection.completed) {
		// Decided on the failure's noTls (security/tls.ts), never on its text: bytes that are not TLS
		// (the port speaks the plain protocol, or something else), or where the protocol's own path
		// reads it so, a close of the hello.
		const noTls = inspection.error instanceof TlsFailure ? inspection.error.noTls : undefined;
		const notOffered = noTls === 'answered-plain' || (noTls === 'closed' && closedMeansNoTls);
		probe.tlsOffered = notOffered ? false : (inspection.chain.length > 0 ? true : undefined);
		probe.failure = noTls === 'closed' && notOffered
			? new SecmonError(
				'TLS_REQUIRED',
				`${input.spec.protocol}://${input.spec.display} offers no TLS: it closed the connection on the TLS hello without a byte of TLS`,
				'Turn TLS on at the collector',
			)
			: inspection.error;
		return probe;
	}

	probe.tlsOffered = true;
	// TLS 1.3 refuses a client certificate only after the handshake (docs/pcp.md#late-client-certificate-rejection), and a Zabbix
	// agent checks it after a TLS 1.2 handshake too, then closes: listen before judging.
	await awaitClientCertVerdict(inspection, clientCertWaitMs);

	inspection.stream?.destroy();
	probe.verdict = await trustVerdict(inspection, {
		target,
		store: input.store,
		caFileGiven: input.caFile !== undefined,
		zabbixStyle,
		rerunCommand: input.rerunCommand,
	});
	if (inspection.error && (inspection.clientCert === 'required' || inspection.clientCert === 'rejected' || inspection.clientCert === 'unknown')) {
		probe.failure = inspection.error;
	} else if (inspection.clientCert === 'closed') {
		probe.failure = new SecmonError(
			'TLS_FAILED',
			`${input.spec.protocol}://${input.spec.display} closed the connection right after the TLS handshake`,
			input.cert === undefined
				? 'It may want a client certificate: give --cert FILE --key FILE; its log says why it closed'
				: 'It may not accept this client certificate (issuer, subject or CA): its log says why it closed',
		);
	}

	return probe;
}
