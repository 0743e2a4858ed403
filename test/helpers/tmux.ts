import {execFile, execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';

/**
A real terminal for end-to-end tests: a private tmux server (its own socket, so nobody else's
sessions are touched) running one command in a detached session of a fixed size. The pane stays
after the command exits (remain-on-exit) so that what it printed last and its exit status can be
read. Always `await term.kill()` (e.g. in afterEach).
*/
export type TmuxOptions = {
	/** argv, run without a shell. */
	command: string[];
	/** The whole environment of the command (nothing is inherited but PATH, HOME and TERM). */
	env?: Record<string, string>;
	cwd?: string;
	columns?: number;
	rows?: number;
};

let counter = 0;

/** Sessions started by this process, killed on exit if a test forgot. */
const live = new Set<Tmux>();
let hookInstalled = false;

async function tmux(socket: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('tmux', ['-S', socket, ...args], {env: env ?? process.env, timeout: 10_000}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`tmux ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
				return;
			}

			resolve(stdout);
		});
	});
}

export class Tmux {
	readonly name: string;
	/** Path of the private server's socket (`tmux -S`). */
	readonly socket: string;
	private readonly dir: string;
	private readonly statusFile: string;
	private killed = false;

	private constructor(name: string, socket: string, dir: string) {
		this.name = name;
		this.socket = socket;
		this.dir = dir;
		this.statusFile = path.join(dir, 'exit-status');
	}

	static async start(options: TmuxOptions): Promise<Tmux> {
		if (!hookInstalled) {
			hookInstalled = true;
			process.on('exit', () => {
				for (const term of live) {
					term.killSync();
				}
			});
		}

		counter++;
		const name = `secmon-e2e-${process.pid}-${counter}`;
		const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-tmux-'));
		// A socket inside our own directory: a private server, removed with the directory.
		const socket = path.join(dir, 'socket');
		const conf = path.join(dir, 'tmux.conf');
		// No status bar: the command gets exactly columns × rows. Keep the pane when it exits.
		writeFileSync(conf, 'set -g status off\nset -g remain-on-exit on\nset -g history-limit 2000\nset -g default-terminal tmux-256color\n');
		const env: NodeJS.ProcessEnv = {
			PATH: process.env['PATH'] ?? '/usr/bin:/bin',
			HOME: process.env['HOME'] ?? os.tmpdir(),
			TERM: 'xterm-256color',
			...options.env,
		};
		const term = new Tmux(name, socket, dir);
		live.add(term);
		const envArgs = Object.entries(options.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
		await tmux(socket, [
			'-f',
			conf,
			'new-session',
			'-d',
			'-s',
			name,
			'-x',
			String(options.columns ?? 120),
			'-y',
			String(options.rows ?? 40),
			...(options.cwd ? ['-c', options.cwd] : []),
			...envArgs,
			'--',
			// A shell between tmux and the command writes its exit status to a file: tmux 3.3a can mark
			// a pane dead (pty closed) and leave a node child unreaped, with no #{pane_dead_status}.
			'sh',
			'-c',
			'status_file=$1; shift; "$@"; echo $? > "$status_file"',
			'sh',
			term.statusFile,
			...options.command,
		], env);
		return term;
	}

	/** Key names as tmux knows them ("q", "Enter", "Tab", "Escape", "C-c"). */
	async sendKeys(...keys: string[]): Promise<void> {
		await tmux(this.socket, ['send-keys', '-t', this.name, ...keys]);
	}

	/** Text typed literally. */
	async type(text: string): Promise<void> {
		await tmux(this.socket, ['send-keys', '-t', this.name, '-l', text]);
	}

	/** The visible screen; with `escapes`, colours and attributes as SGR sequences. */
	async capture(options: {escapes?: boolean} = {}): Promise<string> {
		return tmux(this.socket, ['capture-pane', '-p', ...(options.escapes ? ['-e'] : []), '-t', this.name]);
	}

	/** Capture until `test` passes (regex on the screen, or a predicate); the screen on success. */
	async waitFor(test: RegExp | ((screen: string) => boolean), options: {timeoutMs?: number; what?: string} = {}): Promise<string> {
		const deadline = Date.now() + (options.timeoutMs ?? 15_000);
		const check = typeof test === 'function' ? test : (screen: string) => test.test(screen);
		let screen = '';
		while (Date.now() < deadline) {
			screen = await this.capture();
			if (check(screen)) {
				return screen;
			}

			await delay(100);
		}

		throw new Error(`timed out waiting for ${options.what ?? String(test)}; the screen was:\n${screen}`);
	}

	/** The command's exit status once it has exited (128 + signal number if a signal ended it), else undefined. */
	async exitStatus(): Promise<number | undefined> {
		let text: string;
		try {
			text = await readFile(this.statusFile, 'utf8');
		} catch {
			return undefined;
		}

		// The shell may not have finished writing the line yet.
		return text.endsWith('\n') ? Number(text.trim()) : undefined;
	}

	async waitForExit(timeoutMs = 15_000): Promise<number> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			const status = await this.exitStatus();
			if (status !== undefined) {
				return status;
			}

			await delay(100);
		}

		throw new Error(`the command in ${this.name} did not exit within ${timeoutMs} ms; the screen was:\n${await this.capture()}`);
	}

	async resize(columns: number, rows: number): Promise<void> {
		await tmux(this.socket, ['resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows)]);
	}

	/** Kills the session and its private server (and so the command). Safe to call twice. */
	async kill(): Promise<void> {
		if (this.killed) {
			return;
		}

		this.killed = true;
		live.delete(this);
		await tmux(this.socket, ['kill-session', '-t', this.name]).catch(() => undefined);
		await tmux(this.socket, ['kill-server']).catch(() => undefined);
		rmSync(this.dir, {recursive: true, force: true});
	}

	/** For process exit, when a test forgot `await kill()`: the private server only runs our session. */
	killSync(): void {
		try {
			execFileSync('tmux', ['-S', this.socket, 'kill-server'], {stdio: 'ignore', timeout: 5000});
		} catch {
			// Already gone.
		}

		rmSync(this.dir, {recursive: true, force: true});
	}
}
