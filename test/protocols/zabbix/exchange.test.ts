/**
 * The Zabbix client (exchange, TLS modes, certificate checks, pins, the opener) against the real
 * Debian zabbix_agentd (test/peers/zabbix-agent.sh). The pool's politeness rules, which a real
 * agent cannot report, are in pool.test.ts.
 *
 * Every refused connection costs one agent listener a 1 s sleep (docs/zabbix.md#refused-connections), so each agent
 * sees only a few failures and they come last in their block.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import type {ZabbixEndpoint, ZabbixTls} from '../../../source/protocols/zabbix/endpoint.js';
import {ZabbixError} from '../../../source/protocols/zabbix/errors.js';
import {openZabbix} from '../../../source/protocols/zabbix/open.js';
import {ZabbixAgent, zabbixGet} from '../../../source/protocols/zabbix/pool.js';
import {ZabbixSource} from '../../../source/protocols/zabbix/source.js';
import type {Plan, SecurityPlan} from '../../../source/plan.js';
import {parseHostSpec} from '../../../source/target.js';
import {readPskKeyFile} from '../../../source/protocols/zabbix/psk.js';
import {TrustStore} from '../../../source/security/store.js';
import {
	startAgent, zabbixPeersInstalled, zabbixPort, type Agent,
} from '../../helpers/zabbix.js';

const agentDn = 'CN=agent.secmon.test,OU=Agents,O=Secmon Test,DC=secmon,DC=test';
const caDn = 'CN=Secmon Test CA,O=Secmon Test,DC=secmon,DC=test';

function endpoint(agent: Agent, tls: ZabbixTls, extra: Partial<ZabbixEndpoint> = {}): ZabbixEndpoint {
	return {
		host: agent.host, port: agent.port, tls, timeoutMs: 10_000, ...extra,
	};
}

function psk(agent: Agent, overrides: {identity?: string; key?: Buffer} = {}): ZabbixTls {
	return {kind: 'psk', identity: overrides.identity ?? agent.pskIdentity, key: overrides.key ?? readPskKeyFile(agent.pskFile).key};
}

function cert(agent: Agent, overrides: Partial<Extract<ZabbixTls, {kind: 'cert'}>> = {}): ZabbixTls {
	return {
		kind: 'cert', caFile: agent.caFile, certFile: agent.clientCert, keyFile: agent.clientKey, ...overrides,
	};
}

/** Just what openZabbix reads from a Plan. */
function planWith(security: Partial<SecurityPlan> & Record<string, unknown>): Plan {
	return {
		requestTimeoutMs: 10_000,
		connectTimeoutMs: 10_000,
		security: () => ({
			mode: 'off', modeSource: 'default', acceptNew: false, interactive: false, ...security,
		}),
	} as unknown as Plan;
}

/** The agent logs a refused connection after closing it: poll its log instead of reading it once. */
async function waitForLog(agent: Agent, pattern: RegExp, timeoutMs = 3000): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const log = agent.log();
		if (pattern.test(log) || Date.now() > deadline) {
			return log;
		}

		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}
}

const refusals = (log: string) => (log.match(/failed to accept an incoming connection/g) ?? []).length;

async function failure(promise: Promise<unknown>): Promise<ZabbixError> {
	try {
		await promise;
	} catch (error) {
		expect(error).toBeInstanceOf(ZabbixError);
		return error as ZabbixError;
	}

	throw new Error('expected a failure');
}

describe.runIf(zabbixPeersInstalled())('against the real zabbix_agentd', () => {
	describe('plain', () => {
		let agent: Agent;
		beforeAll(async () => {
			agent = await startAgent('plain');
		});
		afterAll(async () => agent?.stop());

		it('gets values and ZBX_NOTSUPPORTED', async () => {
			const version = await zabbixGet({...endpoint(agent, {kind: 'unencrypted'}), key: 'agent.version'});
			expect(version.response).toEqual({kind: 'value', value: '6.0.14'});
			expect(version.tls).toBeUndefined();
			const unknown = await zabbixGet({...endpoint(agent, {kind: 'unencrypted'}), key: 'no.such.key'});
			expect(unknown.response).toEqual({kind: 'notsupported', reason: 'Unsupported item key.'});
			const bad = await zabbixGet({...endpoint(agent, {kind: 'unencrypted'}), key: 'system.cpu.load[bogus]'});
			expect(bad.response).toEqual({kind: 'notsupported', reason: 'Invalid first parameter.'});
		});

		it('polls many keys in order over a few connections', async () => {
			const zabbix = new ZabbixAgent(endpoint(agent, {kind: 'unencrypted'}));
			const keys = Array.from({length: 40}, (_, index) => (index % 2 === 0 ? 'agent.ping' : `vfs.file.exists[/nonexistent/${index}]`));
			const results = await zabbix.getMany(keys);
			expect(results.map(result => result.key)).toEqual(keys);
			expect(results.map(result => (result.ok ? result.reply.response : result.error.message))).toEqual(keys.map(key => ({kind: 'value', value: key === 'agent.ping' ? '1' : '0'})));
		});

		it('zabbix:// without credentials: plain in off/relaxed (relaxed says so), refused under enforce', async () => {
			const warnings: string[] = [];
			const hooks = {
				warn(message: string) {
					warnings.push(message);
				},
				env: {},
			};
			const spec = parseHostSpec(`zabbix://127.0.0.1:${agent.port}`);
			const source = await openZabbix(spec, planWith({mode: 'relaxed'}), hooks);
			expect((await source.describe(['agent.ping'])).descs).toHaveLength(1);
			expect(warnings.join('\n')).toContain('PLAIN TEXT');
			await expect(openZabbix(spec, planWith({mode: 'enforce', modeSource: 'flag'}), hooks)).rejects.toMatchObject({code: 'USAGE', exitCode: 2});
			const refused = parseHostSpec(`zabbix://127.0.0.1:${await zabbixPort()}`);
			await expect((await openZabbix(refused, planWith({}), hooks)).describe(['agent.ping'])).rejects.toMatchObject({code: 'CONNECT_FAILED'});
		});

		it('maps keys to the common metric model', async () => {
			const source = new ZabbixSource(new ZabbixAgent(endpoint(agent, {kind: 'unencrypted'})));
			const {descs, errors} = await source.describe(['agent.ping', 'system.cpu.load[all,avg1]', 'agent.version', 'net.if.in[lo]', 'vfs.file.exists[/etc/hostname]', 'no.such.key']);
			expect(errors).toEqual([{name: 'no.such.key', message: 'ZBX_NOTSUPPORTED: Unsupported item key.'}]);
			expect(descs.map(desc => [desc.name, desc.type, desc.semantics, desc.unitsText])).toEqual([
				['agent.ping', 'i64', 'instant', ''],
				['system.cpu.load[all,avg1]', 'double', 'instant', ''],
				['agent.version', 'string', 'discrete', ''],
				['net.if.in[lo]', 'u64', 'counter', 'byte'],
				['vfs.file.exists[/etc/hostname]', 'i64', 'instant', ''],
			]);
			expect(source.tls).toBeUndefined();
			const sample = await source.fetch();
			expect(sample.target).toBe(`127.0.0.1:${agent.port}`);
			const byName = new Map(sample.metrics.map(metric => [metric.name, metric.result]));
			expect(byName.get('agent.ping')).toEqual({status: 'ok', values: [{value: 1n}]});
			expect(byName.get('agent.version')).toEqual({status: 'ok', values: [{value: '6.0.14'}]});
			const load = byName.get('system.cpu.load[all,avg1]');
			expect(load?.status === 'ok' && typeof load.values[0]?.value).toBe('number');
			const bytes = byName.get('net.if.in[lo]');
			expect(bytes?.status === 'ok' && typeof bytes.values[0]?.value).toBe('bigint');

			// retain (the panes' d): only the keys kept are asked of the agent from then on.
			const asked: string[][] = [];
			const {fetch} = source.agent;
			source.agent.fetch = async (keys: readonly string[]) => {
				asked.push([...keys]);
				return fetch.call(source.agent, keys);
			};

			source.retain(['agent.ping', 'net.if.in[lo]']);
			const after = await source.fetch();
			expect(asked).toEqual([['agent.ping', 'net.if.in[lo]']]);
			expect(after.metrics.map(metric => metric.name)).toEqual(['agent.ping', 'net.if.in[lo]']);
		});

		it('reports a refused source address like zabbix_get ("Check access restrictions")', async () => {
			// Server=127.0.0.1 on the agent; 127.0.0.5 is ours too but not allowed (one listener sleeps 1 s).
			const error = await failure(zabbixGet({...endpoint(agent, {kind: 'unencrypted'}, {sourceAddress: '127.0.0.5'}), key: 'agent.ping'}));
			expect(error.zabbixText).toBe('Check access restrictions in Zabbix agent configuration');
			expect(error.hint).toContain('Server=');
			expect(error.exitCode).toBe(1);
		});
	});

	describe('psk', () => {
		let agent: Agent;
		beforeAll(async () => {
			agent = await startAgent('psk', {startAgents: 4});
		});
		afterAll(async () => agent?.stop());

		it('connects with the key from the file, preferring forward-secret ECDHE-PSK', async () => {
			const reply = await zabbixGet({...endpoint(agent, psk(agent)), key: 'agent.ping'});
			expect(reply.response).toEqual({kind: 'value', value: '1'});
			expect(reply.tls).toMatchObject({
				version: 'TLSv1.2', cipher: 'ECDHE-PSK-AES128-CBC-SHA256', kind: 'psk', pskIdentity: 'secmon-psk-01',
			});
			const source = new ZabbixSource(new ZabbixAgent(endpoint(agent, psk(agent))));
			await source.describe(['agent.ping']);
			expect(source.tls).toMatchObject({version: 'TLSv1.2', subject: 'PSK identity secmon-psk-01'});
		});

		it('a wrong key and a wrong identity fail alike, with the possible causes listed', async () => {
			const wrongKey = await failure(zabbixGet({...endpoint(agent, psk(agent, {key: Buffer.alloc(32, 7)})), key: 'agent.ping'}));
			expect(wrongKey.stage).toBe('tls');
			expect(wrongKey.zabbixText).toBe(`Get value error: TCP successful, cannot establish TLS to [[127.0.0.1]:${agent.port}]: the agent closed the connection during the TLS handshake`);
			for (const cause of ['wrong PSK key', 'wrong PSK identity', 'does not accept PSK', 'sleep 1 s']) {
				expect(wrongKey.hint).toContain(cause);
			}

			const wrongIdentity = await failure(zabbixGet({...endpoint(agent, psk(agent, {identity: 'nobody'})), key: 'agent.ping'}));
			expect(wrongIdentity.zabbixText).toBe(wrongKey.zabbixText);
			// The agent log tells them apart; we cannot.
			expect(await waitForLog(agent, /Decryption has failed/)).toMatch(/Decryption has failed/);
			expect(await waitForLog(agent, /cannot find requested PSK identity "nobody"/)).toMatch(/cannot find requested PSK identity "nobody"/);
		});

		it('stops after the first refusal instead of hammering the agent', async () => {
			const before = refusals(await waitForLog(agent, /(?:failed to accept an incoming connection[^]*){2}/));
			const zabbix = new ZabbixAgent({...endpoint(agent, psk(agent, {key: Buffer.alloc(32, 9)})), backoffMs: 60_000});
			const results = await zabbix.getMany(Array.from({length: 10}, () => 'agent.ping'));
			expect(results.every(result => !result.ok)).toBe(true);
			expect(results[1]?.ok === false && results[1].error.message).toContain('not requested because');
			const again = await zabbix.getMany(['agent.ping']);
			expect(again[0]?.ok === false && again[0].error.message).toContain('next attempt in');
			const expected = new RegExp(`(?:failed to accept an incoming connection[^]*){${before + 1}}`);
			await waitForLog(agent, expected);
			// Give any further (wrong) connection time to show up too.
			await new Promise(resolve => {
				setTimeout(resolve, 300);
			});
			expect(refusals(agent.log()) - before).toBe(1);
		});

		it('zabbix:// in the main CLI: PSK from SECMON_PSK_IDENTITY/SECMON_PSK_FILE', async () => {
			const warnings: string[] = [];
			const source = await openZabbix(parseHostSpec(`zabbix://127.0.0.1:${agent.port}`), planWith({mode: 'enforce'}), {
				warn(message) {
					warnings.push(message);
				},
				env: {SECMON_PSK_IDENTITY: agent.pskIdentity, SECMON_PSK_FILE: agent.pskFile},
			});
			const {descs, errors} = await source.describe(['agent.ping', 'agent.version']);
			expect(errors).toEqual([]);
			expect(descs.map(desc => desc.type)).toEqual(['i64', 'string']);
			expect(source.tls).toMatchObject({version: 'TLSv1.2'});
			expect(warnings).toEqual([]);
			source.close();
		});

		it('plain text to a PSK-only agent: "Check access restrictions"', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, {kind: 'unencrypted'}), key: 'agent.ping'}));
			expect(error.zabbixText).toBe('Check access restrictions in Zabbix agent configuration');
			expect(error.hint).toContain('TLSAccept');
		});
	});

	describe('cert', () => {
		let agent: Agent;
		let home: string;
		beforeAll(async () => {
			agent = await startAgent('cert', {startAgents: 5});
			home = mkdtempSync(path.join(os.tmpdir(), 'secmon-zbx-home-'));
		});
		afterAll(async () => {
			await agent?.stop();
			rmSync(home, {recursive: true, force: true});
		});

		it('verifies the agent against --tls-ca-file and matches issuer and subject the Zabbix way', async () => {
			const reply = await zabbixGet({...endpoint(agent, cert(agent, {issuer: caDn, subject: agentDn})), key: 'agent.ping'});
			expect(reply.response).toEqual({kind: 'value', value: '1'});
			expect(reply.tls).toMatchObject({kind: 'cert', basis: 'ca-file', version: 'TLSv1.2'});
		});

		it('refuses an issuer/subject mismatch with zabbix_get\'s words', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, cert(agent, {issuer: 'CN=x', subject: 'CN=other'})), key: 'agent.ping'}));
			expect(error.zabbixText).toBe(`Get value error: TCP successful, cannot establish TLS to [[127.0.0.1]:${agent.port}]: `
				+ `issuer: peer: "${caDn}", required: "CN=x", subject: peer: "${agentDn}", required: "CN=other"`);
			expect(error.exitCode).toBe(1);
		});

		it('refuses an agent whose certificate is not from the CA file', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, cert(agent, {caFile: agent.otherCaFile})), key: 'agent.ping'}));
			expect(error.zabbixText).toContain('invalid peer certificate: the certificate issuer is unknown');
			expect(error.code).toBe('CERT_INVALID');
		});

		it('honours a CRL: an empty one passes, one that revokes the agent certificate fails', async () => {
			const crl = makeCrl(agent, false);
			const ok = await zabbixGet({...endpoint(agent, cert(agent, {crlFile: crl})), key: 'agent.ping'});
			expect(ok.response.kind).toBe('value');
			const revoked = await failure(zabbixGet({...endpoint(agent, cert(agent, {crlFile: makeCrl(agent, true)})), key: 'agent.ping'}));
			expect(revoked.zabbixText).toContain('revoked');
		});

		it('without a CA file: refuses an unknown certificate, pins it with acceptNew, then trusts the pin', async () => {
			const store = new TrustStore(home);
			const tofu = cert(agent, {caFile: undefined});
			delete (tofu as {caFile?: string}).caFile;
			let refused: unknown;
			try {
				await zabbixGet({...endpoint(agent, tofu, {trust: {store}}), key: 'agent.ping'});
			} catch (error) {
				refused = error;
			}

			expect(refused).toBeInstanceOf(SecmonError);
			expect((refused as SecmonError).code).toBe('TRUST_REQUIRED');
			expect((refused as SecmonError).exitCode).toBe(3);

			const first = await zabbixGet({...endpoint(agent, tofu, {trust: {store, acceptNew: true}}), key: 'agent.ping'});
			expect(first.tls?.basis).toBe('accept-new');
			const zabbix = new ZabbixAgent(endpoint(agent, tofu, {trust: {store}}));
			const results = await zabbix.getMany(['agent.ping', 'agent.version', 'agent.ping']);
			expect(results.every(result => result.ok && result.reply.tls?.basis === 'pinned')).toBe(true);
		});

		it('asks once per agent, however many keys', async () => {
			const store = new TrustStore(mkdtempSync(path.join(home, 'ask-')));
			const tofu = cert(agent);
			delete (tofu as {caFile?: string}).caFile;
			let asked = 0;
			const zabbix = new ZabbixAgent(endpoint(agent, tofu, {
				trust: {
					store,
					async ask() {
						asked++;
						return 'once';
					},
				},
			}));
			const results = await zabbix.getMany(Array.from({length: 9}, () => 'agent.ping'));
			expect(results.every(result => result.ok)).toBe(true);
			expect(asked).toBe(1);
			expect(zabbix.lastTls?.basis).toBe('accepted-once');
		});

		it('a key that does not belong to the certificate is a configuration error, before any connection', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, cert(agent, {keyFile: agent.otherClientKey})), key: 'agent.ping'}));
			expect(error.stage).toBe('config');
			expect(error.exitCode).toBe(1);
			expect(error.hint).toContain('does not belong');
		});

		it('a client certificate the agent does not accept: handshake OK, then "Check access restrictions"', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, cert(agent, {certFile: agent.otherClientCert, keyFile: agent.otherClientKey})), key: 'agent.ping'}));
			expect(error.zabbixText).toBe('Check access restrictions in Zabbix agent configuration');
			expect(error.hint).toContain('TLSServerCertIssuer');
		});
	});

	describe('agent certificate without serverAuth (docs/zabbix.md#agent-certificates)', () => {
		let agent: Agent;
		beforeAll(async () => {
			agent = await startAgent('cert', {agentEku: 'clientAuth'});
		});
		afterAll(async () => agent?.stop());

		it('is accepted when it chains to the CA file, as Zabbix accepts it', async () => {
			const reply = await zabbixGet({...endpoint(agent, cert(agent)), key: 'agent.ping'});
			expect(reply.response).toEqual({kind: 'value', value: '1'});
		});

		it('is refused when its issuer is unknown, although OpenSSL then reports only INVALID_PURPOSE', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, cert(agent, {caFile: agent.otherCaFile})), key: 'agent.ping'}));
			expect(error.code).toBe('CERT_INVALID');
			expect(error.zabbixText).toContain('invalid peer certificate');
		});

		it('is refused when revoked', async () => {
			const error = await failure(zabbixGet({...endpoint(agent, cert(agent, {crlFile: makeCrl(agent, true)})), key: 'agent.ping'}));
			expect(error.zabbixText).toContain('invalid peer certificate');
		});
	});

	describe('mixed (cert,unencrypted)', () => {
		let agent: Agent;
		beforeAll(async () => {
			agent = await startAgent('mixed');
		});
		afterAll(async () => agent?.stop());

		it('answers plain and certificate connections, and drops PSK', async () => {
			expect((await zabbixGet({...endpoint(agent, {kind: 'unencrypted'}), key: 'agent.ping'})).response.kind).toBe('value');
			expect((await zabbixGet({...endpoint(agent, cert(agent)), key: 'agent.ping'})).tls?.kind).toBe('cert');
			const error = await failure(zabbixGet({...endpoint(agent, psk(agent)), key: 'agent.ping'}));
			expect(error.stage).toBe('tls');
			expect(await waitForLog(agent, /No supported cipher suites|not allowed/)).toMatch(/No supported cipher suites|not allowed/);
		});
	});
});

/** A CRL from the agent's CA, revoking the agent certificate or nothing. */
function makeCrl(agent: Agent, revokeAgent: boolean): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-crl-'));
	writeFileSync(path.join(dir, 'index.txt'), '');
	writeFileSync(path.join(dir, 'crlnumber'), '01\n');
	writeFileSync(path.join(dir, 'ca.cnf'), [
		'[ca]',
		'default_ca = ca_default',
		'[ca_default]',
		`database = ${dir}/index.txt`,
		`crlnumber = ${dir}/crlnumber`,
		'default_md = sha256',
		'default_crl_days = 30',
		'',
	].join('\n'));
	const ca = ['-config', path.join(dir, 'ca.cnf'), '-keyfile', agent.caKey, '-cert', agent.caFile];
	if (revokeAgent) {
		execFileSync('openssl', ['ca', ...ca, '-revoke', agent.agentCert], {stdio: 'ignore'});
	}

	execFileSync('openssl', ['ca', ...ca, '-gencrl', '-out', path.join(dir, 'crl.pem')], {stdio: 'ignore'});
	return path.join(dir, 'crl.pem');
}
