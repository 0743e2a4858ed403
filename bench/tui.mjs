#!/usr/bin/env node
/**
 * CPU and memory of the terminal UI: `node dist/cli.cjs` with 20 panes (20 metrics on one real pmcd,
 * TLS, pinned with --accept-new) sampling every second in a 200×60 tmux terminal, for 5 minutes.
 * Every second the secmon process's RSS (/proc/PID/status VmRSS) and CPU time (/proc/PID/stat
 * utime+stime) are read; the samples it took are read from its own status line ("N samples").
 * After a warm-up, RSS must not grow: the check compares the first and last minute (medians)
 * and fits a slope.
 *
 *   npm run build && node bench/tui.mjs [--duration 300] [--warmup 60] [--port 49030] [--node-env development]
 * Prints the figures and writes bench/results/tui.json.
 */
import {execFileSync} from 'node:child_process';
import {
	mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
const {values} = parseArgs({
	options: {
		duration: {type: 'string', default: '300'},
		warmup: {type: 'string'},
		port: {type: 'string', default: '49030'},
		out: {type: 'string', default: path.join(root, 'bench/results/tui.json')},
		// Run secmon with this NODE_ENV (e.g. development, to measure React's development build).
		'node-env': {type: 'string'},
	},
});
const durationS = Number(values.duration);
const warmupS = values.warmup === undefined ? Math.min(60, Math.round(durationS / 5)) : Number(values.warmup);
const port = Number(values.port);
const metrics = [
	'kernel.all.load',
	'kernel.all.cpu.user',
	'kernel.all.cpu.sys',
	'kernel.all.cpu.idle',
	'kernel.all.cpu.wait.total',
	'kernel.all.pswitch',
	'kernel.all.intr',
	'kernel.all.nprocs',
	'mem.util.free',
	'mem.util.cached',
	'mem.util.bufmem',
	'mem.util.used',
	'disk.dev.read',
	'disk.dev.write',
	'disk.dev.read_bytes',
	'disk.dev.write_bytes',
	'network.interface.in.bytes',
	'network.interface.out.bytes',
	'network.interface.in.packets',
	'network.interface.out.packets',
];

const pmcdScript = path.join(root, 'test/peers/pmcd.sh');
const certs = process.env.SECMON_TEST_CERTS ?? path.join(os.tmpdir(), `secmon-peer-pki-${process.getuid?.() ?? 'user'}`);
const work = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-tui-'));
const socket = path.join(work, 'tmux.socket');
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;

function pmcd(...args) {
	return execFileSync('bash', [pmcdScript, ...args], {env: {...process.env, SECMON_TEST_CERTS: certs}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']}).trim();
}

function tmux(...args) {
	return execFileSync('tmux', ['-S', socket, ...args], {encoding: 'utf8'});
}

/** CPU seconds (user+system) and RSS in KiB of a process, from /proc. */
function usage(pid) {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// Fields 14 and 15 (utime, stime) are at 11 and 12 after the state field.
	const cpu = (Number(fields[11]) + Number(fields[12])) / clockTicks;
	const rss = Number(/^VmRSS:\s+(\d+)/mv.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
	return {cpu, rss};
}

function median(values) {
	const sorted = values.toSorted((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function percentile(values, p) {
	const sorted = values.toSorted((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Least-squares slope of y over x. */
function slope(points) {
	const n = points.length;
	const mx = points.reduce((s, p) => s + p.x, 0) / n;
	const my = points.reduce((s, p) => s + p.y, 0) / n;
	const sxy = points.reduce((s, p) => s + ((p.x - mx) * (p.y - my)), 0);
	const sxx = points.reduce((s, p) => s + ((p.x - mx) ** 2), 0);
	return sxx === 0 ? 0 : sxy / sxx;
}

const round = (x, digits = 2) => Number(x.toFixed(digits));

let result;
try {
	pmcd('start', 'offer', String(port), path.join(work, 'pmcd'));
	writeFileSync(path.join(work, 'tmux.conf'), 'set -g status off\nset -g default-terminal tmux-256color\n');
	const command = [
		process.execPath,
		path.join(root, 'dist/cli.cjs'),
		'--secure',
		'enforce',
		'--accept-new',
		'--host',
		`127.0.0.1:${port}`,
		'-t',
		'1',
		...metrics,
	];
	const env = ['-e', `SECMON_HOME=${path.join(work, 'home')}`, '-e', 'CI=false', '-e', 'FORCE_COLOR=1', ...(values['node-env'] ? ['-e', `NODE_ENV=${values['node-env']}`] : [])];
	tmux('-f', path.join(work, 'tmux.conf'), 'new-session', '-d', '-s', 'bench', '-x', '200', '-y', '60', ...env, '--', ...command);
	const pid = Number(tmux('display-message', '-p', '-t', 'bench', '#{pane_pid}').trim());

	const samplesShown = () => {
		const match = / (\d+) samples/v.exec(tmux('capture-pane', '-p', '-t', 'bench'));
		return match ? Number(match[1]) : undefined;
	};

	// Wait for the first sample, then measure from there.
	const deadline = Date.now() + 20_000;
	while ((samplesShown() ?? 0) < 1) {
		if (Date.now() > deadline) {
			throw new Error(`no sample within 20 s:\n${tmux('capture-pane', '-p', '-t', 'bench')}`);
		}

		await delay(100);
	}

	const started = Date.now();
	const first = usage(pid);
	const firstSamples = samplesShown();
	const series = [];
	let previous = first;
	for (let second = 1; second <= durationS; second++) {
		await delay(started + (second * 1000) - Date.now());
		const now = usage(pid);
		series.push({t: second, rssKiB: now.rss, cpuMs: round((now.cpu - previous.cpu) * 1000, 1)});
		previous = now;
	}

	const screen = tmux('capture-pane', '-p', '-t', 'bench');
	const samples = (samplesShown() ?? 0) - (firstSamples ?? 0);
	const paneTitles = metrics.filter(name => screen.includes(name)).length;
	tmux('send-keys', '-t', 'bench', 'q');
	await delay(1000);

	const after = series.filter(point => point.t > warmupS);
	const window = Math.min(60, Math.max(1, Math.floor(after.length / 3)));
	const rssStart = median(after.slice(0, window).map(p => p.rssKiB));
	const rssEnd = median(after.slice(-window).map(p => p.rssKiB));
	const rssSlope = slope(after.map(p => ({x: p.t / 60, y: p.rssKiB})));
	const cpuTotal = previous.cpu - first.cpu;
	const cpuPerSecond = after.map(p => p.cpuMs);
	const growthKiB = rssEnd - rssStart;
	// Not growing: the last minute within 2% (or 2 MiB) of the first minute after warm-up.
	const rssStable = growthKiB <= Math.max(2048, rssStart * 0.02);
	result = {
		bench: 'tui',
		date: new Date().toISOString(),
		node: process.version,
		cpus: os.cpus().length,
		loadavgAtEnd: os.loadavg().map(x => round(x)),
		nodeEnv: values['node-env'] ?? '(unset: secmon picks production)',
		terminal: '200x60 tmux',
		collector: 'pmcd 6.0.3, TLS 1.3, pinned (--accept-new)',
		metrics: metrics.length,
		panesNamedOnScreen: paneTitles,
		intervalMs: 1000,
		durationS,
		warmupS,
		samples,
		cpu: {
			totalS: round(cpuTotal, 3),
			msPerSample: round((cpuTotal * 1000) / Math.max(1, samples), 2),
			percentOfOneCore: round((cpuTotal / durationS) * 100, 2),
			msPerSecondP50: median(cpuPerSecond),
			msPerSecondP95: percentile(cpuPerSecond, 95),
			msPerSecondMax: Math.max(...cpuPerSecond),
		},
		rss: {
			atStartKiB: series[0].rssKiB,
			afterWarmupKiB: rssStart,
			atEndKiB: rssEnd,
			maxKiB: Math.max(...series.map(p => p.rssKiB)),
			growthAfterWarmupKiB: growthKiB,
			slopeKiBPerMinute: round(rssSlope, 1),
			stable: rssStable,
		},
		series,
	};
} finally {
	try {
		execFileSync('tmux', ['-S', socket, 'kill-server'], {stdio: 'ignore'});
	} catch {
		// Already gone with the UI.
	}

	try {
		pmcd('stop', path.join(work, 'pmcd'));
	} catch {
		// Not started.
	}

	rmSync(work, {recursive: true, force: true});
}

mkdirSync(path.dirname(values.out), {recursive: true});
writeFileSync(values.out, JSON.stringify(result, null, '\t') + '\n');
const mib = kib => `${(kib / 1024).toFixed(1)} MiB`;
process.stdout.write([
	`secmon TUI, ${result.metrics} panes, 1 s interval, ${durationS} s (${result.samples} samples), ${result.terminal}, Node ${result.node}, ${result.cpus} CPUs`,
	`CPU: ${result.cpu.msPerSample} ms per sample (${result.cpu.percentOfOneCore}% of one core); per second p50 ${result.cpu.msPerSecondP50} ms, p95 ${result.cpu.msPerSecondP95} ms, max ${result.cpu.msPerSecondMax} ms`,
	`RSS: ${mib(result.rss.atStartKiB)} at start, ${mib(result.rss.afterWarmupKiB)} after ${warmupS} s warm-up, ${mib(result.rss.atEndKiB)} at the end (max ${mib(result.rss.maxKiB)}), slope ${result.rss.slopeKiBPerMinute} KiB/min → ${result.rss.stable ? 'stable' : 'GROWING'}`,
	`wrote ${path.relative(process.cwd(), values.out)}`,
].join('\n') + '\n');
process.exitCode = result.rss.stable ? 0 : 1;
