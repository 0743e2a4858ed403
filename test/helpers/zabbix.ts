/**
 * Real Zabbix peers for the interop tests: a throwaway zabbix_agentd (test/peers/zabbix-agent.sh)
 * and the real zabbix_get (unpacked by test/peers/install-zabbix.sh).
 *
 * Ports: zabbix_agentd only accepts ListenPort 1024-32767, so the usual 4xxxx test ranges are out;
 * Zabbix peers use 31000-31499 (below the kernel's ephemeral range), split into slices of 100 per
 * vitest worker (VITEST_POOL_ID) so parallel test files never collide.
 */
import {execFile, spawn} from 'node:child_process';
import {
	existsSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {isPortFree} from './ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const agentScript = path.resolve(here, '../peers/zabbix-agent.sh');
export const zabbixGetPath = '/opt/secmon-peers/zabbix_get/usr/bin/zabbix_get';
export const zabbixAgentdPath = '/usr/sbin/zabbix_agentd';

export const zabbixPortRange = {first: 31_000, last: 31_499} as const;
const sliceSize = 100;
const sliceCount = (zabbixPortRange.last - zabbixPortRange.first + 1) / sliceSize;

/** Whether the real peers are installed (run `bash test/peers/install.sh` as root otherwise). */
export function zabbixPeersInstalled(): boolean {
	return existsSync(zabbixGetPath) && existsSync(zabbixAgentdPath);
}

export const installHint = 'Zabbix peers are missing: run `sudo bash test/peers/install.sh` (or test/peers/install-zabbix.sh)';

const handedOut = new Set<number>();

function workerSlice(): number {
	const id = Number.parseInt(process.env['VITEST_POOL_ID'] ?? process.env['VITEST_WORKER_ID'] ?? '1', 10);
	return Number.isFinite(id) && id > 0 ? (id - 1) % sliceCount : 0;
}

/** A free 127.0.0.1 port from this worker's slice of 31000-31499. */
export async function zabbixPort(): Promise<number> {
	const base = zabbixPortRange.first + (workerSlice() * sliceSize);
	const offset = Math.floor(Math.random() * sliceSize);
	for (let i = 0; i < sliceSize; i++) {
		const port = base + ((offset + i) % sliceSize);
		if (!handedOut.has(port) && await isPortFree(port, '127.0.0.1')) {
			handedOut.add(port);
			return port;
		}
	}

	throw new Error(`No free port left in ${base}-${base + sliceSize - 1}; stop leftover agents (ss -ltnp 'sport >= :${base}')`);
}

export type AgentMode = 'plain' | 'psk' | 'cert' | 'mixed' | 'psk-cert' | 'all';

export type AgentOptions = {
	/** TLSServerCertIssuer on the agent (pins OUR client certificate); '-' omits it. */
	issuer?: string;
	/** TLSServerCertSubject on the agent; '-' omits it. */
	subject?: string;
	/** extendedKeyUsage of the agent's certificate, e.g. 'clientAuth' to provoke INVALID_PURPOSE. */
	agentEku?: string;
	pskIdentity?: string;
	startAgents?: number;
	timeout?: number;
	extra?: string;
};

export type Agent = {
	host: '127.0.0.1';
	port: number;
	pid: number;
	mode: AgentMode;
	dir: string;
	caFile: string;
	caKey: string;
	agentCert: string;
	clientCert: string;
	clientKey: string;
	otherCaFile: string;
	otherClientCert: string;
	otherClientKey: string;
	pskIdentity: string;
	pskFile: string;
	logFile: string;
	/** The agent log so far (for asserting what the agent saw). */
	log(): string;
	stop(): Promise<void>;
};

async function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{stdout: string; stderr: string}> {
	return new Promise((resolve, reject) => {
		execFile(file, args, {env, timeout: 30_000}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
				return;
			}

			resolve({stdout, stderr});
		});
	});
}

/** Starts a zabbix_agentd on 127.0.0.1 (retrying once on a port race). Stop it with `agent.stop()`. */
export async function startAgent(mode: AgentMode, options: AgentOptions = {}): Promise<Agent> {
	if (!zabbixPeersInstalled()) {
		throw new Error(installHint);
	}

	const env: NodeJS.ProcessEnv = {...process.env};
	if (options.issuer !== undefined) {
		env['ZBX_ISSUER'] = options.issuer;
	}

	if (options.subject !== undefined) {
		env['ZBX_SUBJECT'] = options.subject;
	}

	if (options.agentEku !== undefined) {
		env['ZBX_AGENT_EKU'] = options.agentEku;
	}

	if (options.pskIdentity !== undefined) {
		env['ZBX_PSK_IDENTITY'] = options.pskIdentity;
	}

	if (options.startAgents !== undefined) {
		env['ZBX_START_AGENTS'] = String(options.startAgents);
	}

	if (options.timeout !== undefined) {
		env['ZBX_TIMEOUT'] = String(options.timeout);
	}

	if (options.extra !== undefined) {
		env['ZBX_EXTRA'] = options.extra;
	}

	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		const port = await zabbixPort();
		const dir = mkdtempSync(path.join(os.tmpdir(), `secmon-zbx-${mode}-`));
		try {
			const {stdout} = await run('bash', [agentScript, 'start', String(port), mode, dir], env);
			const pid = Number.parseInt(stdout.trim(), 10);
			if (!Number.isInteger(pid) || pid <= 0) {
				throw new Error(`zabbix-agent.sh printed no PID: ${JSON.stringify(stdout)}`);
			}

			const file = (name: string) => path.join(dir, name);
			let stopped = false;
			return {
				host: '127.0.0.1',
				port,
				pid,
				mode,
				dir,
				caFile: file('ca.crt'),
				caKey: file('ca.key'),
				agentCert: file('agent.crt'),
				clientCert: file('client.crt'),
				clientKey: file('client.key'),
				otherCaFile: file('other-ca.crt'),
				otherClientCert: file('other-client.crt'),
				otherClientKey: file('other-client.key'),
				pskIdentity: readFileSync(file('agent.psk_identity'), 'utf8').trim(),
				pskFile: file('agent.psk'),
				logFile: file('zabbix_agentd.log'),
				log() {
					try {
						return readFileSync(file('zabbix_agentd.log'), 'utf8');
					} catch {
						return '';
					}
				},
				async stop() {
					if (stopped) {
						return;
					}

					stopped = true;
					await run('bash', [agentScript, 'stop', dir], env);
					rmSync(dir, {recursive: true, force: true});
				},
			};
		} catch (error) {
			lastError = error;
			rmSync(dir, {recursive: true, force: true});
			// zabbix_agentd says "unable to serve on any address" when another process took the port
			// between zabbixPort() and its bind (another vitest run on the same machine).
			if (!/already in use|unable to serve on any address/.test(String(error))) {
				break;
			}
		}
	}

	throw lastError;
}

export type RunResult = {stdout: string; stderr: string; code: number; ms: number};

/** Runs the real zabbix_get with `args`; never rejects on a non-zero exit. */
export async function runZabbixGet(args: string[], options: {timeoutMs?: number} = {}): Promise<RunResult> {
	if (!existsSync(zabbixGetPath)) {
		throw new Error(installHint);
	}

	return runProcess(zabbixGetPath, args, options.timeoutMs ?? 40_000);
}

export async function runProcess(file: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<RunResult> {
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const child = spawn(file, args, {stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env});
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
		}, timeoutMs);
		child.on('error', reject);
		child.on('close', code => {
			clearTimeout(timer);
			resolve({
				stdout, stderr, code: code ?? -1, ms: performance.now() - started,
			});
		});
	});
}

/** zabbix_get's stderr without the "zabbix_get [PID]: " prefixes. */
export function stripZabbixPrefix(stderr: string): string {
	return stderr.replaceAll(/^zabbix_get \[\d+]: /gm, '');
}
