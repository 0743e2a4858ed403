/**
 * `secmon verify` for PCP: the greeting says whether pmcd offers TLS, the in-band upgrade is
 * inspected without prompting or pinning, and only a trusted pmcd gets the first request (the
 * probe after the upgrade that shows a late client-certificate rejection).
 */
import {isSecmonError, SecmonError} from '../../errors.js';
import {awaitClientCertVerdict, inspectTls, trustVerdict} from '../../security/inspect.js';
import {
	clientCertWaitMs, probeTlsOptions, type Probe, type ProbeInput,
} from '../shared/probe.js';
import {PcpClient} from './client.js';
import {FEATURE} from './constants.js';

export async function probePcp(input: ProbeInput): Promise<Probe> {
	const probe: Probe = {connected: false};
	const target = {host: input.spec.host, port: input.spec.port};
	try {
		const client = await PcpClient.connect({
			host: input.spec.host,
			port: input.spec.port,
			secure: 'enforce',
			connectTimeoutMs: input.timeoutMs,
			requestTimeoutMs: input.timeoutMs,
			// A verdict must include a late client-certificate rejection, whatever pmcd announced.
			probeAfterUpgrade: true,
			async upgrade(socket) {
				probe.connected = true;
				probe.tlsOffered = true;
				const inspection = await inspectTls(socket, probeTlsOptions(input));
				probe.inspection = inspection;
				if (!inspection.completed || !inspection.stream) {
					throw inspection.error ?? new SecmonError('TLS_FAILED', 'the TLS handshake failed');
				}

				const verdict = await trustVerdict(inspection, {
					target, store: input.store, caFileGiven: input.caFile !== undefined, rerunCommand: input.rerunCommand,
				});
				probe.verdict = verdict;
				if (verdict.status !== 'ca' && verdict.status !== 'pinned') {
					// Not trusted: nothing is sent; only listen whether it would take our client certificate.
					await awaitClientCertVerdict(inspection, clientCertWaitMs);
					inspection.stream.destroy();
					throw verdict.error ?? new SecmonError('TRUST_REQUIRED', 'not trusted');
				}

				const leaf = inspection.chain[0]!;
				return {
					stream: inspection.stream,
					facts: {
						version: inspection.version ?? 'unknown',
						cipher: inspection.cipher ?? 'unknown',
						basis: verdict.status,
						sha256: leaf.sha256,
						sha1: leaf.sha1,
						subject: leaf.subject,
						validTo: leaf.validTo,
					},
				};
			},
		});
		// Trusted, and the first request (PcpClient's probe after the upgrade) went through.
		probe.requiredByCollector = (client.features & FEATURE.CERT_REQD) !== 0;
		if (probe.inspection) {
			probe.inspection.clientCert = 'accepted';
		}

		client.close();
	} catch (error) {
		const failure = isSecmonError(error) ? error : new SecmonError('CONNECT_FAILED', String(error));
		const trusted = probe.verdict?.status === 'ca' || probe.verdict?.status === 'pinned';
		if (failure.code === 'TLS_REQUIRED') {
			// Greeting without the SECURE feature bit (docs/pcp.md#secure-modes).
			probe.connected = true;
			probe.tlsOffered = false;
			probe.failure = failure;
		} else if (probe.verdict?.error === failure) {
			// Refused by the trust decision: the verdict says it all.
		} else {
			probe.failure = failure;
			probe.connected ||= failure.code === 'PROTOCOL';
			if (probe.inspection && failure.code === 'CLIENT_CERT_REQUIRED') {
				probe.inspection.clientCert = input.cert === undefined ? 'required' : 'rejected';
			} else if (probe.inspection && trusted && input.cert !== undefined && failure.code === 'TLS_FAILED') {
				probe.inspection.clientCert = 'rejected';
			}
		}
	}

	return probe;
}
