import {spawn} from 'node:child_process';
import {
	existsSync, mkdirSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

/** Debian's real PCP clients (package pcp 6.0.3), never anything from this project. */
export const pminfoPath = '/usr/bin/pminfo';
export const pmvalPath = '/usr/bin/pmval';

export type ToolResult = {
	stdout: string;
	stderr: string;
	/** Exit status; null if the tool was killed (see `signal`, `timedOut`). */
	code: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
};

export type ToolOptions = {
	/** Kill the tool (SIGKILL) after this many ms. Default 20 s: above pmcd's 10 s request timeout. */
	timeout?: number;
};

let emptyTlsConf: string | undefined;

/**
An empty client tls.conf, so /etc/pcp/tls.conf edits never change a test's outcome. One per
user (<tmpdir>/secmon-pcp-client-<uid>, 0700), shared by all workers; nothing to clean up.
*/
export function emptyTlsConfPath(): string {
	if (!emptyTlsConf) {
		const uid = process.getuid?.() ?? 0;
		const dir = path.join(os.tmpdir(), `secmon-pcp-client-${uid}`);
		mkdirSync(dir, {recursive: true, mode: 0o700});
		const info = statSync(dir);
		if (info.uid !== uid || (info.mode & 0o022) !== 0) {
			throw new Error(`${dir} is not a private directory of uid ${uid}; remove it and run the tests again`);
		}

		const file = path.join(dir, 'empty-tls.conf');
		if (!existsSync(file) || statSync(file).size > 0) {
			writeFileSync(file, '');
		}

		emptyTlsConf = file;
	}

	return emptyTlsConf;
}

/**
The reproducible environment for PCP clients: no derived metrics (docs/pcp.md#client-environment: they add 51
names and many PDUs), plain unless PCP_SECURE_SOCKETS is given, an empty tls.conf unless
PCP_TLSCONF_PATH is given, C locale, UTC. Nothing else leaks in from the caller
(PMCD_PORT, PMCD_HOST, PCP_SECURE_SOCKETS, …).
*/
export function pcpClientEnv(env: Record<string, string> = {}): Record<string, string> {
	return {
		PATH: process.env['PATH'] ?? '/usr/bin:/bin',
		HOME: process.env['HOME'] ?? os.tmpdir(),
		LC_ALL: 'C',
		TZ: 'UTC',
		PCP_DERIVED_CONFIG: '',
		PCP_TLSCONF_PATH: emptyTlsConfPath(),
		...env,
	};
}

/** Runs a PCP client binary with `pcpClientEnv(env)`; never rejects for a non-zero exit. */
export async function runPcpTool(binary: string, args: string[], env?: Record<string, string>, options: ToolOptions = {}): Promise<ToolResult> {
	const timeout = options.timeout ?? 20_000;
	return new Promise((resolve, reject) => {
		const child = spawn(binary, args, {env: pcpClientEnv(env), stdio: ['ignore', 'pipe', 'pipe']});
		const stdout: Uint8Array[] = [];
		const stderr: Uint8Array[] = [];
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill('SIGKILL');
		}, timeout);
		child.stdout.on('data', (chunk: Uint8Array) => {
			stdout.push(chunk);
		});
		child.stderr.on('data', (chunk: Uint8Array) => {
			stderr.push(chunk);
		});
		child.once('error', error => {
			clearTimeout(timer);
			reject(new Error(`Cannot run ${binary}: ${error.message}. Install PCP with: sudo bash test/peers/install.sh`));
		});
		child.once('close', (code, signal) => {
			clearTimeout(timer);
			resolve({
				stdout: Buffer.concat(stdout).toString('utf8'),
				stderr: Buffer.concat(stderr).toString('utf8'),
				code,
				signal,
				timedOut,
			});
		});
	});
}

/** Real `pminfo ARGS` (e.g. ['-h', peer.address, '-f', 'hinv.ncpu']). */
export async function runPminfo(args: string[], env?: Record<string, string>, options?: ToolOptions): Promise<ToolResult> {
	return runPcpTool(pminfoPath, args, env, options);
}

/** Real `pmval ARGS` (e.g. ['-h', peer.address, '-s', '2', '-t', '0.2', 'kernel.all.load']). */
export async function runPmval(args: string[], env?: Record<string, string>, options?: ToolOptions): Promise<ToolResult> {
	return runPcpTool(pmvalPath, args, env, options);
}
