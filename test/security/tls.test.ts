import {X509Certificate} from 'node:crypto';
import {
	chmodSync, mkdtempSync, readFileSync, rmSync, statSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
	afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi,
} from 'vitest';
import {isSecmonError, type SecmonError} from '../../source/errors.js';
import {describeCertificate, fingerprintArgument} from '../../source/security/certificate.js';
import {TrustStore} from '../../source/security/store.js';
import {
	connectTls, tlsFailure, upgradeToTls, type TlsOptions, type TlsResult,
} from '../../source/security/tls.js';
import type {Ask, TrustQuestion} from '../../source/security/types.js';
import {testPki, writeTestPki, type TestPki} from '../helpers/certs.js';

type Peer = {
	port: number;
	/** Application bytes the server received. */
	received: () => string;
	/** SNI per connection (false = none sent). */
	servernames: Array<string | false | null>;
	clientSubjects: string[];
	/** Resolves when every connection so far has closed. */
	allClosed: () => Promise<void>;
	close: () => Promise<void>;
};

const peers: Array<{close: () => Promise<void>}> = [];
let pki: TestPki;
let files: Awaited<ReturnType<typeof writeTestPki>>;
let fixtures: string;
let home: string;
let store: TrustStore;

beforeAll(async () => {
	pki = await testPki();
	fixtures = mkdtempSync(path.join(os.tmpdir(), 'secmon-tls-fixtures-'));
	files = await writeTestPki(fixtures);
});

afterAll(() => {
	rmSync(fixtures, {recursive: true, force: true});
});

beforeEach(() => {
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-tls-home-'));
	vi.stubEnv('SECMON_HOME', home);
	store = new TrustStore(home);
});

afterEach(async () => {
	await Promise.all(peers.splice(0).map(async peer => peer.close()));
	vi.unstubAllEnvs();
	rmSync(home, {recursive: true, force: true});
});

async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, host, resolve);
	});
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('expected a TCP address');
	}

	return address.port;
}

function tracker() {
	const sockets = new Set<net.Socket>();
	const closed: Array<Promise<void>> = [];
	return {
		add(socket: net.Socket) {
			sockets.add(socket);
			socket.on('error', () => undefined);
			closed.push(new Promise(resolve => {
				socket.once('close', () => {
					sockets.delete(socket);
					resolve();
				});
			}));
		},
		async allClosed() {
			await Promise.all(closed);
		},
		destroyAll() {
			for (const socket of sockets) {
				socket.destroy();
			}
		},
	};
}

/** A TLS echo server on 127.0.0.1 (or ::1) that records what it received. */
async function tlsPeer(options: tls.TlsOptions, host = '127.0.0.1'): Promise<Peer> {
	const chunks: Buffer[] = [];
	const servernames: Array<string | false | null> = [];
	const clientSubjects: string[] = [];
	const sockets = tracker();
	const server = tls.createServer(options, socket => {
		servernames.push(socket.servername);
		const peerCert = socket.getPeerCertificate();
		if (peerCert.subject) {
			clientSubjects.push([peerCert.subject.CN ?? ''].flat().join(','));
		}

		socket.on('data', (chunk: Buffer) => {
			chunks.push(chunk);
			socket.write(`echo:${chunk.toString()}`);
		});
	});
	server.on('connection', (socket: net.Socket) => {
		sockets.add(socket);
	});
	server.on('tlsClientError', () => undefined);
	const port = await listen(server, host);
	const peer: Peer = {
		port,
		received: () => Buffer.concat(chunks).toString(),
		servernames,
		clientSubjects,
		allClosed: async () => sockets.allClosed(),
		async close() {
			sockets.destroyAll();
			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
	peers.push(peer);
	return peer;
}

/** A plain TCP server with a custom connection handler. */
async function tcpPeer(onConnection: (socket: net.Socket) => void): Promise<{port: number; allClosed: () => Promise<void>}> {
	const sockets = tracker();
	const server = net.createServer(socket => {
		sockets.add(socket);
		onConnection(socket);
	});
	const port = await listen(server);
	peers.push({
		async close() {
			sockets.destroyAll();
			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	});
	return {port, allClosed: async () => sockets.allClosed()};
}

function options(port: number, overrides: Partial<TlsOptions> = {}): TlsOptions {
	return {
		target: {host: '127.0.0.1', port},
		store,
		acceptNew: false,
		timeoutMs: 5000,
		...overrides,
	};
}

async function echo(result: TlsResult, text: string): Promise<string> {
	return new Promise((resolve, reject) => {
		result.stream.once('data', (chunk: Buffer) => {
			resolve(chunk.toString());
		});
		result.stream.once('error', reject);
		result.stream.write(text);
	});
}

async function refusal(promise: Promise<unknown>): Promise<SecmonError> {
	try {
		await promise;
	} catch (error) {
		if (isSecmonError(error)) {
			return error;
		}

		throw error;
	}

	throw new Error('expected a refusal');
}

const opened: TlsResult[] = [];
afterEach(() => {
	for (const result of opened.splice(0)) {
		result.stream.destroy();
	}
});

async function connect(tlsOptions: TlsOptions): Promise<TlsResult> {
	const result = await connectTls(tlsOptions);
	opened.push(result);
	return result;
}

describe('connectTls: CA path', () => {
	it('a certificate from --ca-file with the right name → basis ca, facts reported, data flows', async () => {
		const peer = await tlsPeer({cert: pki.server.cert, key: pki.server.key});
		const result = await connect(options(peer.port, {caFile: files.ca.cert}));
		const leaf = describeCertificate(pki.server.cert);
		expect(result.facts.cipher).toMatch(/^TLS_/v);
		expect(result.facts).toEqual({
			version: 'TLSv1.3',
			cipher: result.facts.cipher,
			basis: 'ca',
			sha256: leaf.sha256,
			sha1: leaf.sha1,
			subject: 'CN=collector, O=secmon',
			validTo: leaf.validTo,
		});
		expect(await echo(result, 'hello')).toBe('echo:hello');
		expect(store.list()).toEqual([]);
		// docs/node.md#sni-for-ip-literals: no SNI for an IP literal.
		expect(peer.servernames).toEqual([false]);
	});

	it('sends SNI for host names and checks the name against it', async () => {
		const peer = await tlsPeer({cert: pki.server.cert, key: pki.server.key});
		const result = await connect(options(peer.port, {target: {host: 'localhost', port: peer.port}, caFile: files.ca.cert}));
		expect(result.facts.basis).toBe('ca');
		expect(await echo(result, 'x')).toBe('echo:x');
		expect(peer.servernames).toEqual(['localhost']);
	});

	it('CAs added to the store (<home>/cas) are trusted without --ca-file', async () => {
		const peer = await tlsPeer({cert: pki.server.cert, key: pki.server.key});
		store.addTrustedCa(pki.ca.cert);
		const result = await connect(options(peer.port));
		expect(result.facts.basis).toBe('ca');
	});

	it('a certificate from another CA with --ca-file → CERT_INVALID exit 3 (unknown CA), no fallback, nothing sent', async () => {
		const peer = await tlsPeer({cert: pki.otherCaServer.cert, key: pki.otherCaServer.key});
		const ask = vi.fn<Ask>();
		const error = await refusal(connectTls(options(peer.port, {caFile: files.ca.cert, acceptNew: true, ask})));
		expect(error.code).toBe('CERT_INVALID');
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain('not signed by the given CA');
		expect(error.message).toMatch(/unknown CA|UNABLE_TO/v);
		expect(ask).not.toHaveBeenCalled();
		await peer.allClosed();
		expect(peer.received()).toBe('');
		expect(store.list()).toEqual([]);
	});

	it('a CA-signed certificate for another name with --ca-file → exit 3 naming the mismatch', async () => {
		const peer = await tlsPeer({cert: pki.wrongName.cert, key: pki.wrongName.key});
		const error = await refusal(connectTls(options(peer.port, {caFile: files.ca.cert, acceptNew: true})));
		expect(error.code).toBe('CERT_INVALID');
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain('certificate is for DNS:wrong.example, not 127.0.0.1');
		await peer.allClosed();
		expect(peer.received()).toBe('');
	});

	it('without --ca-file, a name mismatch under a trusted CA falls to the pin/prompt path with that reason', async () => {
		const peer = await tlsPeer({cert: pki.wrongName.cert, key: pki.wrongName.key});
		store.addTrustedCa(pki.ca.cert);
		const questions: TrustQuestion[] = [];
		const result = await connect(options(peer.port, {
			async ask(question) {
				questions.push(question);
				return 'once';
			},
		}));
		expect(result.facts.basis).toBe('accepted-once');
		expect(questions[0]?.reason).toBe('certificate is for DNS:wrong.example, not 127.0.0.1');
	});

	it('a missing --ca-file is a usage error', async () => {
		const error = await refusal(connectTls(options(1, {caFile: path.join(fixtures, 'missing.pem')})));
		expect(error.code).toBe('USAGE');
		expect(error.message).toContain('missing.pem');
	});
});

describe('connectTls: pins and first use', () => {
	it('non-interactive and unknown → TRUST_REQUIRED exit 3 with the fingerprints and the commands; nothing sent or saved', async () => {
		const peer = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		const leaf = describeCertificate(pki.selfSigned.cert);
		const error = await refusal(connectTls(options(peer.port)));
		expect(error.code).toBe('TRUST_REQUIRED');
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain('self-signed certificate');
		expect(error.message).toContain(leaf.sha256);
		expect(error.message).toContain(leaf.sha1);
		expect(error.hint).toContain(`secmon --host 127.0.0.1:${peer.port} … --fingerprint ${fingerprintArgument(leaf.sha256)}`);
		expect(error.hint).toContain('--accept-new');
		await peer.allClosed();
		expect(peer.received()).toBe('');
		expect(store.list()).toEqual([]);
	});

	it('--accept-new pins (0600 file in a 0700 dir), and the next connection is "pinned"', async () => {
		const peer = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		const first = await connect(options(peer.port, {acceptNew: true}));
		expect(first.facts.basis).toBe('accept-new');
		expect(first.pinFile).toBe(store.pinPath({host: '127.0.0.1', port: peer.port}));
		expect(statSync(first.pinFile!).mode & 0o777).toBe(0o600);
		expect(statSync(store.knownDir).mode & 0o777).toBe(0o700);
		expect(await echo(first, 'one')).toBe('echo:one');
		// One read of the pin per connection: the one that chose the TLS context decides (TrustInput.pin).
		const get = vi.spyOn(store, 'get');
		const second = await connect(options(peer.port));
		expect(get).toHaveBeenCalledTimes(1);
		get.mockRestore();
		expect(second.facts.basis).toBe('pinned');
		expect(second.pinFile).toBeUndefined();
		expect(await echo(second, 'two')).toBe('echo:two');
	});

	it('a changed certificate for a pinned collector → CERT_CHANGED exit 4 with the banner; the pin stays', async () => {
		const original = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		await connect(options(original.port, {acceptNew: true}));
		await original.close();
		// Same host:port, new key (interception or reinstall).
		const pinFile = store.pinPath({host: '127.0.0.1', port: original.port});
		const impostor = tls.createServer({cert: pki.rotated.cert, key: pki.rotated.key}, socket => {
			socket.on('data', () => {
				throw new Error('the client must not send data to an impostor');
			});
		});
		const sockets = tracker();
		impostor.on('connection', (socket: net.Socket) => {
			sockets.add(socket);
		});
		await new Promise<void>((resolve, reject) => {
			impostor.once('error', reject);
			impostor.listen(original.port, '127.0.0.1', resolve);
		});
		peers.push({
			async close() {
				sockets.destroyAll();
				await new Promise(resolve => {
					impostor.close(resolve);
				});
			},
		});
		const ask = vi.fn<Ask>(async () => 'save');
		const error = await refusal(connectTls(options(original.port, {ask, acceptNew: true})));
		const old = describeCertificate(pki.selfSigned.cert);
		const presented = describeCertificate(pki.rotated.cert);
		expect(error.code).toBe('CERT_CHANGED');
		expect(error.exitCode).toBe(4);
		expect(error.message).toContain('@@@@@@@@');
		expect(error.message).toContain(`WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR 127.0.0.1:${original.port}`);
		expect(error.message).toContain('possible'.toUpperCase());
		expect(error.message).toContain(old.sha256);
		expect(error.message).toContain(presented.sha256);
		expect(error.message).toContain(pinFile);
		expect(error.message).toContain('by --accept-new');
		expect(error.hint).toContain(`secmon certs remove 127.0.0.1:${original.port}`);
		expect(error.hint).toContain(`--fingerprint ${fingerprintArgument(presented.sha256)}`);
		expect(ask).not.toHaveBeenCalled();
		expect(store.get({host: '127.0.0.1', port: original.port})?.sha256).toBe(old.sha256);
		await sockets.allClosed();

		// The documented way out: --fingerprint NEW after checking it out of band.
		const warnings: string[] = [];
		const replaced = await connect(options(original.port, {
			fingerprint: presented.sha256, onWarning(warning) {
				warnings.push(warning);
			},
		}));
		expect(replaced.facts.basis).toBe('fingerprint');
		expect(warnings.join('\n')).toContain('replaced the pinned certificate');
		expect(store.get({host: '127.0.0.1', port: original.port})?.sha256).toBe(presented.sha256);
	});

	it('--fingerprint equal → pinned by fingerprint; different → exit 3 showing both, nothing saved or sent', async () => {
		const peer = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		const leaf = describeCertificate(pki.selfSigned.cert);
		const other = describeCertificate(pki.rotated.cert);
		const error = await refusal(connectTls(options(peer.port, {fingerprint: other.sha256.toLowerCase()})));
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain(other.sha256);
		expect(error.message).toContain(leaf.sha256);
		expect(store.list()).toEqual([]);
		await peer.allClosed();
		expect(peer.received()).toBe('');

		const result = await connect(options(peer.port, {fingerprint: fingerprintArgument(leaf.sha256)}));
		expect(result.facts.basis).toBe('fingerprint');
		expect(store.get({host: '127.0.0.1', port: peer.port})?.pinnedBy).toBe('fingerprint');
	});

	it('the prompt: save pins, once does not, reject refuses with exit 3', async () => {
		const peer = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		const target = {host: '127.0.0.1', port: peer.port};
		const leaf = describeCertificate(pki.selfSigned.cert);
		const asked: TrustQuestion[] = [];
		const answer = (value: 'save' | 'once' | 'reject'): Ask => async question => {
			asked.push(question);
			return value;
		};

		const rejected = await refusal(connectTls(options(peer.port, {ask: answer('reject')})));
		expect(rejected.code).toBe('TRUST_REJECTED');
		expect(rejected.exitCode).toBe(3);
		expect(store.get(target)).toBeUndefined();

		const once = await connect(options(peer.port, {ask: answer('once')}));
		expect(once.facts.basis).toBe('accepted-once');
		expect(store.get(target)).toBeUndefined();
		expect(await echo(once, 'x')).toBe('echo:x');

		const saved = await connect(options(peer.port, {ask: answer('save')}));
		expect(saved.facts.basis).toBe('accepted');
		expect(store.get(target)?.pinnedBy).toBe('prompt');

		expect(asked).toHaveLength(3);
		expect(asked[0]).toMatchObject({target, reason: 'self-signed certificate'});
		expect(asked[0]?.certificate.sha256).toBe(leaf.sha256);
		expect(peer.received()).toBe('x');
	});

	it('a slow answer at the prompt does not count against the handshake timeout', async () => {
		const peer = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		const result = await connect(options(peer.port, {
			timeoutMs: 200,
			async ask() {
				await new Promise(resolve => {
					setTimeout(resolve, 400);
				});
				return 'once';
			},
		}));
		expect(result.facts.basis).toBe('accepted-once');
	});

	it('works for an IPv6 loopback target (pin file name escaped)', async () => {
		let peer: Peer;
		try {
			peer = await tlsPeer({cert: pki.server.cert, key: pki.server.key}, '::1');
		} catch {
			return; // No IPv6 loopback on this machine.
		}

		const result = await connect(options(peer.port, {target: {host: '::1', port: peer.port}, acceptNew: true}));
		expect(result.facts.basis).toBe('accept-new');
		expect(path.basename(result.pinFile!)).toBe(`%3A%3A1_${peer.port}.json`);
		const withCa = await connect(options(peer.port, {target: {host: '::1', port: peer.port}, caFile: files.ca.cert}));
		expect(withCa.facts.basis).toBe('ca');
	});
});

describe('connectTls: failures', () => {
	it('a collector that never answers the handshake → TIMEOUT', async () => {
		// Reads (so it notices the close) but never answers.
		const peer = await tcpPeer(socket => {
			socket.resume();
		});
		const started = Date.now();
		const error = await refusal(connectTls(options(peer.port, {timeoutMs: 300, acceptNew: true})));
		expect(error.code).toBe('TIMEOUT');
		expect(error.message).toContain('timed out after 300 ms');
		expect(Date.now() - started).toBeLessThan(3000);
		await peer.allClosed();
	});

	it('a port that does not speak TLS → TLS_FAILED, never plain text', async () => {
		const peer = await tcpPeer(socket => {
			socket.once('data', () => {
				socket.write('HTTP/1.0 400 Bad Request\r\n\r\n');
			});
		});
		const error = await refusal(connectTls(options(peer.port, {acceptNew: true})));
		expect(error.code).toBe('TLS_FAILED');
		expect(error.message).toContain('did not answer with TLS');
		expect(error.hint).toContain('never falls back to plain text');
	});

	it('a collector that hangs up during the handshake → TLS_FAILED', async () => {
		const peer = await tcpPeer(socket => {
			socket.once('data', () => {
				socket.destroy();
			});
		});
		const error = await refusal(connectTls(options(peer.port, {acceptNew: true})));
		expect(error.code).toBe('TLS_FAILED');
	});

	it('nothing listening → CONNECT_FAILED (exit 1) saying so', async () => {
		const server = net.createServer();
		const port = await listen(server);
		await new Promise(resolve => {
			server.close(resolve);
		});
		const error = await refusal(connectTls(options(port, {acceptNew: true})));
		expect(error.code).toBe('CONNECT_FAILED');
		expect(error.exitCode).toBe(1);
		expect(error.message).toContain('connection refused');
	});

	it('a TLS 1.1-only collector → TLS_FAILED naming the version problem', async () => {
		const peer = await tlsPeer({
			cert: pki.selfSigned.cert, key: pki.selfSigned.key, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0',
		});
		const error = await refusal(connectTls(options(peer.port, {acceptNew: true})));
		expect(error.code).toBe('TLS_FAILED');
		expect(error.message).toMatch(/TLS version|protocol version|TLS alert/v);
	});
});

describe('client certificates', () => {
	const requireClientCert = (maxVersion: tls.SecureVersion = 'TLSv1.3', ca?: string): tls.TlsOptions => ({
		cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: true, ca: ca ?? pki.ca.cert, maxVersion,
	});

	it('presents --cert/--key to a collector that requires one', async () => {
		const peer = await tlsPeer(requireClientCert());
		const result = await connect(options(peer.port, {caFile: files.ca.cert, cert: files.client.cert, key: files.client.key}));
		expect(await echo(result, 'hi')).toBe('echo:hi');
		expect(peer.clientSubjects).toEqual(['secmon client']);
	});

	it('warns when the key file is readable by group or others (and still connects)', async () => {
		const peer = await tlsPeer(requireClientCert());
		const loose = path.join(fixtures, 'loose.key');
		const {writeFileSync} = await import('node:fs');
		writeFileSync(loose, readFileSync(files.client.key));
		chmodSync(loose, 0o644);
		const warnings: string[] = [];
		const result = await connect(options(peer.port, {
			caFile: files.ca.cert, cert: files.client.cert, key: loose, onWarning(warning) {
				warnings.push(warning);
			},
		}));
		expect(await echo(result, 'hi')).toBe('echo:hi');
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toContain(`chmod 600 ${loose}`);
		expect(warnings[0]).not.toContain('PRIVATE KEY');
	});

	it('--cert without --key is a usage error', async () => {
		const error = await refusal(connectTls(options(1, {cert: files.client.cert})));
		expect(error.code).toBe('USAGE');
	});

	it('TLS 1.3 without a client certificate: the late alert maps to CLIENT_CERT_REQUIRED', async () => {
		const peer = await tlsPeer(requireClientCert());
		let error: SecmonError;
		try {
			const result = await connect(options(peer.port, {caFile: files.ca.cert}));
			await echo(result, 'hi');
			throw new Error('expected the collector to refuse');
		} catch (error_) {
			error = tlsFailure(error_, {target: {host: '127.0.0.1', port: peer.port}, clientCert: false});
		}

		expect(error.code).toBe('CLIENT_CERT_REQUIRED');
		expect(error.message).toContain('requires a client certificate');
		expect(error.hint).toContain('--cert FILE --key FILE');
		expect(peer.received()).toBe('');
	});

	it('TLS 1.2 without a client certificate: the handshake fails with CLIENT_CERT_REQUIRED', async () => {
		const peer = await tlsPeer(requireClientCert('TLSv1.2'));
		const error = await refusal(connectTls(options(peer.port, {caFile: files.ca.cert})));
		expect(error.code).toBe('CLIENT_CERT_REQUIRED');
		expect(error.hint).toContain('--cert');
	});

	it('TLS 1.2, a client certificate from a CA the collector does not trust → "rejected our client certificate"', async () => {
		const peer = await tlsPeer(requireClientCert('TLSv1.2', pki.otherCa.cert));
		const error = await refusal(connectTls(options(peer.port, {caFile: files.ca.cert, cert: files.client.cert, key: files.client.key})));
		expect(error.code).toBe('TLS_FAILED');
		// Either the alert arrives, or the collector's reset overtakes it; both name the client certificate.
		expect(error.message).toMatch(/rejected our client certificate|may have rejected our client certificate/v);
	});
});

describe('no TLS, or TLS that broke: noTls (docs/pmproxy.md#security-modes)', () => {
	it('a reset after a completed handshake, while the prompt waits, is a TLS failure "after the TLS handshake" without noTls', async () => {
		const peer = await tlsPeer({cert: pki.selfSigned.cert, key: pki.selfSigned.key});
		// A TCP relay in front of it: its client-side socket is plain TCP, so it can send an RST.
		const raws: net.Socket[] = [];
		const relay = net.createServer(client => {
			client.on('error', () => undefined);
			raws.push(client);
			const upstream = net.connect(peer.port, '127.0.0.1');
			upstream.on('error', () => undefined);
			client.pipe(upstream);
			upstream.pipe(client);
			client.once('close', () => upstream.destroy());
		});
		const port = await listen(relay);
		peers.push({
			async close() {
				for (const socket of raws) {
					socket.destroy();
				}

				await new Promise(resolve => {
					relay.close(resolve);
				});
			},
		});
		// The handshake completed (the prompt is asked after it); the collector resets the connection
		// while the user reads the question, and the reset reaches us before the answer.
		const ask: Ask = async () => {
			setTimeout(() => {
				raws.at(-1)!.resetAndDestroy();
			}, 100);
			await new Promise(resolve => {
				setTimeout(resolve, 400);
			});
			return 'once';
		};

		const error = await refusal(connectTls(options(port, {ask})));
		expect(error.code, error.message).toBe('TLS_FAILED');
		expect(error.message).toContain('reset the connection after the TLS handshake');
		expect((error as SecmonError & {noTls?: string}).noTls).toBeUndefined();
	});

	it.each(['ERR_SSL_UNEXPECTED_MESSAGE', 'ERR_SSL_RECORD_LAYER_FAILURE', 'ERR_SSL_WRONG_VERSION_NUMBER'])('%s is "answered-plain" only while no certificate arrived', code => {
		const error = Object.assign(new Error(`ssl failure ${code}`), {code});
		const target = {host: '127.0.0.1', port: 1};
		const before = tlsFailure(error, {target, clientCert: false, chain: []});
		expect((before as SecmonError & {noTls?: string}).noTls).toBe('answered-plain');
		const after = tlsFailure(error, {target, clientCert: false, chain: [new X509Certificate(pki.server.cert)]});
		expect(after.code).toBe('TLS_FAILED');
		expect(after.message).toContain('after its certificate arrived');
		expect((after as SecmonError & {noTls?: string}).noTls).toBeUndefined();
	});
});

describe('upgradeToTls (in-band, PCP style)', () => {
	async function startTlsPeer(greeting: string) {
		return tcpPeer(socket => {
			socket.write(greeting);
			socket.once('data', (chunk: Buffer) => {
				socket.pause();
				// Without an ack the ClientHello can arrive in the same segment (docs/pcp.md#tls-upgrade): give it back.
				const command = 'STARTTLS\n';
				if (chunk.subarray(0, command.length).toString() !== command) {
					socket.destroy();
					return;
				}

				socket.unshift(chunk.subarray(command.length));
				const secure = new tls.TLSSocket(socket, {isServer: true, secureContext: tls.createSecureContext({cert: pki.selfSigned.cert, key: pki.selfSigned.key})});
				secure.on('error', () => undefined);
				secure.on('data', (data: Buffer) => {
					secure.write(`echo:${data.toString()}`);
				});
			});
		});
	}

	async function plainConnect(port: number): Promise<net.Socket> {
		return new Promise((resolve, reject) => {
			const socket = net.connect({host: '127.0.0.1', port}, () => {
				resolve(socket);
			});
			socket.once('error', reject);
		});
	}

	it('upgrades a plain socket after the protocol says so, with the same trust decision', async () => {
		const peer = await startTlsPeer('HELLO\n');
		const socket = await plainConnect(peer.port);
		const greeting = await new Promise<string>(resolve => {
			socket.once('data', (chunk: Buffer) => {
				socket.pause();
				resolve(chunk.toString());
			});
		});
		expect(greeting).toBe('HELLO\n');
		socket.write('STARTTLS\n');
		const result = await upgradeToTls(socket, options(peer.port, {acceptNew: true}));
		opened.push(result);
		expect(result.facts.basis).toBe('accept-new');
		expect(await echo(result, 'metrics')).toBe('echo:metrics');
	});

	it('refuses to upgrade when unread plain-text bytes are buffered', async () => {
		const peer = await startTlsPeer('HELLO\nSURPRISE');
		const socket = await plainConnect(peer.port);
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
		const error = await refusal(upgradeToTls(socket, options(peer.port, {acceptNew: true})));
		expect(error.code).toBe('PROTOCOL');
		expect(socket.destroyed).toBe(true);
	});

	it('an untrusted certificate during the upgrade destroys the underlying socket', async () => {
		const peer = await startTlsPeer('HELLO\n');
		const socket = await plainConnect(peer.port);
		await new Promise<void>(resolve => {
			socket.once('data', () => {
				socket.pause();
				resolve();
			});
		});
		socket.write('STARTTLS\n');
		const error = await refusal(upgradeToTls(socket, options(peer.port)));
		expect(error.code).toBe('TRUST_REQUIRED');
		expect(socket.destroyed).toBe(true);
		await peer.allClosed();
	});
});
