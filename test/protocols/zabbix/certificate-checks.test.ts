/**
 * The --tls-ca-file checks on a TLS server in this process (no agent needed): the floor judges the
 * chain as verified, with the CA completed from --tls-ca-file when the agent sends only its leaf.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {ZabbixError} from '../../../source/protocols/zabbix/errors.js';
import {zabbixGet} from '../../../source/protocols/zabbix/pool.js';
import {rsaCert, type MadeCert} from '../../helpers/weak-certs.js';

describe('--tls-ca-file and the cryptographic floor', () => {
	let dir: string;
	let client: MadeCert;
	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-zabbix-checks-'));
		client = await rsaCert({cn: 'client'});
		writeFileSync(path.join(dir, 'client.pem'), client.cert);
		writeFileSync(path.join(dir, 'client.key'), client.key, {mode: 0o600});
	});
	afterAll(() => {
		rmSync(dir, {recursive: true, force: true});
	});

	/** Serves `leaf` alone (as an agent's TLSCertFile usually holds it) and asks for one key with `ca` as --tls-ca-file. */
	async function getWith(ca: MadeCert, leaf: MadeCert): Promise<unknown> {
		const caFile = path.join(dir, 'ca.pem');
		writeFileSync(caFile, ca.cert);
		const server = tls.createServer({cert: leaf.cert, key: leaf.key}, socket => {
			socket.on('error', () => undefined);
			socket.end();
		});
		await new Promise<void>(resolve => {
			server.listen(0, '127.0.0.1', resolve);
		});
		try {
			const {port} = server.address() as {port: number};
			return await zabbixGet({
				host: '127.0.0.1',
				port,
				tls: {
					kind: 'cert', caFile, certFile: path.join(dir, 'client.pem'), keyFile: path.join(dir, 'client.key'),
				},
				timeoutMs: 5000,
				key: 'agent.ping',
			}).catch((error: unknown) => error);
		} finally {
			server.close();
		}
	}

	it('refuses a leaf that passes the floor when the CA that signed it (from --tls-ca-file) does not', async () => {
		const ca = await rsaCert({cn: 'Weak CA', bits: 1024, isCa: true});
		const leaf = await rsaCert({cn: 'agent', issuer: ca});
		const error = await getWith(ca, leaf);
		expect(error).toBeInstanceOf(ZabbixError);
		expect(error).toMatchObject({code: 'CERT_INVALID', stage: 'tls'});
		expect((error as ZabbixError).message).toContain('RSA key of 1024 bits (secmon requires at least 2048) in its issuer CN=Weak CA');
	});

	it('gets past the checks with a CA that meets the floor (the peer then closes without answering)', async () => {
		const ca = await rsaCert({cn: 'Good CA', isCa: true});
		const leaf = await rsaCert({cn: 'agent', issuer: ca});
		expect(await getWith(ca, leaf)).toMatchObject({code: 'PEER_ERROR', stage: 'response'});
	});
});
