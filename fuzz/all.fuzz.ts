/**
 * Every target with the budget of `npm run fuzz -- --inputs N | --seconds S [--seed S]
 * [--target NAME [--index I]]` (fuzz/run.mjs passes it in FUZZ_* variables), one after the
 * other; prints the totals table and fails on any other throw or hang.
 */
import {afterAll, expect, test} from 'vitest';
import {
	formatTotals, runTarget, type RunOptions, type Totals,
} from './runner.js';
import {targets} from './targets/index.js';

const env = (name: string): number | undefined => {
	const value = process.env[name];
	return value === undefined || value === '' ? undefined : Number(value);
};

const seconds = env('FUZZ_SECONDS');
const inputs = env('FUZZ_INPUTS') ?? (seconds === undefined ? 10_000 : undefined);
const seed = env('FUZZ_SEED') ?? 1;
const index = env('FUZZ_INDEX');
const only = process.env['FUZZ_TARGET'];
const all: Totals[] = [];

const selected = targets.filter(target => only === undefined || only === '' || target.name === only);
if (selected.length === 0) {
	throw new Error(`no fuzz target "${only ?? ''}"; targets: ${targets.map(t => t.name).join(', ')}`);
}

for (const target of selected) {
	test(target.name, async () => {
		const options: RunOptions = {
			seed, inputs, seconds, index, crashDir: 'fuzz/crashes', log(line) {
				console.log(line);
			},
		};
		const totals = await runTarget(target, options);
		all.push(totals);
		console.log(`${target.name}: ${totals.inputs} inputs in ${totals.seconds.toFixed(1)} s (${target.covers})`);
		expect({other: totals.other, hang: totals.hang}).toEqual({other: 0, hang: 0});
	});
}

afterAll(() => {
	console.log(`\nseed ${seed}, ${inputs === undefined ? '' : `${inputs} inputs`}${inputs !== undefined && seconds !== undefined ? ' or ' : ''}${seconds === undefined ? '' : `${seconds} s`} per target\n${formatTotals(all)}`);
});
