import {X509Certificate} from 'node:crypto';
import {
	existsSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {fingerprintArgument} from '../../source/security/certificate.js';
import {testPki} from '../helpers/certs.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runSecmon, type SecmonResult} from '../helpers/secmon.js';
import {startAgent, zabbixPeersInstalled, type Agent} from '../helpers/zabbix.js';

const temporary: string[] = [];
function tempHome(): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-verify-'));
	temporary.push(dir);
	return dir;
}

async function verify(home: string, args: string[], env: Record<string, string> = {}): Promise<SecmonResult> {
	return runSecmon(['verify', ...args], {env: {SECMON_HOME: home, ...env}});
}

type Report = {
	type: string;
	target: string;
	protocol: string;
	transport: string;
	tlsOffered: boolean | null;
	tls: {version: string; cipher: string} | null;
	chain: Array<{subject: string; sha256: string}>;
	chainVerified: {ok: boolean; reason?: string} | null;
	signedBy: string | null;
	hostname: {name: string; ok: boolean; reason?: string} | null;
	expiry: {state: string; daysLeft: number} | null;
	clientCert: {given: boolean; outcome: string};
	pin: {exists: boolean; matches: boolean | null; sha256: string | null} | null;
	trust: string;
	ok: boolean;
	exitCode: number;
	problem: {code: string; message: string; hint: string | null} | null;
	next: string[];
};

async function verifyJson(home: string, args: string[], env: Record<string, string> = {}): Promise<{code: number | null; report: Report; stderr: string}> {
	const result = await verify(home, [...args, '--json'], env);
	return {code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr};
}

function sha256Of(file: string): string {
	return new X509Certificate(readFileSync(file)).fingerprint256;
}

const peers: Array<PmcdPeer | undefined> = [];
let plain: PmcdPeer;
let offer: PmcdPeer;
let wrongName: PmcdPeer;
let require: PmcdPeer;

beforeAll(async () => {
	[plain, offer, wrongName, require] = await Promise.all([startPmcd('plain'), startPmcd('offer'), startPmcd('offer-wrongname'), startPmcd('require')]);
	peers.push(plain, offer, wrongName, require);
});

afterAll(async () => {
	await Promise.all(peers.map(async peer => peer?.stop()));
	for (const dir of temporary) {
		rmSync(dir, {recursive: true, force: true});
	}
});

describe('secmon verify against real pmcd', () => {
	it('plain pmcd: TLS not offered, exit 5, says how to turn it on', async () => {
		const result = await verify(tempHome(), ['--host', plain.address]);
		expect(result.code, result.stdout).toBe(5);
		expect(result.stdout).toContain(`TLS           NOT OFFERED (in-band upgrade after the PCP greeting): PMCD on host "${plain.address}" does not offer TLS`);
		expect(result.stdout).toContain('Turn TLS on in pmcd');
		expect(result.stdout).toContain('secmon pki snippet pmcd');
		const {report} = await verifyJson(tempHome(), ['--host', plain.address]);
		expect(report).toMatchObject({
			tlsOffered: false, ok: false, exitCode: 5, problem: {code: 'TLS_REQUIRED'},
		});
	});

	it('offer, nothing trusted yet: the chain, the reason, exit 3 and the exact commands to pin it — and nothing is pinned', async () => {
		const home = tempHome();
		const served = sha256Of(offer.servedCert!);
		const result = await verify(home, ['--host', offer.address]);
		expect(result.code, result.stdout + result.stderr).toBe(3);
		expect(result.stdout).toMatch(/TLS {11}TLSv1\.[23], \S+ \(in-band upgrade after the PCP greeting\)/);
		expect(result.stdout).toContain('    [0] CN=collector\n        issuer   CN=secmon test CA\n');
		expect(result.stdout).toContain(`        SHA-256  ${served}`);
		expect(result.stdout).toMatch(/Chain check {3}not verified against the system CAs: UNABLE_TO_VERIFY_LEAF_SIGNATURE|Chain check {3}not verified against the system CAs: SELF_SIGNED_CERT_IN_CHAIN/);
		expect(result.stdout).toContain('Host name     127.0.0.1 matches the certificate');
		expect(result.stdout).toMatch(/Expires {7}\d{4}-\d\d-\d\d [\d:]+ UTC \(\d+ days left\)/);
		expect(result.stdout).toContain(`Pin           none for ${offer.address}`);
		expect(result.stdout).toContain('Trust today   NOT TRUSTED');
		const pinCommand = `secmon --host pcps://${offer.address} -f hinv.ncpu --fingerprint ${fingerprintArgument(served)}`;
		expect(result.stdout).toContain(pinCommand);
		expect(result.stdout).toContain(`secmon --host pcps://${offer.address} -f hinv.ncpu --accept-new`);
		expect(result.stdout).toContain('secmon certs trust-ca CA.pem');
		expect(result.stdout).toContain(`Result: a secure connection to ${offer.address} would NOT succeed (exit 3)`);
		// verify never pins, whatever it saw.
		expect(existsSync(path.join(home, 'known_collectors'))).toBe(false);

		// The printed command works, and then verify passes on the pin.
		const pinned = await runSecmon(pinCommand.split(' ').slice(1), {env: {SECMON_HOME: home}});
		expect(pinned.code, pinned.stderr).toBe(0);
		const again = await verifyJson(home, ['--host', offer.address]);
		expect(again.code).toBe(0);
		expect(again.report).toMatchObject({
			trust: 'pinned', ok: true, pin: {exists: true, matches: true, sha256: served},
		});
		const text = await verify(home, ['--host', offer.address]);
		expect(text.stdout).toContain('Trust today   trusted: it matches the certificate pinned for this collector');
		expect(text.stdout).toContain(`Result: OK — a secure connection to ${offer.address} would succeed (exit 0)`);
	});

	it('offer with --ca-file, or a CA trusted with secmon certs trust-ca: trusted by CA, exit 0', async () => {
		const byFile = await verifyJson(tempHome(), ['--host', offer.address, '--ca-file', offer.caFile]);
		expect(byFile.code).toBe(0);
		expect(byFile.report).toMatchObject({
			trust: 'ca', ok: true, chainVerified: {ok: true}, hostname: {name: '127.0.0.1', ok: true}, clientCert: {given: false, outcome: 'accepted'}, pin: {exists: false},
		});
		expect(byFile.report.signedBy).toBe(`CN=secmon test CA, the CA in --ca-file ${offer.caFile}`);

		const home = tempHome();
		expect((await runSecmon(['certs', 'trust-ca', offer.caFile], {env: {SECMON_HOME: home}})).code).toBe(0);
		const byStore = await verify(home, ['--host', `pcps://${offer.address}`]);
		expect(byStore.code, byStore.stdout).toBe(0);
		expect(byStore.stdout).toContain('Signed by     CN=secmon test CA, the CA "secmon test CA" that you trust (secmon certs list)');
		expect(byStore.stdout).toContain('Chain check   verified against the system CAs and 1 CA(s) you trust (secmon certs list)');
		expect(byStore.stdout).toContain('Trust today   trusted: the chain verifies and the name matches (no pin needed)');
		expect(existsSync(path.join(home, 'known_collectors'))).toBe(false);
	});

	it('offer-wrongname: the name mismatch is shown; refused by --ca-file and unknown without (both exit 3)', async () => {
		const withCa = await verify(tempHome(), ['--host', wrongName.address, '--ca-file', wrongName.caFile]);
		expect(withCa.code, withCa.stdout).toBe(3);
		expect(withCa.stdout).toContain('Host name     127.0.0.1 does NOT match: certificate is for DNS:wrong.example, not 127.0.0.1');
		expect(withCa.stdout).toContain('Chain check   verified against --ca-file');
		expect(withCa.stdout).toContain('Trust today   REFUSED by --ca-file (exit 3)');
		expect(withCa.stdout).toContain('Connect with a name the certificate is issued for');
		const servername = await verifyJson(tempHome(), ['--host', wrongName.address, '--ca-file', wrongName.caFile, '--servername', 'wrong.example']);
		expect(servername.code).toBe(0);
		expect(servername.report.hostname).toMatchObject({name: 'wrong.example', ok: true});

		const without = await verifyJson(tempHome(), ['--host', wrongName.address]);
		expect(without.code).toBe(3);
		expect(without.report).toMatchObject({trust: 'unknown', hostname: {ok: false}, problem: {code: 'TRUST_REQUIRED'}});
		expect(without.report.problem!.message).toContain('certificate is for DNS:wrong.example, not 127.0.0.1');
	});

	it('offer-rotated after a pin: CHANGED, exit 4 with both fingerprints and the removal command; after certs remove, exit 3', async () => {
		const rotating = await startPmcd('offer');
		peers.push(rotating);
		const home = tempHome();
		expect((await runSecmon(['--host', `pcps://${rotating.address}`, '-f', 'hinv.ncpu', '--accept-new'], {env: {SECMON_HOME: home}})).code).toBe(0);
		await rotating.restart('offer-rotated');
		const result = await verify(home, ['--host', rotating.address]);
		expect(result.code, result.stdout).toBe(4);
		expect(result.stdout).toContain(`WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR ${rotating.address}`);
		expect(result.stdout).toContain(`Pinned certificate:    SHA-256 ${sha256Of(rotating.serverCert)}`);
		expect(result.stdout).toContain(`Presented certificate: SHA-256 ${sha256Of(rotating.rotatedCert)}`);
		expect(result.stdout).toContain(`a DIFFERENT certificate: SHA-256 ${sha256Of(rotating.serverCert)}`);
		expect(result.stdout).toContain(`    secmon certs remove ${rotating.address}`);
		expect(result.stdout).toContain(`--fingerprint ${fingerprintArgument(sha256Of(rotating.rotatedCert))}`);
		// verify did not touch the pin.
		expect(readFileSync(path.join(home, 'known_collectors', `127.0.0.1_${rotating.port}.json`), 'utf8')).toContain(sha256Of(rotating.serverCert));
		expect((await runSecmon(['certs', 'remove', rotating.address], {env: {SECMON_HOME: home}})).code).toBe(0);
		expect((await verify(home, ['--host', rotating.address])).code).toBe(3);
	});

	it('require: client certificate required (exit 1), accepted with --cert/--key (exit 0), and trust still comes first (exit 3)', async () => {
		const missing = await verify(tempHome(), ['--host', require.address, '--ca-file', require.caFile]);
		expect(missing.code, missing.stdout).toBe(1);
		expect(missing.stdout).toContain('Client cert   REQUIRED by the collector, and none was given');
		expect(missing.stdout).toContain('add --cert FILE --key FILE');
		const given = await verifyJson(tempHome(), ['--host', require.address, '--ca-file', require.caFile, '--cert', require.clientCert, '--key', require.clientKey]);
		expect(given.code, JSON.stringify(given.report)).toBe(0);
		expect(given.report.clientCert).toEqual({given: true, outcome: 'accepted', requiredByCollector: true});
		const wrongClient = await verifyJson(tempHome(), ['--host', require.address, '--ca-file', require.caFile, '--cert', require.otherClientCert, '--key', require.otherClientKey]);
		expect(wrongClient.code).toBe(1);
		expect(wrongClient.report.clientCert.outcome).toBe('rejected');
		const untrusted = await verifyJson(tempHome(), ['--host', require.address]);
		expect(untrusted.code).toBe(3);
		expect(untrusted.report.trust).toBe('unknown');
		expect(untrusted.report.clientCert.outcome).toBe('required');
	});

	it('usage errors exit 2; a refused connection exits 1 with what to do', async () => {
		for (const args of [[], ['--host', 'x', '--bogus'], ['--host', 'x', '--cert', 'c'], ['--host', 'pcp://'], ['--host', 'x', '--ca-file', '/nonexistent/ca.pem']]) {
			const result = await verify(tempHome(), args);
			expect(result.code, args.join(' ')).toBe(2);
		}

		const port = await new Promise<number>(resolve => {
			const server = net.createServer();
			server.listen(0, '127.0.0.1', () => {
				const {port: free} = server.address() as net.AddressInfo;
				server.close(() => {
					resolve(free);
				});
			});
		});
		const refused = await verify(tempHome(), ['--host', `127.0.0.1:${port}`]);
		expect(refused.code).toBe(1);
		expect(refused.stdout).toContain('Connection    FAILED:');
		expect(refused.stdout).toContain('Connection refused');
		expect(refused.stdout).toContain('Check that pmcd is running there');
		const json = await verifyJson(tempHome(), ['127.0.0.1:' + String(port)]);
		expect(json.report).toMatchObject({connected: false, ok: false, exitCode: 1});
	});
});

describe('secmon verify with TLS from the first byte (livestatus:// to a TLS listener)', () => {
	const servers: net.Server[] = [];
	let received = '';

	const sockets = new Set<net.Socket>();

	async function listen(server: net.Server): Promise<number> {
		servers.push(server);
		server.on('connection', (socket: net.Socket) => {
			sockets.add(socket);
		});
		return new Promise(resolve => {
			server.listen(0, '127.0.0.1', () => {
				resolve((server.address() as net.AddressInfo).port);
			});
		});
	}

	afterAll(async () => {
		for (const socket of sockets) {
			socket.destroy();
		}

		await Promise.all(servers.map(async server => new Promise(resolve => {
			server.close(resolve);
		})));
	});

	it('untrusted: exit 3, and not one byte of the protocol is sent; a plain-text port is "not offered" (exit 5)', async () => {
		const pki = await testPki();
		const port = await listen(tls.createServer({key: pki.server.key, cert: pki.server.cert}, socket => {
			socket.on('data', (chunk: Uint8Array) => {
				received += Buffer.from(chunk).toString('latin1');
			});
			socket.on('error', () => undefined);
		}));
		const result = await verifyJson(tempHome(), ['--host', `livestatus://127.0.0.1:${port}`]);
		expect(result.code).toBe(3);
		expect(result.report).toMatchObject({transport: 'direct', tlsOffered: true, trust: 'unknown'});
		expect(result.report.chain[0]!.subject).toBe('CN=collector, O=secmon');
		expect(result.report.clientCert.outcome).toBe('accepted');
		expect(received).toBe('');

		const caFile = path.join(tempHome(), 'ca.pem');
		const {writeFileSync} = await import('node:fs');
		writeFileSync(caFile, pki.ca.cert);
		const trusted = await verifyJson(tempHome(), ['--host', `livestatus://127.0.0.1:${port}`, '--ca-file', caFile]);
		expect(trusted.code, JSON.stringify(trusted.report)).toBe(0);
		expect(received).toBe('');

		const plainPort = await listen(net.createServer(socket => {
			socket.on('error', () => undefined);
			socket.end('HTTP/1.0 400 Bad Request\r\n\r\n');
		}));
		const plain = await verify(tempHome(), ['--host', `livestatus://127.0.0.1:${plainPort}`]);
		expect(plain.code, plain.stdout).toBe(5);
		expect(plain.stdout).toContain('did not answer with TLS');
	});
});

describe.runIf(zabbixPeersInstalled())('secmon verify against a real zabbix_agentd', () => {
	let cert: Agent | undefined;
	let psk: Agent | undefined;

	beforeAll(async () => {
		[cert, psk] = await Promise.all([startAgent('cert'), startAgent('psk')]);
	});

	afterAll(async () => {
		await Promise.all([cert?.stop(), psk?.stop()]);
	});

	it('certificate agent: TLS from the first byte, Zabbix-style CA check, client certificates', async () => {
		const url = `zabbix://127.0.0.1:${cert!.port}`;
		const ok = await verifyJson(tempHome(), ['--host', url, '--ca-file', cert!.caFile, '--cert', cert!.clientCert, '--key', cert!.clientKey]);
		expect(ok.code, JSON.stringify(ok.report)).toBe(0);
		expect(ok.report).toMatchObject({transport: 'direct', trust: 'ca', tlsOffered: true});
		expect(ok.report.chain[0]!.sha256).toBe(sha256Of(cert!.agentCert));
		const otherClient = await verifyJson(tempHome(), ['--host', url, '--ca-file', cert!.caFile, '--cert', cert!.otherClientCert, '--key', cert!.otherClientKey]);
		expect(otherClient.code).toBe(1);
		expect(otherClient.report.clientCert.outcome).toMatch(/closed|rejected/);
		const noClient = await verify(tempHome(), ['--host', url, '--ca-file', cert!.caFile]);
		expect(noClient.code).toBe(1);
		expect(noClient.stdout).toContain('A Zabbix agent with TLSAccept=cert always wants a client certificate');
		const tofu = await verify(tempHome(), ['--host', url, '--cert', cert!.clientCert, '--key', cert!.clientKey]);
		expect(tofu.code).toBe(3);
		expect(tofu.stdout).toContain(`secmon --host ${url} --cert ${cert!.clientCert} --key ${cert!.clientKey} -f agent.ping --fingerprint ${fingerprintArgument(sha256Of(cert!.agentCert))}`);
	});

	it('PSK agent: reports the PSK connection (no certificate), exit 0; a wrong identity fails', async () => {
		const url = `zabbix://127.0.0.1:${psk!.port}`;
		const ok = await verifyJson(tempHome(), ['--host', url], {SECMON_PSK_IDENTITY: psk!.pskIdentity, SECMON_PSK_FILE: psk!.pskFile});
		expect(ok.code, JSON.stringify(ok.report)).toBe(0);
		expect(ok.report).toMatchObject({
			transport: 'psk', psk: {identity: psk!.pskIdentity}, chain: [], ok: true,
		});
		expect(ok.report.tls?.cipher).toMatch(/PSK/);
		const text = await verify(tempHome(), ['--host', url], {SECMON_PSK_IDENTITY: psk!.pskIdentity, SECMON_PSK_FILE: psk!.pskFile});
		expect(text.stdout).toContain('there is no certificate to check or pin');
		const wrong = await verify(tempHome(), ['--host', url], {SECMON_PSK_IDENTITY: 'nobody', SECMON_PSK_FILE: psk!.pskFile});
		expect(wrong.code).toBe(1);
	});
});
