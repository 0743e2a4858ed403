/**
 * Certificates from secmon pki, put to use by the stunnel snippet, accepted by the real stunnel 5
 * (Debian stunnel4) with client verification (docs/icinga-livestatus-mon.md#stunnel), in front of a loopback echo server.
 */
import {execFile} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import {fileURLToPath} from 'node:url';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {makeSnippet} from '../../source/pki/snippets.js';
import {
	cleanTempDirs, makeTestSet, pkiPort, run, tempDir, type TestSet,
} from './helpers.js';

const stunnelScript = fileURLToPath(new URL('../peers/stunnel.sh', import.meta.url));

async function script(args: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('bash', [stunnelScript, ...args], {timeout: 30_000}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`stunnel.sh ${args.join(' ')} failed: ${stderr}`));
				return;
			}

			resolve(stdout.trim());
		});
	});
}

type Outcome = {ok: true; echoed: string; authorized: boolean} | {ok: false; error: string};

/** Connects with node:tls, sends a line, and resolves with the echo or the error. */
async function talk(port: number, options: tls.ConnectionOptions): Promise<Outcome> {
	return new Promise(resolve => {
		const socket = tls.connect({
			host: '127.0.0.1', port, minVersion: 'TLSv1.2', ...options,
		});
		let data = '';
		const timer = setTimeout(() => {
			socket.destroy();
			resolve({ok: false, error: 'timeout'});
		}, 8000);
		socket.on('secureConnect', () => {
			socket.write('ping secmon\n');
		});
		socket.on('data', (chunk: Uint8Array) => {
			data += Buffer.from(chunk).toString('utf8');
			if (data.includes('\n')) {
				clearTimeout(timer);
				const {authorized} = socket;
				socket.end();
				resolve({ok: true, echoed: data, authorized});
			}
		});
		socket.on('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			resolve({ok: false, error: `${error.code ?? ''} ${error.message}`});
		});
		socket.on('close', () => {
			clearTimeout(timer);
			resolve({ok: false, error: `closed after ${JSON.stringify(data)}`});
		});
	});
}

async function plainTalk(port: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({host: '127.0.0.1', port});
		let data = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`no echo through the client stunnel, got ${JSON.stringify(data)}`));
		}, 8000);
		socket.on('connect', () => socket.write('through both\n'));
		socket.on('data', chunk => {
			data += chunk.toString('utf8');
			if (data.includes('\n')) {
				clearTimeout(timer);
				socket.end();
				resolve(data);
			}
		});
		socket.on('error', reject);
	});
}

for (const algorithm of ['rsa2048', 'ecdsa-p256'] as const) {
	describe(`stunnel with client verification (${algorithm})`, () => {
		let set: TestSet;
		let dir: string;
		let echo: net.Server;
		let tlsPort: number;
		let clientPort: number;
		let started = false;
		const read = (file: string) => readFileSync(file);

		beforeAll(async () => {
			dir = tempDir(`stunnel-${algorithm}`);
			set = await makeTestSet(dir, algorithm);
			const echoPort = await pkiPort();
			tlsPort = await pkiPort();
			clientPort = await pkiPort();
			echo = net.createServer(socket => {
				socket.on('error', () => undefined);
				socket.pipe(socket);
			});
			await new Promise<void>(resolve => {
				echo.listen(echoPort, '127.0.0.1', resolve);
			});
			const certificate = (files: typeof set.server) => ({
				certificatePath: files.certificatePath,
				keyPath: files.keyPath,
				combinedPath: files.combinedPath,
				certificate: new X509Certificate(readFileSync(files.certificatePath)),
			});
			const snippet = makeSnippet('stunnel', {
				caPath: set.ca.certificatePath,
				caCertificate: set.ca.certificate,
				server: certificate(set.server),
				client: certificate(set.client),
				accept: `127.0.0.1:${tlsPort}`,
				connect: `127.0.0.1:${echoPort}`,
				host: '127.0.0.1',
				service: 'collector',
			});
			expect(snippet.warnings).toEqual([]);
			const [serverSection, clientSection] = snippet.sections;
			// The client-side section runs on "another host": give it its own local port here.
			const clientLines = clientSection!.lines.map(line => line.startsWith('accept = ') ? `accept = 127.0.0.1:${clientPort}` : line);
			writeFileSync(path.join(dir, 'services.conf'), [...serverSection!.lines, '', ...clientLines, ''].join('\n'));
			await script(['start', dir]);
			started = true;
		});

		afterAll(async () => {
			if (started) {
				await script(['stop', dir]);
			}

			await new Promise<void>(resolve => {
				if (echo) {
					echo.close(() => {
						resolve();
					});
				} else {
					resolve();
				}
			});
			cleanTempDirs();
		});

		it('openssl s_client verifies the server chain and host name with the client certificate', async () => {
			const result = await run('openssl', [
				's_client',
				'-connect',
				`127.0.0.1:${tlsPort}`,
				'-CAfile',
				set.ca.certificatePath,
				'-cert',
				set.client.certificatePath,
				'-key',
				set.client.keyPath,
				'-verify_return_error',
				'-verify_hostname',
				'localhost',
				'-brief',
			], {input: ''});
			expect(result.stdout + result.stderr).toContain('Verification: OK');
			expect(result.stdout + result.stderr).toMatch(/Peer certificate: CN ?= ?collector/);
		});

		it('passes data for the secmon client certificate, verified against the CA and host name', async () => {
			const outcome = await talk(tlsPort, {
				ca: read(set.ca.certificatePath), cert: read(set.client.certificatePath), key: read(set.client.keyPath), servername: 'localhost',
			});
			expect(outcome).toEqual({ok: true, echoed: 'ping secmon\n', authorized: true});
		});

		it('refuses a client certificate from another CA, a stranger of the same CA (checkHost) and no certificate', async () => {
			const base = {ca: read(set.ca.certificatePath), servername: 'localhost'};
			const other = await talk(tlsPort, {...base, cert: read(set.otherClient.certificatePath), key: read(set.otherClient.keyPath)});
			expect(other.ok).toBe(false);
			expect(other.ok ? '' : other.error).toMatch(/unknown ca|alert/i);
			const stranger = await talk(tlsPort, {...base, cert: read(set.strangerClient.certificatePath), key: read(set.strangerClient.keyPath)});
			expect(stranger.ok).toBe(false);
			const none = await talk(tlsPort, base);
			expect(none.ok).toBe(false);
			expect(none.ok ? '' : none.error).toMatch(/certificate required|handshake failure|alert/i);
			// stunnel writes its refusal after the client has seen the connection end: wait for the
			// lines (a fast client read the log before the last one was written on Node 24 in CI).
			const logFile = path.join(dir, 'stunnel.log');
			let log = '';
			for (let waited = 0; waited < 10_000; waited += 50) {
				log = readFileSync(logFile, 'utf8');
				if (/cert: subject checks failed|checkhost/i.test(log) && log.includes('peer did not return a certificate')) {
					break;
				}

				await new Promise(resolve => {
					setTimeout(resolve, 50);
				});
			}

			expect(log).toMatch(/cert: subject checks failed|checkhost/i);
			expect(log).toContain('peer did not return a certificate');
		});

		it('the client never trusts a server from another CA', async () => {
			const outcome = await talk(tlsPort, {
				ca: read(set.otherCa.certificatePath), cert: read(set.client.certificatePath), key: read(set.client.keyPath), servername: 'localhost',
			});
			expect(outcome.ok).toBe(false);
			expect(outcome.ok ? '' : outcome.error).toMatch(/unable_to_verify_leaf_signature|self_signed_cert_in_chain|unable to/i);
		});

		it('the client-side section of the snippet carries plain traffic through both stunnels', async () => {
			expect(await plainTalk(clientPort)).toBe('through both\n');
		});
	});
}
