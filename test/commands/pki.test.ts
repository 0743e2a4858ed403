import {
	chmodSync, existsSync, readFileSync, statSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {pkiCommand} from '../../source/commands/pki.js';
import {
	cleanTempDirs, opensslVerify, run, tempDir,
} from '../pki/helpers.js';

type Result = {code: number; stdout: string; stderr: string};

function sink(): {stream: Writable; text: () => string} {
	let text = '';
	return {
		stream: new Writable({
			write(chunk: Uint8Array | string, _encoding, callback) {
				text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
				callback();
			},
		}),
		text: () => text,
	};
}

let home: string;

async function pki(...argv: string[]): Promise<Result> {
	const stdout = sink();
	const stderr = sink();
	const code = await pkiCommand(argv, {stdout: stdout.stream, stderr: stderr.stream, env: {SECMON_HOME: home}});
	return {code, stdout: stdout.text(), stderr: stderr.text()};
}

beforeAll(() => {
	home = tempDir('cmd-home');
});

afterAll(() => {
	cleanTempDirs();
});

describe('secmon pki usage', () => {
	it('prints help, and exits 2 with what to do next on misuse', async () => {
		const none = await pki();
		expect(none.code).toBe(2);
		expect(none.stderr).toContain('secmon pki init [DIR]');
		const help = await pki('--help');
		expect(help.code).toBe(0);
		expect(help.stdout).toContain('prefer --salt-file');
		expect(help.stdout).toContain('visible to every local user (ps)');
		expect((await pki('issue', '--help')).code).toBe(0);

		const cases: Array<[string[], RegExp]> = [
			[['frobnicate'], /unknown pki command "frobnicate"[\s\S]*choose one of: init, issue, sign, ticket, snippet/],
			[['init', '--bogus'], /unknown option --bogus[\s\S]*secmon pki init --help/],
			[['init', '-x'], /unknown option -x/],
			[['init', '--algorithm', 'dsa'], /unknown --algorithm "dsa"[\s\S]*rsa2048, rsa4096, ecdsa-p256/],
			[['init', '--days', 'ten'], /--days must be a whole number[\s\S]*--days 397/],
			[['init', '--days', '0'], /--days must be a whole number/],
			[['init', 'a', 'b'], /takes one directory/],
			[['init', '--cn'], /--cn needs a value/],
			[['issue'], /needs --cn NAME[\s\S]*secmon pki issue --cn/],
			[['issue', '--cn', 'x', '--san', 'IP:999.1.1.1'], /not an IP address[\s\S]*IP:127\.0\.0\.1/],
			[['issue', '--cn', 'x', '--days', '5', '--not-after', '2030-01-01'], /--days or --not-after, not both/],
			[['issue', '--cn', 'x', '--not-after', 'tomorrow-ish'], /is not a date[\s\S]*ISO 8601/],
			[['sign'], /needs the request file/],
			[['ticket', '--cn', 'a'], /needs the master's TicketSalt[\s\S]*--salt-file/],
			[['ticket', '--salt', 's'], /needs --cn NAME/],
			[['ticket', '--cn', 'a', '--salt', 's', '--salt-file', 'f'], /not both/],
			[['snippet'], /needs one of: pmcd, zabbix-agent, stunnel, icinga2/],
			[['snippet', 'nagios', '--server', 'x'], /unknown snippet "nagios"/],
			[['snippet', 'pmcd'], /needs --server NAME\|FILE[\s\S]*secmon pki issue/],
		];
		for (const [argv, pattern] of cases) {
			const result = await pki(...argv);
			expect(result.code, argv.join(' ')).toBe(2);
			expect(result.stderr, argv.join(' ')).toMatch(pattern);
			expect(result.stdout, argv.join(' ')).toBe('');
		}
	});
});

describe('secmon pki init / issue / snippet', () => {
	it('makes the CA under SECMON_HOME, refuses to replace it, and replaces it with --force', async () => {
		const made = await pki('init', '--algorithm', 'rsa2048', '--cn', 'cmd test CA');
		expect(made.stderr).toBe('');
		expect(made.code).toBe(0);
		const caDir = path.join(home, 'pki');
		expect(made.stdout).toContain(`made a CA in ${caDir}`);
		expect(made.stdout).toMatch(/Next: secmon pki issue --cn/);
		expect(statSync(caDir).mode & 0o777).toBe(0o700);
		expect(statSync(path.join(caDir, 'ca.key')).mode & 0o777).toBe(0o600);
		const first = readFileSync(path.join(caDir, 'ca.pem'), 'utf8');

		const again = await pki('init', '--algorithm', 'rsa2048');
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/a CA already exists in .*\n.*--force/);
		expect(readFileSync(path.join(caDir, 'ca.pem'), 'utf8')).toBe(first);

		const forced = await pki('init', '--algorithm', 'rsa2048', '--cn', 'cmd test CA', '--force');
		expect(forced.code).toBe(0);
		expect(forced.stderr).toBe('');
		expect(readFileSync(path.join(caDir, 'ca.pem'), 'utf8')).not.toBe(first);
	});

	it('issues server and client certificates that openssl verifies, and snippets that point at them', async () => {
		const caDir = path.join(home, 'pki');
		const server = await pki('issue', '--cn', 'collector.example.org', '--san', 'IP:127.0.0.1,DNS:localhost', '--san', 'IP:::1');
		expect(server.stderr).toBe('');
		expect(server.code).toBe(0);
		const dir = path.join(caDir, 'issued', 'collector.example.org');
		for (const name of ['collector.example.org.key', 'collector.example.org.pem', 'collector.example.org.combined.pem', 'ca.pem']) {
			expect(existsSync(path.join(dir, name)), name).toBe(true);
		}

		expect(server.stdout).toContain('names:       DNS:collector.example.org, IP:127.0.0.1, DNS:localhost, IP:::1');
		expect(server.stdout).toContain('secmon pki snippet pmcd|zabbix-agent|stunnel|icinga2|pmproxy --server "collector.example.org"');
		const cert = path.join(dir, 'collector.example.org.pem');
		expect((await opensslVerify(path.join(caDir, 'ca.pem'), cert, 'sslserver')).stdout).toContain(': OK');

		const client = await pki('issue', '--client', '--cn', 'secmon client', '--algorithm', 'ecdsa-p256', '--org', 'ACME');
		expect(client.code).toBe(0);
		const clientCert = path.join(caDir, 'issued', 'secmon_client', 'secmon_client.pem');
		expect((await opensslVerify(path.join(caDir, 'ca.pem'), clientCert, 'sslclient')).stdout).toContain(': OK');
		expect((await run('openssl', ['x509', '-in', clientCert, '-noout', '-subject'])).stdout).toContain('subject=O = ACME, CN = secmon client');

		const refused = await pki('issue', '--cn', 'collector.example.org');
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/already exists[\s\S]*--force/);

		const snippet = await pki('snippet', 'pmcd', '--server', 'collector.example.org', '--client', 'secmon client', '--dest', '/etc/pcp/tls');
		expect(snippet.code).toBe(0);
		expect(snippet.stdout).toContain('tls-cert-file = /etc/pcp/tls/collector.example.org.pem\ntls-key-file = /etc/pcp/tls/collector.example.org.key\ntls-ca-cert-file = /etc/pcp/tls/ca.pem\ntls-verify-clients = true');
		// The monitoring side keeps its local paths.
		expect(snippet.stdout).toContain(`tls-client-cert-file = ${clientCert}`);
		expect(snippet.stderr).toBe('');
		const zabbix = await pki('snippet', 'zabbix-agent', '--server', cert, '--client', clientCert, '--port', '10050');
		expect(zabbix.code).toBe(0);
		expect(zabbix.stdout).toContain('TLSServerCertSubject=CN=secmon client,O=ACME');
		const wrongWay = await pki('snippet', 'stunnel', '--server', 'secmon client', '--accept', '6557', '--connect', '6556');
		expect(wrongWay.code).toBe(0);
		expect(wrongWay.stderr).toContain('warning: ');
		expect(wrongWay.stderr).toContain('is not a server certificate');
		const replaced = await pki('init', '--algorithm', 'rsa2048', '--cn', 'cmd test CA 2', '--force');
		expect(replaced.code).toBe(0);
		expect(replaced.stderr).toMatch(/were issued by the replaced CA[\s\S]*secmon pki issue --cn NAME --force/);
		const stale = await pki('snippet', 'pmcd', '--server', 'collector.example.org');
		expect(stale.stderr).toMatch(/was not issued by the current CA in .*\(replaced since\?\); re-issue it/);
		const missing = await pki('snippet', 'icinga2', '--server', 'nobody');
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/no issued certificate "nobody"[\s\S]*secmon pki issue --cn "nobody"/);
	});

	it('issues short-lived and already expired certificates into --out', async () => {
		const out = path.join(tempDir('cmd-out'), 'expired');
		const result = await pki('issue', '--cn', 'old', '--out', out, '--not-before', '2020-01-01T00:00:00Z', '--not-after', '2020-02-01T00:00:00Z');
		expect(result.code).toBe(0);
		const text = (await run('openssl', ['x509', '-in', path.join(out, 'old.pem'), '-noout', '-enddate'])).stdout;
		expect(text).toContain('notAfter=Feb  1 00:00:00 2020 GMT');
		const day = await pki('issue', '--cn', 'day', '--out', out, '--days', '1');
		expect(day.code).toBe(0);
		expect(day.stdout).toContain(`secmon pki snippet pmcd|zabbix-agent|stunnel|icinga2|pmproxy --server "${path.join(out, 'day.pem')}"`);
	});

	it('explains a missing CA', async () => {
		const result = await pki('issue', '--cn', 'x', '--ca', path.join(home, 'no-such-ca'));
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/the CA certificate .*no-such-ca\/ca.pem does not exist\nmake one with: secmon pki init/);
	});
});

describe('secmon pki sign', () => {
	it('signs a CSR to stdout or to --out (with --chain), and refuses a bad one with exit 1', async () => {
		const work = tempDir('cmd-sign');
		const csr = path.join(work, 'agent.csr');
		const made = await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(work, 'agent.key'), '-out', csr, '-subj', '/CN=agent1', '-addext', 'subjectAltName=DNS:agent1']);
		expect(made.code).toBe(0);
		const toStdout = await pki('sign', csr, '--client', '--server');
		expect(toStdout.code).toBe(0);
		expect(toStdout.stdout).toMatch(/^-{5}BEGIN CERTIFICATE-{5}\n[\s\S]+-{5}END CERTIFICATE-{5}\n$/);
		expect(toStdout.stderr).toContain('signed the request');
		const pem = path.join(work, 'agent.pem');
		const toFile = await pki('sign', csr, '--out', pem, '--chain');
		expect(toFile.code).toBe(0);
		expect(toFile.stdout).toContain(`written to:  ${pem}`);
		expect(readFileSync(pem, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
		expect((await run('openssl', ['verify', '-CAfile', path.join(home, 'pki', 'ca.pem'), pem])).stdout).toContain(': OK');
		expect((await pki('sign', csr, '--out', pem)).code).toBe(1);

		writeFileSync(path.join(work, 'junk.csr'), 'not a request\n');
		const junk = await pki('sign', path.join(work, 'junk.csr'));
		expect(junk.code).toBe(1);
		expect(junk.stderr).toMatch(/no certificate request found[\s\S]*openssl req -new/);
		const missing = await pki('sign', path.join(work, 'none.csr'));
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain('cannot read the request');
	});
});

describe('secmon pki ticket', () => {
	it('prints the same ticket as icinga2, from --salt or from --salt-file', async () => {
		const reference = await run('/usr/sbin/icinga2', ['pki', 'ticket', '--cn', 'agent1.example.org', '--salt', 'c0ffee']);
		expect(reference.code).toBe(0);
		const fromArgv = await pki('ticket', '--cn', 'agent1.example.org', '--salt', 'c0ffee');
		expect(fromArgv).toEqual({code: 0, stdout: reference.stdout, stderr: ''});
		const work = tempDir('cmd-ticket');
		const saltFile = path.join(work, 'salt');
		writeFileSync(saltFile, 'c0ffee\n', {mode: 0o600});
		const fromFile = await pki('ticket', '--cn', 'agent1.example.org', '--salt-file', saltFile);
		expect(fromFile).toEqual({code: 0, stdout: reference.stdout, stderr: ''});
		chmodSync(saltFile, 0o644);
		const open = await pki('ticket', '--cn', 'agent1.example.org', '--salt-file', saltFile);
		expect(open.stdout).toBe(reference.stdout);
		expect(open.stderr).toContain('readable by every local user');
	});
});
