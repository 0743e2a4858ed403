#!/usr/bin/env node
/**
 * Start-up benchmark (core issue part 7): one TLS `--json` fetch of
 * kernel.all.load as a whole process, against bare `node -e 0` and Debian's
 * pminfo (PCP_SECURE_SOCKETS=enforce) in the same run, on a real TLS pmcd.
 *
 *   npm run build && node bench/startup.mjs [--runs 40]
 *
 * Runs are interleaved (node, secmon, pminfo, node, …) so machine noise hits all
 * three alike. Prints medians and writes bench/results/startup.json.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {
	mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runsIndex = process.argv.indexOf('--runs');
const runs = runsIndex === -1 ? 40 : Number(process.argv[runsIndex + 1]);
const port = 46_990;
const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-pmcd-'));
const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-home-'));
const cli = path.join(root, 'dist', 'cli.cjs');

function time(command, args, env) {
	const start = process.hrtime.bigint();
	const result = spawnSync(command, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
	const ms = Number(process.hrtime.bigint() - start) / 1e6;
	if (result.status !== 0) {
		throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
	}

	return ms;
}

function median(values) {
	const sorted = values.toSorted((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

execFileSync('bash', [path.join(root, 'test/peers/pmcd.sh'), 'start', 'offer', String(port), dir], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim();
try {
	const host = `127.0.0.1:${port}`;
	const secmonArgs = [cli, '--json', '-h', host, '--secure', 'enforce', '--ca-file', path.join(dir, 'certs', 'ca.pem'), '-f', 'kernel.all.load'];
	const secmonEnv = {SECMON_HOME: home};
	const pminfoEnv = {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: path.join(dir, 'client-verify.conf'), PCP_DERIVED_CONFIG: ''};
	// Warm the page cache and check that each command works.
	for (let i = 0; i < 3; i++) {
		time(process.execPath, ['-e', '0'], {});
		time(process.execPath, secmonArgs, secmonEnv);
		time('pminfo', ['-h', host, '-f', 'kernel.all.load'], pminfoEnv);
	}

	const samples = {node: [], secmon: [], pminfo: []};
	for (let i = 0; i < runs; i++) {
		samples.node.push(time(process.execPath, ['-e', '0'], {}));
		samples.secmon.push(time(process.execPath, secmonArgs, secmonEnv));
		samples.pminfo.push(time('pminfo', ['-h', host, '-f', 'kernel.all.load'], pminfoEnv));
	}

	const result = {
		date: new Date().toISOString(),
		node: process.version,
		runs,
		medianMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Number(median(v).toFixed(1))])),
		minMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Number(Math.min(...v).toFixed(1))])),
	};
	result.secmonOverNodeMs = Number((result.medianMs.secmon - result.medianMs.node).toFixed(1));
	// The minimums are the least disturbed runs of each: a second view on a noisy machine.
	result.secmonOverNodeMinMs = Number((result.minMs.secmon - result.minMs.node).toFixed(1));
	console.log(`one TLS --json fetch of kernel.all.load, ${runs} interleaved runs, median (min):`);
	console.log(`  node -e 0             ${result.medianMs.node} ms (${result.minMs.node})`);
	console.log(`  secmon --json (TLS)   ${result.medianMs.secmon} ms (${result.minMs.secmon})   +${result.secmonOverNodeMs} ms over bare Node (+${result.secmonOverNodeMinMs} by the minimums; target: within 25 ms)`);
	console.log(`  pminfo -f (TLS)       ${result.medianMs.pminfo} ms (${result.minMs.pminfo})`);
	mkdirSync(path.join(root, 'bench', 'results'), {recursive: true});
	writeFileSync(path.join(root, 'bench', 'results', 'startup.json'), JSON.stringify(result, null, '\t') + '\n');
} finally {
	execFileSync('bash', [path.join(root, 'test/peers/pmcd.sh'), 'stop', dir], {stdio: 'ignore'});
	rmSync(home, {recursive: true, force: true});
}
