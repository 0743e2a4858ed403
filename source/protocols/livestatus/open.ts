/**
 * livestatus:// → a verified LivestatusSource (TLS as Checkmk's stunnel serves it, checked against
 * the site CA with --ca-file, optional client certificate). See ../shared/direct-tls.ts for what the
 * security modes mean here.
 */
import type {SessionHooks} from '../../io.js';
import type {Plan} from '../../plan.js';
import {connectTcp} from '../../security/tls.js';
import type {TlsFacts} from '../../security/types.js';
import type {HostSpec} from '../../target.js';
import {TlsConnector} from '../../security/tls-connector.js';
import {warnPlainText, transportFor} from '../shared/direct-tls.js';
import {tlsOptionsFor} from '../shared/tls-options.js';
import {LivestatusClient} from './client.js';
import {LivestatusSource} from './source.js';

/** A connected client (the first connection made, so trust and TLS errors are reported now). */
export async function openLivestatusClient(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<{client: LivestatusClient; tls: TlsFacts | undefined}> {
	const security = plan.security(target);
	const where = {host: target.host, port: target.port};
	let client: LivestatusClient;
	let connector: TlsConnector | undefined;
	if (transportFor(security) === 'plain') {
		warnPlainText(target, security, hooks);
		client = new LivestatusClient({
			open: async () => connectTcp(where, plan.connectTimeoutMs), target: where, where: target.display, tls: false, clientCert: false, requestTimeoutMs: plan.requestTimeoutMs,
		});
	} else {
		const tlsConnector = new TlsConnector(tlsOptionsFor(target, plan, hooks));
		connector = tlsConnector;
		client = new LivestatusClient({
			open: async () => tlsConnector.open(), target: where, where: target.display, tls: true, clientCert: tlsConnector.clientCert, requestTimeoutMs: plan.requestTimeoutMs,
		});
	}

	await client.connect();
	return {client, tls: connector?.facts};
}

export async function openLivestatus(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<LivestatusSource> {
	const {client, tls} = await openLivestatusClient(target, plan, hooks);
	return new LivestatusSource({
		client, host: target.host, port: target.port, display: target.display, tls,
	});
}
