import {execFile} from 'node:child_process';
import {readFileSync} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {freePort} from './ports.js';

/**
Real Debian pmcd peers for interop tests, via test/peers/pmcd.sh (docs/pcp.md#a-private-pmcd, docs/pcp.md#tls-configuration).

- plain: no TLS. offer: TLS with the CA-signed server.pem. offer-wrongname: TLS with a cert
  for wrong.example only. offer-rotated: TLS with rotated.pem (same names, new key).
  offer-renewed: TLS with renewed.pem (server.pem renewed: same names and key, new serial and validity).
- require: TLS plus a client certificate signed by the test CA (-Q, tls-verify-clients);
  bound to 127.0.0.2 because pmcd exempts exactly 127.0.0.1 from -Q (docs/pcp.md#requiring-client-certificates).
- sasl: no TLS, SASL authentication required (pmcd -S, mech plain, a private sasldb holding
  options.sasl's user; docs/pmproxy.md#authentication).
*/
export type PmcdMode = 'plain' | 'offer' | 'require' | 'offer-wrongname' | 'offer-rotated' | 'offer-renewed' | 'sasl';

export type PmcdOptions = {
	/** Default: a free port from ./ports.ts. */
	port?: number;
	/** Loopback address to bind. Default 127.0.0.1, 127.0.0.2 for `require`. */
	bind?: string;
	/** sasl mode: the one user in pmcd's sasldb (pmcd looks it up as a local user, so it must exist here). */
	sasl?: {user: string; password: string};
};

/** Files of the shared test PKI made by test/peers/certs.sh. */
export type PeerPki = {
	dir: string;
	/** "secmon test CA", signs server, wrongname, rotated and client. */
	caFile: string;
	caKey: string;
	/** An unrelated CA, signs other-client. */
	otherCaFile: string;
	/** CN=collector, SAN DNS:localhost, 127.0.0.1, 127.0.0.2, ::1. */
	serverCert: string;
	serverKey: string;
	/** Signed by the CA, SAN DNS:wrong.example only. */
	wrongNameCert: string;
	wrongNameKey: string;
	/** Same names as server.pem, new key: a "changed" certificate. */
	rotatedCert: string;
	rotatedKey: string;
	/** server.pem renewed by the same CA: same names and key (serverKey), new serial and validity. */
	renewedCert: string;
	/** CN=secmon client, clientAuth, signed by the CA. */
	clientCert: string;
	clientKey: string;
	/** Client certificate signed by the other CA. */
	otherClientCert: string;
	otherClientKey: string;
};

export type PmcdPeer = PeerPki & {
	mode: PmcdMode;
	/** Address as bound: 127.0.0.1, 127.0.0.2 or ::1. */
	host: string;
	port: number;
	/** `host:port`, with brackets for IPv6, as pminfo -h and secmon take it. */
	address: string;
	/** PID of the current pmcd process (changes on restart). */
	pid: number;
	/** Private run directory (pmcd.conf, pmns.root, tls.conf, pmcd.log). */
	dir: string;
	/** Certificate the server presents, undefined for plain. */
	servedCert: string | undefined;
	/** PCP client tls.conf: verify the server against the test CA (+ client cert for require). */
	clientVerifyConf: string;
	/** Stops pmcd (SIGTERM, SIGKILL after 5 s) and removes `dir`. Safe to call twice. */
	stop(): Promise<void>;
	/** Stops pmcd but keeps `dir`, so `restart()` can bring it back on the same port. */
	halt(): Promise<void>;
	/** (Re)starts pmcd on the same host and port, optionally in another mode (e.g. offer → offer-rotated). */
	restart(mode?: PmcdMode): Promise<void>;
};

const peersDir = fileURLToPath(new URL('../peers/', import.meta.url));
const pmcdScript = path.join(peersDir, 'pmcd.sh');
const certsScript = path.join(peersDir, 'certs.sh');

/** PIDs started by this process, killed on exit if a test forgot to stop them. */
const started = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
	if (exitHookInstalled) {
		return;
	}

	exitHookInstalled = true;
	process.on('exit', () => {
		for (const pid of started) {
			try {
				process.kill(pid, 'SIGTERM');
			} catch {
				// Already gone.
			}
		}
	});
}

async function runScript(script: string, args: string[], env?: Record<string, string>): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('bash', [script, ...args], {
			timeout: 60_000,
			env: {...process.env, ...env},
			maxBuffer: 1024 * 1024,
		}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`bash ${path.basename(script)} ${args.join(' ')} failed (${error.code ?? error.signal ?? 'error'}):\n${stderr.trim()}`));
				return;
			}

			resolve(stdout.trim());
		});
	});
}

/** True if `pid` exists and is not a zombie (a stopped pmcd can stay Z for seconds, docs/pcp.md#a-private-pmcd). */
export function isRunning(pid: number): boolean {
	let stat: string;
	try {
		stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return false;
	}

	const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
	return state !== 'Z' && state !== 'X';
}

function pkiFiles(dir: string): PeerPki {
	const file = (name: string) => path.join(dir, name);
	return {
		dir,
		caFile: file('ca.pem'),
		caKey: file('ca.key'),
		otherCaFile: file('other-ca.pem'),
		serverCert: file('server.pem'),
		serverKey: file('server.key'),
		wrongNameCert: file('wrongname.pem'),
		wrongNameKey: file('wrongname.key'),
		rotatedCert: file('rotated.pem'),
		rotatedKey: file('rotated.key'),
		renewedCert: file('renewed.pem'),
		clientCert: file('client.pem'),
		clientKey: file('client.key'),
		otherClientCert: file('other-client.pem'),
		otherClientKey: file('other-client.key'),
	};
}

let pkiPromise: Promise<PeerPki> | undefined;

/**
The shared throwaway PKI. Lives in $SECMON_TEST_CERTS or <tmpdir>/secmon-peer-pki-<uid>, so it
is generated once and reused by every worker and later runs; certs.sh holds a lock while it
writes, so concurrent workers are safe. Refuses a directory that another user could have
planted or can write.
*/
export async function peerPki(): Promise<PeerPki> {
	pkiPromise ??= (async () => {
		const dir = process.env['SECMON_TEST_CERTS'] ?? path.join(os.tmpdir(), `secmon-peer-pki-${process.getuid?.() ?? 'user'}`);
		await fs.mkdir(dir, {recursive: true, mode: 0o700});
		const info = await fs.stat(dir);
		if (process.getuid && info.uid !== process.getuid()) {
			throw new Error(`Test PKI directory ${dir} belongs to uid ${info.uid}, not to us; remove it or set SECMON_TEST_CERTS`);
		}

		if ((info.mode & 0o022) !== 0) {
			throw new Error(`Test PKI directory ${dir} is writable by group or others; remove it or set SECMON_TEST_CERTS`);
		}

		await runScript(certsScript, [dir]);
		return pkiFiles(dir);
	})();
	// A failure must not stick: the next caller tries again.
	pkiPromise.catch(() => {
		pkiPromise = undefined;
	});
	return pkiPromise;
}

function servedCertFor(mode: PmcdMode, pki: PeerPki): string | undefined {
	switch (mode) {
		case 'plain':
		case 'sasl': {
			return undefined;
		}

		case 'offer-wrongname': {
			return pki.wrongNameCert;
		}

		case 'offer-rotated': {
			return pki.rotatedCert;
		}

		case 'offer-renewed': {
			return pki.renewedCert;
		}

		case 'offer':
		case 'require': {
			return pki.serverCert;
		}
	}
}

class Peer implements PmcdPeer {
	mode: PmcdMode;
	host: string;
	port: number;
	address: string;
	pid = 0;
	dir: string;
	servedCert: string | undefined;
	clientVerifyConf: string;
	caFile: string;
	caKey: string;
	otherCaFile: string;
	serverCert: string;
	serverKey: string;
	wrongNameCert: string;
	wrongNameKey: string;
	rotatedCert: string;
	rotatedKey: string;
	renewedCert: string;
	clientCert: string;
	clientKey: string;
	otherClientCert: string;
	otherClientKey: string;
	private readonly pki: PeerPki;
	private readonly sasl: PmcdOptions['sasl'];
	private removed = false;

	constructor(mode: PmcdMode, host: string, port: number, dir: string, pki: PeerPki, sasl?: PmcdOptions['sasl']) {
		this.sasl = sasl;
		this.mode = mode;
		this.host = host;
		this.port = port;
		this.address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
		this.dir = dir;
		this.pki = pki;
		this.servedCert = servedCertFor(mode, pki);
		this.clientVerifyConf = path.join(dir, 'client-verify.conf');
		this.caFile = pki.caFile;
		this.caKey = pki.caKey;
		this.otherCaFile = pki.otherCaFile;
		this.serverCert = pki.serverCert;
		this.serverKey = pki.serverKey;
		this.wrongNameCert = pki.wrongNameCert;
		this.wrongNameKey = pki.wrongNameKey;
		this.rotatedCert = pki.rotatedCert;
		this.rotatedKey = pki.rotatedKey;
		this.renewedCert = pki.renewedCert;
		this.clientCert = pki.clientCert;
		this.clientKey = pki.clientKey;
		this.otherClientCert = pki.otherClientCert;
		this.otherClientKey = pki.otherClientKey;
	}

	async start(): Promise<void> {
		if (this.removed) {
			throw new Error(`pmcd peer ${this.address} was stopped for good; start a new one with startPmcd()`);
		}

		// The SASL password goes by the environment, never on pmcd.sh's command line.
		const sasl: Record<string, string> = this.sasl === undefined ? {} : {PMCD_SASL_USER: this.sasl.user, PMCD_SASL_PASSWORD: this.sasl.password};
		const stdout = await runScript(pmcdScript, ['start', this.mode, String(this.port), this.dir, this.host], {SECMON_TEST_CERTS: this.pki.dir, ...sasl});
		const pid = Number.parseInt(stdout.split('\n').at(-1) ?? '', 10);
		if (!Number.isInteger(pid) || pid <= 0) {
			throw new Error(`pmcd.sh start printed no PID: ${JSON.stringify(stdout)}`);
		}

		this.pid = pid;
		started.add(pid);
	}

	async halt(): Promise<void> {
		if (this.pid === 0 || !isRunning(this.pid)) {
			started.delete(this.pid);
			return;
		}

		await runScript(pmcdScript, ['stop', this.dir]);
		started.delete(this.pid);
	}

	async restart(mode?: PmcdMode): Promise<void> {
		await this.halt();
		if (mode) {
			this.mode = mode;
			this.servedCert = servedCertFor(mode, this.pki);
		}

		await this.start();
	}

	async stop(): Promise<void> {
		await this.halt();
		if (!this.removed) {
			this.removed = true;
			if (!process.env['SECMON_KEEP_PEERS']) {
				await fs.rm(this.dir, {recursive: true, force: true});
			}
		}
	}
}

/**
Starts a real pmcd on loopback in `mode` and resolves when it listens. Always `await peer.stop()`
(e.g. in afterAll). A port taken by someone else between allocation and bind is retried with a
new port.
*/
export async function startPmcd(mode: PmcdMode, options: PmcdOptions = {}): Promise<PmcdPeer> {
	installExitHook();
	const pki = await peerPki();
	const host = options.bind ?? (mode === 'require' ? '127.0.0.2' : '127.0.0.1');
	const attempts = options.port === undefined ? 3 : 1;
	let lastError: unknown;
	for (let attempt = 0; attempt < attempts; attempt++) {
		const port = options.port ?? await freePort();
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), `secmon-pmcd-${mode}-`));
		const peer = new Peer(mode, host, port, dir, pki, options.sasl);
		try {
			await peer.start();
			return peer;
		} catch (error) {
			lastError = error;
			await peer.stop().catch(() => undefined);
		}
	}

	throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
