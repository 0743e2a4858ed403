import {X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {issueCertificate, writeIssued, type IssuedFiles} from '../../source/pki/issue.js';
import {
	formatSnippet, icinga2Snippet, makeSnippet, pmcdSnippet, serverName, stunnelSnippet, zabbixAgentSnippet, type SnippetInput,
} from '../../source/pki/snippets.js';
import {
	cleanTempDirs, makeTestSet, tempDir, type TestSet,
} from './helpers.js';

let set: TestSet;
let input: SnippetInput;
let ecServer: IssuedFiles;

function files(issued: IssuedFiles) {
	return {
		certificatePath: issued.certificatePath,
		keyPath: issued.keyPath,
		combinedPath: issued.combinedPath,
		certificate: new X509Certificate(readFileSync(issued.certificatePath)),
	};
}

beforeAll(async () => {
	const dir = tempDir('snippets');
	set = await makeTestSet(dir, 'rsa2048');
	ecServer = await writeIssued(await issueCertificate({ca: set.ca, cn: 'ec.example', algorithm: 'ecdsa-p256'}), path.join(dir, 'ec'), 'ec', false);
	input = {
		caPath: set.server.caPath, caCertificate: set.ca.certificate, server: files(set.server), client: files(set.client),
	};
});

afterAll(() => {
	cleanTempDirs();
});

function usageError(action: () => unknown): string {
	try {
		action();
	} catch (error) {
		if (isSecmonError(error) && error.exitCode === 2) {
			return `${error.message}\n${error.hint ?? ''}`;
		}

		throw error;
	}

	throw new Error('expected a usage error');
}

describe('snippets', () => {
	it('pmcd: server tls.conf, -Q and a verifying client tls.conf; no -Q without a client certificate', () => {
		const snippet = pmcdSnippet({...input, host: '192.0.2.1'});
		expect(snippet.sections[0]!.lines).toEqual([
			`tls-cert-file = ${set.server.certificatePath}`,
			`tls-key-file = ${set.server.keyPath}`,
			`tls-ca-cert-file = ${set.server.caPath}`,
			'tls-verify-clients = true',
		]);
		expect(snippet.sections[1]!.lines).toEqual(['-Q']);
		expect(snippet.sections[2]!.lines).toContain(`tls-client-cert-file = ${set.client.certificatePath}`);
		expect(snippet.sections[3]!.lines[0]).toContain('pminfo -h 192.0.2.1:44321');
		const {client: _, ...serverOnly} = input;
		const plain = pmcdSnippet(serverOnly);
		expect(plain.sections.flatMap(section => section.lines)).not.toContain('-Q');
		expect(plain.sections[0]!.lines).not.toContain('tls-verify-clients = true');
		expect(usageError(() => pmcdSnippet({...input, caPath: '/etc/pcp/my tls/ca.pem'}))).toContain('whitespace');
	});

	it('zabbix-agent: pins the client by Zabbix DN strings, requires a client, warns about ECDSA agents', () => {
		const snippet = zabbixAgentSnippet(input);
		expect(snippet.sections[0]!.lines).toEqual([
			'TLSAccept=cert',
			`TLSCAFile=${set.server.caPath}`,
			`TLSCertFile=${set.server.certificatePath}`,
			`TLSKeyFile=${set.server.keyPath}`,
			'TLSServerCertIssuer=CN=secmon test CA rsa2048',
			'TLSServerCertSubject=CN=secmon client',
		]);
		expect(snippet.sections[1]!.lines[0]).toContain('--tls-agent-cert-issuer \'CN=secmon test CA rsa2048\' --tls-agent-cert-subject CN=collector');
		const {client: _, ...serverOnly} = input;
		expect(usageError(() => zabbixAgentSnippet(serverOnly))).toContain('--client');
		expect(zabbixAgentSnippet({...input, server: files(ecServer)}).warnings.join(' ')).toContain('ECDSA');
	});

	it('warns when the files do not fit: client certificate as server, other CA', () => {
		const swapped = makeSnippet('pmcd', {...input, server: files(set.client), client: files(set.server)});
		expect(swapped.warnings.join('\n')).toMatch(/is not a server certificate[\s\S]*is not a client certificate/);
		const otherCa = makeSnippet('pmcd', {...input, client: files(set.otherClient)});
		expect(otherCa.warnings.join('\n')).toContain('was not issued by the CA');
	});

	it('stunnel: needs --accept/--connect; requireCert + verifyChain + checkHost on the server; checkIP for an address', () => {
		const {accept: _a, connect: _c, ...rest} = {...input, accept: 'x', connect: 'y'};
		expect(usageError(() => stunnelSnippet(rest))).toContain('--accept');
		const snippet = stunnelSnippet({...input, accept: '0.0.0.0:6557', connect: '127.0.0.1:6556'});
		expect(snippet.sections[0]!.lines).toEqual(expect.arrayContaining([
			'[secmon]',
			'accept = 0.0.0.0:6557',
			'connect = 127.0.0.1:6556',
			`cert = ${set.server.combinedPath}`,
			`CAfile = ${set.server.caPath}`,
			'requireCert = yes',
			'verifyChain = yes',
			'checkHost = secmon client',
		]));
		expect(snippet.sections[1]!.lines).toEqual(expect.arrayContaining(['client = yes', 'connect = collector:6557', 'checkHost = collector']));
		const byAddress = stunnelSnippet({
			...input, accept: '6557', connect: '6556', host: '192.0.2.5',
		});
		expect(byAddress.sections[1]!.lines).toEqual(expect.arrayContaining(['connect = 192.0.2.5:6557', 'checkIP = 192.0.2.5']));
		expect(formatSnippet(snippet)).toMatch(/^; stunnel.conf on the collector/);
	});

	it('icinga2: installs the files under the node name and adds an ApiUser for the client CN', () => {
		const snippet = icinga2Snippet(input);
		expect(snippet.sections[0]!.lines).toEqual([
			`install -o nagios -g nagios -m 0644 ${set.server.certificatePath} /var/lib/icinga2/certs/collector.crt`,
			`install -o nagios -g nagios -m 0600 ${set.server.keyPath} /var/lib/icinga2/certs/collector.key`,
			`install -o nagios -g nagios -m 0644 ${set.server.caPath} /var/lib/icinga2/certs/ca.crt`,
			'icinga2 feature enable api',
		]);
		expect(snippet.sections[1]!.lines.join('\n')).toContain('client_cn = "secmon client"');
		expect(snippet.sections[2]!.lines[0]).toContain('https://collector:5665/v1/status/CIB');
		expect(snippet.warnings).toEqual([]);
	});

	it('names the server by its first DNS name, else its address, else its CN', () => {
		expect(serverName(input.server.certificate)).toBe('collector');
		expect(formatSnippet(makeSnippet('pmcd', input))).toMatch(/^# \/etc\/pcp\/tls.conf/);
	});
});
