/**
 * zabbix_get's --tls-* options that the other zabbix-get tests do not exercise, against the real
 * zabbix_agentd 6.0 and next to the real zabbix_get (issue 16 part 3): --tls-crl-file (a CRL
 * that revokes nothing, and one that revokes the agent's certificate) and --tls-cipher with an
 * OpenSSL cipher list. The CRLs are made here by `openssl ca` from the agent's test CA.
 */
import {execFileSync} from 'node:child_process';
import {
	mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {zabbixGetCommand} from '../../source/commands/zabbix-get.js';
import {
	runZabbixGet, startAgent, zabbixPeersInstalled, type Agent,
} from '../helpers/zabbix.js';

type Run = {stdout: string; stderr: string; code: number};

let home: string;
let work: string;

async function secmon(args: string[]): Promise<Run> {
	let stdout = '';
	let stderr = '';
	const stream = (append: (text: string) => void) => new Writable({
		write(chunk: Buffer | string, _encoding, callback) {
			append(chunk.toString());
			callback();
		},
	});
	const code = await zabbixGetCommand(args, {
		stdout: stream(text => {
			stdout += text;
		}),
		stderr: stream(text => {
			stderr += text;
		}),
		env: {SECMON_HOME: home},
	});
	return {stdout, stderr, code};
}

/** A CRL signed by the agent's CA, revoking `revoke` (certificate files) if given. */
function makeCrl(agent: Agent, name: string, revoke: string[]): string {
	const dir = path.join(work, name);
	execFileSync('mkdir', ['-p', dir]);
	writeFileSync(path.join(dir, 'index.txt'), '');
	writeFileSync(path.join(dir, 'crlnumber'), '01\n');
	const config = path.join(dir, 'ca.cnf');
	writeFileSync(config, [
		'[ca]',
		'default_ca = test',
		'[test]',
		`database = ${dir}/index.txt`,
		`crlnumber = ${dir}/crlnumber`,
		`certificate = ${agent.caFile}`,
		`private_key = ${agent.caKey}`,
		'default_md = sha256',
		'default_crl_days = 30',
		'',
	].join('\n'));
	for (const cert of revoke) {
		execFileSync('openssl', ['ca', '-config', config, '-revoke', cert], {stdio: 'ignore'});
	}

	const crl = path.join(dir, 'crl.pem');
	execFileSync('openssl', ['ca', '-config', config, '-gencrl', '-out', crl], {stdio: 'ignore'});
	return crl;
}

beforeAll(() => {
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-zg-tls-home-'));
	work = mkdtempSync(path.join(os.tmpdir(), 'secmon-zg-tls-'));
});

afterAll(() => {
	rmSync(home, {recursive: true, force: true});
	rmSync(work, {recursive: true, force: true});
});

describe.runIf(zabbixPeersInstalled())('zabbix-get --tls-crl-file and --tls-cipher vs zabbix_get 6.0', () => {
	let agent: Agent;
	beforeAll(async () => {
		agent = await startAgent('cert');
	});
	afterAll(async () => agent?.stop());

	const certArgs = () => [
		'-s',
		agent.host,
		'-p',
		String(agent.port),
		'-k',
		'agent.ping',
		'--tls-connect',
		'cert',
		'--tls-ca-file',
		agent.caFile,
		'--tls-cert-file',
		agent.clientCert,
		'--tls-key-file',
		agent.clientKey,
	];

	it('a CRL that revokes nothing: both answer', async () => {
		const crl = makeCrl(agent, 'empty', []);
		const args = [...certArgs(), '--tls-crl-file', crl];
		const [ours, theirs] = [await secmon(args), await runZabbixGet(args)];
		expect(ours).toEqual({stdout: '1\n', stderr: '', code: 0});
		expect(theirs).toMatchObject({stdout: '1\n', code: 0});
	});

	it('a CRL that revokes the agent\'s certificate: both refuse, exit 1, secmon saying why', async () => {
		const crl = makeCrl(agent, 'revoked', [agent.agentCert]);
		const args = [...certArgs(), '--tls-crl-file', crl];
		const [ours, theirs] = [await secmon(args), await runZabbixGet(args)];
		expect([ours.code, theirs.code]).toEqual([1, 1]);
		expect(ours.stdout).toBe('');
		expect(ours.stderr).toContain('the certificate has been revoked (--tls-crl-file)');
		expect(theirs.stderr).toContain('cannot establish TLS');
	});

	it('--tls-cipher with an OpenSSL cipher list: both answer; a list with nothing usable is refused', async () => {
		const args = [...certArgs(), '--tls-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'];
		const ours = await secmon(args);
		expect(ours).toEqual({stdout: '1\n', stderr: '', code: 0});
		const bogus = await secmon([...certArgs(), '--tls-cipher', 'NO-SUCH-CIPHER']);
		expect(bogus.code).not.toBe(0);
		expect(bogus.stdout).toBe('');
		expect(bogus.stderr).toMatch(/^secmon zabbix-get: /);
		expect(bogus.stderr).toContain('no cipher match');
		expect(bogus.stderr).toContain('(--tls-cipher) OpenSSL cipher names');
	});
});
