/**
 * Certificates made by secmon pki, accepted by the real Debian pmcd (docs/pcp.md#tls-configuration): TLS offered,
 * and TLS with a client certificate required (-Q + tls-verify-clients on 127.0.0.2), driven
 * through test/peers/pmcd.sh (via test/helpers/pmcd.ts) with a certificate directory that holds
 * secmon's files, and queried by the real pminfo with the client tls.conf from `pki snippet pmcd`.
 */
import {X509Certificate} from 'node:crypto';
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo} from '../helpers/pminfo.js';
import {makeSnippet, type Snippet} from '../../source/pki/snippets.js';
import {type KeyAlgorithm} from '../../source/pki/keys.js';
import {
	cleanTempDirs, makeTestSet, pkiPort, tempDir, type TestSet,
} from './helpers.js';

function linesOf(file: string): string[] {
	return readFileSync(file, 'utf8').split('\n').filter(line => line.trim() !== '' && !line.startsWith('#')).toSorted();
}

export function pmcdInterop(algorithm: KeyAlgorithm): void {
	describe(`pmcd with secmon certificates (${algorithm})`, () => {
		let set: TestSet;
		let certs: string;
		let offer: PmcdPeer | undefined;
		let require: PmcdPeer | undefined;
		let snippet: Snippet;
		const savedEnv = process.env['SECMON_TEST_CERTS'];

		const file = (name: string) => path.join(certs, name);

		/** A client tls.conf made of the snippet's client section, optionally with other files swapped in. */
		function clientConf(name: string, replace: Record<string, string> = {}, drop: string[] = []): string {
			const section = snippet.sections.find(item => item.title.startsWith('a tls.conf for pminfo'));
			const lines = section!.lines
				.filter(line => !drop.some(key => line.startsWith(key)))
				.map(line => {
					const key = line.split(' = ')[0]!;
					return replace[key] === undefined ? line : `${key} = ${replace[key]}`;
				});
			const target = path.join(certs, `${name}.conf`);
			writeFileSync(target, `${lines.join('\n')}\n`);
			return target;
		}

		beforeAll(async () => {
			const dir = tempDir(`pmcd-${algorithm}`);
			set = await makeTestSet(dir, algorithm);
			// pmcd.sh uses $SECMON_TEST_CERTS/{ca,server,client}.{pem,key} and only makes what is missing.
			certs = tempDir(`pmcd-certs-${algorithm}`);
			copyFileSync(set.ca.certificatePath, file('ca.pem'));
			copyFileSync(set.ca.keyPath, file('ca.key'));
			copyFileSync(set.server.certificatePath, file('server.pem'));
			copyFileSync(set.server.keyPath, file('server.key'));
			copyFileSync(set.client.certificatePath, file('client.pem'));
			copyFileSync(set.client.keyPath, file('client.key'));
			process.env['SECMON_TEST_CERTS'] = certs;
			snippet = makeSnippet('pmcd', {
				caPath: file('ca.pem'),
				caCertificate: set.ca.certificate,
				server: {certificatePath: file('server.pem'), keyPath: file('server.key'), certificate: new X509Certificate(readFileSync(file('server.pem')))},
				client: {certificatePath: file('client.pem'), keyPath: file('client.key'), certificate: new X509Certificate(readFileSync(file('client.pem')))},
			});
			expect(snippet.warnings).toEqual([]);
			[offer, require] = await Promise.all([
				startPmcd('offer', {port: await pkiPort()}),
				startPmcd('require', {port: await pkiPort()}),
			]);
		});

		afterAll(async () => {
			await Promise.all([offer?.stop(), require?.stop()]);
			if (savedEnv === undefined) {
				delete process.env['SECMON_TEST_CERTS'];
			} else {
				process.env['SECMON_TEST_CERTS'] = savedEnv;
			}

			cleanTempDirs();
		});

		it('pmcd runs with exactly the server lines of the snippet', () => {
			const server = snippet.sections[0]!.lines.toSorted();
			expect(linesOf(path.join(require!.dir, 'tls.conf'))).toEqual(server);
			expect(snippet.sections[1]!.lines).toEqual(['-Q']);
			// The served certificate is secmon's.
			expect(require!.servedCert).toBe(file('server.pem'));
		});

		it('pminfo (PCP_SECURE_SOCKETS=enforce) verifies pmcd against the secmon CA', async () => {
			const conf = clientConf('verify-only', {}, ['tls-client-cert-file', 'tls-client-key-file']);
			const result = await runPminfo(['-h', offer!.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
			expect(result.stderr).toBe('');
			expect(result.code).toBe(0);
			expect(result.stdout).toMatch(/hinv\.ncpu\s+value \d+/);
		});

		it('pminfo refuses pmcd when it trusts another CA', async () => {
			copyFileSync(set.otherCa.certificatePath, file('other-secmon-ca.pem'));
			const conf = clientConf('other-ca', {'tls-ca-cert-file': file('other-secmon-ca.pem')}, ['tls-client-cert-file', 'tls-client-key-file']);
			const result = await runPminfo(['-h', offer!.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
			expect(result.code).not.toBe(0);
			expect(result.stderr).toContain('TLS protocol failure');
		});

		it('pmcd requiring a client certificate accepts the secmon client certificate from the snippet', async () => {
			const conf = clientConf('with-client');
			const result = await runPminfo(['-h', require!.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
			expect(result.stderr).toBe('');
			expect(result.code).toBe(0);
			expect(result.stdout).toMatch(/hinv\.ncpu\s+value \d+/);
		});

		it('pmcd requiring a client certificate refuses one from another CA, and none', async () => {
			copyFileSync(set.otherClient.certificatePath, file('other-secmon-client.pem'));
			copyFileSync(set.otherClient.keyPath, file('other-secmon-client.key'));
			const other = clientConf('other-client', {'tls-client-cert-file': file('other-secmon-client.pem'), 'tls-client-key-file': file('other-secmon-client.key')});
			const rejected = await runPminfo(['-h', require!.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: other});
			expect(rejected.stdout + rejected.stderr).not.toMatch(/value \d+/);
			expect(rejected.stdout + rejected.stderr).toMatch(/IPC protocol failure|TLS protocol failure|Cannot connect/);
			const none = clientConf('no-client', {}, ['tls-client-cert-file', 'tls-client-key-file']);
			const refused = await runPminfo(['-h', require!.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: none});
			expect(refused.stdout + refused.stderr).not.toMatch(/value \d+/);
		});
	});
}
