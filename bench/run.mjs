#!/usr/bin/env node
/**
 * `npm run bench`: builds once, then runs every benchmark in this folder, each of
 * which compares secmon with the real tool in the same run and writes its figures
 * to bench/results/*.json. `npm run bench -- startup` runs just one.
 */
import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const all = ['startup', 'zabbix', 'tui', 'fanout'];
const chosen = process.argv.slice(2).filter(name => !name.startsWith('-'));
const extra = process.argv.slice(2).filter(name => name.startsWith('-'));
execFileSync('npm', ['run', 'build'], {stdio: 'inherit', cwd: `${here}/..`});
for (const name of chosen.length > 0 ? chosen : all) {
	const script = `${here}${name}.mjs`;
	if (!existsSync(script)) {
		console.error(`bench: no ${name}.mjs in bench/, skipped`);
		continue;
	}

	console.log(`\n== bench/${name}.mjs`);
	execFileSync(process.execPath, [script, ...extra], {stdio: 'inherit'});
}
