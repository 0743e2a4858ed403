/**
 * An agent certificate without --tls-ca-file: secmon's pin / trust-on-first-use decision
 * (security/tls.ts, docs/design.md#trust-on-first-use) on the first connection, and on the later
 * connections of the same run the same certificate, compared without asking again.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import {SecmonError} from '../../errors.js';
import type {TrustBasis} from '../../security/types.js';
import {defaultTimeoutMs, type ZabbixEndpoint, type ZabbixTlsFacts} from './endpoint.js';
import {handshakeFailure, tlsError, ZabbixError} from './errors.js';
import {tlsHandshake} from './handshake.js';
import type {Prepared} from './tls-context.js';

/** The certificate trusted earlier in this process, and how. */
export type TrustedCertificate = {sha256: string; basis: TrustBasis; subject: string};

/** Node's fingerprint256 format equals CertificateInfo.sha256 (uppercase, colon-separated). */
function leafSha256(socket: tls.TLSSocket): string | undefined {
	return socket.getPeerX509Certificate()?.fingerprint256;
}

/**
 * TLS on `socket` with the agent's certificate trusted by pin or first use. `state.trusted` is set
 * by the first decision and required of every later connection.
 */
export async function secureTofu(endpoint: ZabbixEndpoint, state: {trusted?: TrustedCertificate}, socket: net.Socket, prepared: Extract<Prepared, {kind: 'cert-tofu'}>, onWarning: (message: string) => void): Promise<{stream: tls.TLSSocket; facts: ZabbixTlsFacts}> {
	const target = {host: endpoint.host, port: endpoint.port};
	if (state.trusted) {
		// Trust was settled by an earlier connection in this process: the same certificate is required.
		const stream = await tlsHandshake(endpoint, 'cert', {
			socket, secureContext: prepared.context, rejectUnauthorized: false, checkServerIdentity: () => undefined,
		});
		if (leafSha256(stream) === state.trusted.sha256) {
			return {
				stream,
				facts: {
					version: stream.getProtocol() ?? 'unknown', cipher: stream.getCipher()?.name ?? 'unknown', kind: 'cert', basis: state.trusted.basis, sha256: state.trusted.sha256, subject: state.trusted.subject,
				},
			};
		}

		stream.destroy();
		state.trusted = undefined;
		throw tlsError(endpoint, 'the agent presented a different certificate than earlier in this run', 'Run the command again: the certificate will be checked against your pins (secmon certs list). If you did not expect a change, someone may be intercepting the connection.', {code: 'CERT_CHANGED'});
	}

	// Loaded on first use: plain and PSK runs do not pay for the trust machinery.
	const {upgradeToTls} = await import('../../security/tls.js');
	let result;
	try {
		result = await upgradeToTls(socket, {
			target,
			cert: prepared.certFile,
			key: prepared.keyFile,
			store: prepared.trust.store,
			acceptNew: prepared.trust.acceptNew ?? false,
			...(prepared.trust.fingerprint ? {fingerprint: prepared.trust.fingerprint} : {}),
			...(prepared.trust.ask ? {ask: prepared.trust.ask} : {}),
			...(prepared.trust.rerunCommand ? {rerunCommand: prepared.trust.rerunCommand} : {}),
			...(prepared.trust.servername ? {servername: prepared.trust.servername} : {}),
			timeoutMs: endpoint.timeoutMs ?? defaultTimeoutMs,
			onWarning,
		});
	} catch (error) {
		if (error instanceof SecmonError && error.code === 'TLS_FAILED' && !(error instanceof ZabbixError)) {
			const cause = (error.cause ?? undefined) as NodeJS.ErrnoException | undefined;
			throw handshakeFailure(endpoint, 'cert', cause?.code ? cause : undefined);
		}

		throw error;
	}

	const facts: ZabbixTlsFacts = {
		version: result.facts.version, cipher: result.facts.cipher, kind: 'cert', basis: result.facts.basis, sha256: result.facts.sha256, subject: result.facts.subject,
	};
	state.trusted = {sha256: result.facts.sha256, basis: result.facts.basis, subject: result.facts.subject};
	return {stream: result.stream, facts};
}

