import {execFile} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {makePlan, type Plan} from '../../source/plan.js';
import {isPortFree} from './ports.js';

/**
Real Icinga 2 for the icinga:// and livestatus:// tests, via test/peers/icinga2.sh (docs/icinga-livestatus-mon.md#icinga-2):
a private instance with its own CA, the API on a loopback port, optionally Icinga's Livestatus
feature on another. Ports come from 48500-48999 (the range of these peers).
*/

export const othersPortRange = {first: 48_500, last: 48_999} as const;
const sliceSize = 100;
const handedOut = new Set<number>();

/** A free loopback TCP (and UDP-unused) port from this worker's slice of 48500-48999. */
export async function othersPort(): Promise<number> {
	const slices = (othersPortRange.last - othersPortRange.first + 1) / sliceSize;
	const id = Number.parseInt(process.env['VITEST_POOL_ID'] ?? process.env['VITEST_WORKER_ID'] ?? '1', 10);
	const base = othersPortRange.first + (((Number.isFinite(id) && id > 0 ? id - 1 : 0) % slices) * sliceSize);
	const offset = Math.floor(Math.random() * sliceSize);
	for (let i = 0; i < sliceSize; i++) {
		const port = base + ((offset + i) % sliceSize);
		if (!handedOut.has(port) && await isPortFree(port, '127.0.0.1')) {
			handedOut.add(port);
			return port;
		}
	}

	throw new Error(`no free port in ${base}-${base + sliceSize - 1}; stop leftover peers (ss -ltnp 'sport >= :${base}')`);
}

export const peersDir = fileURLToPath(new URL('../peers/', import.meta.url));

/** PIDs (process groups) started by this process, stopped on exit if a test forgot. */
const started = new Map<number, () => void>();
let hooked = false;

export function trackPid(pid: number, stopSync: () => void): void {
	if (!hooked) {
		hooked = true;
		process.on('exit', () => {
			for (const stop of started.values()) {
				stop();
			}
		});
	}

	started.set(pid, stopSync);
}

export function untrackPid(pid: number): void {
	started.delete(pid);
}

export async function runScript(script: string, args: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('bash', [path.join(peersDir, script), ...args], {timeout: 120_000, maxBuffer: 1024 * 1024}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`bash ${script} ${args.join(' ')} failed (${error.code ?? error.signal ?? 'error'}):\n${stderr.trim()}`));
				return;
			}

			resolve(stdout.trim());
		});
	});
}

/** SIGTERM to a process group, for the exit hook (the scripts do the orderly stop). */
export function killGroup(pid: number): void {
	try {
		process.kill(-pid, 'SIGTERM');
	} catch {
		// Gone.
	}
}

function cacheDir(name: string): string {
	return path.join(os.tmpdir(), `secmon-others-${process.getuid?.() ?? 'user'}`, name);
}

export type IcingaPki = {
	dir: string;
	/** The Icinga CA (docs/icinga-livestatus-mon.md#running-icinga2: `icinga2 pki new-ca`). */
	caFile: string;
	/** CN secmon-client, signed by the Icinga CA: ApiUser secmon-cert. */
	clientCert: string;
	clientKey: string;
	/** CN other-client, signed by the Icinga CA, no ApiUser. */
	otherCert: string;
	otherKey: string;
	/** CN secmon-client, self-signed. */
	selfSignedCert: string;
	selfSignedKey: string;
};

let pkiPromise: Promise<IcingaPki> | undefined;

/** The Icinga CA and certificates, made once (4096-bit keys take seconds) and reused across runs. */
export async function icingaPki(): Promise<IcingaPki> {
	pkiPromise ??= (async () => {
		const dir = cacheDir('icinga-pki');
		await fs.mkdir(dir, {recursive: true, mode: 0o755});
		await runScript('icinga2.sh', ['pki', dir]);
		const file = (name: string) => path.join(dir, name);
		return {
			dir,
			caFile: file('ca.crt'),
			clientCert: file('client/secmon-client.crt'),
			clientKey: file('client/secmon-client.key'),
			otherCert: file('client/other-client.crt'),
			otherKey: file('client/other-client.key'),
			selfSignedCert: file('client/selfsigned.crt'),
			selfSignedKey: file('client/selfsigned.key'),
		};
	})();
	pkiPromise.catch(() => {
		pkiPromise = undefined;
	});
	return pkiPromise;
}

export type IcingaPeer = IcingaPki & {
	port: number;
	livestatusPort: number | undefined;
	/** The instance's directory (etc/, lib/, log/icinga2.log). */
	workDir: string;
	pid: number;
	/** The master's node name: what its certificate is issued for (no IP SAN, docs/icinga-livestatus-mon.md#api-authentication). */
	nodeName: 'icinga2-master';
	ticket(cn: string): Promise<string>;
	/** Signs every pending certificate request (`icinga2 ca sign`); returns their fingerprints. */
	signPending(): Promise<string[]>;
	stop(): Promise<void>;
};

export async function startIcinga(options: {livestatus?: boolean} = {}): Promise<IcingaPeer> {
	const pki = await icingaPki();
	const workDir = mkdtempSync(path.join(os.tmpdir(), 'secmon-icinga-'));
	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		const port = await othersPort();
		const livestatusPort = options.livestatus ? await othersPort() : undefined;
		try {
			const pid = Number(await runScript('icinga2.sh', ['start', workDir, pki.dir, String(port), ...(livestatusPort === undefined ? [] : [String(livestatusPort)])]));
			trackPid(pid, () => {
				killGroup(pid);
			});
			let stopped = false;
			return {
				...pki,
				port,
				livestatusPort,
				workDir,
				pid,
				nodeName: 'icinga2-master',
				async ticket(cn) {
					return runScript('icinga2.sh', ['ticket', workDir, cn]);
				},
				async signPending() {
					const out = await runScript('icinga2.sh', ['sign', workDir]);
					return out.split('\n').filter(line => /^[\da-f]{64}$/.test(line));
				},
				async stop() {
					if (stopped) {
						return;
					}

					stopped = true;
					await runScript('icinga2.sh', ['stop', workDir]);
					untrackPid(pid);
					rmSync(workDir, {recursive: true, force: true});
				},
			};
		} catch (error) {
			lastError = error;
		}
	}

	rmSync(workDir, {recursive: true, force: true});
	throw lastError;
}

/** Polls until `check` resolves truthy (check results come every 2 s on the test peers). */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	while (Date.now() < deadline) {
		try {
			const value = await check();
			if (value) {
				return value;
			}
		} catch (error) {
			last = error;
		}

		await new Promise(resolve => {
			setTimeout(resolve, 200);
		});
	}

	throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** The icinga2 log of a peer (to show what the server saw). */
export function icingaLog(peer: IcingaPeer): string {
	try {
		return readFileSync(path.join(peer.workDir, 'log', 'icinga2.log'), 'utf8');
	} catch {
		return '';
	}
}

export type PlanOptions = {
	caFile?: string;
	cert?: string;
	key?: string;
	secure?: string;
	fingerprint?: string;
	acceptNew?: boolean;
	timeout?: string;
	json?: boolean;
};

/** A Plan as the CLI would make it for these flags (non-interactive: no prompt). */
export async function planFor(options: PlanOptions, env: NodeJS.ProcessEnv): Promise<Plan> {
	return makePlan(['x'], {
		host: [],
		derived: [],
		warn: [],
		crit: [],
		fetch: true,
		desc: false,
		pmid: false,
		pmidLong: false,
		oneline: false,
		helpText: false,
		labels: false,
		verify: false,
		force: false,
		events: false,
		json: options.json ?? false,
		raw: false,
		names: false,
		once: false,
		acceptNew: options.acceptNew ?? false,
		...(options.caFile === undefined ? {} : {caFile: options.caFile}),
		...(options.cert === undefined ? {} : {cert: options.cert}),
		...(options.key === undefined ? {} : {key: options.key}),
		...(options.secure === undefined ? {} : {secure: options.secure}),
		...(options.fingerprint === undefined ? {} : {fingerprint: options.fingerprint}),
		...(options.timeout === undefined ? {} : {timeout: options.timeout}),
	}, {env, stdinIsTty: false, stdoutIsTty: false});
}

/** Session hooks that collect warnings. */
export function hooksFor(env: NodeJS.ProcessEnv): {warn: (message: string) => void; env: NodeJS.ProcessEnv; warnings: string[]} {
	const warnings: string[] = [];
	return {
		warn(message) {
			warnings.push(message);
		},
		env,
		warnings,
	};
}
