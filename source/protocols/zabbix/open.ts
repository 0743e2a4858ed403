/**
 * The opener sources.ts loads for zabbix://: credentials and secure mode from the plan, then a
 * pooled agent (pool.ts) as a MetricSource (source.ts).
 */
import {SecmonError} from '../../errors.js';
import type {SessionHooks} from '../../io.js';
import type {Plan} from '../../plan.js';
import {rerunCommand, rerunWithSecure} from '../../shell.js';
import type {HostSpec} from '../../target.js';
import type {ZabbixTls, ZabbixTrust} from './endpoint.js';
import {ZabbixAgent} from './pool.js';
import {ZabbixSource} from './source.js';

/**
 * zabbix:// for the main CLI (sources.ts): a ZabbixSource for one --host.
 * Credentials: a PSK (identity + key file) from --psk-identity/--psk-file (plan.security) or
 * SECMON_PSK_IDENTITY/SECMON_PSK_FILE; else --cert/--key (certificate mode: --ca-file is checked
 * the Zabbix way, without it the agent certificate is pinned); else plain text. A Zabbix agent
 * cannot upgrade a plain connection, so `enforce` without credentials is refused before connecting.
 */
export async function openZabbix(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<ZabbixSource> {
	const security = plan.security(target);
	const fromEnvironment = (name: string) => (hooks.env[name] === undefined || hooks.env[name] === '' ? undefined : hooks.env[name]);
	const pskFile = security.pskFile ?? fromEnvironment('SECMON_PSK_FILE');
	const pskIdentity = security.pskIdentity ?? fromEnvironment('SECMON_PSK_IDENTITY');
	let tls: ZabbixTls;
	let trust: ZabbixTrust | undefined;
	if (pskFile !== undefined) {
		const {loadPsk} = await import('./psk.js');
		const psk = loadPsk({...(pskIdentity === undefined ? {} : {identity: pskIdentity}), keyFile: pskFile});
		for (const warning of psk.warnings) {
			hooks.warn(`secmon: ${warning}`);
		}

		tls = {kind: 'psk', identity: psk.identity, key: psk.key};
	} else if (security.cert !== undefined || security.key !== undefined) {
		if (security.cert === undefined || security.key === undefined) {
			throw new SecmonError('USAGE', security.cert === undefined ? '--key given without --cert' : '--cert given without --key', 'Zabbix certificate mode needs both: --cert FILE --key FILE');
		}

		tls = {
			kind: 'cert', certFile: security.cert, keyFile: security.key, ...(security.caFile === undefined ? {} : {caFile: security.caFile}),
		};
		if (security.caFile === undefined) {
			const [{TrustStore}, {secmonHome}] = await Promise.all([import('../../security/store.js'), import('../../security/home.js')]);
			trust = {
				store: TrustStore.for(secmonHome(hooks.env)),
				acceptNew: security.acceptNew,
				...(security.fingerprint === undefined ? {} : {fingerprint: security.fingerprint}),
				...(security.interactive && hooks.ask ? {ask: hooks.ask} : {}),
				...(hooks.argv === undefined ? {} : {rerunCommand: rerunCommand(hooks.argv, security)}),
				...(security.servername === undefined ? {} : {servername: security.servername}),
			};
		}
	} else {
		if (security.mode === 'enforce') {
			throw new SecmonError(
				'USAGE',
				`Zabbix agent ${target.display}: secure mode is enforce, but neither a PSK nor a client certificate was given`,
				'A Zabbix agent cannot switch a plain connection to TLS. Give --cert FILE --key FILE (agent TLSAccept=cert, with --ca-file to check it), '
				+ 'or a PSK with SECMON_PSK_IDENTITY=ID SECMON_PSK_FILE=FILE (agent TLSAccept=psk); or use --secure relaxed/off for plain text',
			);
		}

		const [{checkPlainAllowed}, {TrustStore}, {secmonHome}] = await Promise.all([
			import('../../security/downgrade.js'), import('../../security/store.js'), import('../../security/home.js'),
		]);
		checkPlainAllowed({
			store: TrustStore.for(secmonHome(hooks.env)),
			target: {host: target.host, port: target.port},
			collector: `Zabbix agent ${target.display}`,
			mode: security.mode,
			modeSource: security.modeSource,
			...(security.tlsRequiredBy === undefined ? {} : {tlsRequiredBy: security.tlsRequiredBy}),
			plainBecause: 'would be read in plain text (no --cert/--key or PSK given: a Zabbix agent cannot offer TLS in-band)',
			...(hooks.argv === undefined ? {} : {rerunPlain: rerunWithSecure(hooks.argv, 'off')}),
			warn: hooks.warn,
		});
		if (security.mode === 'relaxed') {
			hooks.warn(`secmon: warning: ${target.display}: no PSK or client certificate given, and a Zabbix agent cannot offer TLS in-band; ${security.modeSource === 'default' ? 'secmon' : 'relaxed mode'} continues in PLAIN TEXT (not encrypted, not authenticated).`);
		}

		tls = {kind: 'unencrypted'};
	}

	const agent = new ZabbixAgent({
		host: target.host,
		port: target.port,
		tls,
		...(trust ? {trust} : {}),
		timeoutMs: plan.requestTimeoutMs,
		// JSON first, plain text for older agents, as the Zabbix 7 server does (docs/zabbix.md#zabbix-7-json-checks).
		protocol: 'auto',
		onWarning: hooks.warn,
	});
	return new ZabbixSource(agent, target.display);
}
