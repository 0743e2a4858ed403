/**
 * How every secmon command ends early: SIGINT, SIGTERM and SIGHUP, and a reader that closed
 * stdout (`secmon … | head -1`). One place, installed by cli.tsx before any command runs.
 *
 * - A stop aborts `signal`. Sampling loops, the Ink panes and `secmon serve` watch it, end
 *   themselves (sessions closed, Ink unmounted, listeners closed) and hold the exit until they
 *   have (`hold()`); any other job (pminfo mode, zabbix-get, certs…) is simply cut short, as a
 *   C tool dies of the signal: the kernel closes its sockets.
 * - The exit waits for stdout and stderr to drain: Node writes to a pipe asynchronously, so
 *   `process.exit()` with a queued write would cut a `--json` line in half. Each line is one
 *   write, so a drained stdout ends on a whole line.
 * - Exit codes: 128 + the signal number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), what a shell
 *   reports for a process killed by it and what pmval gives. A closed stdout exits 0 quietly:
 *   Debian's pminfo 6.0.3 under `| head -1` exits 0 with nothing on stderr (libpcp sets
 *   SIGPIPE to SIG_IGN, pminfo ignores the EPIPE of each write; strace shows it), zabbix_get
 *   exits 0 too, and Node cannot die of SIGPIPE itself (it ignores it); 141 would also fail
 *   every `set -o pipefail` script that reads only the first line.
 * - A second signal while stopping exits at once, and a job that does not end within
 *   `graceMs` is cut short, so a stuck connect never makes a signal wait.
 */
import process from 'node:process';
import type {Writable} from 'node:stream';

export type StopReason = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'closed-stdout';

/** The exit status of each reason (see the module comment). */
export const stopExitCodes: Readonly<Record<StopReason, number>> = {
	SIGINT: 130,
	SIGTERM: 143,
	SIGHUP: 129,
	'closed-stdout': 0,
};

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

type SignalSource = {
	on(event: string, listener: () => void): unknown;
	off(event: string, listener: () => void): unknown;
};

export type ShutdownOptions = {
	stdout: Writable;
	stderr: Writable;
	/** Where signals arrive (default: process). */
	signals?: SignalSource;
	/** Ends the process (default: process.exit). */
	exit?: (code: number) => void;
	/** How long a holding job may take to end after a stop. */
	graceMs?: number;
	/** How long the exit waits for a reader that does not read. */
	drainMs?: number;
	/** Restores the terminal before exiting (default: leave raw mode, show the cursor). */
	restoreTerminal?: () => void;
};

/** If an Ink UI (the panes, the trust prompt) still holds the terminal: leave raw mode and show the cursor. */
function restoreTerminalDefault(): void {
	const {stdin} = process;
	if (stdin.isTTY && stdin.isRaw) {
		stdin.setRawMode(false);
		for (const stream of [process.stdout, process.stderr]) {
			if (stream.isTTY) {
				// DECTCEM: show the cursor (Ink hides it while it draws).
				stream.write('\u001B[?25h');
			}
		}
	}
}

export class Shutdown {
	readonly signal: AbortSignal;
	private readonly controller = new AbortController();
	private readonly options: Required<Omit<ShutdownOptions, 'signals'>> & {signals: SignalSource};
	private stopReason: StopReason | undefined;
	private holds = 0;
	private exiting = false;
	private exited = false;
	private finished = false;
	private stopIsNormal = false;
	private readonly forced = new Set<() => void>();
	private readonly listeners = new Map<string, () => void>();
	private readonly onStreamError: (stream: Writable) => (error: NodeJS.ErrnoException) => void;

	constructor(options: ShutdownOptions) {
		this.signal = this.controller.signal;
		this.options = {
			signals: process,
			exit(code) {
				process.exit(code);
			},
			graceMs: 2000,
			drainMs: 2000,
			restoreTerminal: restoreTerminalDefault,
			...options,
		};
		for (const name of signals) {
			const listener = () => {
				this.stop(name);
			};

			this.listeners.set(name, listener);
			this.options.signals.on(name, listener);
		}

		// An 'error' listener stays for the whole run: a write after EPIPE errors again.
		this.onStreamError = stream => error => {
			if (stream === this.options.stdout && error.code === 'EPIPE') {
				this.stop('closed-stdout');
			}
		};

		for (const stream of [this.options.stdout, this.options.stderr]) {
			stream.on('error', this.onStreamError(stream));
		}
	}

	/** Why the run is stopping, once it is. */
	get reason(): StopReason | undefined {
		return this.stopReason;
	}

	/** True once a signal or a closed stdout stopped the run. */
	get stopping(): boolean {
		return this.stopReason !== undefined;
	}

	/**
	 * A job that ends itself when `signal` aborts: the exit waits until the returned release
	 * is called (or `graceMs` passed). Call release in a finally block. With `stopIsNormal`
	 * (a daemon, as pmcd exits 0 after SIGTERM) a stop it ends in time exits 0.
	 */
	hold(options: {stopIsNormal?: boolean} = {}): () => void {
		this.holds++;
		this.stopIsNormal ||= options.stopIsNormal === true;
		let released = false;
		return () => {
			if (released) {
				return;
			}

			released = true;
			this.holds--;
			if (this.stopping && this.holds === 0) {
				this.exitAfterDrain();
			}
		};
	}

	/** Something to undo synchronously if the process exits before its job ended (the alternate screen). */
	onForcedExit(cleanup: () => void): () => void {
		this.forced.add(cleanup);
		return () => this.forced.delete(cleanup);
	}

	stop(reason: StopReason): void {
		if (this.finished) {
			return;
		}

		if (this.stopping) {
			if (reason !== 'closed-stdout') {
				// A second signal: the user insists.
				this.exitNow();
			}

			return;
		}

		this.stopReason = reason;
		process.exitCode = stopExitCodes[reason];
		this.controller.abort(new Error(`stopped by ${reason}`));
		if (this.holds === 0) {
			this.exitAfterDrain();
			return;
		}

		setTimeout(() => {
			this.exitNow();
		}, this.options.graceMs).unref();
	}

	/**
	 * The command finished with `code`. After a stop, the stop's code wins; otherwise the
	 * handlers are removed and Node exits with `code` once the event loop is empty.
	 */
	finish(code: number): void {
		if (this.stopping) {
			this.exitAfterDrain();
			return;
		}

		this.finished = true;
		process.exitCode = code;
		this.dispose();
	}

	/** Removes the signal handlers (stream error listeners stay: see the constructor). */
	dispose(): void {
		for (const [name, listener] of this.listeners) {
			this.options.signals.off(name, listener);
		}

		this.listeners.clear();
	}

	private exitAfterDrain(): void {
		if (this.exiting) {
			return;
		}

		this.exiting = true;
		const pending = [this.options.stdout, this.options.stderr].filter(stream => !stream.destroyed && stream.writableLength > 0);
		const code = this.stopIsNormal && this.holds === 0 ? 0 : undefined;
		if (pending.length === 0) {
			this.exitNow(code);
			return;
		}

		// An empty write's callback runs once everything queued before it is written ('drain'
		// comes only after a write that returned false).
		let left = pending.length;
		const flushed = () => {
			if (--left === 0) {
				this.exitNow(code);
			}
		};

		for (const stream of pending) {
			stream.write('', flushed);
		}

		setTimeout(() => {
			this.exitNow(code);
		}, this.options.drainMs).unref();
	}

	/** Exits with `code`, or the stop's own code (a forced exit). */
	private exitNow(code?: number): void {
		if (this.exited) {
			return;
		}

		this.exited = true;
		for (const cleanup of this.forced) {
			try {
				cleanup();
			} catch {
				// Exiting anyway.
			}
		}

		this.forced.clear();
		try {
			this.options.restoreTerminal();
		} catch {
			// Exiting anyway.
		}

		this.options.exit(code ?? stopExitCodes[this.stopReason ?? 'SIGTERM']);
	}
}

/** Sleep `ms`, or less if `signal` aborts: true if the whole time passed. */
export async function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
	if (signal?.aborted) {
		return false;
	}

	return new Promise(resolve => {
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', aborted);
			resolve(true);
		}, ms);
		function aborted() {
			clearTimeout(timer);
			resolve(false);
		}

		signal?.addEventListener('abort', aborted, {once: true});
	});
}
