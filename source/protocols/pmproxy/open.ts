/**
 * pmproxy:// and pmproxys:// → a verified PmproxySource. pmproxy serves plain HTTP and, with
 * secure.enabled and a tls.conf, HTTPS on the same port (docs/pmproxy.md#tls), so secmon decides
 * as it does for pmcd (docs/pmproxy.md#security-modes):
 * - enforce (pmproxys://, --secure enforce): HTTPS only; a pmproxy that answers a TLS hello in
 *   plain HTTP is refused (exit 5).
 * - relaxed (the default for pmproxy://): HTTPS; only when pmproxy answers the TLS hello in plain
 *   HTTP (it offers no TLS) does the session go on in plain HTTP, said loudly, and never for a
 *   pmproxy read over verified TLS before (security/downgrade.ts) or with a TLS-only option. A
 *   certificate that fails verification is final, never a reason for plain text.
 * - off: plain HTTP, with a warning (louder when TLS was seen before).
 * pmproxys:// is a floor that only an explicit --secure lowers, as pcps:// is.
 */
import type {Duplex} from 'node:stream';
import {SecmonError, isSecmonError} from '../../errors.js';
import type {SessionHooks} from '../../io.js';
import type {Plan, SecurityPlan} from '../../plan.js';
import {checkPlainAllowed} from '../../security/downgrade.js';
import {secmonHome} from '../../security/home.js';
import {TrustStore} from '../../security/store.js';
import {
	connectFailure, connectTcp, TlsFailure, tlsFailure,
} from '../../security/tls.js';
import {TlsConnector} from '../../security/tls-connector.js';
import type {TlsFacts} from '../../security/types.js';
import {rerunWithSecure} from '../../shell.js';
import {displayHostPort, type HostSpec} from '../../target.js';
import {readPasswordFile} from '../shared/password-file.js';
import {extraOption, tlsOptionsFor} from '../shared/tls-options.js';
import {PmproxyApi} from './api.js';
import {PmproxyHttp} from './http.js';
import {PmproxySource} from './source.js';

export type Transport = 'tls-only' | 'tls-or-plain' | 'plain';

/** What the plan allows for this target (see the module comment). */
export function transportOf(target: Pick<HostSpec, 'scheme'>, security: Pick<SecurityPlan, 'mode' | 'modeSource'>): Transport {
	if (target.scheme === 'pmproxys' && security.modeSource !== 'flag') {
		return 'tls-only';
	}

	switch (security.mode) {
		case 'enforce': {
			return 'tls-only';
		}

		case 'relaxed': {
			return 'tls-or-plain';
		}

		case 'off': {
			return 'plain';
		}
	}
}

/** Seconds pmproxy keeps our context between uses: three sampling intervals, at least a minute. */
export function pollTimeoutFor(plan: Pick<Plan, 'intervalMs'>): number {
	return Math.max(60, Math.ceil(3 * plan.intervalMs / 1000));
}

/**
 * pmproxy without TLS closes the connection on a TLS hello without sending a byte
 * (docs/pmproxy.md#tls); other HTTP servers answer it in plain text. Either means "offers no
 * TLS"; a certificate or handshake failure never does. Decided on the failure's `noTls`, set
 * where security/tls.ts sees it, never on the message text.
 */
export function plainAnswer(error: unknown): boolean {
	return error instanceof TlsFailure && error.noTls !== undefined;
}

/**
 * An error on an HTTP connection → what to report. Handshake failures arrive as SecmonErrors
 * (TlsConnector); anything else came on a connection: plain TCP without a connector, else a TLS
 * stream. Before any handshake completed the TLS mapping applies (a close is "no TLS"); after one,
 * a reset or close is a connection failure and only TLS alerts are TLS failures, never "no TLS".
 */
export function httpFailure(error: unknown, target: {host: string; port: number}, connector: Pick<TlsConnector, 'clientCert' | 'facts'> | undefined): SecmonError {
	if (isSecmonError(error)) {
		return error;
	}

	const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
	if (connector === undefined || (connector.facts !== undefined && !code.startsWith('ERR_SSL_'))) {
		return connectFailure(error, target);
	}

	return tlsFailure(error, {target, clientCert: connector.clientCert, afterHandshake: connector.facts !== undefined});
}

/** A connection closed or reset under a request (the failure's cause), not a TLS or HTTP error. */
function droppedConnection(error: unknown): boolean {
	const code = (error as {cause?: {code?: unknown}} | undefined)?.cause?.code;
	return isSecmonError(error) && error.code === 'CONNECT_FAILED' && (code === 'ECONNRESET' || code === 'EPIPE');
}

export type PmproxySession = {api: PmproxyApi; http: PmproxyHttp; tls: () => TlsFacts | undefined};

export async function openPmproxySession(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<PmproxySession> {
	const security = plan.security(target);
	const transport = transportOf(target, security);
	const who = `pmproxy at ${target.display}`;
	const passwordFile = extraOption(plan, target, hooks.env, 'passwordFile');
	const credentials = passwordFile === undefined ? undefined : async () => readPasswordFile(passwordFile, hooks.warn);
	const where = {host: target.host, port: target.port};
	const store = new TrustStore(secmonHome(hooks.env));
	const collector = `pmproxy at ${target.display}`;
	const rerunPlain = hooks.argv === undefined ? undefined : rerunWithSecure(hooks.argv, 'off');

	const session = (open: () => Promise<Duplex>, connector: TlsConnector | undefined): PmproxySession => {
		const http = new PmproxyHttp({
			open,
			who,
			hostHeader: displayHostPort(connector?.options.servername ?? target.host, target.port),
			requestTimeoutMs: plan.requestTimeoutMs,
			failure: error => httpFailure(error, where, connector),
			// Credentials only inside verified TLS; plain() refuses a password file anyway.
			...(credentials === undefined || connector === undefined ? {} : {credentials}),
		});
		const api = new PmproxyApi({
			http, who, pollTimeoutSeconds: pollTimeoutFor(plan), ...(target.hostspec === undefined ? {} : {hostspec: target.hostspec}),
		});
		return {api, http, tls: () => connector?.facts};
	};

	const plain = (plainBecause: string): PmproxySession => {
		if (passwordFile !== undefined) {
			// Basic authentication is the password in clear text: only over verified TLS (as mon's login).
			throw new SecmonError(
				'USAGE',
				`refusing to send the pmproxy password to ${target.display} in plain HTTP (it ${plainBecause})`,
				'Turn TLS on in pmproxy (secmon pki snippet pmproxy) and use pmproxys://, or do without --password-file',
			);
		}

		checkPlainAllowed({
			store,
			target: where,
			collector,
			mode: security.mode,
			modeSource: security.modeSource,
			...(security.tlsRequiredBy === undefined ? {} : {tlsRequiredBy: security.tlsRequiredBy}),
			plainBecause,
			...(rerunPlain === undefined ? {} : {rerunPlain}),
			warn: hooks.warn,
		});
		return session(async () => connectTcp(where, plan.connectTimeoutMs), undefined);
	};

	let opened: PmproxySession;
	if (transport === 'plain') {
		hooks.warn(`secmon: warning: pmproxy://${target.display} in PLAIN HTTP because secure mode is off (not encrypted, not authenticated; anyone on the path can read and change it). Use pmproxys:// or --secure enforce to verify it.`);
		opened = plain('is asked for in plain HTTP with secure mode off');
	} else {
		const connector = new TlsConnector(tlsOptionsFor(target, plan, hooks));
		opened = session(async () => connector.open(), connector);
		try {
			await opened.api.createContext();
			return opened;
		} catch (error) {
			opened.http.close();
			if (connector.facts !== undefined && (droppedConnection(error) || plainAnswer(error))) {
				// The handshake was done, then the connection dropped (or a later connection's
				// hello was closed): with TLS 1.3 that is how pmproxy refuses a missing client
				// certificate (tls-verify-clients = true). Never plain HTTP once TLS was seen.
				throw new SecmonError(
					'CLIENT_CERT_REQUIRED',
					`${collector} closed the connection after the TLS handshake${connector.clientCert ? ': it may not accept our client certificate' : ': it may require a client certificate'}`,
					connector.clientCert
						? 'Check that --cert was issued by a CA in pmproxy\'s tls-ca-cert-file, is still valid, and matches --key; pmproxy\'s log says more'
						: 'Give --cert FILE --key FILE with a client certificate issued by a CA pmproxy trusts (tls-ca-cert-file; tls-verify-clients = true in its tls.conf asks for one)',
				);
			}

			if (!plainAnswer(error)) {
				throw error;
			}

			if (transport === 'tls-only') {
				throw new SecmonError(
					'TLS_REQUIRED',
					`${collector} offers no TLS (it closed the connection on a TLS hello or answered in plain text), and TLS is required (${target.scheme === 'pmproxys' ? 'pmproxys://' : '--secure enforce'}); refusing plain text`,
					'Turn TLS on in pmproxy (secure.enabled = true in pmproxy.conf, and a tls.conf with tls-cert-file and tls-key-file in PCP_TLSCONF_PATH: secmon pki snippet pmproxy), '
					+ `or read it in plain text (said loudly) with pmproxy:// and --secure off${rerunPlain === undefined ? '' : `:\n  ${rerunPlain}`}`,
				);
			}

			opened = plain('offers no TLS (it closed the connection on a TLS hello)');
			const mode = security.modeSource === 'default' ? 'secmon' : 'relaxed mode';
			hooks.warn(`secmon: warning: ${target.display} (pmproxy) does not offer TLS; ${mode} continues in PLAIN HTTP (not encrypted, not authenticated). Turn TLS on at pmproxy, or refuse plain text with pmproxys:// or --secure enforce.`);
		}
	}

	try {
		await opened.api.createContext();
	} catch (error) {
		opened.http.close();
		throw error;
	}

	return opened;
}

export async function openPmproxy(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<PmproxySource> {
	const {api, http, tls} = await openPmproxySession(target, plan, hooks);
	return new PmproxySource({
		api, http, host: target.host, port: target.port, display: target.display, hostspec: target.hostspec, tls,
	});
}
