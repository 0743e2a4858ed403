/**
 * Many collectors in one run (issue 18), with the real binary: `secmon serve` on several loopback
 * addresses and real pmcd among a closed port, an untrusted certificate and a plain collector
 * under enforce; output in --host order, per-host errors, the worst exit code, --hosts-file
 * (a file and standard input), --parallel; and in live sampling a slow collector (an in-test
 * collector that holds its answers) that misses its own rounds without delaying the others'.
 */
import {spawn} from 'node:child_process';
import {
	mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {noUnits} from '../../source/metrics/model.js';
import {parseServeArgs} from '../../source/serve/args.js';
import {startServe, type RunningServe} from '../../source/serve/command.js';
import {PcpServer} from '../../source/serve/server.js';
import {
	indomNull, pcpSem, pcpType, pmid, type MetricSource,
} from '../../source/serve/types.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {checkJsonLines} from '../helpers/json-lines.js';
import {isPortFree} from '../helpers/ports.js';
import {cliPath, runSecmon, tempHome} from '../helpers/secmon.js';
import {Capture} from '../serve/helpers.js';

const goodA = '127.0.0.21';
const closed = '127.0.0.22';
const goodC = '127.0.0.23';

let servePort: number;
let serve: RunningServe;
let serveHome: string;
let serveCa: string;
let tlsPmcd: PmcdPeer;
let plainPmcd: PmcdPeer;
let home: {dir: string; remove: () => void};
let work: string;

async function portFreeOn(hosts: string[]): Promise<number> {
	for (let port = 47_300; port < 47_400; port++) {
		let free = true;
		for (const host of hosts) {
			free &&= await isPortFree(port, host);
		}

		if (free) {
			return port;
		}
	}

	throw new Error('no free port in 47300-47399 on the test addresses');
}

beforeAll(async () => {
	work = mkdtempSync(path.join(os.tmpdir(), 'secmon-fanout-'));
	serveHome = mkdtempSync(path.join(os.tmpdir(), 'secmon-fanout-serve-'));
	servePort = await portFreeOn([goodA, closed, goodC]);
	const options = parseServeArgs(['--listen', `${goodA}:${servePort}`, '--listen', `${goodC}:${servePort}`]);
	if (options === 'help') {
		throw new Error('unexpected --help');
	}

	serve = await startServe(options, {stdout: new Capture(), stderr: new Capture(), env: {SECMON_HOME: serveHome}});
	serveCa = path.join(serveHome, 'serve', 'ca.pem');
	[tlsPmcd, plainPmcd] = await Promise.all([startPmcd('offer'), startPmcd('plain')]);
	home = tempHome();
}, 60_000);

afterAll(async () => {
	await serve?.close();
	await tlsPmcd?.stop();
	await plainPmcd?.stop();
	home?.remove();
	rmSync(serveHome, {recursive: true, force: true});
	rmSync(work, {recursive: true, force: true});
});

function hosts() {
	return {
		a: `${goodA}:${servePort}`,
		closed: `${closed}:${servePort}`,
		// Real pmcd with a certificate from another CA than --ca-file: refused (exit 3).
		untrusted: tlsPmcd.address,
		// Real pmcd without TLS, asked as pcps:// (enforce): refused (exit 5).
		plain: `pcps://${plainPmcd.address}`,
		c: `${goodC}:${servePort}`,
	};
}

function byText(a: string, b: string): number {
	return a.localeCompare(b);
}

function headings(stdout: string): string[] {
	return [...stdout.matchAll(/^== (.+) ==$/gmv)].map(match => match[1]!);
}

describe('one shot over several collectors', () => {
	test('pminfo -f: every collector in --host order, per-host errors, the worst exit code', async () => {
		const h = hosts();
		const order = [h.a, h.closed, h.untrusted, h.plain, h.c];
		const result = await runSecmon(['--ca-file', serveCa, ...order.flatMap(host => ['--host', host]), '-f', 'hinv.ncpu', 'kernel.all.load'], {env: {SECMON_HOME: home.dir}});
		expect(headings(result.stdout)).toEqual(order.map(host => host.replace(/^pcps:\/\//v, '')));
		// The good collectors answered, each under its own heading.
		const blocks = result.stdout.split(/^== .+ ==$/mv).slice(1);
		expect(blocks[0]).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		expect(blocks[4]).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		for (const failed of [1, 2, 3]) {
			expect(blocks[failed]!.trim()).toBe('');
		}

		expect(result.stderr).toContain(`Cannot connect to PMCD on host "${h.closed}"`);
		expect(result.stderr).toContain(`collector ${tlsPmcd.address} was refused`);
		expect(result.stderr).toMatch(/does not offer TLS|offers no TLS/v);
		// Worst: TLS required (5) over untrusted (3) over a failure (1).
		expect(result.code).toBe(5);

		// The same run one collector at a time prints exactly the same.
		const serial = await runSecmon(['--parallel', '1', '--ca-file', serveCa, ...order.flatMap(host => ['--host', host]), '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		const parallel = await runSecmon(['--ca-file', serveCa, ...order.flatMap(host => ['--host', host]), '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(parallel.stdout).toBe(serial.stdout);
		// (the re-run hints repeat the command line, --parallel 1 included)
		expect(parallel.stderr).toBe(serial.stderr.replaceAll('--parallel 1 ', ''));
		expect([serial.code, parallel.code]).toEqual([5, 5]);
	}, 60_000);

	test('exit codes: untrusted (3) ranks over a failure (1); all good is 0', async () => {
		const h = hosts();
		const three = await runSecmon(['--ca-file', serveCa, '--host', h.closed, '--host', h.untrusted, '--host', h.a, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(three.code).toBe(3);
		const one = await runSecmon(['--ca-file', serveCa, '--host', h.a, '--host', h.closed, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(one.code).toBe(1);
		const zero = await runSecmon(['--ca-file', serveCa, '--host', h.a, '--host', h.c, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(zero.code).toBe(0);
		expect(headings(zero.stdout)).toEqual([h.a, h.c]);
	}, 60_000);

	test('--json: one line per metric per collector, errors named by host and port', async () => {
		const h = hosts();
		const result = await runSecmon(['--json', '--ca-file', serveCa, '--host', h.a, '--host', h.closed, '--host', h.untrusted, '--host', h.c, 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; host: string; port: number; exitCode?: number});
		const samples = lines.filter(line => line.type === 'sample').map(line => `${line.host}:${line.port}`).toSorted(byText);
		expect(samples).toEqual([h.a, h.c].toSorted(byText));
		const errors = lines.filter(line => line.type === 'error').map(line => [`${line.host}:${line.port}`, line.exitCode]);
		expect(errors).toEqual(expect.arrayContaining([[h.closed, 1], [h.untrusted, 3]]));
		expect(errors).toHaveLength(2);
		expect(result.code).toBe(3);
	}, 60_000);

	test('--hosts-file FILE and --hosts-file - (comments, blank lines), after --host', async () => {
		const h = hosts();
		const file = path.join(work, 'fleet.txt');
		writeFileSync(file, `# the fleet\n\n${h.closed}\n  ${h.c}   # second\n`);
		const fromFile = await runSecmon(['--ca-file', serveCa, '--host', h.a, '--hosts-file', file, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(headings(fromFile.stdout)).toEqual([h.a, h.closed, h.c]);
		expect(fromFile.code).toBe(1);
		const fromStdin = await runSecmon(['--ca-file', serveCa, '--host', h.a, '--hosts-file', '-', '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}, input: readFileSync(file, 'utf8')});
		expect(fromStdin.stdout).toBe(fromFile.stdout);
		expect(fromStdin.code).toBe(1);

		const empty = path.join(work, 'empty.txt');
		writeFileSync(empty, '# nobody\n\n');
		const none = await runSecmon(['--hosts-file', empty, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(none.code).toBe(2);
		expect(none.stderr).toContain('names no collector');
		const twoOnALine = path.join(work, 'two.txt');
		writeFileSync(twoOnALine, `${h.a} ${h.c}\n`);
		const two = await runSecmon(['--hosts-file', twoOnALine, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(two.code).toBe(2);
		expect(two.stderr).toContain('line 1: one host spec per line');
	}, 60_000);

	test('--parallel needs a whole number of 1 or more', async () => {
		for (const value of ['0', 'many', '-3', '1.5']) {
			const result = await runSecmon([`--parallel=${value}`, '--host', hosts().a, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
			expect(result.code, value).toBe(2);
			expect(result.stderr, value).toContain('--parallel');
		}
	});
});

describe('live sampling keeps each collector to its own rounds', () => {
	/** Answers the first fetch at once and holds every later one until released. */
	function heldSource(): {source: MetricSource; fetches: () => number; release: () => void} {
		let count = 0;
		let release!: () => void;
		const held = new Promise<void>(resolve => {
			release = resolve;
		});
		const source: MetricSource = {
			domain: 60,
			agent: 'slow',
			metrics: [{
				name: 'hinv.ncpu', pmid: pmid(60, 0, 32), type: pcpType.u32, indom: indomNull, sem: pcpSem.discrete, units: noUnits, oneline: 'held', help: '',
			}],
			indoms: [],
			async instances() {
				return [];
			},
			async fetch(pmids) {
				count++;
				if (count >= 2) {
					await held;
				}

				return new Map(pmids.map(id => [id, {values: [{inst: -1, value: count}]}]));
			},
		};
		return {source, fetches: () => count, release};
	}

	test('a slow collector misses its own rounds and answers late; the other collector samples every round', async () => {
		const pki = tlsPmcd;
		const slow = heldSource();
		const server = new PcpServer({
			sources: [slow.source],
			tls: {mode: 'require', cert: readFileSync(pki.serverCert, 'utf8'), key: readFileSync(pki.serverKey, 'utf8')},
		});
		const info: net.AddressInfo = await server.listen('127.0.0.1', 0);
		const slowAddress = `127.0.0.1:${info.port}`;
		try {
			const child = spawn(process.execPath, [cliPath, '--json', '-t', '100msec', '-s', '8', '--ca-file', pki.caFile, '--host', tlsPmcd.address, '--host', slowAddress, 'hinv.ncpu'], {
				env: {PATH: process.env['PATH'] ?? '', SECMON_HOME: home.dir}, stdio: ['ignore', 'pipe', 'pipe'],
			});
			let stdout = '';
			let stderr = '';
			type Line = {type: string; host: string; port: number; late?: boolean; timestamp: string};
			const lines: Line[] = [];
			let released = false;
			child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
				stderr += chunk;
			});
			child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
				stdout += chunk;
				const parts = stdout.split('\n');
				stdout = parts.pop()!;
				for (const part of parts) {
					// Each line as docs/schema/secmon.json says (sample, missed or error).
					lines.push(checkJsonLines(part + '\n', 'secmon.json')[0] as Line);
				}

				// Released once the fast collector has sampled four rounds while the slow one was held.
				const fast = lines.filter(line => line.type === 'sample' && line.port === tlsPmcd.port);
				if (!released && fast.length >= 4) {
					released = true;
					lines.push({
						type: 'released', host: '', port: 0, timestamp: '',
					});
					slow.release();
				}
			});
			const code = await new Promise<number | null>(resolve => {
				child.on('close', resolve);
			});
			expect(stderr).toBe('');
			expect(code).toBe(0);
			const ofFast = lines.filter(line => line.port === tlsPmcd.port);
			const ofSlow = lines.filter(line => line.port === info.port);
			// The fast collector: a sample for every round, none late or missed.
			expect(ofFast.map(line => line.type)).toEqual(Array.from({length: 8}, () => 'sample'));
			expect(ofFast.some(line => line.late)).toBe(false);
			// The slow one: its first sample, then missed rounds while held, its held answer marked late after the release.
			expect(ofSlow[0]).toMatchObject({type: 'sample'});
			expect(ofSlow[0]!.late).toBeUndefined();
			const released_ = lines.findIndex(line => line.type === 'released');
			const missedBefore = lines.slice(0, released_).filter(line => line.port === info.port && line.type === 'missed');
			expect(missedBefore.length).toBeGreaterThanOrEqual(2);
			const late = lines.slice(released_).find(line => line.port === info.port && line.type === 'sample');
			expect(late?.late).toBe(true);
			// Each of the 8 rounds is a sample (on time or late) or a missed line, for the slow one too.
			expect(ofSlow.filter(line => line.type === 'missed').length + ofSlow.filter(line => line.type === 'sample').length).toBe(8);
		} finally {
			slow.release();
			await server.close();
		}
	}, 60_000);
});
