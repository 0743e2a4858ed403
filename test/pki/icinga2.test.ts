/**
 * Certificates from secmon pki put to use by `pki snippet icinga2` in a real Icinga 2 2.13 API
 * (a private instance with -D paths, docs/icinga-livestatus-mon.md#running-icinga2): the node certificate is served, and the
 * client certificate logs in as the snippet's ApiUser without a password (docs/icinga-livestatus-mon.md#api-authentication).
 */
import {execFileSync, spawn} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {
	chmodSync, mkdirSync, openSync, readFileSync, writeFileSync,
} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {makeSnippet, type Snippet} from '../../source/pki/snippets.js';
import {type IssuedFiles} from '../../source/pki/issue.js';
import {
	cleanTempDirs, makeTestSet, pkiPort, run, tempDir, type TestSet,
} from './helpers.js';

function files(issued: IssuedFiles) {
	return {
		certificatePath: issued.certificatePath,
		keyPath: issued.keyPath,
		combinedPath: issued.combinedPath,
		certificate: new X509Certificate(readFileSync(issued.certificatePath)),
	};
}

function alive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
		return state !== 'Z' && state !== 'X';
	} catch {
		return false;
	}
}

async function sleep(ms: number): Promise<void> {
	return new Promise(resolve => {
		setTimeout(resolve, ms);
	});
}

async function listening(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect({host: '127.0.0.1', port}, () => {
			socket.destroy();
			resolve(true);
		});
		socket.on('error', () => {
			resolve(false);
		});
	});
}

/** GET /v1/status/CIB with node:https, the server verified against the CA as "collector". */
async function get(port: number, ca: string, certificate: IssuedFiles): Promise<{status: number; body: string}> {
	return new Promise((resolve, reject) => {
		const request = https.get({
			host: '127.0.0.1',
			port,
			path: '/v1/status/CIB',
			servername: 'collector',
			ca: readFileSync(ca),
			cert: readFileSync(certificate.certificatePath),
			key: readFileSync(certificate.keyPath),
			headers: {accept: 'application/json'},
			checkServerIdentity: (_host, peer) => (new X509Certificate(peer.raw).checkHost('collector') ? undefined : new Error('name mismatch')),
		}, response => {
			let body = '';
			response.setEncoding('utf8');
			response.on('data', (chunk: string) => {
				body += chunk;
			});
			response.on('end', () => {
				resolve({status: response.statusCode ?? 0, body});
			});
		});
		request.on('error', reject);
		request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
	});
}

describe('Icinga 2 API with secmon certificates', () => {
	let set: TestSet;
	let work: string;
	let port: number;
	let pid = 0;
	let snippet: Snippet;

	beforeAll(async () => {
		const base = tempDir('icinga2');
		set = await makeTestSet(path.join(base, 'pki'), 'rsa2048');
		port = await pkiPort();
		snippet = makeSnippet('icinga2', {
			caPath: set.server.caPath, caCertificate: set.ca.certificate, server: files(set.server), client: files(set.client), host: '127.0.0.1', port,
		});
		expect(snippet.warnings).toEqual([]);
		// icinga2 runs as nagios when started as root (docs/icinga-livestatus-mon.md#running-icinga2): a tree it owns and can reach.
		work = path.join(base, 'icinga2');
		for (const sub of ['etc', 'lib/certs', 'log', 'cache', 'spool', 'run']) {
			mkdirSync(path.join(work, sub), {recursive: true});
		}

		chmodSync(base, 0o755);
		const certs = path.join(work, 'lib', 'certs');
		const root = process.getuid?.() === 0;
		// The snippet's install lines, into this instance's DataDir instead of /var/lib/icinga2.
		for (const line of snippet.sections[0]!.lines.filter(item => item.startsWith('install '))) {
			const command = line.replaceAll('/var/lib/icinga2/certs', certs).replace(root ? /^$/ : / -o nagios -g nagios/, '');
			const result = await run('bash', ['-c', command]);
			expect(result.code, `${command}\n${result.stderr}`).toBe(0);
		}

		const apiUser = snippet.sections[1]!.lines.join('\n');
		writeFileSync(path.join(work, 'etc', 'icinga2.conf'), [
			'const NodeName = "collector"',
			'const ZoneName = "master"',
			'object Endpoint NodeName { }',
			'object Zone ZoneName { endpoints = [ NodeName ] }',
			// What "icinga2 feature enable api" turns on, bound to loopback.
			`object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = ${port} }`,
			apiUser,
			'',
		].join('\n'));
		if (root) {
			execFileSync('chown', ['-R', 'nagios:nagios', work]);
		}

		const defines = [['ConfigDir', 'etc'], ['DataDir', 'lib'], ['LogDir', 'log'], ['CacheDir', 'cache'], ['SpoolDir', 'spool'], ['InitRunDir', 'run']]
			.map(([key, sub]) => `-D${key}=${path.join(work, sub!)}`);
		const output = openSync(path.join(base, 'icinga2.out'), 'w');
		// Foreground daemon in its own session; SIGTERM to this PID stops its helper processes too.
		const child = spawn('/usr/sbin/icinga2', ['daemon', '-c', path.join(work, 'etc', 'icinga2.conf'), ...defines], {detached: true, stdio: ['ignore', output, output]});
		child.unref();
		pid = child.pid ?? 0;
		for (let i = 0; i < 200 && !(await listening(port)); i++) {
			if (!alive(pid)) {
				throw new Error(`icinga2 exited during start-up:\n${readFileSync(path.join(base, 'icinga2.out'), 'utf8')}`);
			}

			await sleep(50);
		}

		expect(await listening(port)).toBe(true);
	}, 60_000);

	afterAll(async () => {
		if (pid > 0 && alive(pid)) {
			process.kill(pid, 'SIGTERM');
			for (let i = 0; i < 100 && alive(pid); i++) {
				await sleep(50);
			}

			if (alive(pid)) {
				process.kill(-pid, 'SIGKILL');
			}
		}

		cleanTempDirs();
	});

	it('the snippet\'s curl check logs in with the client certificate (no password)', async () => {
		const line = snippet.sections[2]!.lines[0]!;
		expect(line).toContain(`--resolve collector:${port}:127.0.0.1 https://collector:${port}/v1/status/CIB`);
		const result = await run('bash', ['-c', `${line} -sS --fail-with-body`]);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect((JSON.parse(result.stdout) as {results: Array<{name: string}>}).results[0]!.name).toBe('CIB');
	});

	it('node:https verifies the node certificate and is authorised by client_cn', async () => {
		const response = await get(port, set.ca.certificatePath, set.client);
		expect(response.status).toBe(200);
		expect(response.body).toContain('"name":"CIB"');
	});

	it('refuses a client certificate from another CA, and one of the same CA with another CN', async () => {
		const other = await get(port, set.ca.certificatePath, set.otherClient);
		expect(other.status).toBe(401);
		const stranger = await get(port, set.ca.certificatePath, set.strangerClient);
		expect(stranger.status).toBe(401);
	});

	it('a client trusting another CA refuses the node', async () => {
		await expect(get(port, set.otherCa.certificatePath, set.client)).rejects.toThrow(/unable to|self[- ]signed|certificate/i);
	});
});
