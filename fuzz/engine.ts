/**
 * A small deterministic mutation fuzzer. Input `index` of a run with `seed` comes from its own
 * PRNG (splitmix32 of seed and index, then sfc32), so one failing input is reproduced from its
 * seed and index alone: `npm run fuzz -- --target NAME --seed S --index I`.
 *
 * Mutations (1 to 4 stacked): bit flips, bytes set to 0/0xff/0x7f/0x80, random bytes, inserted
 * and deleted ranges, duplication, truncation, splices of two corpus entries, format tokens, and
 * rewrites of the length fields each format has (its `lengthFields`). `chunks` cuts the result
 * into random pieces for the stream readers.
 */

/** sfc32 (PractRand's small fast counter), seeded through splitmix32. */
export class Rng {
	#a: number;
	#b: number;
	#c: number;
	#d = 1;

	constructor(seed: number, stream = 0) {
		let s = (seed ^ Math.imul(stream, 0x9e_37_79_b9)) >>> 0;
		const mix = (): number => {
			s = (s + 0x9e_37_79_b9) >>> 0;
			let z = s;
			z = Math.imul(z ^ (z >>> 16), 0x85_eb_ca_6b);
			z = Math.imul(z ^ (z >>> 13), 0xc2_b2_ae_35);
			return (z ^ (z >>> 16)) >>> 0;
		};

		this.#a = mix();
		this.#b = mix();
		this.#c = mix();
		for (let i = 0; i < 12; i++) {
			this.u32();
		}
	}

	u32(): number {
		const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
		this.#d = (this.#d + 1) >>> 0;
		this.#a = this.#b ^ (this.#b >>> 9);
		this.#b = (this.#c + (this.#c << 3)) >>> 0;
		this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
		this.#c = (this.#c + t) >>> 0;
		return t;
	}

	/** 0 <= n < max (max >= 1). */
	int(max: number): number {
		return Math.floor((this.u32() / 0x1_00_00_00_00) * max);
	}

	/** True with probability 1/n. */
	oneIn(n: number): boolean {
		return this.int(n) === 0;
	}

	pick<T>(items: readonly T[]): T {
		return items[this.int(items.length)]!;
	}
}

/** A length or count field a format keeps at a known place. */
export type LengthField = {offset: number; size: 1 | 2 | 4 | 8; endian: 'be' | 'le'};

/** What the engine knows about a wire format beyond bytes. */
export type Format = {
	/** Binary length/count fields of this input. */
	lengthFields?: (input: Buffer) => LengthField[];
	/** Textual rewrites of length fields (fixed16 header, Content-Length, chunk sizes); undefined when none applies. */
	rewriteText?: (input: Buffer, rng: Rng) => Buffer | undefined;
	/** Byte strings worth inserting (grammar tokens, status lines). */
	tokens?: readonly string[];
};

const interestingBytes = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x0a, 0x0d, 0x20];

/** Values a rewritten length field gets: edges, the input's own sizes, nearby values. */
function interestingLength(rng: Rng, old: bigint, inputLength: number, size: number): bigint {
	const max = (1n << BigInt(size * 8)) - 1n;
	const choices: bigint[] = [
		0n,
		1n,
		max,
		max >> 1n,
		(max >> 1n) + 1n,
		BigInt(inputLength),
		BigInt(inputLength) + 1n,
		BigInt(Math.max(0, inputLength - 1)),
		old + 1n,
		old - 1n,
		old + 4n,
		old - 4n,
		old * 2n,
		old / 2n,
		BigInt(rng.int(256)),
		BigInt(rng.int(0x1_00_00)),
		12n,
		13n,
		16n,
		20n,
		21n,
		65_536n,
		64n * 1024n * 1024n,
		64n * 1024n * 1024n + 1n,
	];
	return BigInt.asUintN(size * 8, rng.pick(choices));
}

function readField(b: Buffer, f: LengthField): bigint {
	let v = 0n;
	for (let i = 0; i < f.size; i++) {
		const byte = b[f.endian === 'be' ? f.offset + i : f.offset + f.size - 1 - i]!;
		v = (v << 8n) | BigInt(byte);
	}

	return v;
}

function writeField(b: Buffer, f: LengthField, value: bigint): void {
	let v = value;
	for (let i = f.size - 1; i >= 0; i--) {
		b[f.endian === 'be' ? f.offset + i : f.offset + f.size - 1 - i] = Number(v & 0xffn);
		v >>= 8n;
	}
}

export type MutatorOptions = {
	corpus: readonly Buffer[];
	format: Format;
	/** Inputs are cut to this size (64 KiB by default). */
	maxBytes?: number;
};

/** One mutated input from a corpus entry picked by `rng`. */
export function mutate(rng: Rng, options: MutatorOptions): Buffer {
	const maxBytes = options.maxBytes ?? 64 * 1024;
	let b: Buffer = Buffer.from(rng.pick(options.corpus));
	// About one input in 16 is a corpus entry as it is: the corpus itself must pass.
	const rounds = rng.oneIn(16) ? 0 : 1 + rng.int(4);
	for (let round = 0; round < rounds; round++) {
		b = mutateOnce(rng, b, options);
	}

	return b.length > maxBytes ? b.subarray(0, maxBytes) : b;
}

function mutateOnce(rng: Rng, input: Buffer, {corpus, format}: MutatorOptions): Buffer {
	const n = input.length;
	const at = (): number => rng.int(n + 1);
	switch (rng.int(12)) {
		case 0: {
			// Bit flip.
			if (n > 0) {
				const i = rng.int(n);
				input[i]! ^= 1 << rng.int(8);
			}

			return input;
		}

		case 1: {
			// A byte set to an interesting value.
			if (n > 0) {
				input[rng.int(n)] = rng.pick(interestingBytes);
			}

			return input;
		}

		case 2: {
			// A random byte.
			if (n > 0) {
				input[rng.int(n)] = rng.int(256);
			}

			return input;
		}

		case 3: {
			// Truncation.
			return input.subarray(0, at());
		}

		case 4: {
			// Delete a range.
			const from = at();
			const to = Math.min(n, from + 1 + rng.int(16));
			return Buffer.concat([input.subarray(0, from), input.subarray(to)]);
		}

		case 5: {
			// Duplicate a range (or the whole input: two frames back to back).
			if (rng.oneIn(3)) {
				return Buffer.concat([input, input]);
			}

			const from = rng.int(n + 1);
			const to = Math.min(n, from + 1 + rng.int(64));
			return Buffer.concat([input.subarray(0, to), input.subarray(from, to), input.subarray(to)]);
		}

		case 6: {
			// Splice: head of this one, tail of another corpus entry.
			const other = rng.pick(corpus);
			return Buffer.concat([input.subarray(0, at()), other.subarray(rng.int(other.length + 1))]);
		}

		case 7: {
			// Insert random bytes.
			const k = 1 + rng.int(8);
			const bytes = Buffer.alloc(k);
			for (let i = 0; i < k; i++) {
				bytes[i] = rng.oneIn(2) ? rng.pick(interestingBytes) : rng.int(256);
			}

			const i = at();
			return Buffer.concat([input.subarray(0, i), bytes, input.subarray(i)]);
		}

		case 8: {
			// A format token inserted or written over.
			if (!format.tokens || format.tokens.length === 0) {
				return input;
			}

			const token = Buffer.from(rng.pick(format.tokens), 'latin1');
			const i = at();
			return rng.oneIn(2)
				? Buffer.concat([input.subarray(0, i), token, input.subarray(i)])
				: Buffer.concat([input.subarray(0, i), token, input.subarray(Math.min(n, i + token.length))]);
		}

		case 9:
		case 10: {
			// A length field rewritten.
			const fields = format.lengthFields?.(input).filter(f => f.offset + f.size <= input.length) ?? [];
			if (fields.length > 0) {
				const f = fields[rng.oneIn(2) ? 0 : rng.int(fields.length)]!;
				writeField(input, f, interestingLength(rng, readField(input, f), input.length, f.size));
				return input;
			}

			return format.rewriteText?.(input, rng) ?? input;
		}

		default: {
			// Textual length rewrite, or a 32-bit word set to an edge value.
			const rewritten = format.rewriteText?.(input, rng);
			if (rewritten) {
				return rewritten;
			}

			if (n >= 4) {
				input.writeUInt32BE(rng.pick([0, 0xff_ff_ff_ff, 0x7f_ff_ff_ff, 0x80_00_00_00, 1]), rng.int(n - 3));
			}

			return input;
		}
	}
}

/** The input cut into 1 to 8 random pieces (small inputs sometimes into single bytes), for the stream readers. */
export function chunks(rng: Rng, input: Buffer): Buffer[] {
	if (input.length === 0) {
		return [input];
	}

	if (rng.oneIn(8) && input.length <= 512) {
		return [...input].map(byte => Buffer.from([byte]));
	}

	const pieces = 1 + rng.int(8);
	const cuts = new Set<number>();
	for (let i = 1; i < pieces; i++) {
		cuts.add(1 + rng.int(input.length));
	}

	const sorted = [...cuts].filter(c => c < input.length).toSorted((a, b) => a - b);
	const out: Buffer[] = [];
	let from = 0;
	for (const c of sorted) {
		out.push(input.subarray(from, c));
		from = c;
	}

	out.push(input.subarray(from));
	return out;
}

/** Rewrite the decimal number matched by group 1 of `pattern` (first match) with an edge value. */
export function rewriteNumber(input: Buffer, rng: Rng, pattern: RegExp, hex = false): Buffer | undefined {
	const text = input.toString('latin1');
	const matches = [...text.matchAll(pattern)];
	if (matches.length === 0) {
		return undefined;
	}

	const match = rng.pick(matches);
	const digits = match[1]!;
	const start = match.index + match[0].indexOf(digits);
	const old = Number.parseInt(digits, hex ? 16 : 10);
	const values = [0, 1, old + 1, old - 1, old * 2, 2 ** 31, 2 ** 32, 2 ** 53, 99_999_999_999, input.length, rng.int(100_000)];
	const value = rng.pick(values);
	const replacement = rng.oneIn(8)
		? rng.pick(['-1', '', ' ', '1e3', '0x10', '+5', '99999999999999999999999'])
		: (hex ? value.toString(16) : String(value));
	return Buffer.concat([input.subarray(0, start), Buffer.from(replacement, 'latin1'), input.subarray(start + digits.length)]);
}

export function hexDump(input: Buffer, max = 512): string {
	const lines: string[] = [];
	for (let i = 0; i < Math.min(input.length, max); i += 16) {
		const row = input.subarray(i, Math.min(i + 16, input.length));
		const hex = [...row].map(b => b.toString(16).padStart(2, '0')).join(' ');
		const ascii = [...row].map(b => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
		lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
	}

	if (input.length > max) {
		lines.push(`… ${input.length - max} more bytes`);
	}

	return lines.join('\n');
}
