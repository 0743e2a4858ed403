#!/usr/bin/env node
/**
 * Fleet benchmark (issue 18): many TLS collectors from one secmon process.
 *
 *   npm run build && node bench/fanout.mjs [--collectors 100] [--fleet 1000] [--seconds 60]
 *       [--runs 5] [--group 10] [--skip-fleet] [--skip-oneshot] [--profile DIR] [--compare OTHER/dist/cli.cjs]
 *
 * The collectors are real `secmon serve` processes on loopback addresses 127.0.X.Y, one port,
 * `--group` addresses per process for the one-shot collectors and `--fleet-group` for the rest
 * of the fleet, each process with its own secmon home, so its own CA and certificate: every collector is a distinct host:port with its own pin in the client's store
 * (pinned by one `--accept-new` run first, as a fleet is after its first contact).
 *
 * 1. One shot: `secmon --json --hosts-file LIST hinv.ncpu` over `--collectors` collectors, one
 *    process, against a loop of as many real `pminfo -f hinv.ncpu` processes (TLS, verified
 *    against the collectors' CAs: PCP_SECURE_SOCKETS=enforce and a tls.conf with their bundle).
 *    `--runs` interleaved rounds; wall time and CPU (user+sys, /usr/bin/time) per run. When the
 *    environment sets NODE_EXTRA_CA_CERTS (this VM does, for every process), secmon is also timed
 *    without it: with it, every Node process builds its CA store at start (~40 ms here), which
 *    pminfo never pays and a monitoring host does not usually set.
 * 2. Live: `secmon --json -t 1 -s SECONDS` over `--fleet` collectors. For every round: how many
 *    collectors answered in time, were late or missed it, and when its last line arrived after
 *    the round was due; secmon's CPU share, the collectors' CPU share, and secmon's RSS every
 *    second (first, after 10 s, highest, last; the medians of the two halves after the first
 *    10 s and the least-squares slope over them in MiB per minute: flat is about 0).
 *
 * `--profile DIR` runs one one-shot under `node --cpu-prof` into DIR and prints the functions
 * with the most self time. `--cli` measures another build (main's, for a before/after figure).
 * Writes bench/results/fanout.json.
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {
	mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function option(name, fallback) {
	const at = process.argv.indexOf(`--${name}`);
	return at === -1 ? fallback : process.argv[at + 1];
}

const cli = path.resolve(option('cli', path.join(root, 'dist', 'cli.cjs')));
const collectors = Number(option('collectors', 100));
const fleet = process.argv.includes('--skip-fleet') ? 0 : Number(option('fleet', 1000));
const skipOneShot = process.argv.includes('--skip-oneshot');
const seconds = Number(option('seconds', 60));
const runs = Number(option('runs', 5));
const groupSize = Number(option('group', 10));
// The fleet beyond the one-shot collectors: bigger groups, so that 1000 collectors are 19
// processes rather than 100 on a small machine (each still with its own CA).
const fleetGroupSize = Number(option('fleet-group', 100));
const profileDir = option('profile', undefined);
// --compare: another build timed in the same rounds (one shot only), e.g. main's before a change.
const compare = option('compare', undefined);
const port = Number(option('port', 47_600));
const work = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-fanout-'));

/** Collector i's address: 127.0.1.1 … 127.0.1.200, 127.0.2.1 …. */
function address(i) {
	return `127.0.${1 + Math.floor(i / 200)}.${1 + (i % 200)}`;
}

const round1 = value => Number(value.toFixed(1));

function median(values) {
	const sorted = values.toSorted((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** CPU seconds (user+sys) of a process so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100;
	} catch {
		return Number.NaN;
	}
}

function rssMiB(pid) {
	try {
		const match = /VmRSS:\s+(\d+) kB/v.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) / 1024 : Number.NaN;
	} catch {
		return Number.NaN;
	}
}

const servers = [];

/** The groups of collectors: [first, end) per secmon serve process. */
function groupsOf(count) {
	const groups = [];
	for (let first = 0; first < count;) {
		const size = first < collectors ? groupSize : fleetGroupSize;
		const end = Math.min(count, first + size, first < collectors ? collectors : count);
		groups.push([first, end]);
		first = end;
	}

	return groups;
}

function startGroup(g, [first, end]) {
	const home = path.join(work, `serve-${g}`);
	mkdirSync(home, {mode: 0o700});
	const listen = [];
	for (let i = first; i < end; i++) {
		listen.push('--listen', `${address(i)}:${port}`);
	}

	// Every client connection comes from 127.0.0.1: the per-address limit (64) would refuse the fleet.
	const child = spawn(process.execPath, [cli, 'serve', ...listen, '--max-clients', '4096', '--max-per-address', '4096'], {
		env: {...process.env, SECMON_HOME: home}, stdio: ['ignore', 'pipe', 'pipe'],
	});
	let log = '';
	const collect = chunk => {
		log += chunk;
	};

	child.stderr.setEncoding('utf8').on('data', collect);
	child.stdout.setEncoding('utf8').on('data', collect);
	const listening = listen.length / 2;
	servers.push({child, ca: path.join(home, 'serve', 'ca.pem')});
	return new Promise((resolve, reject) => {
		const check = setInterval(() => {
			if ((log.match(/listening on/gv) ?? []).length >= listening) {
				clearInterval(check);
				resolve();
			} else if (child.exitCode !== null) {
				clearInterval(check);
				reject(new Error(`secmon serve (group ${g}) exited ${child.exitCode}:\n${log}`));
			}
		}, 50);
	});
}

async function startCollectors(count) {
	const groups = groupsOf(count);
	// A few at a time: each makes its CA and key on first start.
	for (let g = 0; g < groups.length; g += 4) {
		await Promise.all(groups.slice(g, g + 4).map((group, k) => startGroup(g + k, group)));
	}
}

function stopCollectors() {
	for (const {child} of servers) {
		child.kill('SIGTERM');
	}
}

function hostsFile(count) {
	const file = path.join(work, `hosts-${count}.txt`);
	writeFileSync(file, Array.from({length: count}, (_, i) => `${address(i)}:${port}`).join('\n') + '\n');
	return file;
}

/** Wall and CPU of one command, from /usr/bin/time. */
function timed(command, args, env) {
	const result = spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %M', command, ...args], {env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024});
	const line = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/v.exec(result.stderr.toString());
	if (!line) {
		throw new Error(`${command} ${args.join(' ')}: no timing\n${result.stderr}`);
	}

	return {
		status: result.status,
		stdout: result.stdout.toString(),
		stderr: result.stderr.toString(),
		wallMs: Number(line[1]) * 1000,
		cpuMs: (Number(line[2]) + Number(line[3])) * 1000,
		maxRssMiB: Number(line[4]) / 1024,
	};
}

const clientHome = path.join(work, 'client');
mkdirSync(clientHome, {mode: 0o700});
const clientEnv = {...process.env, SECMON_HOME: clientHome};
const clientEnvWithoutExtra = process.env.NODE_EXTRA_CA_CERTS
	? Object.fromEntries(Object.entries(clientEnv).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'))
	: undefined;

/** --host arguments rather than --hosts-file, so that an older build (--compare) runs the same command. */
function oneShot(list, extra = [], build = cli, env = clientEnv) {
	const hosts = readFileSync(list, 'utf8').trim().split('\n').flatMap(host => ['--host', host]);
	const result = timed(process.execPath, [...extra, build, '--json', ...hosts, 'hinv.ncpu'], env);
	const samples = result.stdout.split('\n').filter(line => line.startsWith('{"type":"sample"')).length;
	return {...result, samples};
}

/** A loop of real pminfo processes, one after the other, as a shell script would run them. */
function pminfoLoop(count, tlsConf) {
	const script = `for h in $(cat ${hostsFile(count)}); do pminfo -h "$h" -f hinv.ncpu >/dev/null || exit 1; done`;
	return timed('bash', ['-c', script], {
		...process.env, PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: tlsConf, PCP_DERIVED_CONFIG: '',
	});
}

function loadAverage() {
	return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function machine() {
	return {
		node: process.version,
		cpus: os.cpus().length,
		cpu: os.cpus()[0]?.model,
		memGiB: round1(os.totalmem() / (2 ** 30)),
		loadAtStart: loadAverage(),
		openFiles: execFileSync('bash', ['-c', 'ulimit -n']).toString().trim(),
	};
}

async function live(count) {
	const list = hostsFile(count);
	const child = spawn(process.execPath, [cli, '--json', '-t', '1', '-s', String(seconds), '--hosts-file', list, 'hinv.ncpu'], {env: clientEnv, stdio: ['ignore', 'pipe', 'pipe']});
	const start = performance.now();
	const rounds = new Map();
	let buffer = '';
	let stderr = '';
	let firstDue;
	let firstAt;
	child.stderr.setEncoding('utf8').on('data', chunk => {
		stderr += chunk;
	});
	child.stdout.setEncoding('utf8').on('data', chunk => {
		const arrived = performance.now();
		buffer += chunk;
		const lines = buffer.split('\n');
		buffer = lines.pop();
		for (const text of lines) {
			const line = JSON.parse(text);
			if (line.type !== 'sample' && line.type !== 'missed') {
				continue;
			}

			// The round of a line: from its timestamp (the collector's read, or the missed round's
			// due time) against the first line's; the first line's arrival is taken as round 0 due.
			const at = Date.parse(line.timestamp);
			firstAt ??= at;
			firstDue ??= arrived;
			const index = Math.max(0, Math.round((at - firstAt) / 1000));
			const entry = rounds.get(index) ?? {
				samples: 0, late: 0, missed: 0, lastMs: 0,
			};
			if (line.type === 'missed') {
				entry.missed++;
			} else if (line.late) {
				entry.late++;
			} else {
				entry.samples++;
			}

			entry.lastMs = Math.max(entry.lastMs, arrived - firstDue - (index * 1000));
			rounds.set(index, entry);
		}
	});
	const serverCpu0 = servers.reduce((sum, {child}) => sum + cpuSeconds(child.pid), 0);
	const rss = [];
	let cpu = 0;
	const sampler = setInterval(() => {
		const value = rssMiB(child.pid);
		if (Number.isFinite(value)) {
			rss.push(value);
			cpu = cpuSeconds(child.pid);
		}
	}, 1000);
	const code = await new Promise(resolve => {
		child.on('close', resolve);
	});
	clearInterval(sampler);
	const wallS = (performance.now() - start) / 1000;
	const serverCpu = servers.reduce((sum, {child}) => sum + cpuSeconds(child.pid), 0) - serverCpu0;
	const entries = [...rounds.entries()].toSorted((a, b) => a[0] - b[0]).map(([, entry]) => entry);
	return {
		collectors: count,
		seconds,
		exitCode: code,
		stderr: stderr.slice(0, 2000),
		wallS: round1(wallS),
		rounds: entries.length,
		roundsComplete: entries.filter(entry => entry.samples === count).length,
		roundsWithLateOrMissed: entries.filter(entry => entry.late + entry.missed > 0).length,
		late: entries.reduce((sum, entry) => sum + entry.late, 0),
		missed: entries.reduce((sum, entry) => sum + entry.missed, 0),
		lastLineAfterDueMs: {median: round1(median(entries.map(entry => entry.lastMs))), max: round1(Math.max(...entries.map(entry => entry.lastMs)))},
		secmonCpuShare: round1((100 * cpu) / wallS),
		collectorsCpuShare: round1((100 * serverCpu) / wallS),
		rssMiB: {
			first: round1(rss[0] ?? Number.NaN), after10s: round1(rss[10] ?? Number.NaN), max: round1(Math.max(...rss)), last: round1(rss.at(-1) ?? Number.NaN),
			...rssTrend(rss.slice(10)),
		},
	};
}

/** After the warm-up: the medians of the first and second half, and the least-squares slope (MiB per minute). */
function rssTrend(series) {
	if (series.length < 4) {
		return {};
	}

	const half = Math.floor(series.length / 2);
	const meanX = (series.length - 1) / 2;
	const meanY = series.reduce((sum, y) => sum + y, 0) / series.length;
	let numerator = 0;
	let denominator = 0;
	for (const [x, y] of series.entries()) {
		numerator += (x - meanX) * (y - meanY);
		denominator += (x - meanX) ** 2;
	}

	return {
		firstHalfMedian: round1(median(series.slice(0, half))),
		secondHalfMedian: round1(median(series.slice(half))),
		slopeMiBPerMinute: round1((numerator / denominator) * 60),
	};
}

function topSelfTime(dir) {
	const file = readdirSync(dir).find(name => name.endsWith('.cpuprofile'));
	const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
	const self = new Map();
	const byId = new Map(profile.nodes.map(node => [node.id, node]));
	const interval = (profile.endTime - profile.startTime) / profile.samples.length / 1000;
	for (const id of profile.samples) {
		const {callFrame} = byId.get(id);
		const key = `${callFrame.functionName || '(anonymous)'} ${path.basename(callFrame.url)}:${callFrame.lineNumber + 1}`;
		self.set(key, (self.get(key) ?? 0) + interval);
	}

	return [...self.entries()].toSorted((a, b) => b[1] - a[1]).slice(0, 25).map(([name, ms]) => `${ms.toFixed(1).padStart(7)} ms  ${name}`);
}

/** The one-shot rounds: secmon (and without NODE_EXTRA_CA_CERTS, and --compare's build) against a pminfo loop. */
function oneShotRounds(tlsConf) {
	const list = hostsFile(collectors);
	const secmon = [];
	const secmonWithoutExtra = [];
	const pminfo = [];
	const node = [];
	const other = [];
	for (let r = 0; r < runs; r++) {
		node.push(timed(process.execPath, ['-e', '0'], clientEnv));
		if (compare) {
			const run = oneShot(list, [], path.resolve(compare));
			if (run.samples !== collectors) {
				throw new Error(`${compare}: exit ${run.status}, ${run.samples} samples of ${collectors}\n${run.stderr.slice(0, 2000)}`);
			}

			other.push(run);
		}

		const one = oneShot(list);
		if (one.status !== 0 || one.samples !== collectors) {
			throw new Error(`secmon one-shot: exit ${one.status}, ${one.samples} samples of ${collectors}\n${one.stderr.slice(0, 2000)}`);
		}

		secmon.push(one);
		if (clientEnvWithoutExtra) {
			const bare = oneShot(list, [], cli, clientEnvWithoutExtra);
			if (bare.status !== 0 || bare.samples !== collectors) {
				throw new Error(`secmon one-shot without NODE_EXTRA_CA_CERTS: exit ${bare.status}, ${bare.samples} samples of ${collectors}\n${bare.stderr.slice(0, 2000)}`);
			}

			secmonWithoutExtra.push(bare);
		}

		const loop = pminfoLoop(collectors, tlsConf);
		if (loop.status !== 0) {
			throw new Error(`pminfo loop failed: ${loop.stderr.slice(0, 2000)}`);
		}

		pminfo.push(loop);
	}

	const wall = median(secmon.map(run => run.wallMs));
	const pminfoWall = median(pminfo.map(run => run.wallMs));
	const cpu = median(secmon.map(run => run.cpuMs));
	result.oneShot = {
		collectors,
		runs,
		secmonWallMs: {median: round1(wall), min: round1(Math.min(...secmon.map(run => run.wallMs)))},
		secmonCpuMs: {median: round1(cpu), perCollector: round1(cpu / collectors)},
		nodeStartCpuMs: round1(median(node.map(run => run.cpuMs))),
		secmonMaxRssMiB: round1(median(secmon.map(run => run.maxRssMiB))),
		pminfoLoopWallMs: {median: round1(pminfoWall), min: round1(Math.min(...pminfo.map(run => run.wallMs)))},
		speedup: round1(pminfoWall / wall),
	};
	if (clientEnvWithoutExtra) {
		const bareWall = median(secmonWithoutExtra.map(run => run.wallMs));
		result.oneShot.withoutNodeExtraCaCerts = {
			secmonWallMs: {median: round1(bareWall), min: round1(Math.min(...secmonWithoutExtra.map(run => run.wallMs)))},
			secmonCpuMs: {median: round1(median(secmonWithoutExtra.map(run => run.cpuMs)))},
			speedup: round1(pminfoWall / bareWall),
		};
	}

	if (compare) {
		const otherCpu = median(other.map(run => run.cpuMs));
		result.oneShot.compare = {
			cli: path.resolve(compare),
			wallMs: {median: round1(median(other.map(run => run.wallMs))), min: round1(Math.min(...other.map(run => run.wallMs)))},
			cpuMs: {median: round1(otherCpu), perCollector: round1(otherCpu / collectors)},
			samples: other.map(run => run.samples),
		};
	}

	const o = result.oneShot;
	console.log(`one shot, ${collectors} TLS collectors (pinned), ${runs} runs, median (min):`);
	console.log(`  secmon, one process      ${o.secmonWallMs.median} ms (${o.secmonWallMs.min}), CPU ${o.secmonCpuMs.median} ms (${o.secmonCpuMs.perCollector} ms per collector; node -e 0: ${o.nodeStartCpuMs} ms)`);
	console.log(`  ${collectors} × pminfo -f (TLS)    ${o.pminfoLoopWallMs.median} ms (${o.pminfoLoopWallMs.min})`);
	console.log(`  speed-up                 ${o.speedup}×`);
	if (o.withoutNodeExtraCaCerts) {
		const w = o.withoutNodeExtraCaCerts;
		console.log(`  secmon without NODE_EXTRA_CA_CERTS ${w.secmonWallMs.median} ms (${w.secmonWallMs.min}), CPU ${w.secmonCpuMs.median} ms: ${w.speedup}×`);
	}

	if (o.compare) {
		console.log(`  ${o.compare.cli}: ${o.compare.wallMs.median} ms (${o.compare.wallMs.min}), CPU ${o.compare.cpuMs.median} ms (${o.compare.cpuMs.perCollector} ms per collector)`);
	}
}

const result = {
	machine: machine(), date: new Date().toISOString(), cli, groupSize, fleetGroupSize,
};
try {
	await startCollectors(Math.max(collectors, fleet));
	const tlsConf = path.join(work, 'tls.conf');
	const bundle = path.join(work, 'cas.pem');
	writeFileSync(bundle, servers.map(({ca}) => readFileSync(ca, 'utf8')).join(''));
	writeFileSync(tlsConf, `tls-ca-cert-file = ${bundle}\ntls-verify-clients = true\n`);
	// First contact: pin every collector (trust on first use, as a fleet is after its first run).
	const pin = timed(process.execPath, [cli, '--json', '--accept-new', '--hosts-file', hostsFile(Math.max(collectors, fleet)), 'hinv.ncpu'], clientEnv);
	if (pin.status !== 0) {
		throw new Error(`pinning failed (${pin.status}): ${pin.stderr.slice(0, 2000)}`);
	}

	if (profileDir) {
		rmSync(profileDir, {recursive: true, force: true});
		const profiled = oneShot(hostsFile(collectors), ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profileDir]);
		console.log(`profile: ${profiled.samples} samples, ${round1(profiled.cpuMs)} ms CPU, ${round1(profiled.cpuMs / collectors)} ms per collector`);
		for (const line of topSelfTime(profileDir)) {
			console.log(line);
		}
	}

	if (!skipOneShot) {
		oneShotRounds(tlsConf);
	}

	if (fleet > 0) {
		result.live = await live(fleet);
		const l = result.live;
		console.log(`live, ${fleet} collectors at 1 Hz for ${seconds} s: ${l.rounds} rounds in ${l.wallS} s, ${l.roundsComplete} complete, ${l.roundsWithLateOrMissed} with late or missed samples (${l.late} late, ${l.missed} missed)`);
		console.log(`  last line of a round after it was due: median ${l.lastLineAfterDueMs.median} ms, max ${l.lastLineAfterDueMs.max} ms`);
		console.log(`  CPU: secmon ${l.secmonCpuShare} % of a core, the collectors ${l.collectorsCpuShare} %; secmon RSS ${l.rssMiB.first} MiB first, ${l.rssMiB.after10s} after 10 s, ${l.rssMiB.max} max, ${l.rssMiB.last} last`);
		if (l.rssMiB.slopeMiBPerMinute !== undefined) {
			console.log(`  RSS after the first 10 s: median ${l.rssMiB.firstHalfMedian} MiB in the first half, ${l.rssMiB.secondHalfMedian} in the second; slope ${l.rssMiB.slopeMiBPerMinute} MiB per minute`);
		}
	}

	result.machine.loadAtEnd = loadAverage();
	mkdirSync(path.join(root, 'bench', 'results'), {recursive: true});
	writeFileSync(path.join(root, 'bench', 'results', 'fanout.json'), JSON.stringify(result, null, '\t') + '\n');
} finally {
	stopCollectors();
	await new Promise(resolve => {
		setTimeout(resolve, 500);
	});
	rmSync(work, {recursive: true, force: true});
}
