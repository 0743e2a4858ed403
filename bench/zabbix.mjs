#!/usr/bin/env node
/**
 * Zabbix benchmark (issue 4): 200 item keys from one real zabbix_agentd, plain, PSK and
 * certificate, in one run:
 *   secmon   one process: `node dist/cli.cjs zabbix-get -s … -k KEY1 … -k KEY200` (bounded pool, 3 connections)
 *   zabbix_get  200 processes, one per key, one after the other (what a shell loop does),
 *               and, for reference, 3 at a time (the agent has 3 listeners)
 *   floor    (PSK) bench/zabbix-floor.cjs: bare node:tls, no secmon code, same ciphers and
 *               connections: the fastest a Node process gets these keys, so the best speedup
 *               any Node client can show on this machine
 * Rounds are interleaved (secmon, zabbix_get, next mode, …) so machine noise hits both alike.
 *
 *   npm run build && node bench/zabbix.mjs [--rounds 5] [--keys 200] [--cli dist/cli.cjs]
 *
 * Prints a table (median over rounds) and writes bench/results/zabbix.json.
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {
	existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argument = (name, fallback) => {
	const index = process.argv.indexOf(name);
	return index === -1 ? fallback : Number(process.argv[index + 1]);
};

const rounds = argument('--rounds', 5);
const keyCount = argument('--keys', 200);
// --cli PATH: a copy of the build elsewhere (when others rebuild dist/ while the bench runs).
const cliIndex = process.argv.indexOf('--cli');
const cli = cliIndex === -1 ? path.join(root, 'dist', 'cli.cjs') : path.resolve(process.argv[cliIndex + 1]);
const zabbixGet = '/opt/secmon-peers/zabbix_get/usr/bin/zabbix_get';
const agentScript = path.join(root, 'test', 'peers', 'zabbix-agent.sh');

for (const [file, hint] of [[cli, 'run: npm run build'], [zabbixGet, 'run: sudo bash test/peers/install.sh'], ['/usr/sbin/zabbix_agentd', 'run: sudo bash test/peers/install.sh']]) {
	if (!existsSync(file)) {
		console.error(`bench/zabbix: ${file} is missing; ${hint}`);
		process.exit(1);
	}
}

// Cheap, everyday agent keys, cycled to keyCount.
const keyMix = [
	'agent.ping',
	'agent.version',
	'agent.hostname',
	'system.cpu.load[all,avg1]',
	'system.cpu.load[all,avg5]',
	'vfs.file.exists[/etc/hostname]',
	'vm.memory.size[available]',
	'net.if.in[lo]',
	'system.uptime',
	'kernel.maxfiles',
];
const keys = Array.from({length: keyCount}, (_, index) => keyMix[index % keyMix.length]);

function freePort() {
	const listening = execFileSync('ss', ['-Hltn'], {encoding: 'utf8'});
	for (let port = 31_499; port >= 31_450; port--) {
		if (!listening.includes(`:${port} `)) {
			return port;
		}
	}

	throw new Error('no free port in 31450-31499');
}

function median(values) {
	const sorted = values.toSorted((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const round1 = value => Number(value.toFixed(1));

function timeSync(command, args, env = {}) {
	const start = process.hrtime.bigint();
	const result = spawnSync(command, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024});
	const ms = Number(process.hrtime.bigint() - start) / 1e6;
	if (result.status !== 0) {
		throw new Error(`${path.basename(command)} ${args.slice(0, 8).join(' ')} … exited ${result.status}: ${result.stderr}`);
	}

	return {ms, stdout: result.stdout.toString()};
}

async function timeAsync(command, args) {
	return new Promise((resolve, reject) => {
		const start = process.hrtime.bigint();
		const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => {
			stdout += chunk;
		});
		child.stderr.on('data', chunk => {
			stderr += chunk;
		});
		child.on('error', reject);
		child.on('close', code => {
			if (code !== 0) {
				reject(new Error(`zabbix_get exited ${code}: ${stderr}`));
				return;
			}

			resolve({ms: Number(process.hrtime.bigint() - start) / 1e6, stdout});
		});
	});
}

const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-zbx-home-'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-bench-zbx-'));
const port = freePort();
// One agent that accepts all three kinds (TLSAccept=unencrypted,psk,cert; StartAgents=3).
const pid = execFileSync('bash', [agentScript, 'start', String(port), 'all', dir], {encoding: 'utf8'}).trim();
process.stderr.write(`zabbix_agentd pid ${pid} on 127.0.0.1:${port}\n`);
const file = name => path.join(dir, name);
const common = ['-s', '127.0.0.1', '-p', String(port)];
const pskArgs = ['--tls-connect', 'psk', '--tls-psk-identity', readFileSync(file('agent.psk_identity'), 'utf8').trim(), '--tls-psk-file', file('agent.psk')];
const modes = {
	plain: [],
	psk: pskArgs,
	cert: ['--tls-connect', 'cert', '--tls-ca-file', file('ca.crt'), '--tls-cert-file', file('client.crt'), '--tls-key-file', file('client.key')],
};
// Each tool's defaults above (secmon prefers forward-secret ECDHE-PSK). For reference, both on the
// same cheaper suite without forward secrecy: OpenSSL name for secmon, GnuTLS priority for zabbix_get.
const extraArgs = {
	'psk-gcm': {
		secmon: [...pskArgs, '--tls-cipher', 'PSK-AES128-GCM-SHA256'],
		zabbixGet: [...pskArgs, '--tls-cipher', 'NONE:+VERS-TLS1.2:+PSK:+AES-128-GCM:+AEAD:+COMP-NULL:+SIGN-ALL'],
	},
};
const secmonArgs = mode => extraArgs[mode]?.secmon ?? modes[mode];
const zabbixGetArgs = mode => extraArgs[mode]?.zabbixGet ?? modes[mode];
const allModes = [...Object.keys(modes), ...Object.keys(extraArgs)];

function secmon(mode, keyList = keys) {
	return timeSync(process.execPath, [cli, 'zabbix-get', ...common, ...secmonArgs(mode), ...keyList.flatMap(key => ['-k', key])], {SECMON_HOME: home});
}

function floor() {
	return timeSync(process.execPath, [path.join(root, 'bench', 'zabbix-floor.cjs'), String(port), readFileSync(file('agent.psk_identity'), 'utf8').trim(), file('agent.psk'), '3', ...keys]);
}

function zabbixGetSequential(mode) {
	const start = process.hrtime.bigint();
	const perProcess = [];
	let stdout = '';
	for (const key of keys) {
		const result = timeSync(zabbixGet, [...common, ...zabbixGetArgs(mode), '-k', key]);
		perProcess.push(result.ms);
		stdout += result.stdout;
	}

	return {ms: Number(process.hrtime.bigint() - start) / 1e6, perProcess, stdout};
}

async function zabbixGetParallel(mode, width) {
	const start = process.hrtime.bigint();
	let next = 0;
	await Promise.all(Array.from({length: width}, async () => {
		while (next < keys.length) {
			const key = keys[next++];
			await timeAsync(zabbixGet, [...common, ...zabbixGetArgs(mode), '-k', key]);
		}
	}));
	return Number(process.hrtime.bigint() - start) / 1e6;
}

const volatile = new Set(['system.cpu.load[all,avg1]', 'system.cpu.load[all,avg5]', 'vm.memory.size[available]', 'net.if.in[lo]', 'system.uptime']);

function checkSame(mode, ours, theirs) {
	const a = ours.trimEnd().split('\n');
	const b = theirs.trimEnd().split('\n');
	if (a.length !== keys.length || b.length !== keys.length) {
		throw new Error(`${mode}: expected ${keys.length} lines, secmon printed ${a.length}, zabbix_get ${b.length}`);
	}

	for (const [index, key] of keys.entries()) {
		if (!volatile.has(key) && a[index] !== b[index]) {
			throw new Error(`${mode}: ${key}: secmon printed ${JSON.stringify(a[index])}, zabbix_get ${JSON.stringify(b[index])}`);
		}
	}
}

try {
	const samples = Object.fromEntries(allModes.map(mode => [mode, {
		secmon: [], secmonOneKey: [], zabbixGet: [], zabbixGetPerProcess: [], zabbixGetParallel3: [], floor: [],
	}]));
	// Warm-up round (page cache, agent), also checks that both print the same answers.
	for (const mode of allModes) {
		checkSame(mode, secmon(mode).stdout, zabbixGetSequential(mode).stdout);
	}

	checkSame('floor', floor().stdout, secmon('psk').stdout);

	for (let round = 0; round < rounds; round++) {
		for (const mode of allModes) {
			samples[mode].secmon.push(secmon(mode).ms);
			samples[mode].secmonOneKey.push(secmon(mode, ['agent.ping']).ms);
			const sequential = zabbixGetSequential(mode);
			samples[mode].zabbixGet.push(sequential.ms);
			samples[mode].zabbixGetPerProcess.push(...sequential.perProcess);
			samples[mode].zabbixGetParallel3.push(await zabbixGetParallel(mode, 3));
			if (mode === 'psk') {
				samples[mode].floor.push(floor().ms);
			}
		}

		process.stderr.write(`round ${round + 1}/${rounds} done\n`);
	}

	const result = {
		date: new Date().toISOString(),
		node: process.version,
		zabbixGet: execFileSync(zabbixGet, ['-V'], {encoding: 'utf8'}).split('\n')[0],
		agent: execFileSync('/usr/sbin/zabbix_agentd', ['-V'], {encoding: 'utf8'}).split('\n')[0],
		cpus: os.cpus().length,
		loadavgAtEnd: os.loadavg().map(value => Number(value.toFixed(2))),
		keys: keyCount,
		rounds,
		secmonCommand: `node dist/cli.cjs zabbix-get -s 127.0.0.1 -p PORT [TLS flags] -k KEY ×${keyCount} (3 connections)`,
		modes: {},
	};
	for (const [mode, s] of Object.entries(samples)) {
		const secmonMs = median(s.secmon);
		const zabbixGetMs = median(s.zabbixGet);
		const parallelMs = median(s.zabbixGetParallel3);
		result.modes[mode] = {
			secmonMs: round1(secmonMs),
			secmonMinMs: round1(Math.min(...s.secmon)),
			secmonPerKeyMs: Number((secmonMs / keyCount).toFixed(2)),
			// One key = start-up + one request; the rest is the marginal cost of each further key.
			secmonOneKeyMs: round1(median(s.secmonOneKey)),
			secmonMarginalPerKeyMs: Number(((secmonMs - median(s.secmonOneKey)) / (keyCount - 1)).toFixed(2)),
			zabbixGetSequentialMs: round1(zabbixGetMs),
			zabbixGetPerProcessMedianMs: Number(median(s.zabbixGetPerProcess).toFixed(2)),
			zabbixGetParallel3Ms: round1(parallelMs),
			speedup: Number((zabbixGetMs / secmonMs).toFixed(1)),
			speedupVsParallel3: Number((parallelMs / secmonMs).toFixed(1)),
			...(s.floor.length > 0 ? {nodeFloorMs: round1(median(s.floor)), nodeFloorSpeedup: Number((zabbixGetMs / median(s.floor)).toFixed(1))} : {}),
		};
	}

	const pad = (value, width) => String(value).padStart(width);
	console.log(`${keyCount} keys from one zabbix_agentd (${result.agent}), median of ${rounds} rounds, ${result.cpus} CPUs, load ${result.loadavgAtEnd.join(' ')}`);
	console.log('mode     secmon (1 process)   zabbix_get ×200 (sequential)   per process   ×200, 3 at a time   speedup (vs 3 at a time)');
	for (const [mode, m] of Object.entries(result.modes)) {
		console.log(`${mode.padEnd(7)} ${pad(m.secmonMs, 8)} ms ${pad(`(${m.secmonPerKeyMs} ms/key)`, 16)} ${pad(m.zabbixGetSequentialMs, 14)} ms ${pad(m.zabbixGetPerProcessMedianMs, 16)} ms ${pad(m.zabbixGetParallel3Ms, 13)} ms ${pad(`${m.speedup}×`, 12)} (${m.speedupVsParallel3}×)`);
	}

	console.log('secmon start-up + 1 key / marginal cost per further key: ' + Object.entries(result.modes).map(([mode, m]) => `${mode} ${m.secmonOneKeyMs} ms / ${m.secmonMarginalPerKeyMs} ms`).join(', '));
	console.log('psk-gcm: both tools on PSK-AES128-GCM-SHA256 (no forward secrecy); the other rows use each tool\'s defaults (secmon: ECDHE-PSK, forward secret).');
	const {psk} = result.modes;
	console.log(`Node floor for PSK (bench/zabbix-floor.cjs, bare node:tls, same ciphers, 3 connections): ${psk.nodeFloorMs} ms, ${psk.nodeFloorSpeedup}× zabbix_get; secmon is ${round1(psk.secmonMs - psk.nodeFloorMs)} ms above it`);
	console.log(`target: secmon ≥ 5× faster than zabbix_get for PSK: ${result.modes.psk.speedup >= 5 ? 'met' : 'NOT met'} (${result.modes.psk.speedup}×)`);
	mkdirSync(path.join(root, 'bench', 'results'), {recursive: true});
	writeFileSync(path.join(root, 'bench', 'results', 'zabbix.json'), JSON.stringify(result, null, '\t') + '\n');
} finally {
	execFileSync('bash', [agentScript, 'stop', dir], {stdio: 'ignore'});
	rmSync(dir, {recursive: true, force: true});
	rmSync(home, {recursive: true, force: true});
}
