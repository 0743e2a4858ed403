import {X509Certificate} from 'node:crypto';
import {
	mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {
	isRunning, startPmcd, peerPki, type PmcdPeer, type PeerPki,
} from '../helpers/pmcd.js';
import {runPminfo, runPmval} from '../helpers/pminfo.js';
import {freePort, isPortFree, portRange} from '../helpers/ports.js';

/**
Reads the certificate a pmcd serves, the way libpcp gets there (docs/pcp.md#tls-upgrade): greeting, CREDS
asking for SECURE|SECURE_ACK, the 16-byte secure-ack, then a TLS handshake on the same socket.
The handshake starts at once and the socket is closed right after it: a stalled handshake
would freeze pmcd for every client.
*/
async function servedFingerprint(peer: PmcdPeer, client?: {cert: string; key: string}): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({host: peer.host, port: peer.port});
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`no TLS upgrade from ${peer.address} within 5 s`));
		}, 5000);
		let buffered = Buffer.alloc(0);
		let stage: 'greeting' | 'ack' = 'greeting';
		socket.on('error', error => {
			clearTimeout(timer);
			reject(error);
		});
		const onData = (chunk: Buffer) => {
			buffered = Buffer.concat([buffered, chunk]);
			if (stage === 'greeting' && buffered.length >= 20) {
				const features = buffered.readUInt32BE(16) & 0xff_ff;
				if ((features & 0x11) !== 0x11) {
					socket.destroy();
					reject(new Error(`${peer.address} offers no SECURE|SECURE_ACK (features 0x${features.toString(16)})`));
					return;
				}

				buffered = buffered.subarray(20);
				stage = 'ack';
				const creds = Buffer.alloc(20);
				creds.writeUInt32BE(20, 0);
				creds.writeUInt32BE(0x70_0C, 4);
				creds.writeUInt32BE(process.pid, 8);
				creds.writeUInt32BE(1, 12);
				creds.writeUInt32BE(((1 << 24) | (2 << 16) | 0x11) >>> 0, 16);
				socket.write(creds);
			}

			if (stage === 'ack' && buffered.length >= 16) {
				socket.off('data', onData);
				socket.pause();
				if (buffered.readUInt32BE(4) !== 0x70_00 || buffered.readInt32BE(12) !== 0) {
					socket.destroy();
					reject(new Error(`bad secure-ack from ${peer.address}: ${buffered.toString('hex')}`));
					return;
				}

				const secure = tls.connect({
					socket,
					rejectUnauthorized: false,
					...(client ? {cert: readFileSync(client.cert), key: readFileSync(client.key)} : {}),
				});
				secure.once('secureConnect', () => {
					clearTimeout(timer);
					const fingerprint = secure.getPeerX509Certificate()?.fingerprint256 ?? '';
					secure.destroy();
					resolve(fingerprint);
				});
				secure.once('error', (error: Error) => {
					clearTimeout(timer);
					secure.destroy();
					reject(error);
				});
			}
		};

		socket.on('data', onData);
	});
}

function fingerprintOf(file: string): string {
	return new X509Certificate(readFileSync(file)).fingerprint256;
}

const ncpu = /^\nhinv\.ncpu\n {4}value \d+\n$/v;

async function expectStopped(peer: PmcdPeer): Promise<void> {
	const {pid} = peer;
	await peer.stop();
	expect(isRunning(pid)).toBe(false);
	expect(await isPortFree(peer.port, peer.host)).toBe(true);
}

describe('ports helper', () => {
	test('hands out distinct free ports in 46000-46999 and sees a taken one', async () => {
		const ports = await Promise.all([freePort(), freePort(), freePort()]);
		expect(new Set(ports).size).toBe(3);
		for (const port of ports) {
			expect(port).toBeGreaterThanOrEqual(portRange.first);
			expect(port).toBeLessThanOrEqual(portRange.last);
		}

		const server = net.createServer();
		await new Promise<void>(resolve => {
			server.listen(ports[0], '127.0.0.2', resolve);
		});
		try {
			expect(await isPortFree(ports[0], '127.0.0.2')).toBe(false);
		} finally {
			server.close();
		}
	});
});

describe('test PKI (certs.sh)', () => {
	let pki: PeerPki;
	beforeAll(async () => {
		pki = await peerPki();
	});

	test('CA, server, wrong-name, rotated, renewed and client certificates chain as documented', () => {
		const ca = new X509Certificate(readFileSync(pki.caFile));
		const otherCa = new X509Certificate(readFileSync(pki.otherCaFile));
		expect(ca.subject).toBe('CN=secmon test CA');
		expect(ca.ca).toBe(true);

		const server = new X509Certificate(readFileSync(pki.serverCert));
		expect(server.subject).toBe('CN=collector');
		expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:127.0.0.2, IP Address:0:0:0:0:0:0:0:1');
		expect(server.checkIssued(ca)).toBe(true);
		expect(server.verify(ca.publicKey)).toBe(true);
		expect(server.checkHost('localhost')).toBe('localhost');
		expect(server.checkIP('127.0.0.2')).toBe('127.0.0.2');

		const wrong = new X509Certificate(readFileSync(pki.wrongNameCert));
		expect(wrong.subjectAltName).toBe('DNS:wrong.example');
		expect(wrong.verify(ca.publicKey)).toBe(true);
		expect(wrong.checkIP('127.0.0.1')).toBeUndefined();

		const rotated = new X509Certificate(readFileSync(pki.rotatedCert));
		expect(rotated.subjectAltName).toBe(server.subjectAltName);
		expect(rotated.verify(ca.publicKey)).toBe(true);
		expect(rotated.fingerprint256).not.toBe(server.fingerprint256);
		expect(rotated.publicKey.export({type: 'spki', format: 'der'}))
			.not.toEqual(server.publicKey.export({type: 'spki', format: 'der'}));

		const renewed = new X509Certificate(readFileSync(pki.renewedCert));
		expect(renewed.subject).toBe(server.subject);
		expect(renewed.subjectAltName).toBe(server.subjectAltName);
		expect(renewed.verify(ca.publicKey)).toBe(true);
		expect(renewed.serialNumber).not.toBe(server.serialNumber);
		expect(renewed.validTo).not.toBe(server.validTo);
		expect(renewed.publicKey.export({type: 'spki', format: 'der'}))
			.toEqual(server.publicKey.export({type: 'spki', format: 'der'}));

		const client = new X509Certificate(readFileSync(pki.clientCert));
		expect(client.subject).toBe('CN=secmon client');
		expect(client.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
		expect(client.verify(ca.publicKey)).toBe(true);

		const otherClient = new X509Certificate(readFileSync(pki.otherClientCert));
		expect(otherClient.verify(otherCa.publicKey)).toBe(true);
		expect(otherClient.verify(ca.publicKey)).toBe(false);
	});

	test('private keys are 0600', () => {
		for (const key of [pki.caKey, pki.serverKey, pki.wrongNameKey, pki.rotatedKey, pki.clientKey, pki.otherClientKey]) {
			expect(statSync(key).mode & 0o777, key).toBe(0o600);
		}
	});
});

describe('plain pmcd', () => {
	let peer: PmcdPeer;
	beforeAll(async () => {
		peer = await startPmcd('plain');
	});
	afterAll(async () => peer?.stop());

	test('listens on loopback in the helper port range', () => {
		expect(peer.host).toBe('127.0.0.1');
		expect(peer.port).toBeGreaterThanOrEqual(portRange.first);
		expect(peer.port).toBeLessThanOrEqual(portRange.last);
		expect(isRunning(peer.pid)).toBe(true);
	});

	test('real pminfo -f hinv.ncpu works', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu']);
		expect(result.stderr).toBe('');
		expect(result.stdout).toMatch(ncpu);
		expect(result.code).toBe(0);
	});

	test('the sample PMDA is there (private PMNS + pipe PMDA)', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'sample.long.one', 'sample.string.hullo']);
		expect(result.stdout).toBe('\nsample.long.one\n    value 1\n\nsample.string.hullo\n    value "hullo world!"\n');
		expect(result.code).toBe(0);
	});

	test('real pmval works', async () => {
		const result = await runPmval(['-h', peer.address, '-s', '2', '-t', '0.1', 'sample.long.one']);
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/^metric:\s+sample\.long\.one$/mv);
	});

	test('PCP_SECURE_SOCKETS=enforce fails: no TLS offered (docs/pcp.md#secure-modes)', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce'});
		expect(result.stderr).toBe(`pminfo: Cannot connect to PMCD on host "${peer.address}": Operation not supported\n`);
		expect(result.code).toBe(1);
	});

	test('stop ends the process and frees the port', async () => {
		await expectStopped(peer);
	});
});

describe('offer pmcd (TLS offered)', () => {
	let peer: PmcdPeer;
	beforeAll(async () => {
		peer = await startPmcd('offer');
	});
	afterAll(async () => peer?.stop());

	test('enforce + client-verify.conf (test CA, tls-verify-clients) works', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {
			PCP_SECURE_SOCKETS: 'enforce',
			PCP_TLSCONF_PATH: peer.clientVerifyConf,
		});
		expect(result.stderr).toBe('');
		expect(result.stdout).toMatch(ncpu);
		expect(result.code).toBe(0);
	});

	test('verifying against another CA fails with TLS protocol failure', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-other-ca-'));
		try {
			const conf = path.join(dir, 'tls.conf');
			writeFileSync(conf, `tls-ca-cert-file = ${peer.otherCaFile}\ntls-verify-clients = true\n`);
			const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
			expect(result.stderr).toBe(`pminfo: Cannot connect to PMCD on host "${peer.address}": TLS protocol failure\n`);
			expect(result.code).toBe(1);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	test('plain clients are still served', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu']);
		expect(result.stdout).toMatch(ncpu);
		expect(result.code).toBe(0);
	});

	test('serves server.pem after the in-band upgrade', async () => {
		expect(peer.servedCert).toBe(peer.serverCert);
		expect(await servedFingerprint(peer)).toBe(fingerprintOf(peer.serverCert));
	});

	test('restart in offer-rotated mode: same port, new PID, new certificate', async () => {
		const oldPid = peer.pid;
		await peer.restart('offer-rotated');
		expect(isRunning(oldPid)).toBe(false);
		expect(peer.pid).not.toBe(oldPid);
		expect(peer.mode).toBe('offer-rotated');
		expect(await servedFingerprint(peer)).toBe(fingerprintOf(peer.rotatedCert));
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {
			PCP_SECURE_SOCKETS: 'enforce',
			PCP_TLSCONF_PATH: peer.clientVerifyConf,
		});
		expect(result.stdout).toMatch(ncpu);
	});

	test('halt then restart brings it back on the same port', async () => {
		const {port} = peer;
		await peer.halt();
		expect(await isPortFree(port, peer.host)).toBe(true);
		await peer.restart('offer');
		expect(peer.port).toBe(port);
		expect(await servedFingerprint(peer)).toBe(fingerprintOf(peer.serverCert));
	});

	test('stop ends the process and frees the port', async () => {
		await expectStopped(peer);
	});
});

describe('offer-wrongname pmcd', () => {
	let peer: PmcdPeer;
	beforeAll(async () => {
		peer = await startPmcd('offer-wrongname');
	});
	afterAll(async () => peer?.stop());

	test('serves wrongname.pem, and pminfo accepts it: PCP never checks host names (docs/pcp.md#host-names)', async () => {
		expect(await servedFingerprint(peer)).toBe(fingerprintOf(peer.wrongNameCert));
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {
			PCP_SECURE_SOCKETS: 'enforce',
			PCP_TLSCONF_PATH: peer.clientVerifyConf,
		});
		expect(result.stdout).toMatch(ncpu);
		expect(result.code).toBe(0);
	});

	test('stop ends the process and frees the port', async () => {
		await expectStopped(peer);
	});
});

describe('require pmcd (TLS + client certificate, 127.0.0.2)', () => {
	let peer: PmcdPeer;
	beforeAll(async () => {
		peer = await startPmcd('require');
	});
	afterAll(async () => peer?.stop());

	test('binds 127.0.0.2 (pmcd exempts exactly 127.0.0.1 from -Q)', () => {
		expect(peer.host).toBe('127.0.0.2');
		expect(readFileSync(peer.clientVerifyConf, 'utf8')).toContain(`tls-client-cert-file = ${peer.clientCert}`);
	});

	test('enforce with the client certificate from client-verify.conf works', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {
			PCP_SECURE_SOCKETS: 'enforce',
			PCP_TLSCONF_PATH: peer.clientVerifyConf,
		});
		expect(result.stderr).toBe('');
		expect(result.stdout).toMatch(ncpu);
		expect(result.code).toBe(0);
	});

	test.each([
		['unset', {}],
		['relaxed', {PCP_SECURE_SOCKETS: 'relaxed'}],
	])('PCP_SECURE_SOCKETS %s: PMCD requires a client certificate', async (_name, env: Record<string, string>) => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], env);
		expect(result.stderr).toBe(`pminfo: Cannot connect to PMCD on host "${peer.address}": PMCD requires a client certificate\n`);
		expect(result.code).toBe(1);
	});

	test('enforce WITHOUT a client certificate: connect succeeds, first request fails (TLS 1.3, docs/pcp.md#late-client-certificate-rejection)', async () => {
		const result = await runPminfo(['-h', peer.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce'});
		expect(result.stderr).toBe('Error: hinv.ncpu: IPC protocol failure\n');
		expect(result.stdout).not.toMatch(/value/v);
		expect(result.code).toBe(1);
	});

	test('serves server.pem to a client with a certificate', async () => {
		expect(await servedFingerprint(peer, {cert: peer.clientCert, key: peer.clientKey})).toBe(fingerprintOf(peer.serverCert));
	});

	test('stop ends the process and frees the port', async () => {
		await expectStopped(peer);
	});
});
