/**
 * `secmon zabbix-get` next to the real zabbix_get, against the real zabbix_agentd in each TLS
 * mode: same keys, same stdout, same exit codes. Where the tools necessarily word things
 * differently (GnuTLS vs OpenSSL handshake errors), the zabbix_get-shaped part is compared.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {zabbixGetCommand} from '../../source/commands/zabbix-get.js';
import {
	runZabbixGet, startAgent, stripZabbixPrefix, zabbixPeersInstalled, zabbixPort, type Agent,
} from '../helpers/zabbix.js';
import {checkJsonOutput} from '../helpers/json-lines.js';

type Run = {stdout: string; stderr: string; code: number};

function sink(): {stream: Writable; text: () => string} {
	let text = '';
	return {
		stream: new Writable({
			write(chunk: Buffer | string, _encoding, callback) {
				text += chunk.toString();
				callback();
			},
		}),
		text: () => text,
	};
}

let home: string;

async function secmon(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
	const stdout = sink();
	const stderr = sink();
	const code = await zabbixGetCommand(args, {stdout: stdout.stream, stderr: stderr.stream, env: {SECMON_HOME: home, ...env}});
	checkJsonOutput(['zabbix-get', ...args], stdout.text());
	return {stdout: stdout.text(), stderr: stderr.text(), code};
}

/** Both tools with the same arguments (zabbix_get spells the issuer/subject flags --tls-agent-cert-*). */
async function both(args: string[]): Promise<{ours: Run; theirs: Run}> {
	const [ours, theirs] = [await secmon(args), await runZabbixGet(args)];
	return {ours, theirs: {...theirs, stderr: stripZabbixPrefix(theirs.stderr)}};
}

/** The first stderr line without the tool's prefix. */
function firstLine(stderr: string): string {
	return (stderr.split('\n')[0] ?? '').replace(/^secmon zabbix-get: /, '');
}

const base = (agent: Agent) => ['-s', agent.host, '-p', String(agent.port)];

beforeAll(() => {
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-zg-home-'));
});

afterAll(() => {
	rmSync(home, {recursive: true, force: true});
});

describe.runIf(zabbixPeersInstalled())('secmon zabbix-get vs zabbix_get', () => {
	describe('plain agent', () => {
		let agent: Agent;
		let contents: string;
		beforeAll(async () => {
			agent = await startAgent('plain');
			contents = path.join(home, 'contents.txt');
			writeFileSync(contents, 'line one\nline two\n\n', {mode: 0o644});
		});
		afterAll(async () => agent?.stop());

		it.each([
			'agent.ping',
			'agent.version',
			'no.such.key',
			'system.cpu.load[bogus]',
			'vfs.file.exists[/etc/hostname]',
			'vfs.file.contents[CONTENTS]',
		])('%s: same output, exit 0', async key => {
			const {ours, theirs} = await both([...base(agent), '-k', key.replace('CONTENTS', contents)]);
			expect(ours).toEqual({stdout: theirs.stdout, stderr: '', code: 0});
			expect(theirs.code).toBe(0);
		});

		it('a floating-point value has the same shape', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'system.cpu.load[all,avg1]']);
			expect(ours.code).toBe(0);
			expect(theirs.code).toBe(0);
			expect(ours.stdout).toMatch(/^\d+\.\d{6}\n$/);
			expect(theirs.stdout).toMatch(/^\d+\.\d{6}\n$/);
		});

		it('several -k print what zabbix_get prints once per key, in order', async () => {
			const keys = ['agent.ping', 'no.such.key', 'agent.version', 'vfs.file.exists[/nonexistent]'];
			const ours = await secmon([...base(agent), ...keys.flatMap(key => ['-k', key])]);
			let expected = '';
			for (const key of keys) {
				expected += (await runZabbixGet([...base(agent), '-k', key])).stdout;
			}

			expect(ours).toEqual({stdout: expected, stderr: '', code: 0});
		});

		it('a refused port: same message, exit 1', async () => {
			const port = String(await zabbixPort());
			const {ours, theirs} = await both(['-s', '127.0.0.1', '-p', port, '-k', 'agent.ping']);
			expect(theirs.code).toBe(1);
			expect(ours.code).toBe(1);
			expect(firstLine(ours.stderr)).toBe(firstLine(theirs.stderr));
			expect(ours.stderr).toContain('Check that zabbix_agentd is running');
		});

		it('a source address the agent does not allow: "Check access restrictions", exit 1', async () => {
			const {ours, theirs} = await both([...base(agent), '-I', '127.0.0.5', '-k', 'agent.ping']);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			expect(firstLine(ours.stderr)).toBe('Check access restrictions in Zabbix agent configuration');
			expect(firstLine(theirs.stderr)).toBe('Check access restrictions in Zabbix agent configuration');
		});

		it('--secure enforce (or the environment) refuses unencrypted: usage error, exit 2', async () => {
			const flag = await secmon([...base(agent), '-k', 'agent.ping', '--secure', 'enforce']);
			expect(flag.code).toBe(2);
			expect(flag.stdout).toBe('');
			expect(flag.stderr).toContain('--tls-connect unencrypted is refused: secure mode is enforce (from --secure)');
			expect(flag.stderr).toContain('--tls-connect psk');
			for (const name of ['SECMON_SECURE_SOCKETS', 'PCP_SECURE_SOCKETS']) {
				const fromEnv = await secmon([...base(agent), '-k', 'agent.ping'], {[name]: 'enforce'});
				expect(fromEnv.code).toBe(2);
				expect(fromEnv.stderr).toContain(`(from ${name})`);
			}

			expect((await secmon([...base(agent), '-k', 'agent.ping', '--secure', 'relaxed'])).code).toBe(0);
		});
	});

	describe('psk agent', () => {
		let agent: Agent;
		let wrongKey: string;
		let shortKey: string;
		let openKey: string;
		beforeAll(async () => {
			agent = await startAgent('psk', {startAgents: 6});
			wrongKey = path.join(home, 'wrong.psk');
			writeFileSync(wrongKey, `${'ab'.repeat(32)}\n`, {mode: 0o600});
			shortKey = path.join(home, 'short.psk');
			writeFileSync(shortKey, 'abcd\n', {mode: 0o600});
			openKey = path.join(home, 'open.psk');
			writeFileSync(openKey, `${'cd'.repeat(16)}\n`, {mode: 0o644});
		});
		afterAll(async () => agent?.stop());

		const pskArgs = (agent: Agent, file: string) => ['--tls-connect', 'psk', '--tls-psk-identity', agent.pskIdentity, '--tls-psk-file', file];

		it('the right key: same output; works under --secure enforce', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.version', ...pskArgs(agent, agent.pskFile)]);
			expect(ours).toEqual({stdout: '6.0.14\n', stderr: '', code: 0});
			expect(theirs).toMatchObject({stdout: '6.0.14\n', code: 0});
			expect((await secmon([...base(agent), '-k', 'agent.ping', ...pskArgs(agent, agent.pskFile)], {PCP_SECURE_SOCKETS: 'enforce'})).code).toBe(0);
		});

		it('a wrong key: both fail to establish TLS, exit 1; secmon lists the causes', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.ping', ...pskArgs(agent, wrongKey)]);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			const prefix = `Get value error: TCP successful, cannot establish TLS to [[127.0.0.1]:${agent.port}]: `;
			expect(firstLine(theirs.stderr).startsWith(prefix)).toBe(true);
			expect(firstLine(ours.stderr).startsWith(prefix)).toBe(true);
			expect(ours.stderr).toContain('wrong PSK key');
			expect(ours.stderr).toContain('wrong PSK identity');
			expect(ours.stdout).toBe('');
		});

		it('unencrypted to a PSK-only agent: "Check access restrictions", exit 1', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.ping']);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			expect(firstLine(ours.stderr)).toBe(firstLine(theirs.stderr));
			expect(firstLine(ours.stderr)).toBe('Check access restrictions in Zabbix agent configuration');
		});

		it('a short PSK file: zabbix_get\'s message, exit 1, nothing sent', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.ping', ...pskArgs(agent, shortKey)]);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			expect(firstLine(ours.stderr)).toBe(firstLine(theirs.stderr));
		});

		it('warns about a PSK file others can read (the key itself never appears)', async () => {
			const ours = await secmon([...base(agent), '-k', 'agent.ping', ...pskArgs(agent, openKey)]);
			expect(ours.stderr).toContain('is accessible by group or others (mode 0644)');
			expect(ours.stderr).not.toContain('cd'.repeat(16));
			// The key is wrong for this agent: that failure follows the warning.
			expect(ours.code).toBe(1);
		});
	});

	describe('cert agent', () => {
		let agent: Agent;
		const issuer = 'CN=Secmon Test CA,O=Secmon Test,DC=secmon,DC=test';
		const subject = 'CN=agent.secmon.test,OU=Agents,O=Secmon Test,DC=secmon,DC=test';
		beforeAll(async () => {
			agent = await startAgent('cert', {startAgents: 5});
		});
		afterAll(async () => agent?.stop());

		const certArgs = (agent: Agent, ca = agent.caFile) => ['--tls-connect', 'cert', '--tls-ca-file', ca, '--tls-cert-file', agent.clientCert, '--tls-key-file', agent.clientKey];

		it('CA, issuer and subject: same output', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.ping', ...certArgs(agent), '--tls-agent-cert-issuer', issuer, '--tls-agent-cert-subject', subject]);
			expect(ours).toEqual({stdout: '1\n', stderr: '', code: 0});
			expect(theirs).toMatchObject({stdout: '1\n', code: 0});
			const spelledLikeTheIssue = await secmon([...base(agent), '-k', 'agent.ping', ...certArgs(agent), '--tls-server-cert-issuer', issuer, '--tls-server-cert-subject', subject]);
			expect(spelledLikeTheIssue.code).toBe(0);
		});

		it('an issuer/subject mismatch: the same message, exit 1', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.ping', ...certArgs(agent), '--tls-agent-cert-issuer', 'CN=x', '--tls-agent-cert-subject', 'CN=other']);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			expect(firstLine(ours.stderr)).toBe(firstLine(theirs.stderr));
		});

		it('a CA file that did not issue the agent certificate: both refuse, exit 1', async () => {
			const {ours, theirs} = await both([...base(agent), '-k', 'agent.ping', ...certArgs(agent, agent.otherCaFile)]);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			const prefix = `Get value error: TCP successful, cannot establish TLS to [[127.0.0.1]:${agent.port}]: invalid peer certificate: `;
			expect(firstLine(theirs.stderr).startsWith(prefix)).toBe(true);
			expect(firstLine(ours.stderr).startsWith(prefix)).toBe(true);
		});

		it('without --tls-ca-file (zabbix_get cannot): refuses an unknown certificate (exit 3), pins it with --accept-new', async () => {
			const args = [...base(agent), '-k', 'agent.ping', '--tls-connect', 'cert', '--tls-cert-file', agent.clientCert, '--tls-key-file', agent.clientKey];
			const refused = await secmon(args);
			expect(refused.code).toBe(3);
			expect(refused.stderr).toContain('is not trusted');
			expect(refused.stderr).toContain('secmon zabbix-get -s 127.0.0.1');
			expect(refused.stderr).toContain('--accept-new');
			expect(await secmon([...args, '--accept-new'])).toEqual({stdout: '1\n', stderr: '', code: 0});
			expect(await secmon(args)).toEqual({stdout: '1\n', stderr: '', code: 0});
			const zabbixGet = await runZabbixGet(args);
			expect(zabbixGet.code).toBe(1);
		});
	});

	describe('mixed agent (cert,unencrypted)', () => {
		let agent: Agent;
		beforeAll(async () => {
			agent = await startAgent('mixed');
		});
		afterAll(async () => agent?.stop());

		it('plain and cert: same output; psk: both fail', async () => {
			const plain = await both([...base(agent), '-k', 'agent.ping']);
			expect(plain.ours).toEqual({stdout: plain.theirs.stdout, stderr: '', code: 0});
			const cert = await both([...base(agent), '-k', 'agent.version', '--tls-connect', 'cert', '--tls-ca-file', agent.caFile, '--tls-cert-file', agent.clientCert, '--tls-key-file', agent.clientKey]);
			expect(cert.ours).toEqual({stdout: cert.theirs.stdout, stderr: '', code: 0});
			const psk = await both([...base(agent), '-k', 'agent.ping', '--tls-connect', 'psk', '--tls-psk-identity', agent.pskIdentity, '--tls-psk-file', agent.pskFile]);
			expect([psk.ours.code, psk.theirs.code]).toEqual([1, 1]);
			expect(firstLine(psk.ours.stderr)).toContain('cannot establish TLS to');
			expect(firstLine(psk.theirs.stderr)).toContain('cannot establish TLS to');
		});
	});

	it('a silent peer with -t 1: "Timeout while executing operation", exit 1', async () => {
		const silent = net.createServer(socket => {
			socket.on('error', () => undefined);
		});
		const port = await zabbixPort();
		await new Promise<void>(resolve => {
			silent.listen(port, '127.0.0.1', resolve);
		});
		try {
			const {ours, theirs} = await both(['-s', '127.0.0.1', '-p', String(port), '-k', 'agent.ping', '-t', '1']);
			expect([ours.code, theirs.code]).toEqual([1, 1]);
			expect(firstLine(ours.stderr)).toBe('Timeout while executing operation');
			expect(firstLine(theirs.stderr)).toBe('Timeout while executing operation');
		} finally {
			silent.close();
		}
	});
});

describe('usage', () => {
	it.each([
		[['-k', 'agent.ping'], 'no agent host given'],
		[['-s', '127.0.0.1'], 'no item key given'],
		[['-s', 'a', '-s', 'b', '-k', 'x'], 'option "-s" or "--host" specified multiple times'],
		[['-s', 'a', '-k', 'x', '-t', '31'], 'Invalid timeout, valid range 1:30 seconds'],
		[['-s', 'a', '-k', 'x', '-t', '1.5'], 'Invalid timeout, valid range 1:30 seconds'],
		[['-s', 'a', '-k', 'x', '-p', '70000'], 'invalid port "70000"'],
		[['-s', 'a', '-k', 'x', '--tls-connect', 'bogus'], 'invalid value of "--tls-connect" parameter'],
		[['-s', 'a', '-k', 'x', '--tls-connect', 'psk'], 'parameter "--tls-connect" value requires "--tls-psk-file", but it is not defined'],
		[['-s', 'a', '-k', 'x', '--tls-connect', 'psk', '--tls-psk-identity', 'i'], 'parameter "--tls-psk-identity" is defined, but "--tls-psk-file" is not defined'],
		[['-s', 'a', '-k', 'x', '--tls-psk-file', '/x'], 'parameter "--tls-psk-file" is defined, but "--tls-psk-identity" is not defined'],
		[['-s', 'a', '-k', 'x', '--tls-connect', 'cert'], 'parameter "--tls-connect" value requires "--tls-cert-file", but it is not defined'],
		[['-s', 'a', '-k', 'x', '--tls-connect', 'cert', '--tls-cert-file', 'c'], 'parameter "--tls-cert-file" is defined, but "--tls-key-file" is not defined'],
		[['-s', 'a', '-k', 'x', '--tls-crl-file', 'c'], 'parameter "--tls-crl-file" is defined, but "--tls-cert-file" is not defined'],
		[['-s', 'a', '-k', 'x', '--tls-cert-file', 'c', '--tls-key-file', 'k'], 'parameter "--tls-cert-file" is defined, but "--tls-connect" is not defined'],
		[['-s', 'a', '-k', 'x', '--bogus'], 'invalid option --bogus'],
		[['-s', 'a', '-k', 'x', 'extra'], 'invalid parameter "extra"'],
		[['-s', 'a', '-k', 'x', '--secure', 'maybe'], '--secure="maybe" is not a secure mode'],
	])('%j → exit 2: %s', async (args, message) => {
		const result = await secmon(args);
		expect(result.code).toBe(2);
		expect(result.stdout).toBe('');
		expect(result.stderr).toContain(message);
	});

	it('-h prints the help, -V the version, exit 0', async () => {
		const help = await secmon(['-h']);
		expect(help.code).toBe(0);
		expect(help.stdout).toContain('--tls-psk-file FILE');
		expect(help.stdout).toContain('Exit codes');
		const version = await secmon(['-V']);
		expect(version).toMatchObject({code: 0, stderr: ''});
		expect(version.stdout).toContain('zabbix_get 6.0');
	});
});
