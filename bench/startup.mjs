#!/usr/bin/env node
/**
 * Start-up benchmark (core issue part 7): one TLS `--json` fetch of kernel.all.load as a
 * whole process, against bare `node -e 0` and Debian's pminfo (PCP_SECURE_SOCKETS=enforce)
 * in the same run, on a real TLS pmcd. Two secmon runs: trusted by `--ca-file`, and
 * trusted by a pin in the store (what the TOFU prompt saved: the headline use).
 *
 *   npm run build && node bench/startup.mjs [--runs 40] [--compare OTHER/dist/cli.cjs]
 *
 * `--compare` times another build's pinned fetch in the same rounds (built by the same Node:
 * the code caches are per Node), e.g. an older commit's, for a before/after figure.
 *
 * NODE_EXTRA_CA_CERTS changes the baseline a lot: when it is set, every Node process
 * (node -e 0 too) builds its CA store at start (~40 ms here); when it is not, bare Node
 * starts much faster, and the first TLS context pays for it instead (Node 20 builds the
 * store of its ~140 bundled roots even when given its own CA). So the figures are taken
 * both ways: with the environment as it is, and without NODE_EXTRA_CA_CERTS.
 *
 * Also timed: bench/startup-floor.cjs, the same exchange in bare node:net/node:tls with no
 * secmon code (the least any Node client pays for it), so secmon's own share is visible; and
 * the pinned run with PCP_DERIVED_CONFIG='' (no global derived metrics), so the share of loading
 * Debian's derived configuration is visible too, and pminfo both ways (it reads the same files);
 * and `--json` without -f, the scripted sampling path, which reads that configuration only for a
 * name the collector does not have.
 *
 * Runs are interleaved (node, secmon, secmon, floor, pminfo, node, …) so machine noise hits
 * all alike. Prints medians (and minimums) and writes bench/results/startup.json. "Paired" is
 * the median of each round's difference to that round's `node -e 0`, which a slow phase of
 * the machine shifts less than it shifts each median on its own.
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
const caHome = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-home-'));
const pinHome = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-home-'));
const cli = path.join(root, 'dist', 'cli.cjs');
const compareIndex = process.argv.indexOf('--compare');
const compare = compareIndex === -1 ? undefined : path.resolve(process.argv[compareIndex + 1]);

function time(command, args, env) {
	const start = process.hrtime.bigint();
	const result = spawnSync(command, args, {env, stdio: ['ignore', 'pipe', 'pipe']});
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

const round = value => Number(value.toFixed(1));

execFileSync('bash', [path.join(root, 'test/peers/pmcd.sh'), 'start', 'offer', String(port), dir], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim();
try {
	const host = `127.0.0.1:${port}`;
	const fetch = ['--json', '-h', host, '--secure', 'enforce', '-f', 'kernel.all.load'];
	const commands = {
		node: [process.execPath, ['-e', '0'], {}],
		secmonCaFile: [process.execPath, [cli, ...fetch, '--ca-file', path.join(dir, 'certs', 'ca.pem')], {SECMON_HOME: caHome}],
		secmonPinned: [process.execPath, [cli, ...fetch], {SECMON_HOME: pinHome}],
		// The same without the global derived-metrics configuration: what loading it costs.
		secmonNoDerived: [process.execPath, [cli, ...fetch], {SECMON_HOME: pinHome, PCP_DERIVED_CONFIG: ''}],
		...(compare ? {comparePinned: [process.execPath, [compare, ...fetch], {SECMON_HOME: pinHome}]} : {}),
		floor: [process.execPath, [path.join(root, 'bench', 'startup-floor.cjs'), '127.0.0.1', String(port), path.join(dir, 'certs', 'ca.pem')], {}],
		pminfo: ['pminfo', ['-h', host, '-f', 'kernel.all.load'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: path.join(dir, 'client-verify.conf'), PCP_DERIVED_CONFIG: ''}],
		// pminfo with the global derived configuration, as secmon's -f runs read it.
		pminfoDerived: ['pminfo', ['-h', host, '-f', 'kernel.all.load'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: path.join(dir, 'client-verify.conf')}],
		// The scripted fast path: --json without -f samples once, and reads the derived configuration only for a name the collector lacks.
		secmonSample: [process.execPath, [cli, '--json', '-h', host, '--secure', 'enforce', 'kernel.all.load'], {SECMON_HOME: pinHome}],
	};
	// The pin the TOFU prompt would save (--accept-new saves it without asking).
	time(process.execPath, [cli, ...fetch, '--accept-new'], {...process.env, SECMON_HOME: pinHome});

	const withoutExtra = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'));
	const environments = {
		asIs: {env: process.env, label: process.env.NODE_EXTRA_CA_CERTS ? `NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}` : 'no NODE_EXTRA_CA_CERTS'},
		...(process.env.NODE_EXTRA_CA_CERTS ? {withoutExtraCaCerts: {env: withoutExtra, label: 'without NODE_EXTRA_CA_CERTS'}} : {}),
	};

	const result = {
		date: new Date().toISOString(), node: process.version, runs, environments: {},
	};
	for (const [key, {env, label}] of Object.entries(environments)) {
		const samples = Object.fromEntries(Object.keys(commands).map(name => [name, []]));
		// Warm the page cache and check that each command works.
		for (let i = 0; i < 3; i++) {
			for (const [command, args, extra] of Object.values(commands)) {
				time(command, args, {...env, ...extra});
			}
		}

		for (let i = 0; i < runs; i++) {
			for (const [name, [command, args, extra]] of Object.entries(commands)) {
				samples[name].push(time(command, args, {...env, ...extra}));
			}
		}

		const medianMs = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, round(median(values))]));
		const minMs = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, round(Math.min(...values))]));
		const over = name => ({
			medianMs: round(medianMs[name] - medianMs.node),
			// The minimums are the least disturbed runs of each: a second view on a noisy machine.
			minMs: round(minMs[name] - minMs.node),
			pairedMedianMs: round(median(samples[name].map((ms, index) => ms - samples.node[index]))),
		});
		result.environments[key] = {
			label,
			medianMs,
			minMs,
			overNode: {
				secmonCaFile: over('secmonCaFile'), secmonPinned: over('secmonPinned'), secmonNoDerived: over('secmonNoDerived'), secmonSample: over('secmonSample'), floor: over('floor'),
				...(compare ? {comparePinned: over('comparePinned')} : {}),
			},
			// This build's pinned fetch against the other build's, paired per round.
			...(compare && {compare, pinnedMinusComparePairedMs: round(median(samples.secmonPinned.map((ms, index) => ms - samples.comparePinned[index])))}),
			// The global derived configuration's share: pinned runs with it and without it, paired per round.
			derivedPairedMs: round(median(samples.secmonPinned.map((ms, index) => ms - samples.secmonNoDerived[index]))),
		};

		const line = name => {
			const {medianMs: m, minMs: least, pairedMedianMs: paired} = result.environments[key].overNode[name];
			return `+${m} ms over bare Node (paired +${paired}, by the minimums +${least})`;
		};

		console.log(`one TLS --json fetch of kernel.all.load, ${runs} interleaved runs, ${label}; median (min):`);
		console.log(`  node -e 0                     ${medianMs.node} ms (${minMs.node})`);
		console.log(`  secmon --json, --ca-file      ${medianMs.secmonCaFile} ms (${minMs.secmonCaFile})   ${line('secmonCaFile')}`);
		console.log(`  secmon --json, pinned (TOFU)  ${medianMs.secmonPinned} ms (${minMs.secmonPinned})   ${line('secmonPinned')}`);
		console.log(`  same, PCP_DERIVED_CONFIG=''   ${medianMs.secmonNoDerived} ms (${minMs.secmonNoDerived})   ${line('secmonNoDerived')}; the derived configuration: paired +${result.environments[key].derivedPairedMs} ms`);
		if (compare) {
			console.log(`  ${compare} pinned  ${medianMs.comparePinned} ms (${minMs.comparePinned})   ${line('comparePinned')}; this build minus it: paired ${result.environments[key].pinnedMinusComparePairedMs} ms`);
		}

		console.log(`  floor: bare node:tls, same PDUs ${medianMs.floor} ms (${minMs.floor})   ${line('floor')}`);
		console.log(`  secmon --json without -f      ${medianMs.secmonSample} ms (${minMs.secmonSample})   ${line('secmonSample')}`);
		console.log(`  pminfo -f (TLS)               ${medianMs.pminfo} ms (${minMs.pminfo}); with the global derived configuration ${medianMs.pminfoDerived} ms (${minMs.pminfoDerived})`);
	}

	console.log('target (core issue part 7): median within 25 ms of bare Node');
	mkdirSync(path.join(root, 'bench', 'results'), {recursive: true});
	writeFileSync(path.join(root, 'bench', 'results', 'startup.json'), JSON.stringify(result, null, '\t') + '\n');
} finally {
	execFileSync('bash', [path.join(root, 'test/peers/pmcd.sh'), 'stop', dir], {stdio: 'ignore'});
	rmSync(caHome, {recursive: true, force: true});
	rmSync(pinHome, {recursive: true, force: true});
}
