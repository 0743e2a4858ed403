/**
 * Shared pieces of the PKI tests: temp dirs, running real programs (openssl, icinga2, stunnel,
 * pminfo), loopback ports 48000-48499 and a ready-made PKI issued by secmon's own code.
 */
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {isPortFree} from '../helpers/ports.js';
import {initCa, type Ca} from '../../source/pki/ca.js';
import {issueCertificate, writeIssued, type IssuedFiles} from '../../source/pki/issue.js';
import {type KeyAlgorithm} from '../../source/pki/keys.js';
import {parseSan} from '../../source/pki/x509.js';

const made: string[] = [];

/** A private temp dir (0700), removed by `cleanTempDirs()` unless SECMON_KEEP_PEERS is set. */
export function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), `secmon-pki-${prefix}-`));
	made.push(dir);
	return dir;
}

export function cleanTempDirs(): void {
	if (process.env['SECMON_KEEP_PEERS']) {
		return;
	}

	for (const dir of made.splice(0)) {
		rmSync(dir, {recursive: true, force: true});
	}
}

export type RunResult = {code: number | null; stdout: string; stderr: string};

/** Runs a program; never rejects for a non-zero exit (SIGKILL after `timeout` ms). */
export async function run(file: string, args: string[], options: {input?: string; env?: NodeJS.ProcessEnv; timeout?: number} = {}): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(file, args, {env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
		});
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
		}, options.timeout ?? 20_000);
		child.on('error', reject);
		child.on('close', code => {
			clearTimeout(timer);
			resolve({code, stdout, stderr});
		});
		// A program that exits without reading stdin closes the pipe: not an error here.
		child.stdin.on('error', () => undefined);
		child.stdin.end(options.input ?? '');
	});
}

/** `openssl verify -CAfile CA [-purpose P] CERT`, with the result line. */
export async function opensslVerify(caFile: string, certFile: string, purpose?: 'sslserver' | 'sslclient'): Promise<RunResult> {
	return run('openssl', ['verify', '-CAfile', caFile, ...(purpose ? ['-purpose', purpose] : []), certFile]);
}

export const pkiPortRange = {first: 48_000, last: 48_499} as const;
const handedOut = new Set<number>();

/** A port free on 127.0.0.1 and 127.0.0.2, from this worker's slice (100 ports) of 48000-48499. */
export async function pkiPort(): Promise<number> {
	const id = Number.parseInt(process.env['VITEST_POOL_ID'] ?? '1', 10);
	const slice = (Number.isFinite(id) && id > 0 ? id - 1 : 0) % 5;
	const base = pkiPortRange.first + (slice * 100);
	const offset = Math.floor(Math.random() * 100);
	for (let i = 0; i < 100; i++) {
		const port = base + ((offset + i) % 100);
		if (!handedOut.has(port) && await isPortFree(port, '127.0.0.1') && await isPortFree(port, '127.0.0.2')) {
			handedOut.add(port);
			return port;
		}
	}

	throw new Error(`no free port in ${base}-${base + 99}; stop leftover test peers (ss -ltnp 'sport >= :${base}')`);
}

export type TestSet = {
	dir: string;
	ca: Ca;
	server: IssuedFiles;
	client: IssuedFiles;
	/** A second, unrelated CA and a client certificate it issued. */
	otherCa: Ca;
	otherClient: IssuedFiles;
	/** Same CA as `client`, other CN (for subject/name pin tests). */
	strangerClient: IssuedFiles;
};

/**
 * A CA, a server certificate (CN collector, SAN localhost, 127.0.0.1, 127.0.0.2, ::1), a client
 * certificate (CN "secmon client"), a client from another CA and a second client of the same CA,
 * all made by secmon's PKI code.
 */
export async function makeTestSet(dir: string, algorithm: KeyAlgorithm = 'rsa2048', options: {serverAlgorithm?: KeyAlgorithm} = {}): Promise<TestSet> {
	const [ca, otherCa] = await Promise.all([
		initCa({dir: path.join(dir, 'ca'), algorithm, cn: `secmon test CA ${algorithm}`}),
		initCa({dir: path.join(dir, 'other-ca'), algorithm, cn: 'unrelated CA'}),
	]);
	const serverSans = ['DNS:localhost', 'IP:127.0.0.1', 'IP:127.0.0.2', 'IP:::1'].map(item => parseSan(item));
	const [server, client, otherClient, strangerClient] = await Promise.all([
		issueCertificate({
			ca, cn: 'collector', sans: serverSans, usage: 'server', algorithm: options.serverAlgorithm ?? algorithm,
		}),
		issueCertificate({
			ca, cn: 'secmon client', usage: 'client', algorithm,
		}),
		issueCertificate({
			ca: otherCa, cn: 'secmon client', usage: 'client', algorithm,
		}),
		issueCertificate({
			ca, cn: 'someone else', usage: 'client', algorithm,
		}),
	]);
	return {
		dir,
		ca,
		otherCa,
		server: await writeIssued(server, path.join(dir, 'server'), 'collector', false),
		client: await writeIssued(client, path.join(dir, 'client'), 'secmon_client', false),
		otherClient: await writeIssued(otherClient, path.join(dir, 'other-client'), 'secmon_client', false),
		strangerClient: await writeIssued(strangerClient, path.join(dir, 'stranger'), 'someone_else', false),
	};
}
