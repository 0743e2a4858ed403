/**
 * `secmon pki snippet pmproxy` put to use: a real pmproxy started with exactly the snippet's
 * tls.conf and pmproxy.conf lines serves secmon's issued certificate, and the snippet's own
 * secmon command reads it (with the client certificate it requires, and refused without).
 */
import {X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {pmproxySnippet} from '../../../source/pki/snippets.js';
import type {IssuedFiles} from '../../../source/pki/issue.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {startPmproxy, type PmproxyPeer} from '../../helpers/pmproxy.js';
import {runSecmon, tempHome} from '../../helpers/secmon.js';
import {
	cleanTempDirs, makeTestSet, tempDir, type TestSet,
} from '../../pki/helpers.js';

let pmcd: PmcdPeer;
let set: TestSet;

function files(issued: IssuedFiles) {
	return {
		certificatePath: issued.certificatePath,
		keyPath: issued.keyPath,
		certificate: new X509Certificate(readFileSync(issued.certificatePath)),
	};
}

beforeAll(async () => {
	[pmcd, set] = await Promise.all([startPmcd('plain'), makeTestSet(tempDir('pmproxy-snippet'), 'rsa2048')]);
}, 60_000);

afterAll(async () => {
	await pmcd?.stop();
	cleanTempDirs();
});

/** The snippet's sections as files: tls.conf, and pmproxy.conf with the test's other settings. */
function configure(dir: string, lines: {tls: string[]; proxy: string[]}): void {
	writeFileSync(path.join(dir, 'tls.conf'), `${lines.tls.join('\n')}\n`);
	writeFileSync(path.join(dir, 'pmproxy.conf'), [
		...lines.proxy,
		'pcp.enabled = true',
		'http.enabled = true',
		'redis.enabled = false',
		'[discover]',
		'enabled = false',
		'[pmseries]',
		'enabled = false',
		'',
	].join('\n'));
}

describe('secmon pki snippet pmproxy', () => {
	it.each([['without', false], ['with', true]])('%s a client certificate: the snippet serves the issued certificate and its command works', async (_, withClient) => {
		const snippet = pmproxySnippet({
			caPath: set.server.caPath,
			caCertificate: set.ca.certificate,
			server: files(set.server),
			...(withClient ? {client: files(set.client)} : {}),
			host: 'localhost',
		});
		expect(snippet.warnings).toEqual([]);
		const [tls, proxy, command] = snippet.sections;
		expect(proxy!.lines).toEqual(['[pmproxy]', 'secure.enabled = true']);
		const dir = tempDir('pmproxy-run');
		configure(dir, {tls: tls!.lines, proxy: proxy!.lines});
		const peer: PmproxyPeer = await startPmproxy('custom', pmcd.port, {dir});
		const home = tempHome();
		try {
			// The snippet's command, on this pmproxy's port (the snippet names the default 44322).
			const words = command!.lines[0]!.split(' ').slice(1).map(word => word.replace(':44322', `:${peer.port}`));
			expect(words[1]).toBe(`pmproxys://localhost:${peer.port}`);
			const result = await runSecmon(words, {env: {SECMON_HOME: home.dir}});
			expect(result.stderr).toBe('');
			expect(result.stdout).toMatch(/^\nhinv\.ncpu\n {4}value \d+\n$/);
			expect(result.code).toBe(0);
			if (withClient) {
				const without = await runSecmon(['--host', `pmproxys://localhost:${peer.port}`, '--ca-file', set.server.caPath, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
				expect(without.stderr).toContain('client certificate');
				expect(without.code).toBe(1);
			}
		} finally {
			home.remove();
			await peer.stop();
		}
	});
});
