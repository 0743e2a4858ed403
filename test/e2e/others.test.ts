/**
 * The built secmon binary against real Icinga 2, Livestatus (Icinga's, behind stunnel like a
 * Checkmk site) and mon (behind stunnel with client certificates): pminfo-style text, --json,
 * live text samples, trust on first use, and the exit codes of refusals. `npm run build` first.
 */
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {startIcinga, waitFor, type IcingaPeer} from '../helpers/icinga.js';
import {startLivestatus, type LivestatusPeer} from '../helpers/livestatus.js';
import {startMon, type MonPeer} from '../helpers/mon.js';
import {startRelay} from '../helpers/mitm.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let icinga: IcingaPeer;
let livestatus: LivestatusPeer;
let mon: MonPeer;
const homes: Array<{dir: string; remove: () => void}> = [];

function home(): string {
	const made = tempHome();
	homes.push(made);
	return made.dir;
}

beforeAll(async () => {
	[icinga, livestatus, mon] = await Promise.all([startIcinga(), startLivestatus(), startMon()]);
}, 90_000);

afterAll(async () => {
	await Promise.all([icinga?.stop(), livestatus?.stop(), mon?.stop()]);
	for (const made of homes) {
		made.remove();
	}
});

type JsonLine = Record<string, unknown>;

function lines(stdout: string): JsonLine[] {
	return stdout.split('\n').filter(Boolean).map(line => JSON.parse(line) as JsonLine);
}

describe('secmon --host icinga://', () => {
	function icingaArgs(): string[] {
		return ['--host', `icinga://127.0.0.1:${icinga.port}`, '--ca-file', icinga.caFile, '--cert', icinga.clientCert, '--key', icinga.clientKey];
	}

	const env = () => ({SECMON_HOME: home(), SECMON_SERVERNAME: icinga.nodeName});

	test('-f service:HOST!SERVICE prints its perfdata pminfo-style', async () => {
		const result = await waitFor(async () => {
			const run = await runSecmon([...icingaArgs(), '-f', 'service:web-01!temperature'], {env: env()});
			return run.stdout.includes('temperature.temp') ? run : undefined;
		}, 'a check result for web-01!temperature');
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('\nservice:web-01!temperature.temp\n    value 23.5\n');
		expect(result.stdout).toContain('\nservice:web-01!temperature.status\n    value "WARNING"\n');
		expect(result.stdout).toContain('\nservice:web-01!temperature.fan speed\n    value 1200\n');
	});

	test('--json: one NDJSON line per metric with units and the TLS facts', async () => {
		// disk-root's first check result may come later than web-01's: wait for it.
		const result = await waitFor(async () => {
			const run = await runSecmon([...icingaArgs(), '--json', 'host:web-01.status', 'service:secmon-local!disk-root./', 'host:nosuch'], {env: env()});
			return lines(run.stdout).some(line => line['metric'] === 'service:secmon-local!disk-root./' && line['value'] !== undefined) ? run : undefined;
		}, 'a check result for secmon-local!disk-root');
		expect(result.code).toBe(1);
		const all = lines(result.stdout);
		const status = all.find(line => line['metric'] === 'host:web-01.status');
		const disk = all.find(line => line['metric'] === 'service:secmon-local!disk-root./');
		const unknown = all.find(line => line['metric'] === 'host:nosuch');
		expect(status).toMatchObject({
			type: 'sample', metric: 'host:web-01.status', value: 'DOWN', host: '127.0.0.1', port: icinga.port, tls: {trust: 'ca', version: 'TLSv1.3'},
		});
		expect(disk).toMatchObject({metric: 'service:secmon-local!disk-root./', units: 'byte', dataType: 'double'});
		// A name Icinga does not know is a per-metric error in the sample, not a top-level error line.
		expect(all.every(line => line['type'] === 'sample')).toBe(true);
		expect(unknown).toMatchObject({type: 'sample', error: {code: -12_357, message: 'Unknown metric name'}});
		expect(result.stderr).toContain('host:nosuch: Unknown metric name');
	});

	test('-t/-s: live text samples', async () => {
		const result = await runSecmon([...icingaArgs(), '-t', '500msec', '-s', '3', 'service:web-01!temperature.temp'], {env: env()});
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		const blocks = result.stdout.split('\n').filter(line => line.includes(`127.0.0.1:${icinga.port}  TLS TLSv1.3, ca`));
		expect(blocks).toHaveLength(3);
		expect(result.stdout).toMatch(/service:web-01!temperature\.temp {2}23\.5/);
	});

	test('trust on first use: refused without a prompt (exit 3), --accept-new pins, the pin is used after', async () => {
		const secmonHome = home();
		const args = ['--host', `icinga://127.0.0.1:${icinga.port}`, '--cert', icinga.clientCert, '--key', icinga.clientKey, '-f', 'host:web-01.status'];
		const refused = await runSecmon(args, {env: {SECMON_HOME: secmonHome}});
		expect(refused.code).toBe(3);
		expect(refused.stderr).toMatch(/--fingerprint|--accept-new/);
		const accepted = await runSecmon([...args, '--accept-new'], {env: {SECMON_HOME: secmonHome}});
		expect(accepted.code).toBe(0);
		const pinned = await runSecmon([...args, '--json'], {env: {SECMON_HOME: secmonHome}});
		expect(pinned.code).toBe(0);
		expect(lines(pinned.stdout)[0]).toMatchObject({value: 'DOWN', tls: {trust: 'pinned'}});
	});

	test('HTTP 401 exits 1, a certificate for another name 3; both say what to do', async () => {
		const unauthorized = await runSecmon(['--host', `icinga://127.0.0.1:${icinga.port}`, '--ca-file', icinga.caFile, '-f', 'host'], {env: env()});
		expect(unauthorized.code).toBe(1);
		expect(unauthorized.stderr).toMatch(/HTTP 401[\s\S]*secmon enroll/);
		const badName = await runSecmon([...icingaArgs(), '-f', 'host'], {env: {SECMON_HOME: home()}});
		expect(badName.code).toBe(3);
		expect(badName.stderr).toMatch(/certificate is for DNS:icinga2-master, not 127\.0\.0\.1[\s\S]*--servername/);
	});
});

describe('secmon --host livestatus://', () => {
	const env = () => ({SECMON_HOME: home(), SECMON_SERVERNAME: livestatus.siteName});

	test('service perfdata through the site\'s TLS port, checked against etc/ssl/ca.pem', async () => {
		const result = await waitFor(async () => {
			const run = await runSecmon(['--host', `livestatus://127.0.0.1:${livestatus.tlsPort}`, '--ca-file', livestatus.caPem, '--json', 'service:web-01!temperature.temp', 'status:core.num_services'], {env: env()});
			return run.code === 0 ? run : undefined;
		}, 'a check result over Livestatus');
		expect(lines(result.stdout)).toEqual([
			expect.objectContaining({metric: 'service:web-01!temperature.temp', value: 23.5, tls: expect.objectContaining({trust: 'ca'}) as unknown}),
			expect.objectContaining({metric: 'status:core.num_services', value: 4}),
		]);
	});

	test('the client-certificate port without a certificate: exit 1, certificate required', async () => {
		const result = await runSecmon(['--host', `livestatus://127.0.0.1:${livestatus.mtlsPort}`, '--ca-file', livestatus.trustStore, '--json', 'host'], {env: env()});
		expect(result.code).toBe(1);
		expect(lines(result.stdout)[0]).toMatchObject({type: 'error', code: 'CLIENT_CERT_REQUIRED'});
		expect(result.stderr).toMatch(/requires a client certificate[\s\S]*--cert FILE --key FILE/);
		const withCert = await runSecmon(['--host', `livestatus://127.0.0.1:${livestatus.mtlsPort}`, '--ca-file', livestatus.trustStore, '--cert', livestatus.clientCert, '--key', livestatus.clientKey, '-f', 'host:web-01.status'], {env: env()});
		expect(withCert.code).toBe(0);
		expect(withCert.stdout).toContain('host:web-01.status\n    value "DOWN"');
	});
});

describe('secmon --host mon://', () => {
	function monArgs(): string[] {
		return ['--host', `mon://localhost:${mon.tlsPort}`, '--ca-file', mon.caFile];
	}

	test('service states and summaries with a client certificate', async () => {
		const result = await waitFor(async () => {
			const run = await runSecmon([...monArgs(), '--cert', mon.clientCert, '--key', mon.clientKey, '--json', 'service:local!broken.status', 'service:local!ok-perf.output', 'status:mon.failures'], {env: {SECMON_HOME: home()}});
			return run.code === 0 && run.stdout.includes('FAIL') ? run : undefined;
		}, 'the first mon results');
		expect(lines(result.stdout)).toEqual([
			expect.objectContaining({metric: 'service:local!broken.status', value: 'FAIL'}),
			expect.objectContaining({metric: 'service:local!ok-perf.output', value: 'all fine'}),
			expect.objectContaining({metric: 'status:mon.failures', value: 1}),
		]);
	});

	test('stunnel refuses a client without a certificate or with a foreign one: exit 1', async () => {
		const none = await runSecmon([...monArgs(), '-f', 'service'], {env: {SECMON_HOME: home()}});
		expect(none.code).toBe(1);
		expect(none.stderr).toMatch(/requires a client certificate \(TLS alert: certificate required\)/);
		const foreign = await runSecmon([...monArgs(), '--cert', mon.foreignCert, '--key', mon.foreignKey, '-f', 'service'], {env: {SECMON_HOME: home()}});
		expect(foreign.code).toBe(1);
		expect(foreign.stderr).toMatch(/rejected our client certificate \(TLS alert: unknown ca\)/);
	});
});

describe('downgrade memory for Livestatus and mon (issue 13 part 4)', () => {
	test('a port read over verified TLS that turns plain: never read in plain text by default; --secure off warns loudly', async () => {
		const cases = [
			{
				scheme: 'livestatus', tlsPort: livestatus.tlsPort, plainPort: livestatus.plainPort, metric: 'status:core.num_services', tlsArgs: ['--accept-new'], env: {},
			},
			{
				scheme: 'mon', tlsPort: mon.tlsPort, plainPort: mon.plainPort, metric: 'status:mon.failures', tlsArgs: ['--accept-new', '--cert', mon.clientCert, '--key', mon.clientKey], env: {},
			},
		];
		for (const c of cases) {
			const relay = await startRelay({host: '127.0.0.1', port: c.tlsPort});
			try {
				const secmonHome = home();
				const spec = `${c.scheme}://127.0.0.1:${relay.port}`;
				const first = await runSecmon(['--host', spec, ...c.tlsArgs, '--json', c.metric], {env: {SECMON_HOME: secmonHome}});
				expect(first.code, first.stderr).toBe(0);
				expect(first.stdout).toContain('"trust":"accept-new"');
				relay.upstream = {host: '127.0.0.1', port: c.plainPort};
				// The default mode tries TLS and never falls back to plain text.
				const tried = await runSecmon(['--host', spec, '--timeout', '1sec', '--json', c.metric], {env: {SECMON_HOME: secmonHome}});
				expect(tried.code).toBe(1);
				// The plain port does not answer a ClientHello (Livestatus waits for a query line) or answers in plain text.
				expect(tried.stdout).toMatch(/"code":"(?:TLS_FAILED|TIMEOUT)"/v);
				const plain = await runSecmon(['--host', spec, '--secure', 'off', '--json', c.metric], {env: {SECMON_HOME: secmonHome}});
				expect(plain.stderr).toContain(`WARNING: ${spec} was read over verified TLS before`);
				expect(plain.stderr).toContain('PLAIN TEXT');
			} finally {
				await relay.close();
			}
		}
	});
});
