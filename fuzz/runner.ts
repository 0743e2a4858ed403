/**
 * Runs one fuzz target over a budget of inputs or seconds and classifies each input:
 * ok, own error (the decoder's documented refusal: SecmonError, PduError, …), other throw (a bug:
 * TypeError, RangeError, anything else), hang (an asynchronous target that did not settle within
 * `hangMs`) and slow (took longer than the target's bound; reported, never a failure by itself).
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import {
	chunks, hexDump, mutate, Rng, type Format,
} from './engine.js';

/** 'own' when the target refused the input in its documented way without throwing (e.g. perfdata errors). */
export type Verdict = 'ok' | 'own';

export type Target = {
	name: string;
	/** What it fuzzes, for the totals table. */
	covers: string;
	corpus: readonly Buffer[];
	format: Format;
	/** Feed one input (already mutated); `pieces` is the same input cut for stream readers. */
	run: (input: Buffer, pieces: Buffer[], rng: Rng) => Verdict | void | Promise<Verdict | void>;
	/** The decoder's own refusals; anything else thrown is a bug. */
	isOwn: (error: unknown) => boolean;
	/** An error that means the target waited although its input had ended (counted as a hang). */
	isHang?: (error: unknown) => boolean;
	/** Inputs slower than this are reported (default 50 ms). */
	slowMs?: number;
	/** Share of the budget this target runs (a target that opens a socket per input: 0.1). */
	budgetShare?: number;
	setup?: () => Promise<void>;
	teardown?: () => Promise<void>;
};

export type Finding = {kind: 'other' | 'hang' | 'slow'; target: string; seed: number; index: number; ms: number; error?: string; input: Buffer};

export type Totals = {
	target: string;
	inputs: number;
	ok: number;
	own: number;
	other: number;
	hang: number;
	slow: number;
	seconds: number;
	findings: Finding[];
};

export type RunOptions = {
	seed: number;
	/** Stop after this many inputs … */
	inputs?: number;
	/** … or after this many seconds, whichever comes first. */
	seconds?: number;
	/** Only this input (replay). */
	index?: number;
	/** Where to save other throws and hangs (none when undefined). */
	crashDir?: string;
	hangMs?: number;
	/** Print findings as they happen. */
	log?: (line: string) => void;
	/** Findings kept per kind (the counts are exact). */
	keep?: number;
};

/** The input and its pieces for (seed, index): a stream of its own per index. */
export function inputFor(target: Target, seed: number, index: number): {input: Buffer; pieces: Buffer[]; rng: Rng} {
	const rng = new Rng(seed, index + 1);
	const input = mutate(rng, {corpus: target.corpus, format: target.format});
	return {input, pieces: chunks(rng, input), rng};
}

function describe(error: unknown): string {
	if (error instanceof Error) {
		return `${error.name}: ${error.message}\n${error.stack?.split('\n').slice(1, 6).join('\n') ?? ''}`;
	}

	return String(error);
}

export async function runTarget(target: Target, options: RunOptions): Promise<Totals> {
	const {seed} = options;
	const hangMs = options.hangMs ?? 15_000;
	const slowMs = target.slowMs ?? 50;
	const keep = options.keep ?? 20;
	const totals: Totals = {
		target: target.name, inputs: 0, ok: 0, own: 0, other: 0, hang: 0, slow: 0, seconds: 0, findings: [],
	};
	// A target that needs a socket per input runs its share of the budget.
	const share = target.budgetShare ?? 1;
	const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : performance.now() + (options.seconds * share * 1000);
	const limit = options.index === undefined ? Math.ceil((options.inputs ?? Number.POSITIVE_INFINITY) * share) : 1;
	const started = performance.now();
	await target.setup?.();
	try {
		for (let i = 0; i < limit; i++) {
			if (performance.now() > deadline) {
				break;
			}

			const index = options.index ?? i;
			const {input, pieces, rng} = inputFor(target, seed, index);
			const t0 = performance.now();
			let kind: 'ok' | 'own' | 'other' | 'hang';
			let error: unknown;
			try {
				const result = target.run(input, pieces, rng);
				const verdict = result instanceof Promise ? await withDeadline(result, hangMs) : result;
				kind = verdict === 'own' ? 'own' : 'ok';
			} catch (error_) {
				error = error_;
				kind = error_ instanceof HangError || target.isHang?.(error_) ? 'hang' : (target.isOwn(error_) ? 'own' : 'other');
			}

			const ms = performance.now() - t0;
			if (options.index !== undefined) {
				options.log?.(`${target.name} seed ${seed} index ${index}: ${kind}, ${ms.toFixed(2)} ms, ${input.length} bytes${kind === 'own' && error instanceof Error ? ` (${error.message})` : ''}\n${hexDump(input)}`);
			}

			totals.inputs++;
			totals[kind]++;
			if (kind === 'other' || kind === 'hang') {
				report({
					kind, target: target.name, seed, index, ms, error: describe(error), input,
				});
			}

			if (ms > slowMs) {
				totals.slow++;
				report({
					kind: 'slow', target: target.name, seed, index, ms, input,
				});
			}

			if ((i & 0xff) === 0xff) {
				// Let timers and sockets of asynchronous targets run, and keep the event loop fair.
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			}
		}
	} finally {
		await target.teardown?.();
	}

	totals.seconds = (performance.now() - started) / 1000;
	return totals;

	function report(finding: Finding): void {
		if (totals.findings.filter(f => f.kind === finding.kind).length < keep) {
			totals.findings.push(finding);
		}

		const replay = `npm run fuzz -- --target ${finding.target} --seed ${finding.seed} --index ${finding.index}`;
		if (finding.kind === 'slow') {
			options.log?.(`SLOW ${finding.target} seed ${finding.seed} index ${finding.index}: ${finding.ms.toFixed(1)} ms, ${finding.input.length} bytes (${replay})`);
			return;
		}

		options.log?.(`${finding.kind === 'hang' ? 'HANG' : 'OTHER THROW'} ${finding.target} seed ${finding.seed} index ${finding.index} (${replay})\n${finding.error ?? ''}\n${hexDump(finding.input)}`);
		if (options.crashDir !== undefined) {
			mkdirSync(options.crashDir, {recursive: true});
			writeFileSync(`${options.crashDir}/${finding.target}-${finding.seed}-${finding.index}.bin`, finding.input);
		}
	}
}

class HangError extends Error {
	constructor(ms: number) {
		super(`did not settle within ${ms} ms`);
		this.name = 'HangError';
	}
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_resolve, reject) => {
				timer = setTimeout(() => {
					reject(new HangError(ms));
				}, ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

export function formatTotals(all: readonly Totals[]): string {
	const header = ['target', 'inputs', 'ok', 'own errors', 'other throws', 'hangs', 'slow', 'inputs/s'];
	const rows = all.map(t => [
		t.target, String(t.inputs), String(t.ok), String(t.own), String(t.other), String(t.hang), String(t.slow), String(Math.round(t.inputs / Math.max(t.seconds, 1e-9))),
	]);
	const lines = [header, header.map(() => '---'), ...rows].map(cells => `| ${cells.join(' | ')} |`);
	return lines.join('\n');
}
