/**
 * The fuzz targets of fuzz/ with a short fixed budget (seed 1): mutated real captures must give
 * only the decoders' own refusals, never another throw (TypeError, RangeError, a framer that
 * disagrees with its reference, …) and never a hang. Inputs slower than a target's bound are
 * printed, not asserted. `npm run fuzz` runs the long version.
 */
import {describe, expect, test} from 'vitest';
import {runTarget} from '../fuzz/runner.js';
import {targets} from '../fuzz/targets/index.js';
import {hexDump} from '../fuzz/engine.js';

describe('fuzzing with a fixed budget', () => {
	for (const target of targets) {
		test(`${target.name}: ${target.covers}`, async () => {
			const totals = await runTarget(target, {seed: 1, inputs: 3000, keep: 3});
			for (const finding of totals.findings.filter(f => f.kind === 'slow')) {
				console.log(`fuzz: slow input ${target.name} seed 1 index ${finding.index}: ${finding.ms.toFixed(1)} ms`);
			}

			const bugs = totals.findings.filter(f => f.kind !== 'slow').map(f => `${f.kind} at index ${f.index}: ${f.error ?? ''}\n${hexDump(f.input, 128)}`);
			expect(bugs).toEqual([]);
			expect({other: totals.other, hang: totals.hang}).toEqual({other: 0, hang: 0});
			// Every input was run, and the corpus reaches past the first refusal.
			expect(totals.inputs).toBe(Math.ceil(3000 * (target.budgetShare ?? 1)));
			expect(totals.ok).toBeGreaterThan(0);
			expect(totals.own).toBeGreaterThan(0);
		}, 180_000);
	}
});
