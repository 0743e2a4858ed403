/**
 * icinga:// → a verified IcingaSource. Authentication, in this order: --cert/--key; the
 * certificate `secmon enroll` stored for this collector; a password file (USER:PASSWORD). The
 * first request (GET /v1) checks the credentials at once, so a 401 is reported before any metric.
 */
import type {SessionHooks} from '../../io.js';
import {SecmonError} from '../../errors.js';
import type {Plan} from '../../plan.js';
import {secmonHome} from '../../security/home.js';
import {displayHostPort, type HostSpec} from '../../target.js';
import {readPasswordFile} from '../shared/password-file.js';
import {TlsConnector} from '../../security/tls-connector.js';
import {extraOption, tlsOptionsFor} from '../shared/tls-options.js';
import {enrolledCertificate} from './credentials.js';
import {IcingaHttp, type IcingaAuth} from './http.js';
import {IcingaSource} from './source.js';

/** Does a permission list (strings or {permission, filter}) grant `wanted`? Icinga allows `*` wildcards. */
export function hasPermission(permissions: unknown, wanted: string): boolean {
	if (!Array.isArray(permissions)) {
		return false;
	}

	return permissions.some(entry => {
		const permission = typeof entry === 'string' ? entry : (typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['permission'] : undefined);
		if (typeof permission !== 'string') {
			return false;
		}

		const pattern = new RegExp(`^${permission.split('*').map(part => part.replaceAll(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
		return pattern.test(wanted);
	});
}

export async function openIcinga(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<IcingaSource> {
	const security = plan.security(target);
	const auth: IcingaAuth = {};
	let {cert} = security;
	let {key} = security;
	if (cert === undefined) {
		const enrolled = enrolledCertificate(secmonHome(hooks.env), {host: target.host, port: target.port});
		if (enrolled) {
			cert = enrolled.cert;
			key = enrolled.key;
			auth.certificate = `the certificate from "secmon enroll" (${enrolled.cert})`;
		}
	} else {
		auth.certificate = `the client certificate ${cert}`;
	}

	const passwordFile = extraOption(plan, target, hooks.env, 'passwordFile');
	if (passwordFile !== undefined) {
		auth.basic = await readPasswordFile(passwordFile, hooks.warn);
	}

	const connector = new TlsConnector(tlsOptionsFor(target, plan, hooks, {
		...(cert === undefined ? {} : {cert}),
		...(key === undefined ? {} : {key}),
	}));
	const http = new IcingaHttp({
		connector,
		where: target.display,
		hostHeader: displayHostPort(connector.options.servername ?? target.host, target.port),
		auth,
		requestTimeoutMs: plan.requestTimeoutMs,
	});
	let events = true;
	try {
		const hello = await http.request('GET', '/v1');
		if (hello.status !== 200) {
			throw http.statusError(hello, {action: 'authenticate us', permission: 'any'});
		}

		const first = Array.isArray((hello.body as {results?: unknown} | undefined)?.results) ? (hello.body as {results: unknown[]}).results[0] : undefined;
		if (typeof first !== 'object' || first === null || !('user' in first)) {
			throw new SecmonError('PROTOCOL', `${target.display} does not look like the Icinga 2 API (GET /v1 gave no user)`, 'Check the port: the Icinga 2 API listens on 5665 by default');
		}

		events = hasPermission((first as {permissions?: unknown}).permissions, 'events/CheckResult');
	} catch (error) {
		http.close();
		throw error;
	}

	return new IcingaSource({
		http, target, tls: () => connector.facts, warn: hooks.warn, events,
	});
}
