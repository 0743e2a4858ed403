/**
 * Certificates from secmon pki accepted by the real zabbix_agentd (TLSAccept=cert, with
 * TLSServerCertIssuer/Subject pinning the client certificate, docs/zabbix.md#running-the-agent), configured with the
 * lines of `pki snippet zabbix-agent` and queried with the snippet's real zabbix_get command.
 */
import {execFileSync} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {chmodSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {
	runProcess, startAgent, stripZabbixPrefix, zabbixGetPath, type Agent,
} from '../helpers/zabbix.js';
import {issueCertificate, writeIssued, type IssuedFiles} from '../../source/pki/issue.js';
import {makeSnippet, type SnippetInput} from '../../source/pki/snippets.js';
import {
	cleanTempDirs, makeTestSet, tempDir, type TestSet,
} from './helpers.js';

function files(issued: IssuedFiles) {
	return {
		certificatePath: issued.certificatePath,
		keyPath: issued.keyPath,
		combinedPath: issued.combinedPath,
		certificate: new X509Certificate(readFileSync(issued.certificatePath)),
	};
}

// Not skipped when Zabbix is missing: startAgent() then fails with the install command (zabbix.ts).
describe('zabbix_agentd with secmon certificates', () => {
	let set: TestSet;
	let dir: string;
	let agent: Agent | undefined;
	let client: IssuedFiles;
	let input: SnippetInput;

	/** The snippet's zabbix_get line, run by bash with the real binary; optionally with another client certificate. */
	async function zabbixGet(certificate?: IssuedFiles) {
		const snippet = makeSnippet('zabbix-agent', {
			...input, host: '127.0.0.1', port: agent!.port, ...(certificate ? {client: files(certificate)} : {}),
		});
		const line = snippet.sections[1]!.lines[0]!;
		expect(line).toMatch(/^zabbix_get -s 127\.0\.0\.1 -p \d+ -k agent\.ping --tls-connect cert /);
		const result = await runProcess('bash', ['-c', line.replace(/^zabbix_get /, `${zabbixGetPath} -t 5 `)], 30_000);
		return {...result, stderr: stripZabbixPrefix(result.stderr)};
	}

	beforeAll(async () => {
		dir = tempDir('zabbix');
		set = await makeTestSet(dir, 'rsa2048');
		// A client with an O= too, so the pinned subject has two RDNs in Zabbix's order.
		client = await writeIssued(await issueCertificate({
			ca: set.ca, cn: 'secmon client', organization: 'Secmon Test', usage: 'client',
		}), path.join(dir, 'zbx-client'), 'client', false);
		// The agent drops to user zabbix (docs/zabbix.md#running-the-agent): it must reach its CA, certificate and key.
		if (process.getuid?.() === 0) {
			chmodSync(dir, 0o755);
			execFileSync('chown', ['-R', 'zabbix:', path.dirname(set.server.certificatePath)]);
		}

		input = {
			caPath: set.server.caPath,
			caCertificate: set.ca.certificate,
			server: files(set.server),
			client: files(client),
		};
		const snippet = makeSnippet('zabbix-agent', input);
		expect(snippet.warnings).toEqual([]);
		const agentLines = snippet.sections[0]!.lines;
		expect(agentLines).toContain('TLSServerCertIssuer=CN=secmon test CA rsa2048');
		expect(agentLines).toContain('TLSServerCertSubject=CN=secmon client,O=Secmon Test');
		// The script's own certificate lines come first; ours (appended) win, since Zabbix keeps the last value.
		agent = await startAgent('cert', {issuer: '-', subject: '-', extra: agentLines.join('\n')});
	});

	afterAll(async () => {
		await agent?.stop();
		cleanTempDirs();
	});

	it('answers zabbix_get over TLS with the pinned secmon client certificate', async () => {
		const result = await zabbixGet();
		expect(result.stderr).toBe('');
		expect(result.stdout.trim()).toBe('1');
		expect(result.code).toBe(0);
	});

	it('refuses a client of the same CA with another subject (TLSServerCertSubject)', async () => {
		const result = await zabbixGet(set.strangerClient);
		expect(result.code).not.toBe(0);
		expect(result.stdout).not.toMatch(/^1$/m);
		// The listener writes its log line after it has dropped the connection: wait for it.
		const deadline = Date.now() + 5000;
		while (!agent!.log().includes('certificate subject does not match') && Date.now() < deadline) {
			await delay(50);
		}

		expect(agent!.log()).toContain('certificate subject does not match');
	});

	it('refuses a client certificate from another CA', async () => {
		const result = await zabbixGet(set.otherClient);
		expect(result.code).not.toBe(0);
		expect(result.stdout).not.toMatch(/^1$/m);
	});

	it('zabbix_get refuses the agent when the pinned agent subject is wrong (the snippet strings are exact)', async () => {
		const snippet = makeSnippet('zabbix-agent', {...input, host: '127.0.0.1', port: agent!.port});
		const line = snippet.sections[1]!.lines[0]!.replace('--tls-agent-cert-subject CN=collector', '--tls-agent-cert-subject CN=other');
		const result = await runProcess('bash', ['-c', line.replace(/^zabbix_get /, `${zabbixGetPath} -t 5 `)], 30_000);
		expect(result.code).toBe(1);
		expect(stripZabbixPrefix(result.stderr)).toContain('subject: peer: "CN=collector", required: "CN=other"');
	});
});
