#!/usr/bin/env node
/**
 * `npm run fuzz -- [--inputs N] [--seconds S] [--seed S] [--target NAME] [--index I]`: passes the
 * budget to fuzz/all.fuzz.ts in FUZZ_* variables and runs it with vitest (fuzz/vitest.config.ts).
 * Environment variables of the same names work too (FUZZ_INPUTS=1000000 npm run fuzz).
 */
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const {values} = parseArgs({
	options: {
		inputs: {type: 'string'},
		seconds: {type: 'string'},
		seed: {type: 'string'},
		target: {type: 'string'},
		index: {type: 'string'},
	},
});
const env = {...process.env};
for (const [name, value] of Object.entries(values)) {
	if (name !== 'target' && !/^\d+(?:\.\d+)?$/.test(value)) {
		console.error(`--${name} needs a number, not ${JSON.stringify(value)}`);
		process.exit(2);
	}

	env[`FUZZ_${name.toUpperCase()}`] = value;
}

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const result = spawnSync(process.execPath, [vitest, 'run', '--config', 'fuzz/vitest.config.ts'], {stdio: 'inherit', env});
process.exit(result.status ?? 1);
