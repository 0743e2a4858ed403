/**
 * mon:// → a verified MonSource: TLS to the stunnel in front of mon (Mon::Client's ssl, ssl_cert,
 * ssl_pkey), client certificate from --cert/--key. A password file (USER:PASSWORD) adds mon's
 * `login`; it is never sent over plain text. `version` is the first command, so a client
 * certificate refused after the TLS 1.3 handshake is reported before any metric.
 */
import type {SessionHooks} from '../../io.js';
import {SecmonError} from '../../errors.js';
import type {Plan} from '../../plan.js';
import {connectTcp} from '../../security/tls.js';
import type {HostSpec} from '../../target.js';
import {readPasswordFile} from '../shared/password-file.js';
import {TlsConnector} from '../../security/tls-connector.js';
import {warnPlainText, transportFor} from '../shared/direct-tls.js';
import {extraOption, tlsOptionsFor} from '../shared/tls-options.js';
import {MonClient} from './client.js';
import {MonSource} from './source.js';

export async function openMonClient(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<{client: MonClient; connector: TlsConnector | undefined; version: string | undefined}> {
	const security = plan.security(target);
	const where = {host: target.host, port: target.port};
	const plain = transportFor(security) === 'plain';
	const passwordFile = extraOption(plan, target, hooks.env, 'passwordFile');
	if (plain && passwordFile !== undefined) {
		throw new SecmonError('USAGE', `refusing to send the mon password to ${target.display} in plain text`, 'Use TLS (stunnel in front of mon) and drop --secure off, or do without the login');
	}

	const login = passwordFile === undefined ? undefined : await readPasswordFile(passwordFile, hooks.warn);
	let client: MonClient;
	let connector: TlsConnector | undefined;
	const common = {
		target: where, where: target.display, requestTimeoutMs: plan.requestTimeoutMs, ...(login ? {login} : {}),
	};
	if (plain) {
		warnPlainText(target, security, hooks);
		client = new MonClient({
			...common, open: async () => connectTcp(where, plan.connectTimeoutMs), tls: false, clientCert: false,
		});
	} else {
		const tlsConnector = new TlsConnector(tlsOptionsFor(target, plan, hooks));
		connector = tlsConnector;
		client = new MonClient({
			...common, open: async () => tlsConnector.open(), tls: true, clientCert: tlsConnector.clientCert,
		});
	}

	try {
		const reply = await client.send('version');
		const version = reply.status.code === 220 ? /^version\s+(\S+)/.exec(reply.lines[0] ?? '')?.[1] : undefined;
		if (reply.status.code === 220 && version === undefined) {
			throw new SecmonError('PROTOCOL', `${target.display} answered "version" but not like mon`, 'Check the port: mon listens on 2583; its stunnel port is what secmon needs for TLS');
		}

		return {client, connector, version};
	} catch (error) {
		client.close();
		throw error;
	}
}

export async function openMon(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<MonSource> {
	const {client, connector} = await openMonClient(target, plan, hooks);
	return new MonSource({
		client, host: target.host, port: target.port, display: target.display, tls: connector?.facts,
	});
}
