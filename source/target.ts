import {SecmonError} from './errors.js';
import {
	defaultProtocol, descriptorFor, protocolOfScheme, type Protocol,
} from './protocols/registry.js';

export type {Protocol} from './protocols/registry.js';

export type HostSpec = {
	protocol: Protocol;
	/** Host without brackets (IPv6 literals are bare). */
	host: string;
	port: number;
	/** The scheme as typed, e.g. "pcps"; undefined when none was given. */
	scheme?: string;
	/** `?secure=relaxed` on a pcps:// spec, as PCP accepts it. */
	secureParameter?: string;
	/** `?hostspec=HOST[:PORT]` on a pmproxy:// spec: the pmcd pmproxy reads (docs/pmproxy.md#hostspec). */
	hostspec?: string;
	/**
	 * host:port for messages, with brackets around IPv6 ("[::1]:44321"); a pmproxy:// spec's
	 * hostspec follows it ("proxy:44322?hostspec=pmcd1:44321"), so two such targets differ.
	 */
	display: string;
	/**
	 * PCP without an explicit port: $PMCD_PORT's other ports, tried in turn when nothing listens
	 * on `port` (docs/pcp.md#pmcd_port).
	 */
	otherPorts?: number[];
};

export function displayHostPort(host: string, port: number): string {
	return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function usage(spec: string, why: string): SecmonError {
	return new SecmonError(
		'USAGE',
		`invalid --host "${spec}": ${why}`,
		'Use host, host:port, [ipv6]:port, or a URL such as pcps://collector:44321 or zabbix://agent:10050.',
	);
}

/**
 * Parse `--host` as pminfo and the other clients accept it: `host`, `host:port`,
 * `[v6]:port`, bare `::1`, and scheme URLs (protocols/registry.ts: `pcp://`, `pcps://` =
 * enforce, `zabbix://`, `icinga://`, `livestatus://`, `mon://`).
 */
export function parseHostSpec(spec: string, env: NodeJS.ProcessEnv = {}): HostSpec {
	let rest = spec.trim();
	if (rest === '') {
		throw usage(spec, 'empty host');
	}

	let scheme: string | undefined;
	let protocol: Protocol = defaultProtocol;
	let secureParameter: string | undefined;
	let hostspec: string | undefined;
	const schemeMatch = /^([a-z][a-z\d+.-]*):\/\//i.exec(rest);
	if (schemeMatch) {
		scheme = schemeMatch[1]!.toLowerCase();
		rest = rest.slice(schemeMatch[0].length);
		const chosen = protocolOfScheme(scheme);
		if (chosen === undefined) {
			throw usage(spec, `unknown scheme "${scheme}://"`);
		}

		protocol = chosen;
	}

	const query = rest.indexOf('?');
	if (query !== -1) {
		const parameters = new URLSearchParams(rest.slice(query + 1));
		rest = rest.slice(0, query);
		const secure = parameters.get('secure');
		if (secure !== null) {
			secureParameter = secure;
		}

		const unknown = [...parameters.keys()].find(name => name !== 'hostspec' && name !== 'secure');
		if (protocol === 'pmproxy' && unknown !== undefined) {
			// pmproxy:// takes ?hostspec= only: a user name or password here would be shown and sent.
			throw new SecmonError(
				'USAGE',
				'invalid --host: a pmproxy:// host takes only ?hostspec=HOST[:PORT]',
				'Credentials go in a file given with --password-file (USER:PASSWORD)',
			);
		}

		const pmcd = parameters.get('hostspec');
		if (pmcd !== null) {
			if (protocol !== 'pmproxy') {
				throw usage(spec, '?hostspec= is for pmproxy:// hosts');
			}

			// It is shown wherever the target is (display, --json "hostspec") and goes into the
			// context request's query string: one HOST or HOST:PORT only (docs/pmproxy.md#hostspec),
			// never pmproxy's wider hostspec syntax, whose ?username=&password= would carry a secret.
			if (/[?&@=]/.test(pmcd)) {
				throw new SecmonError(
					'USAGE',
					// Not echoed: the spec may hold a password.
					'invalid --host: bad ?hostspec= (one HOST or HOST:PORT, no user name, password or parameters)',
					'Give the pmcd as ?hostspec=HOST[:PORT]; credentials go in a file given with --password-file.',
				);
			}

			const pmcdPortText = /:(\d{1,5})$/.exec(pmcd)?.[1];
			if (!/^(?:[A-Za-z\d.-]+|\[[\dA-Fa-f:.]+])(?::\d{1,5})?$/.test(pmcd)
				|| (pmcdPortText !== undefined && (Number(pmcdPortText) < 1 || Number(pmcdPortText) > 65_535))) {
				throw usage(spec, 'bad ?hostspec= (one HOST or HOST:PORT)');
			}

			hostspec = pmcd;
		}
	}

	rest = rest.replace(/\/+$/, '');
	let host: string;
	let portText: string | undefined;
	if (rest.startsWith('[')) {
		const end = rest.indexOf(']');
		if (end === -1) {
			throw usage(spec, 'missing "]" after IPv6 address');
		}

		host = rest.slice(1, end);
		const after = rest.slice(end + 1);
		if (after !== '') {
			if (!after.startsWith(':')) {
				throw usage(spec, `unexpected "${after}" after "]"`);
			}

			portText = after.slice(1);
		}
	} else if ((rest.match(/:/g) ?? []).length > 1) {
		// A bare IPv6 literal such as ::1 (pminfo rejects it; we take it as a host).
		host = rest;
	} else {
		const colon = rest.indexOf(':');
		if (colon === -1) {
			host = rest;
		} else {
			host = rest.slice(0, colon);
			portText = rest.slice(colon + 1);
		}
	}

	if (host === '' || /[\s/@]/.test(host)) {
		throw usage(spec, 'bad host name');
	}

	let port = protocol === 'pcp' ? pmcdPort(env) : descriptorFor(protocol).defaultPort;
	const otherPorts = protocol === 'pcp' && portText === undefined ? pmcdPorts(env).slice(1) : [];
	if (portText !== undefined) {
		if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) {
			throw usage(spec, `bad port "${portText}"`);
		}

		port = Number(portText);
	}

	return {
		protocol, host, port, scheme, secureParameter, ...(hostspec === undefined ? {} : {hostspec}),
		display: displayHostPort(host, port) + (hostspec === undefined ? '' : `?hostspec=${hostspec}`),
		...(otherPorts.length > 0 ? {otherPorts} : {}),
	};
}

/**
 * The port of a PCP host given without one: the first of $PMCD_PORT's comma-separated ports
 * (the others are tried in turn: pmcdPorts, docs/pcp.md#pmcd_port), else 44321.
 */
export function pmcdPort(env: NodeJS.ProcessEnv): number {
	return pmcdPorts(env)[0]!;
}

/** How many of $PMCD_PORT's ports are tried: a long list must not become a port scan. */
const maxPmcdPorts = 16;

/**
 * $PMCD_PORT's ports in order, as libpcp's __pmPMCDAddPorts reads them (comma-separated; the
 * list stops at the first entry that is not a port), at most 16; 44321 when none is valid.
 */
export function pmcdPorts(env: NodeJS.ProcessEnv): number[] {
	const ports: number[] = [];
	for (const entry of (env['PMCD_PORT'] ?? '').split(',')) {
		const port = /^\s*\d{1,5}\s*$/.test(entry) ? Number(entry) : Number.NaN;
		if (!(port >= 1 && port <= 65_535) || ports.length === maxPmcdPorts) {
			break;
		}

		if (!ports.includes(port)) {
			ports.push(port);
		}
	}

	return ports.length > 0 ? ports : [descriptorFor('pcp').defaultPort];
}

/** Node wants no SNI for IP literals (docs/node.md#sni-for-ip-literals, DEP0123). */
export function isIpLiteral(host: string): boolean {
	return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
