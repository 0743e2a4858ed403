/**
 * Many collectors in one run (issue 18): a bounded number of sessions in flight (`--parallel`),
 * each collector's output kept together and written in the order of the `--host` arguments
 * (pminfo's text, plain text) while later collectors already work, and trust prompts asked one
 * at a time. JSON lines name their collector, so they are written as each collector answers.
 */
import {Writable} from 'node:stream';
import type {Ask} from '../security/types.js';

/** Runs `work` for every item, at most `limit` at a time, starting them in order. `work` must not throw. */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			await work(items[index]!, index);
		}
	};

	await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker));
}

/** Runs a task when one of its slots is free. */
export type Slots = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * At most `limit` tasks at a time, started in the order they asked; a task that fails frees its
 * slot too. The panes' runners open their sessions through it (--parallel), reconnects included.
 */
export function slots(limit: number): Slots {
	let running = 0;
	const waiting: Array<() => void> = [];
	return async task => {
		if (running >= Math.max(1, limit)) {
			await new Promise<void>(resolve => {
				waiting.push(resolve);
			});
		} else {
			running++;
		}

		try {
			return await task();
		} finally {
			// The slot passes to the next task waiting, or is free.
			const next = waiting.shift();
			if (next) {
				next();
			} else {
				running--;
			}
		}
	};
}

type Chunk = {to: 'stdout' | 'stderr'; data: string | Uint8Array};

/**
 * Output in argument order: `io(i)` is collector i's stdout and stderr. The collector at the head
 * writes straight through; the others are held (stdout and stderr interleaved as written) until
 * every collector before them has finished, so each collector's lines stay together and the
 * order never depends on which collector answered first.
 */
export class OrderedOutput {
	private head = 0;
	private readonly held: Chunk[][];
	private readonly finished: boolean[];
	private readonly out: {stdout: Writable; stderr: Writable};

	constructor(out: {stdout: Writable; stderr: Writable}, count: number) {
		this.out = out;
		this.held = Array.from({length: count}, () => []);
		this.finished = Array.from({length: count}, () => false);
	}

	io(index: number): {stdout: Writable; stderr: Writable} {
		return {stdout: this.stream(index, 'stdout'), stderr: this.stream(index, 'stderr')};
	}

	/** Collector `index` wrote all it will write: its successors' held output follows. */
	finish(index: number): void {
		this.finished[index] = true;
		while (this.head < this.finished.length && this.finished[this.head]) {
			this.head++;
			this.flush(this.head);
		}
	}

	private flush(index: number): void {
		const chunks = this.held[index];
		if (chunks === undefined) {
			return;
		}

		for (const {to, data} of chunks) {
			this.out[to].write(data);
		}

		this.held[index] = [];
	}

	private stream(index: number, to: 'stdout' | 'stderr'): Writable {
		const stream = new Writable({
			decodeStrings: false,
			write: (data: string | Uint8Array, _encoding, callback) => {
				if (index === this.head) {
					this.out[to].write(data);
				} else {
					this.held[index]!.push({to, data});
				}

				callback();
			},
		});
		// terminalSafe (safe-text.ts) escapes peer text when the real stream is a terminal.
		(stream as Writable & {isTTY?: boolean}).isTTY = (this.out[to] as Writable & {isTTY?: boolean}).isTTY;
		return stream;
	}
}

/** One trust prompt at a time: collectors that need an answer wait for the one being asked. */
export function oneAtATime(ask: Ask): Ask {
	let queue: Promise<unknown> = Promise.resolve();
	return async question => {
		const turn = queue.then(async () => ask(question));
		queue = turn.catch(() => undefined);
		return turn;
	};
}
