/**
 * The Livestatus source against Icinga 2's livestatus feature behind stunnel4, laid out like a
 * Checkmk site (test/peers/livestatus.sh, docs/icinga-livestatus-mon.md#livestatus): server-auth TLS port, client-certificate
 * port, error codes over one KeepAlive connection, the raw query runner, each TLS refusal.
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {openLivestatus, openLivestatusClient} from '../../../source/protocols/livestatus/open.js';
import {buildQuery, livestatusError} from '../../../source/protocols/livestatus/protocol.js';
import {runLivestatusQuery} from '../../../source/commands/query.js';
import {parseHostSpec} from '../../../source/target.js';
import {
	hooksFor, planFor, waitFor, type PlanOptions,
} from '../../helpers/icinga.js';
import {startLivestatus, type LivestatusPeer} from '../../helpers/livestatus.js';
import {tempHome} from '../../helpers/secmon.js';

let peer: LivestatusPeer;
let home: {dir: string; remove: () => void};

beforeAll(async () => {
	peer = await startLivestatus();
	home = tempHome();
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home?.remove();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
	return {SECMON_HOME: home.dir, SECMON_SERVERNAME: peer.siteName, ...extra};
}

function target(port: number) {
	return parseHostSpec(`livestatus://127.0.0.1:${port}`);
}

async function failure(promise: Promise<unknown>): Promise<SecmonError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof SecmonError) {
			return error;
		}

		throw error;
	}

	throw new Error('expected a SecmonError');
}

/** Open a source and run a first query (mTLS refusals arrive on the first read, docs/icinga-livestatus-mon.md#stunnel). */
async function sourceFor(port: number, options: PlanOptions, extra: Record<string, string> = {}) {
	const hooks = hooksFor(env(extra));
	const source = await openLivestatus(target(port), await planFor(options, hooks.env), hooks);
	return {source, warnings: hooks.warnings};
}

function stunnelAccepted(service: string): number {
	const log = readFileSync(path.join(peer.dir, 'stunnel.log'), 'utf8');
	return log.split('\n').filter(line => line.includes(`Service [${service}] accepted connection`)).length;
}

describe('Livestatus over TLS (Checkmk-style stunnel, site CA)', () => {
	test('services, hosts and the status table through the server-auth port, checked against etc/ssl/ca.pem', async () => {
		const {source} = await sourceFor(peer.tlsPort, {caFile: peer.caPem});
		try {
			expect(source.tls).toMatchObject({basis: 'ca', subject: expect.stringContaining('CN=secmon') as string});
			await waitFor(async () => (await source.describe(['service:web-01!temperature.temp'])).descs.length === 1, 'a check result for web-01!temperature');
			const {descs, errors} = await source.describe(['service:web-01!temperature', 'host:web-01.status', 'status:core.num_hosts', 'service:nosuch!x']);
			expect(errors).toEqual([{name: 'service:nosuch!x', message: 'Unknown metric name'}]);
			expect(descs.map(desc => desc.name)).toEqual(expect.arrayContaining([
				'service:web-01!temperature.status', 'service:web-01!temperature.fan speed', 'service:web-01!temperature.requests', 'host:web-01.status', 'status:core.num_hosts',
			]));
			const sample = await source.fetch();
			const value = (name: string) => {
				const result = sample.metrics.find(metric => metric.name === name)?.result;
				return result?.status === 'ok' ? result.values[0]!.value : result;
			};

			expect(value('service:web-01!temperature.temp')).toBe(23.5);
			expect(value('service:web-01!temperature.fan speed')).toBe(1200);
			expect(value('service:web-01!temperature.status')).toBe('WARNING');
			expect(value('host:web-01.status')).toBe('DOWN');
			expect(value('status:core.num_hosts')).toBe(2);

			// retain (the panes' d): only the host's metric is left, and only the hosts table is asked.
			const tables: string[] = [];
			const {rows} = source.client;
			source.client.rows = async (text: string) => {
				tables.push(/^GET (\w+)/v.exec(text)![1]!);
				return rows.call(source.client, text);
			};

			source.retain(['host:web-01.status']);
			const after = await source.fetch();
			expect(after.metrics.map(metric => metric.name)).toEqual(['host:web-01.status']);
			expect(tables).toEqual(['hosts']);
		} finally {
			source.close();
		}
	});

	test('KeepAlive: queries and error answers share one TLS connection; codes say what to do', async () => {
		const hooks = hooksFor(env());
		const before = stunnelAccepted('live-tls');
		const {client} = await openLivestatusClient(target(peer.tlsPort), await planFor({caFile: peer.trustStore}, hooks.env), hooks);
		try {
			expect(await client.rows(buildQuery({table: 'hosts', columns: ['name'], keepAlive: true}))).toEqual(expect.arrayContaining([['web-01'], ['secmon-local']]));
			const notFound = await client.request('GET nosuch\nResponseHeader: fixed16\nKeepAlive: on\nOutputFormat: json\n\n');
			expect(livestatusError(notFound.code, notFound.body, 'x').message).toBe('Livestatus at x answered 404 (table not found): Table \'nosuch\' does not exist.');
			const badColumn = await failure(client.rows(buildQuery({table: 'hosts', columns: ['name', 'bogus'], keepAlive: true})));
			expect(badColumn.message).toMatch(/answered 452 \(invalid request\): Error: Column 'bogus' does not exist in table 'hosts'\.$/);
			expect(badColumn.message).not.toMatch(/Stacktrace/);
			expect(await client.rows(buildQuery({
				table: 'services', columns: ['description'], filters: ['host_name = web-01'], keepAlive: true,
			}))).toEqual([['temperature']]);
		} finally {
			client.close();
		}

		expect(stunnelAccepted('live-tls') - before).toBe(1);
	});

	test('raw --query for scripts: the body as sent, errors on stderr (and as JSON with --json)', async () => {
		const hooks = hooksFor(env());
		const plan = await planFor({caFile: peer.caPem}, hooks.env);
		let out = '';
		let err = '';
		const io = {
			stdout: new Writable({
				write(chunk: Buffer, _encoding, callback) {
					out += chunk.toString();
					callback();
				},
			}),
			stderr: new Writable({
				write(chunk: Buffer, _encoding, callback) {
					err += chunk.toString();
					callback();
				},
			}),
		};
		expect(await runLivestatusQuery(target(peer.tlsPort), plan, hooks, 'GET hosts\\nColumns: name state\\nFilter: name = web-01', io)).toBe(0);
		expect(JSON.parse(out)).toEqual([['web-01', 1]]);
		expect(err).toBe('');
		out = '';
		expect(await runLivestatusQuery(target(peer.tlsPort), plan, hooks, 'GET hosts\nColumns: name\nOutputFormat: csv', io)).toBe(0);
		expect(out.split('\n').filter(Boolean).toSorted()).toEqual(['secmon-local', 'web-01']);
		out = '';
		const jsonPlan = await planFor({caFile: peer.caPem, json: true}, hooks.env);
		expect(await runLivestatusQuery(target(peer.tlsPort), jsonPlan, hooks, 'GET nosuch', io)).toBe(1);
		expect(JSON.parse(out)).toMatchObject({type: 'error', code: 'PEER_ERROR', message: expect.stringContaining('answered 404') as string});
		expect(err).toMatch(/answered 404 \(table not found\)/);
		expect(await runLivestatusQuery(target(peer.tlsPort), plan, hooks, 'COMMAND [0] SHUTDOWN_PROGRAM', io)).toBe(2);
	});

	test('client-certificate port: our certificate from the site CA is accepted', async () => {
		const {source} = await sourceFor(peer.mtlsPort, {caFile: peer.trustStore, cert: peer.clientCert, key: peer.clientKey});
		try {
			const {descs} = await source.describe(['host:web-01.state']);
			expect(descs).toHaveLength(1);
		} finally {
			source.close();
		}
	});

	test('TLS refusals: certificate required, unknown CA (ours), unknown CA (theirs), bad name', async () => {
		const required = await failure((async () => {
			const {source} = await sourceFor(peer.mtlsPort, {caFile: peer.trustStore});
			try {
				await source.describe(['host']);
			} finally {
				source.close();
			}
		})());
		expect(required.code).toBe('CLIENT_CERT_REQUIRED');
		expect(required.message).toMatch(/requires a client certificate \(TLS alert: certificate required\)/);
		expect(required.hint).toMatch(/--cert FILE --key FILE/);

		const foreign = await failure((async () => {
			const {source} = await sourceFor(peer.mtlsPort, {caFile: peer.trustStore, cert: peer.foreignCert, key: peer.foreignKey});
			try {
				await source.describe(['host']);
			} finally {
				source.close();
			}
		})());
		expect(foreign.message).toMatch(/rejected our client certificate \(TLS alert: unknown ca\)/);

		const wrongCa = await failure(sourceFor(peer.tlsPort, {caFile: peer.icinga.caFile}));
		expect(wrongCa.code).toBe('CERT_INVALID');
		expect(wrongCa.message).toMatch(/not signed by the given CA/);

		const badName = await failure(sourceFor(peer.tlsPort, {caFile: peer.caPem}, {SECMON_SERVERNAME: ''}));
		expect(badName.message).toMatch(/certificate is for DNS:secmon, not 127\.0\.0\.1/);
		expect(badName.hint).toMatch(/--servername NAME/);
	});

	test('security modes: TLS unless --secure off is asked for; never plain after TLS failed', async () => {
		// The plain Livestatus port cannot speak TLS: the default and relaxed modes fail, they do not fall back.
		for (const secure of [undefined, 'relaxed']) {
			const error = await failure(sourceFor(peer.plainPort, {caFile: peer.caPem, timeout: '1sec', ...(secure ? {secure} : {})}));
			expect(['TIMEOUT', 'TLS_FAILED']).toContain(error.code);
		}

		// PCP's variable does not turn TLS off for Livestatus.
		// (Without --ca-file: an option that implies TLS beside an off variable is a usage error.)
		const pcpOff = await failure(sourceFor(peer.plainPort, {timeout: '1sec'}, {PCP_SECURE_SOCKETS: 'off'}));
		expect(['TIMEOUT', 'TLS_FAILED']).toContain(pcpOff.code);

		const {source, warnings} = await sourceFor(peer.plainPort, {secure: 'off'});
		try {
			expect(source.tls).toBeUndefined();
			expect((await source.describe(['host:web-01.status'])).descs).toHaveLength(1);
			expect(warnings.join('\n')).toMatch(/PLAIN TEXT because --secure off was asked for/);
		} finally {
			source.close();
		}
	});
});
