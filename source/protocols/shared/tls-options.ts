/**
 * One place where the plan's security settings become TLS options (security/tls.ts TlsOptions).
 */
import type {SessionHooks} from '../../io.js';
import type {Plan} from '../../plan.js';
import {secmonHome} from '../../security/home.js';
import {TrustStore} from '../../security/store.js';
import type {TlsOptions} from '../../security/tls.js';
import {rerunCommand} from '../../shell.js';
import type {HostSpec} from '../../target.js';

/**
 * Options that are not (yet) main flags: read from the plan when the CLI provides them, else from
 * the environment (SECMON_PASSWORD_FILE, SECMON_SERVERNAME).
 */
export function extraOption(plan: Plan, target: HostSpec, env: NodeJS.ProcessEnv, key: 'passwordFile' | 'servername'): string | undefined {
	const fromPlan = plan.security(target)[key];
	if (typeof fromPlan === 'string' && fromPlan !== '') {
		return fromPlan;
	}

	const fromEnv = env[key === 'passwordFile' ? 'SECMON_PASSWORD_FILE' : 'SECMON_SERVERNAME'];
	return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * The plan's security settings for one target → the options of security/tls.ts, for every
 * protocol that verifies a certificate (PCP's upgrade and TLS from the first byte). `overrides`:
 * what the protocol decides itself (Icinga's enrolled certificate, PCP's --servername default).
 */
export function tlsOptionsFor(target: HostSpec, plan: Plan, hooks: SessionHooks, overrides: {cert?: string; key?: string; servername?: string} = {}): TlsOptions {
	const security = plan.security(target);
	const cert = overrides.cert ?? security.cert;
	const key = overrides.key ?? security.key;
	const servername = overrides.servername ?? extraOption(plan, target, hooks.env, 'servername');
	return {
		target: {host: target.host, port: target.port},
		...(servername === undefined ? {} : {servername}),
		...(security.caFile === undefined ? {} : {caFile: security.caFile}),
		...(cert === undefined ? {} : {cert}),
		...(key === undefined ? {} : {key}),
		...(security.fingerprint === undefined ? {} : {fingerprint: security.fingerprint}),
		acceptNew: security.acceptNew,
		...(security.interactive && hooks.ask ? {ask: hooks.ask} : {}),
		store: TrustStore.for(secmonHome(hooks.env)),
		timeoutMs: plan.connectTimeoutMs,
		onWarning: hooks.warn,
		...(hooks.argv === undefined ? {} : {rerunCommand: rerunCommand(hooks.argv, security)}),
		...(security.rememberTls === undefined ? {} : {remember: security.rememberTls}),
	};
}
