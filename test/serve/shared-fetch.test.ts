/**
 * `secmon serve` shares a fetch among clients (issue 18): a source whose values do not depend on
 * the client is read once per window and every client asking in it gets those values with their
 * timestamp; a client after the window gets a fresh read. The server's clock is moved by the
 * test, so nothing depends on how fast the machine is. The clients are the real secmon binary.
 */
import type net from 'node:net';
import {
	afterEach, beforeEach, expect, test,
} from 'vitest';
import {noUnits} from '../../source/metrics/model.js';
import {PcpServer} from '../../source/serve/server.js';
import {
	indomNull, pcpSem, pcpType, pmid, type MetricSource,
} from '../../source/serve/types.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
	home = tempHome();
});
afterEach(() => {
	home.remove();
});

/** Every read gives the next number, so two clients with the same value shared one read. */
function countingSource(domain: number, name: string, shared: boolean): MetricSource & {reads: number} {
	const source = {
		reads: 0,
		domain,
		agent: name,
		shared,
		metrics: [{
			name: `${name}.reads`, pmid: pmid(domain, 0, 1), type: pcpType.u32, indom: indomNull, sem: pcpSem.instant, units: noUnits, oneline: 'reads so far', help: '',
		}],
		indoms: [],
		async instances() {
			return [];
		},
		async fetch(pmids: readonly number[]) {
			source.reads++;
			return new Map(pmids.map(id => [id, {values: [{inst: -1, value: source.reads}]}]));
		},
	};
	return source;
}

async function sample(address: string, metric: string): Promise<{value: number; timestamp: string}> {
	const result = await runSecmon(['--json', '--secure', 'off', '--host', address, metric], {env: {SECMON_HOME: home.dir}});
	expect(result.code, result.stderr).toBe(0);
	const line = JSON.parse(result.stdout.trim()) as {value: number; timestamp: string};
	return {value: line.value, timestamp: line.timestamp};
}

test('clients within the window get one read with its timestamp; a later client gets a fresh one', async () => {
	let now = Date.UTC(2026, 11, 3, 9, 0, 0, 0);
	const shared = countingSource(61, 'shared', true);
	const own = countingSource(62, 'own', false);
	const server = new PcpServer({sources: [shared, own], tls: {mode: 'off'}, clock: () => now});
	const info: net.AddressInfo = await server.listen('127.0.0.1', 0);
	const address = `127.0.0.1:${info.port}`;
	try {
		const first = await sample(address, 'shared.reads');
		now += 60;
		const second = await sample(address, 'shared.reads');
		expect(second).toEqual(first);
		expect(shared.reads).toBe(1);
		expect(first.timestamp).toBe(new Date(Date.UTC(2026, 11, 3, 9, 0, 0, 0)).toISOString());

		// The window is 100 ms from the first read: a client after it gets a new read and time.
		now += 40;
		const third = await sample(address, 'shared.reads');
		expect(third.value).toBe(first.value + 1);
		expect(third.timestamp).toBe(new Date(now).toISOString());
		expect(shared.reads).toBe(2);

		// A source whose values depend on the client is read for every fetch.
		const a = await sample(address, 'own.reads');
		const b = await sample(address, 'own.reads');
		expect(b.value).toBe(a.value + 1);
		expect(b.timestamp).toBe(a.timestamp);
	} finally {
		await server.close();
	}
}, 60_000);

test('fetchShareMs 0 reads for every client', async () => {
	const now = Date.UTC(2026, 11, 3, 9, 0, 0, 0);
	const shared = countingSource(61, 'shared', true);
	const server = new PcpServer({
		sources: [shared], tls: {mode: 'off'}, clock: () => now, limits: {fetchShareMs: 0},
	});
	const info: net.AddressInfo = await server.listen('127.0.0.1', 0);
	try {
		const a = await sample(`127.0.0.1:${info.port}`, 'shared.reads');
		const b = await sample(`127.0.0.1:${info.port}`, 'shared.reads');
		expect(b.value).toBe(a.value + 1);
		expect(shared.reads).toBe(2);
	} finally {
		await server.close();
	}
}, 60_000);

test('a shared read that fails answers every metric of that fetch with an error and the server goes on', async () => {
	let now = Date.UTC(2026, 11, 3, 9, 0, 0, 0);
	const base = countingSource(63, 'broken', true);
	let fail = true;
	const failing: MetricSource = {
		...base,
		metrics: [...base.metrics, {...base.metrics[0]!, name: 'broken.other', pmid: pmid(63, 0, 2)}],
		async fetch(pmids, client) {
			if (fail) {
				throw new Error('cannot read /proc');
			}

			return base.fetch(pmids, client);
		},
	};

	const server = new PcpServer({sources: [failing], tls: {mode: 'off'}, clock: () => now});
	const info: net.AddressInfo = await server.listen('127.0.0.1', 0);
	try {
		// Two metrics of one source in one fetch: both wait on the same failed read (an unhandled
		// rejection of the second would end the process, and vitest fails the run on it).
		const broken = await runSecmon(['--json', '--secure', 'off', '--host', `127.0.0.1:${info.port}`, 'broken.reads', 'broken.other'], {env: {SECMON_HOME: home.dir}});
		expect(broken.stdout).not.toBe('');
		fail = false;
		now += 1000;
		const after = await sample(`127.0.0.1:${info.port}`, 'broken.reads');
		expect(after.value).toBeGreaterThan(0);
	} finally {
		await server.close();
	}
}, 60_000);
