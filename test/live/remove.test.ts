/**
 * `d` in the panes against a real pmcd: a removed pane's metric leaves the fetch PDUs, on every
 * host it was removed from (d removes the metric from every host's panes), including the operand
 * a removed derived metric needed and hinv.ncpu once no kernel.all.cpu.* pane is left. Each host
 * reaches pmcd through a relay on loopback that records the PMIDs of every fetch request; a real
 * pmproxy is reached through one that records the names of every /pmapi/fetch.
 */
import {
	mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import type {Flags} from '../../source/argv/main-flags.js';
import {HostRunner, promptQueue} from '../../source/live/runner.js';
import {makePlan} from '../../source/plan.js';
import {PDU} from '../../source/protocols/pcp/constants.js';
import {decodeFetch} from '../../source/protocols/pcp/pdu.js';
import {
	createStore, initialState, panesOf, paneKey, type MonitorState, type Store,
} from '../../source/render/tui/state.js';
import {parseHostSpec} from '../../source/target.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {startPmproxy} from '../helpers/pmproxy.js';
import {runPminfo} from '../helpers/pminfo.js';
import {waitForState} from '../helpers/store.js';

const flags: Flags = {
	host: [],
	derived: [],
	warn: [],
	crit: [],
	fetch: false,
	desc: false,
	pmid: false,
	pmidLong: false,
	oneline: false,
	helpText: false,
	labels: false,
	verify: false,
	force: false,
	events: false,
	json: false,
	raw: false,
	names: false,
	once: false,
	acceptNew: false,
	secure: 'off',
	interval: '200msec',
};

/** A relay to pmcd that splits the client's bytes into PDUs and keeps the PMIDs of each fetch. */
type FetchRecorder = {address: string; fetches: number[][]; close(): Promise<void>};

async function startFetchRecorder(upstream: {host: string; port: number}): Promise<FetchRecorder> {
	const fetches: number[][] = [];
	const sockets = new Set<net.Socket>();
	const server = net.createServer(client => {
		const peer = net.connect(upstream);
		let pending = Buffer.alloc(0);
		client.on('data', (chunk: Buffer) => {
			peer.write(chunk);
			pending = Buffer.concat([pending, chunk]);
			while (pending.length >= 12 && pending.length >= pending.readUInt32BE(0)) {
				const length = pending.readUInt32BE(0);
				const pdu = pending.subarray(0, length);
				pending = pending.subarray(length);
				const type = pdu.readUInt32BE(4);
				if (type === PDU.FETCH || type === PDU.HIGHRES_FETCH) {
					fetches.push(decodeFetch(pdu).pmids);
				}
			}
		});
		peer.pipe(client);
		for (const socket of [client, peer]) {
			sockets.add(socket);
			socket.on('error', () => {
				client.destroy();
				peer.destroy();
			});
			socket.on('close', () => {
				sockets.delete(socket);
				client.destroy();
				peer.destroy();
			});
		}
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host: '127.0.0.1', port: 0}, resolve);
	});
	const {port} = server.address() as net.AddressInfo;
	return {
		address: `127.0.0.1:${port}`,
		fetches,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

/** A relay to pmproxy (plain HTTP) that keeps the names of each /pmapi/[CONTEXT/]fetch request. */
async function startHttpRecorder(upstream: {host: string; port: number}): Promise<FetchRecorder & {names: string[][]}> {
	const names: string[][] = [];
	const sockets = new Set<net.Socket>();
	const server = net.createServer(client => {
		const peer = net.connect(upstream);
		let pending = '';
		client.on('data', (chunk: Buffer) => {
			peer.write(chunk);
			pending += chunk.toString('latin1');
			let end;
			while ((end = pending.indexOf('\r\n')) !== -1) {
				const line = pending.slice(0, end);
				pending = pending.slice(end + 2);
				const request = /^GET (\/pmapi\/(?:\d+\/)?fetch\?\S*) HTTP/v.exec(line);
				if (request) {
					names.push((new URL(request[1]!, 'http://pmproxy').searchParams.get('names') ?? '').split(','));
				}
			}
		});
		peer.pipe(client);
		for (const socket of [client, peer]) {
			sockets.add(socket);
			socket.on('error', () => {
				client.destroy();
				peer.destroy();
			});
			socket.on('close', () => {
				sockets.delete(socket);
				client.destroy();
				peer.destroy();
			});
		}
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host: '127.0.0.1', port: 0}, resolve);
	});
	const {port} = server.address() as net.AddressInfo;
	return {
		address: `127.0.0.1:${port}`,
		fetches: [],
		names,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

async function waitFor(store: Store, what: string, predicate: (state: MonitorState) => boolean, timeoutMs = 20_000): Promise<MonitorState> {
	return waitForState(store, what, predicate, timeoutMs, state => `; panes: ${JSON.stringify(panesOf(state).map(pane => [pane.key, pane.status]))}`);
}

/** A PMID as pminfo -m prints it (domain.cluster.item), as the number a fetch PDU carries. */
async function pmidOf(address: string, name: string): Promise<number> {
	const result = await runPminfo(['-h', address, '-m', name]);
	const match = /PMID: (\d+)\.(\d+)\.(\d+)/v.exec(result.stdout);
	expect(match, result.stdout + result.stderr).not.toBeNull();
	const [domain, cluster, item] = match!.slice(1).map(Number);
	return ((domain! << 22) | (cluster! << 10) | item!) >>> 0;
}

describe('d against a real pmcd', () => {
	let peer: PmcdPeer;
	let home: string;
	let derivedFile: string;
	const recorders: FetchRecorder[] = [];

	beforeAll(async () => {
		peer = await startPmcd('plain');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-remove-'));
		derivedFile = path.join(home, 'derived.conf');
		writeFileSync(derivedFile, 'remove.bins = sample.bin * 2\n');
		for (let i = 0; i < 2; i++) {
			recorders.push(await startFetchRecorder({host: peer.host, port: peer.port}));
		}
	});

	afterAll(async () => {
		await Promise.all(recorders.map(async recorder => recorder.close()));
		await peer?.stop();
		rmSync(home, {recursive: true, force: true});
	});

	test('pmproxy: a removed derived metric\'s operand leaves the /pmapi/fetch names', async () => {
		const pmproxy = await startPmproxy('plain', peer.port);
		const recorder = await startHttpRecorder({host: '127.0.0.1', port: pmproxy.port});
		const env = {SECMON_HOME: path.join(home, 'secmon-pmproxy'), PCP_DERIVED_CONFIG: ''};
		const plan = makePlan(['kernel.all.load', 'remove.bins'], {...flags, host: [`pmproxy://${recorder.address}`], derived: [derivedFile]}, {env, stdinIsTty: true, stdoutIsTty: true});
		const target = plan.targets[0]!;
		const store = createStore(initialState({
			hosts: [{id: target.display, secureMode: 'off'}], metrics: plan.metrics, intervalMs: plan.intervalMs, raw: false, samples: 0, now: Date.now(),
		}));
		const runner = new HostRunner(target, plan, {warn: () => undefined, env}, store, promptQueue(store));
		const running = runner.run();
		try {
			await waitFor(store, 'values in both panes', s => s.hosts[0]!.samples >= 2 && panesOf(s).every(pane => pane.status === 'ok'));
			expect(recorder.names.at(-1)!.toSorted()).toEqual(['kernel.all.load', 'sample.bin']);
			store.dispatch({type: 'metric-remove', metric: 'remove.bins'});
			const sent = recorder.names.length;
			const {samples} = store.getState().hosts[0]!;
			await waitFor(store, 'two more samples', s => s.hosts[0]!.samples >= samples + 2);
			expect(recorder.names.slice(sent).filter(names => names.includes('sample.bin')).length).toBeLessThanOrEqual(1);
			expect(recorder.names.at(-1)).toEqual(['kernel.all.load']);
		} finally {
			runner.stop();
			await running;
			await recorder.close();
			await pmproxy.stop();
		}
	}, 90_000);

	test('a removed pane\'s metric, its derived operand and hinv.ncpu leave the fetch PDUs of every host', async () => {
		const env = {SECMON_HOME: path.join(home, 'secmon'), PCP_DERIVED_CONFIG: ''};
		const metrics = ['kernel.all.load', 'remove.bins', 'kernel.all.cpu.user'];
		const plan = makePlan(metrics, {...flags, host: recorders.map(recorder => recorder.address), derived: [derivedFile]}, {env, stdinIsTty: true, stdoutIsTty: true});
		const targets = recorders.map(recorder => parseHostSpec(recorder.address));
		const store = createStore(initialState({
			hosts: targets.map(target => ({id: target.display, secureMode: 'off' as const})),
			metrics: plan.metrics,
			intervalMs: plan.intervalMs,
			raw: false,
			samples: 0,
			now: Date.now(),
		}));
		const prompts = promptQueue(store);
		const runners = targets.map(target => new HostRunner(target, plan, {warn: () => undefined, env}, store, prompts));
		const running = runners.map(async runner => runner.run());
		const [first, second] = runners.map(runner => runner.id) as [string, string];
		const pmid = Object.fromEntries(await Promise.all(['kernel.all.load', 'kernel.all.cpu.user', 'sample.bin', 'hinv.ncpu'].map(async name => [name, await pmidOf(peer.address, name)] as const)));
		const lastFetch = (recorder: FetchRecorder) => recorder.fetches.at(-1)!.toSorted((a, b) => a - b);
		const sorted = (...names: string[]) => names.map(name => pmid[name]!).toSorted((a, b) => a - b);
		try {
			let state = await waitFor(store, 'values in every pane of both hosts', s => s.hosts.every(host => host.samples >= 2) && panesOf(s).every(pane => pane.status === 'ok'));
			// The collector's metrics first, then the derived one (DerivedSource's order).
			expect(panesOf(state).map(pane => pane.key)).toEqual([first, second].flatMap(host => ['kernel.all.load', 'kernel.all.cpu.user', 'remove.bins'].map(metric => paneKey(host, metric))));
			for (const recorder of recorders) {
				// The derived metric's operand and the CPU count travel with the metrics asked for.
				expect(lastFetch(recorder)).toEqual(sorted('kernel.all.load', 'kernel.all.cpu.user', 'sample.bin', 'hinv.ncpu'));
			}

			// d on the second host's remove.bins pane: the metric goes from both hosts' panes.
			store.dispatch({type: 'focus-set', key: paneKey(second, 'remove.bins')});
			store.dispatch({type: 'metric-remove'});
			expect(panesOf(store.getState()).map(pane => pane.key)).toEqual([first, second].flatMap(host => [paneKey(host, 'kernel.all.load'), paneKey(host, 'kernel.all.cpu.user')]));
			let sent = recorders.map(recorder => recorder.fetches.length);
			let samples = store.getState().hosts.map(host => host.samples);
			state = await waitFor(store, 'two more samples on each host', s => s.hosts.every((host, index) => host.samples >= samples[index]! + 2));
			for (const [index, recorder] of recorders.entries()) {
				const after = recorder.fetches.slice(sent[index]);
				// At most the fetch already on its way when d was pressed still asks for sample.bin.
				expect(after.filter(pmids => pmids.includes(pmid['sample.bin']!)).length).toBeLessThanOrEqual(1);
				expect(lastFetch(recorder)).toEqual(sorted('kernel.all.load', 'kernel.all.cpu.user', 'hinv.ncpu'));
			}

			expect(state.hosts.map(host => host.latest!.metrics.map(metric => metric.name))).toEqual([['kernel.all.load', 'kernel.all.cpu.user'], ['kernel.all.load', 'kernel.all.cpu.user']]);

			// d on the last CPU pane: hinv.ncpu, fetched only for it, goes too.
			store.dispatch({type: 'metric-remove', metric: 'kernel.all.cpu.user'});
			sent = recorders.map(recorder => recorder.fetches.length);
			samples = store.getState().hosts.map(host => host.samples);
			state = await waitFor(store, 'two more samples on each host', s => s.hosts.every((host, index) => host.samples >= samples[index]! + 2));
			for (const [index, recorder] of recorders.entries()) {
				expect(recorder.fetches.slice(sent[index]).filter(pmids => pmids.includes(pmid['hinv.ncpu']!)).length).toBeLessThanOrEqual(1);
				expect(lastFetch(recorder)).toEqual(sorted('kernel.all.load'));
			}

			expect(panesOf(state).map(pane => [pane.key, pane.status])).toEqual([[paneKey(first, 'kernel.all.load'), 'ok'], [paneKey(second, 'kernel.all.load'), 'ok']]);

			// Added back from the browser: fetched again.
			store.dispatch({type: 'metric-add', name: 'remove.bins', host: first});
			state = await waitFor(store, 'remove.bins back with values', s => panesOf(s).filter(pane => pane.metric === 'remove.bins' && pane.status === 'ok').length === 2);
			for (const recorder of recorders) {
				expect(lastFetch(recorder)).toEqual(sorted('kernel.all.load', 'sample.bin'));
			}
		} finally {
			for (const runner of runners) {
				runner.stop();
			}

			await Promise.all(running);
		}
	}, 90_000);
});
