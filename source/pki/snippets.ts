/**
 * `secmon pki snippet …`: the configuration lines that put issued files to use on a collector
 * and on the monitoring side. Each snippet is a list of sections (one per file or command), so
 * tests can write them into real configs and start the real programs with them.
 */
import {type X509Certificate} from 'node:crypto';
import {isIP} from 'node:net';
import {SecmonError} from '../errors.js';
import {
	decodeNameDer, nameValue, nameOids, zabbixDn,
} from './der.js';
import {certificateParts, sansOf} from './x509.js';

export const snippetKinds = ['pmcd', 'zabbix-agent', 'stunnel', 'icinga2', 'pmproxy'] as const;
export type SnippetKind = (typeof snippetKinds)[number];

export function isSnippetKind(value: string): value is SnippetKind {
	return (snippetKinds as readonly string[]).includes(value);
}

export type CertificateFiles = {
	certificatePath: string;
	keyPath: string;
	/** Key + certificate + chain in one file, when there is one. */
	combinedPath?: string;
	certificate: X509Certificate;
};

export type SnippetInput = {
	/** The CA certificate file as the collector will see it. */
	caPath: string;
	/** The CA certificate file on the monitoring host (client-side sections); default caPath. */
	localCaPath?: string;
	caCertificate: X509Certificate;
	/** The collector's (server) certificate and key. */
	server: CertificateFiles;
	/** The monitoring side's client certificate, when client certificates are used. */
	client?: CertificateFiles;
	/** Collector host name or address clients connect to (default: first DNS/IP name of the server certificate). */
	host?: string;
	/** Collector port (default per kind: pmcd 44321, Zabbix 10050, Icinga 2 5665). */
	port?: number;
	/** stunnel: the TLS address:port stunnel listens on, and the plain address:port it forwards to. */
	accept?: string;
	connect?: string;
	/** stunnel service name (section header). */
	service?: string;
};

export type SnippetSection = {
	/** Where the lines go, e.g. "/etc/pcp/tls.conf (on the collector)". */
	title: string;
	lines: string[];
};

export type Snippet = {
	kind: SnippetKind;
	sections: SnippetSection[];
	/** Problems with the chosen files for this collector (printed as comments and on stderr). */
	warnings: string[];
};

function commonName(certificate: X509Certificate): string | undefined {
	return nameValue(decodeNameDer(certificateParts(certificate).subject), nameOids.CN);
}

/** The name a client should connect to / verify: first DNS SAN, else first IP SAN, else the CN. */
export function serverName(certificate: X509Certificate): string {
	const sans = sansOf(certificate);
	const dns = sans.find(item => item.startsWith('DNS:'));
	const ip = sans.find(item => item.startsWith('IP:'));
	return (dns ?? ip)?.replace(/^(DNS|IP):/, '') ?? commonName(certificate) ?? 'collector';
}

function hasExtendedUsage(certificate: X509Certificate, oid: string): boolean {
	const usage = certificate.keyUsage;
	// Node lists extKeyUsage OIDs here; undefined means no extension, i.e. any purpose.
	return usage === undefined || usage.includes(oid);
}

const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

function usageWarnings(input: SnippetInput): string[] {
	const warnings: string[] = [];
	if (!hasExtendedUsage(input.server.certificate, serverAuth)) {
		warnings.push(`${input.server.certificatePath} is not a server certificate (no serverAuth); issue one with: secmon pki issue --server --cn NAME`);
	}

	if (input.client && !hasExtendedUsage(input.client.certificate, clientAuth)) {
		warnings.push(`${input.client.certificatePath} is not a client certificate (no clientAuth); issue one with: secmon pki issue --client --cn NAME`);
	}

	if (!input.server.certificate.checkIssued(input.caCertificate)) {
		warnings.push(`${input.server.certificatePath} was not issued by the CA in ${input.caPath}; clients that trust that CA will reject it`);
	}

	if (input.client && !input.client.certificate.checkIssued(input.caCertificate)) {
		warnings.push(`${input.client.certificatePath} was not issued by the CA in ${input.caPath}; the collector will reject it`);
	}

	return warnings;
}

function assertNoWhitespace(paths: string[], why: string): void {
	for (const file of paths) {
		if (/\s/.test(file)) {
			throw new SecmonError('USAGE', `the path "${file}" contains whitespace, ${why}`, 'copy the files to a directory without spaces and pass --dest DIR');
		}
	}
}

function quoteShell(value: string): string {
	return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll('\'', '\'\\\'\'')}'`;
}

function hostPort(host: string, port: number): string {
	return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// docs/pcp.md#tls-configuration: tls.conf values end at the first blank, so paths cannot contain spaces.
const tlsConfPaths = 'and PCP\'s tls.conf cannot hold such paths (its values end at the first blank)';

/**
 * The collector's tls.conf, one file for pmcd and pmproxy (docs/pcp.md#tls-configuration,
 * docs/pmproxy.md#tls). With a client certificate, "tls-verify-clients = true" (only the word
 * "true") makes client certificates mandatory.
 */
function collectorTlsConf(input: SnippetInput): string[] {
	const lines = [
		`tls-cert-file = ${input.server.certificatePath}`,
		`tls-key-file = ${input.server.keyPath}`,
		`tls-ca-cert-file = ${input.caPath}`,
	];
	if (input.client) {
		lines.push('tls-verify-clients = true');
	}

	return lines;
}

/** pmcd (docs/pcp.md#tls-configuration): tls.conf for pmcd, -Q in pmcd.options, and a client tls.conf for pminfo/pmval. */
export function pmcdSnippet(input: SnippetInput): Snippet {
	const {client} = input;
	assertNoWhitespace([input.caPath, input.localCaPath ?? input.caPath, input.server.certificatePath, input.server.keyPath, ...(client ? [client.certificatePath, client.keyPath] : [])], tlsConfPaths);
	const host = input.host ?? serverName(input.server.certificate);
	const port = input.port ?? 44_321;
	const server = collectorTlsConf(input);
	const sections: SnippetSection[] = [
		{title: '/etc/pcp/tls.conf on the collector (or the file PCP_TLSCONF_PATH names); restart pmcd afterwards', lines: server},
	];
	if (client) {
		sections.push({
			title: '/etc/pcp/pmcd/pmcd.options on the collector: add this line so remote clients must present a certificate (pmcd never demands one from 127.0.0.1, ::1 or its unix socket)',
			lines: ['-Q'],
		});
	}

	const clientLines = [
		`tls-ca-cert-file = ${input.localCaPath ?? input.caPath}`,
		// On a client, "tls-verify-clients" turns on verification of the *server* (docs/pcp.md#tls-configuration).
		'tls-verify-clients = true',
	];
	if (client) {
		clientLines.push(`tls-client-cert-file = ${client.certificatePath}`, `tls-client-key-file = ${client.keyPath}`);
	}

	sections.push(
		{title: 'a tls.conf for pminfo/pmval on the monitoring host (they never check the host name, secmon does)', lines: clientLines},
		{title: 'then, on the monitoring host', lines: [`PCP_SECURE_SOCKETS=enforce PCP_TLSCONF_PATH=/path/to/that/tls.conf pminfo -h ${hostPort(host, port)} -f hinv.ncpu`]},
	);
	return {kind: 'pmcd', sections, warnings: usageWarnings(input)};
}

/**
 * pmproxy (docs/pmproxy.md#tls): the same tls.conf as pmcd (PCP_TLSCONF_PATH, default
 * /etc/pcp/tls.conf), secure.enabled in pmproxy.conf, and the secmon command that reads it.
 * With a client certificate, tls-verify-clients = true makes pmproxy refuse every TLS client
 * without one (HTTPS only: plain HTTP on the same port is not affected).
 */
export function pmproxySnippet(input: SnippetInput): Snippet {
	const {client} = input;
	assertNoWhitespace([input.caPath, input.server.certificatePath, input.server.keyPath], tlsConfPaths);
	const host = input.host ?? serverName(input.server.certificate);
	const port = input.port ?? 44_322;
	const server = collectorTlsConf(input);
	const command = [`secmon --host pmproxys://${hostPort(host, port)}`, `--ca-file ${quoteShell(input.localCaPath ?? input.caPath)}`];
	if (client) {
		command.push(`--cert ${quoteShell(client.certificatePath)}`, `--key ${quoteShell(client.keyPath)}`);
	}

	command.push('-f hinv.ncpu');
	return {
		kind: 'pmproxy',
		sections: [
			{title: '/etc/pcp/tls.conf on the collector (or the file PCP_TLSCONF_PATH names in pmproxy\'s environment)', lines: server},
			{title: '/etc/pcp/pmproxy/pmproxy.conf on the collector, section [pmproxy]; restart pmproxy afterwards (its log then says "OpenSSL … setup")', lines: ['[pmproxy]', 'secure.enabled = true']},
			{title: 'then, on the monitoring host', lines: [command.join(' ')]},
		],
		warnings: usageWarnings(input),
	};
}

/** zabbix_agentd.conf (docs/zabbix.md#running-the-agent, docs/zabbix.md#issuer-and-subject) and the matching zabbix_get call. */
export function zabbixAgentSnippet(input: SnippetInput): Snippet {
	const warnings = usageWarnings(input);
	const {client} = input;
	if (!client) {
		throw new SecmonError(
			'USAGE',
			'a Zabbix agent with TLSAccept=cert always requires a client certificate (docs/zabbix.md#tls-versions-and-suites)',
			'issue one (secmon pki issue --client --cn "secmon client") and pass it with --client NAME',
		);
	}

	if (input.server.certificate.publicKey.asymmetricKeyType !== 'rsa') {
		warnings.push('the agent certificate has an ECDSA key: Debian\'s zabbix_agentd (GnuTLS, default TLSCipherCert) offers RSA suites only and fails the handshake; issue the agent certificate with --algorithm rsa2048');
	}

	const issuer = zabbixDn(decodeNameDer(certificateParts(client.certificate).issuer));
	const subject = zabbixDn(decodeNameDer(certificateParts(client.certificate).subject));
	const agentIssuer = zabbixDn(decodeNameDer(certificateParts(input.server.certificate).issuer));
	const agentSubject = zabbixDn(decodeNameDer(certificateParts(input.server.certificate).subject));
	const host = input.host ?? '127.0.0.1';
	const port = input.port ?? 10_050;
	return {
		kind: 'zabbix-agent',
		sections: [
			{
				title: 'zabbix_agentd.conf on the collector (the agent runs as user zabbix: it must be able to read these files); restart the agent afterwards',
				lines: [
					'TLSAccept=cert',
					`TLSCAFile=${input.caPath}`,
					`TLSCertFile=${input.server.certificatePath}`,
					`TLSKeyFile=${input.server.keyPath}`,
					// "Server" here means the side that connects: these pin the client certificate.
					`TLSServerCertIssuer=${issuer}`,
					`TLSServerCertSubject=${subject}`,
				],
			},
			{
				title: 'the same check with zabbix_get from the monitoring host',
				lines: [[
					'zabbix_get',
					'-s',
					host,
					'-p',
					String(port),
					'-k',
					'agent.ping',
					'--tls-connect',
					'cert',
					'--tls-ca-file',
					input.localCaPath ?? input.caPath,
					'--tls-cert-file',
					client.certificatePath,
					'--tls-key-file',
					client.keyPath,
					'--tls-agent-cert-issuer',
					agentIssuer,
					'--tls-agent-cert-subject',
					agentSubject,
				].map(item => quoteShell(item)).join(' ')],
			},
		],
		warnings,
	};
}

/** stunnel 5 in front of a plain collector, client certificate required (docs/icinga-livestatus-mon.md#stunnel, docs/icinga-livestatus-mon.md#checkmk-tls), and a client-side stunnel. */
export function stunnelSnippet(input: SnippetInput): Snippet {
	if (!input.accept || !input.connect) {
		throw new SecmonError(
			'USAGE',
			'the stunnel snippet needs --accept (the TLS address:port stunnel listens on) and --connect (the plain collector address:port)',
			'e.g. secmon pki snippet stunnel --server collector --client "secmon client" --accept 0.0.0.0:6557 --connect 127.0.0.1:6556',
		);
	}

	const service = input.service ?? 'secmon';
	const serverFile = input.server.combinedPath ?? input.server.certificatePath;
	const server = [
		`[${service}]`,
		`accept = ${input.accept}`,
		`connect = ${input.connect}`,
		`cert = ${serverFile}`,
		`key = ${input.server.keyPath}`,
		'sslVersionMin = TLSv1.2',
		'TIMEOUTclose = 0',
	];
	const {client} = input;
	if (client) {
		server.push(
			`CAfile = ${input.caPath}`,
			// stunnel 5 spelling of the old "verify = 2": no certificate, no connection.
			'requireCert = yes',
			'verifyChain = yes',
		);
		const clientCn = commonName(client.certificate);
		if (clientCn) {
			server.push(`checkHost = ${clientCn}`);
		}
	}

	const name = input.host ?? serverName(input.server.certificate);
	const acceptPort = /(\d+)$/.exec(input.accept)?.[1] ?? input.accept;
	const clientSide = [
		`[${service}-client]`,
		'client = yes',
		`accept = 127.0.0.1:${acceptPort}`,
		`connect = ${hostPort(name, Number(acceptPort))}`,
		`CAfile = ${input.localCaPath ?? input.caPath}`,
		'verifyChain = yes',
		// checkHost matches DNS names only; an address is matched against IP SANs with checkIP.
		isIP(name) ? `checkIP = ${name}` : `checkHost = ${name}`,
		'sslVersionMin = TLSv1.2',
	];
	if (client) {
		clientSide.push(`cert = ${client.combinedPath ?? client.certificatePath}`, `key = ${client.keyPath}`);
	}

	return {
		kind: 'stunnel',
		sections: [
			{title: `stunnel.conf on the collector: TLS on ${input.accept}, forwarded to ${input.connect}`, lines: server},
			{title: 'stunnel.conf on the monitoring host, for tools that cannot speak TLS themselves (secmon can)', lines: clientSide},
		],
		warnings: usageWarnings(input),
	};
}

/** Icinga 2 (docs/icinga-livestatus-mon.md#running-icinga2): the API feature reads DataDir/certs/<NodeName>.{crt,key} and ca.crt. */
export function icinga2Snippet(input: SnippetInput): Snippet {
	const node = commonName(input.server.certificate);
	if (!node) {
		throw new SecmonError('USAGE', `${input.server.certificatePath} has no CN; Icinga 2 names its certificate files after the node's CN`, 'issue the node certificate with --cn NODENAME');
	}

	const certs = '/var/lib/icinga2/certs';
	const port = input.port ?? 5665;
	const sections: SnippetSection[] = [
		{
			title: `on the Icinga 2 node (its NodeName in constants.conf must be "${node}"); restart icinga2 afterwards`,
			lines: [
				`install -o nagios -g nagios -m 0644 ${quoteShell(input.server.certificatePath)} ${quoteShell(`${certs}/${node}.crt`)}`,
				`install -o nagios -g nagios -m 0600 ${quoteShell(input.server.keyPath)} ${quoteShell(`${certs}/${node}.key`)}`,
				`install -o nagios -g nagios -m 0644 ${quoteShell(input.caPath)} ${certs}/ca.crt`,
				'icinga2 feature enable api',
			],
		},
	];
	const {client} = input;
	if (client) {
		const clientCn = commonName(client.certificate) ?? 'secmon';
		const userName = clientCn.replaceAll(/[^\w.-]+/g, '-');
		sections.push({
			title: 'an ApiUser for the client certificate, e.g. in /etc/icinga2/conf.d/api-users.conf (a certificate chaining to ca.crt whose CN equals client_cn logs in without a password)',
			lines: [
				`object ApiUser "${userName}" {`,
				`\tclient_cn = "${clientCn.replaceAll('"', '\\"')}"`,
				'\tpermissions = [ "status/query", "objects/query/Host", "objects/query/Service", "events/CheckResult" ]',
				'}',
			],
		}, {
			title: 'check it from the monitoring host',
			lines: [[
				'curl',
				'--cacert',
				input.localCaPath ?? input.caPath,
				'--cert',
				client.certificatePath,
				'--key',
				client.keyPath,
				...(input.host ? ['--resolve', `${node}:${port}:${input.host}`] : []),
				`https://${node}:${port}/v1/status/CIB`,
			].map(item => quoteShell(item)).join(' ')],
		});
	}

	const warnings = usageWarnings(input);
	if (!sansOf(input.server.certificate).includes(`DNS:${node}`)) {
		warnings.push(`the node certificate lacks the name DNS:${node}; Icinga 2 peers connect by endpoint name and will not match it`);
	}

	return {kind: 'icinga2', sections, warnings};
}

export function makeSnippet(kind: SnippetKind, input: SnippetInput): Snippet {
	switch (kind) {
		case 'pmcd': {
			return pmcdSnippet(input);
		}

		case 'zabbix-agent': {
			return zabbixAgentSnippet(input);
		}

		case 'stunnel': {
			return stunnelSnippet(input);
		}

		case 'icinga2': {
			return icinga2Snippet(input);
		}

		case 'pmproxy': {
			return pmproxySnippet(input);
		}
	}

	throw new Error('unreachable');
}

/** Text for the terminal: each section under a comment line (";" for stunnel, "#" otherwise). */
export function formatSnippet(snippet: Snippet): string {
	const comment = snippet.kind === 'stunnel' ? ';' : '#';
	const parts: string[] = [];
	for (const warning of snippet.warnings) {
		parts.push(`${comment} WARNING: ${warning}`);
	}

	for (const section of snippet.sections) {
		if (parts.length > 0) {
			parts.push('');
		}

		parts.push(`${comment} ${section.title}`, ...section.lines);
	}

	return `${parts.join('\n')}\n`;
}
