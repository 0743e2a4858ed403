/**
 * How every command ends early (source/process-exit.ts), with the real binary: a reader that
 * closes the pipe (`| head -1`) ends it quietly with exit 0, as Debian's pminfo and zabbix_get
 * end; SIGTERM and SIGINT end it at once with 143 and 130 (sampling, --json streaming, a
 * collector that never answers, the Ink panes in a real terminal), `secmon serve` closes its
 * listeners and exits 0 as pmcd does.
 */
import {execFile, spawn} from 'node:child_process';
import {
	existsSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {
	afterAll, afterEach, beforeAll, describe, expect, test,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {freePort} from '../helpers/ports.js';
import {cliPath, tempHome} from '../helpers/secmon.js';
import {Tmux} from '../helpers/tmux.js';
import {
	startAgent, zabbixPeersInstalled, type Agent,
} from '../helpers/zabbix.js';

type Exit = {stdout: string; stderr: string; code: number | null; signal: NodeJS.Signals | null};

let peer: PmcdPeer;
let home: ReturnType<typeof tempHome>;

function baseEnv(): Record<string, string> {
	return {
		PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home.dir, SECMON_HOME: home.dir, NO_COLOR: '1', TZ: 'UTC',
	};
}

/** `bash -c SCRIPT` with pipefail: the status is secmon's unless secmon exited 0. */
async function shell(script: string): Promise<Exit> {
	return new Promise((resolve, reject) => {
		execFile('bash', ['-c', `set -o pipefail; ${script}`], {env: baseEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000}, (error, stdout, stderr) => {
			if (error && typeof error.code !== 'number') {
				reject(new Error(`bash failed: ${error.message}`));
				return;
			}

			resolve({
				stdout, stderr, code: typeof error?.code === 'number' ? error.code : 0, signal: null,
			});
		});
	});
}

const secmon = `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)}`;

/** A running secmon with its output so far and its exit. */
function start(args: string[]) {
	const child = spawn(process.execPath, [cliPath, ...args], {env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	const waiters = new Set<() => void>();
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
		for (const waiter of waiters) {
			waiter();
		}
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	const exited = new Promise<Exit>(resolve => {
		child.on('close', (code, signal) => {
			resolve({
				stdout, stderr, code, signal,
			});
		});
	});
	return {
		child,
		exited,
		/** Until stdout holds `test` (no time limit of its own: the test's timeout bounds it). */
		async output(test: RegExp): Promise<string> {
			await new Promise<void>((resolve, reject) => {
				const check = () => {
					if (test.test(stdout)) {
						waiters.delete(check);
						resolve();
					}
				};

				waiters.add(check);
				check();
				void exited.then(() => {
					reject(new Error(`secmon exited before printing ${String(test)}: ${stdout}${stderr}`));
				});
			});
			return stdout;
		},
	};
}

/** A TCP server that accepts and never says a word: a request waits for its timeout. */
async function silentServer(): Promise<{port: number; close: () => void}> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => undefined);
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		port: (server.address() as net.AddressInfo).port,
		close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
		},
	};
}

beforeAll(async () => {
	if (!existsSync(cliPath)) {
		throw new Error(`${cliPath} is missing: run "npm run build" first (npm test does)`);
	}

	peer = await startPmcd('plain');
	home = tempHome();
});

afterAll(async () => {
	await peer?.stop();
	home?.remove();
});

describe('a reader that closes the pipe ends secmon quietly, exit 0 (as pminfo and zabbix_get)', () => {
	test('pminfo mode with 2 MB of output', async () => {
		const many = Array.from({length: 30}, () => 'sample').join(' ');
		const result = await shell(`${secmon} --secure off --host ${peer.address} -fdT ${many} | head -1`);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toBe('\n');
	}, 60_000);

	test('--json sampling every 0.1 s', async () => {
		const result = await shell(`${secmon} --secure off --host ${peer.address} --json -t 0.1 sample.long.one sample.bin | head -1`);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(JSON.parse(result.stdout)).toMatchObject({type: 'sample', metric: 'sample.long.one'});
	}, 60_000);

	test('text sampling every 0.1 s', async () => {
		const result = await shell(`${secmon} --secure off --host ${peer.address} -t 0.1 sample.long.one | head -1`);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toContain(peer.address);
	}, 60_000);

	describe.skipIf(!zabbixPeersInstalled())('zabbix-get', () => {
		let agent: Agent;
		beforeAll(async () => {
			agent = await startAgent('plain');
		});

		afterAll(async () => {
			await agent?.stop();
		});

		test('1000 -k', async () => {
			const keys = Array.from({length: 1000}, () => '-k agent.hostname').join(' ');
			const result = await shell(`${secmon} zabbix-get -s 127.0.0.1 -p ${agent.port} ${keys} | head -1`);
			expect(result.stderr).toBe('');
			expect(result.code).toBe(0);
			expect(result.stdout).toBe('secmon-test-agent\n');
		}, 60_000);
	});
});

describe('SIGTERM and SIGINT end secmon at once: 143 and 130', () => {
	const runs: Array<ReturnType<typeof start>> = [];
	afterEach(() => {
		for (const run of runs.splice(0)) {
			run.child.kill('SIGKILL');
		}
	});

	const stops = [['SIGTERM', 143], ['SIGINT', 130]] as const;
	test.each(stops)('--json -t 20 -s 3: %s after the first sample, whole lines', async (signal, code) => {
		const run = start(['--secure', 'off', '--host', peer.address, '--json', '-t', '20', '-s', '3', 'sample.long.one', 'sample.bin']);
		runs.push(run);
		await run.output(/"sample\.bin".*\n/v);
		run.child.kill(signal);
		const result = await run.exited;
		expect(result).toMatchObject({code, signal: null, stderr: ''});
		expect(result.stdout.endsWith('\n')).toBe(true);
		const lines = result.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as {metric: string});
		expect(lines.map(line => line.metric)).toEqual(['sample.long.one', 'sample.bin']);
	}, 15_000);

	test.each(stops)('text -t 20 -s 3: %s after the first sample', async (signal, code) => {
		const run = start(['--secure', 'off', '--host', peer.address, '-t', '20', '-s', '3', 'sample.long.one']);
		runs.push(run);
		await run.output(/sample\.long\.one.*\n/v);
		run.child.kill(signal);
		const result = await run.exited;
		expect(result).toMatchObject({code, signal: null, stderr: ''});
		expect(result.stdout.endsWith('\n')).toBe(true);
	}, 15_000);

	test('pminfo mode waiting for a collector that never answers: SIGTERM → 143, nothing reported', async () => {
		const silent = await silentServer();
		try {
			const run = start(['--secure', 'off', '--host', `127.0.0.1:${silent.port}`, '--timeout', '30', '-f', 'sample.long.one']);
			runs.push(run);
			// No output to wait for: give it the time to connect, then stop it.
			await new Promise(resolve => {
				setTimeout(resolve, 500);
			});
			run.child.kill('SIGTERM');
			expect(await run.exited).toMatchObject({code: 143, signal: null, stderr: ''});
		} finally {
			silent.close();
		}
	}, 15_000);

	test('zabbix-get waiting for an agent that never answers: SIGINT → 130, nothing reported', async () => {
		const silent = await silentServer();
		try {
			const run = start(['zabbix-get', '-s', '127.0.0.1', '-p', String(silent.port), '-t', '30', '-k', 'agent.ping']);
			runs.push(run);
			await new Promise(resolve => {
				setTimeout(resolve, 500);
			});
			run.child.kill('SIGINT');
			expect(await run.exited).toMatchObject({code: 130, signal: null, stderr: ''});
		} finally {
			silent.close();
		}
	}, 15_000);

	test.each(['SIGTERM', 'SIGINT'] as const)('secmon serve: %s closes the listeners, exit 0 as pmcd', async signal => {
		const port = await freePort();
		const run = start(['serve', '--listen', `127.0.0.1:${port}`]);
		runs.push(run);
		await run.output(/listening on 127\.0\.0\.1:\d+/v);
		run.child.kill(signal);
		const result = await run.exited;
		expect(result).toMatchObject({code: 0, signal: null, stderr: ''});
		expect(result.stdout).toMatch(/secmon serve: stopped\n$/v);
	}, 30_000);
});

describe('the panes in a real terminal', () => {
	let term: Tmux | undefined;
	let dir: string;
	beforeAll(() => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-signals-'));
	});

	afterEach(async () => {
		await term?.kill();
		term = undefined;
	});

	afterAll(() => {
		rmSync(dir, {recursive: true, force: true});
	});

	async function tmuxFormat(format: string): Promise<string> {
		return new Promise((resolve, reject) => {
			execFile('tmux', ['-S', term!.socket, 'display-message', '-p', '-t', term!.name, format], (error, stdout) => {
				if (error) {
					reject(new Error(`tmux display-message failed: ${error.message}`));
				} else {
					resolve(stdout.trim());
				}
			});
		});
	}

	async function childrenOf(pid: string): Promise<string[]> {
		return new Promise(resolve => {
			execFile('pgrep', ['-P', pid], (_error, stdout) => {
				resolve(stdout.split('\n').filter(Boolean));
			});
		});
	}

	/** The secmon process under the pane's shells: the descendant running dist/cli.cjs. */
	async function secmonPid(): Promise<number> {
		const queue = [await tmuxFormat('#{pane_pid}')];
		while (queue.length > 0) {
			const pid = queue.shift()!;
			if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === cliPath) {
				return Number(pid);
			}

			queue.push(...await childrenOf(pid));
		}

		throw new Error('no secmon process in the pane');
	}

	test('SIGTERM: exit 143, the screen and the terminal restored (cursor shown, not raw)', async () => {
		// After secmon, the shell reports the terminal's mode as a user would find it, and waits
		// for a line (the terminal stays alive to be inspected).
		const script = '"$@"; s=$?; if stty -a | grep -q -- -icanon; then echo "tty: raw"; else echo "tty: cooked"; fi; echo "secmon exited $s"; read _; exit $s';
		term = await Tmux.start({
			command: ['sh', '-c', script, 'sh', process.execPath, cliPath, '--secure', 'off', '--host', peer.address, '-t', '20', 'sample.long.one'],
			env: {
				SECMON_HOME: dir, CI: 'false', FORCE_COLOR: '0', TZ: 'UTC',
			},
			columns: 100,
			rows: 30,
		});
		await term.waitFor(/secmon every .*? · \d\d:\d\d:\d\d/v, {what: 'the first sample in the panes'});
		// Ink hides the cursor and the panes use the alternate screen while they run.
		expect(await tmuxFormat('#{cursor_flag} #{alternate_on}')).toBe('0 1');
		process.kill(await secmonPid(), 'SIGTERM');
		const screen = await term.waitFor(/secmon exited/v, {what: 'secmon to exit'});
		expect(screen).toContain('tty: cooked');
		expect(screen).toContain('secmon exited 143');
		expect(screen).not.toContain('secmon every');
		expect(await tmuxFormat('#{cursor_flag} #{alternate_on}')).toBe('1 0');
		await term.sendKeys('Enter');
		expect(await term.waitForExit()).toBe(143);
	}, 60_000);
});
