/**
 * The mon source against Debian's mon 1.3.6 behind stunnel4 requiring client certificates
 * (test/peers/mon.sh, docs/icinga-livestatus-mon.md#mon): lock-step commands over one TLS connection, login from a
 * password file, 520/530 answers, and each TLS refusal.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {openMon, openMonClient} from '../../../source/protocols/mon/open.js';
import {parseHostSpec} from '../../../source/target.js';
import {
	hooksFor, planFor, waitFor, type PlanOptions,
} from '../../helpers/icinga.js';
import {startMon, type MonPeer} from '../../helpers/mon.js';
import {tempHome} from '../../helpers/secmon.js';

let peer: MonPeer;
let home: {dir: string; remove: () => void};

beforeAll(async () => {
	peer = await startMon();
	home = tempHome();
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home?.remove();
});

function target(host: string, port: number) {
	return parseHostSpec(`mon://${host}:${port}`);
}

function certified(): PlanOptions {
	return {caFile: peer.caFile, cert: peer.clientCert, key: peer.clientKey};
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

async function client(options: PlanOptions, extra: Record<string, string> = {}, host = 'localhost', port = peer.tlsPort) {
	const hooks = hooksFor({SECMON_HOME: home.dir, ...extra});
	const opened = await openMonClient(target(host, port), await planFor(options, hooks.env), hooks);
	return {...opened, warnings: hooks.warnings};
}

function accepted(): number {
	return readFileSync(path.join(peer.dir, 'stunnel.log'), 'utf8').split('\n').filter(line => line.includes('Service [mon-tls] accepted connection')).length;
}

describe('mon through stunnel with client certificates', () => {
	test('service states as metrics (OK/FAIL), summaries as text, perfdata from summaries', async () => {
		const hooks = hooksFor({SECMON_HOME: home.dir});
		const source = await openMon(target('localhost', peer.tlsPort), await planFor(certified(), hooks.env), hooks);
		try {
			expect(source.tls).toMatchObject({basis: 'ca', subject: 'CN=mon-server'});
			await waitFor(async () => (await source.describe(['service:local!load-perf.load1', 'service:local!broken.status'])).descs.length === 2, 'first runs of the monitors');
			const {descs, errors} = await source.describe(['service:local!ok-perf', 'service:local!broken', 'service:local!load-perf.load1', 'status:mon', 'service:local!nosuch']);
			expect(errors).toEqual([{name: 'service:local!nosuch', message: 'Unknown metric name'}]);
			expect(descs.map(desc => desc.name)).toEqual(expect.arrayContaining(['service:local!ok-perf.answer', 'service:local!ok-perf.wait time', 'status:mon.failures']));
			const sample = await source.fetch();
			const value = (name: string) => {
				const result = sample.metrics.find(metric => metric.name === name)?.result;
				return result?.status === 'ok' ? result.values[0]!.value : result;
			};

			expect(value('service:local!ok-perf.status')).toBe('OK');
			expect(value('service:local!ok-perf.state')).toBe(1);
			expect(value('service:local!ok-perf.output')).toBe('all fine');
			expect(value('service:local!ok-perf.detail')).toBe('details follow');
			expect(value('service:local!ok-perf.answer')).toBe(42);
			expect(value('service:local!ok-perf.wait time')).toBe(0.25);
			expect(value('service:local!broken.status')).toBe('FAIL');
			expect(value('service:local!broken.output')).toBe('localhost: failing on purpose');
			expect(value('service:local!broken.exitval')).toBe(1);
			expect(value('service:local!load-perf.load1')).toBeTypeOf('number');
			expect(value('status:mon.services')).toBe(3);
			expect(value('status:mon.failures')).toBe(1);

			// retain (the panes' d): the samples hold only what is kept (mon lists every opstatus anyway).
			source.retain(['service:local!broken.status', 'status:mon.failures']);
			expect((await source.fetch()).metrics.map(metric => metric.name)).toEqual(['service:local!broken.status', 'status:mon.failures']);
		} finally {
			source.close();
		}
	});

	test('lock-step: several commands on one TLS connection, each answered before the next is sent', async () => {
		const before = accepted();
		const {client: mon, version} = await client(certified());
		try {
			expect(version).toBe('9745');
			expect((await mon.lines('servertime'))[0]).toMatch(/^\d{10} /);
			const failures = await mon.lines('list failures');
			expect(failures).toHaveLength(1);
			expect(failures[0]).toMatch(/service=broken/);
			expect(await mon.lines('list group local')).toEqual(['hostgroup local localhost']);
			// Not allowed without a login: mon says "unknown command" (docs/icinga-livestatus-mon.md#mon-protocol).
			const refused = await failure(mon.lines('disable service local broken'));
			expect(refused.message).toMatch(/refused "disable service": 520 command could not be executed, unknown command/);
			expect(refused.hint).toMatch(/auth\.cf.*password file/);
			const missing = await failure(mon.lines('list opstatus local,nosuch'));
			expect(missing.message).toMatch(/local,nosuch does not exist/);
		} finally {
			mon.close();
		}

		expect(accepted() - before).toBe(1);
	});

	test('login from a password file; a wrong password is a 530 that never shows the password', async () => {
		const file = path.join(home.dir, 'mon.pw');
		writeFileSync(file, `${peer.user}:${peer.password}\n`, {mode: 0o600});
		const {client: mon} = await client(certified(), {SECMON_PASSWORD_FILE: file});
		try {
			expect(await mon.lines('disable service local broken')).toEqual([]);
			expect(await mon.lines('enable service local broken')).toEqual([]);
		} finally {
			mon.close();
		}

		writeFileSync(file, `${peer.user}:not-the-password\n`, {mode: 0o600});
		const wrong = await failure(client(certified(), {SECMON_PASSWORD_FILE: file}));
		expect(wrong.message).toBe(`mon at localhost:${peer.tlsPort} refused the login: 530 login unsuccessful`);
		expect(`${wrong.message} ${wrong.hint}`).not.toContain('not-the-password');
		// Never over plain text.
		const plain = await failure(client({secure: 'off'}, {SECMON_PASSWORD_FILE: file}, 'localhost', peer.plainPort));
		expect(plain.code).toBe('USAGE');
		expect(plain.message).toMatch(/refusing to send the mon password .* in plain text/);
	});

	test('TLS refusals: no certificate, self-signed, other CA, bad name, plain port', async () => {
		const none = await failure(client({caFile: peer.caFile}));
		expect(none.code).toBe('CLIENT_CERT_REQUIRED');
		expect(none.message).toMatch(/requires a client certificate \(TLS alert: certificate required\)/);
		const selfSigned = await failure(client({caFile: peer.caFile, cert: peer.selfSignedCert, key: peer.selfSignedKey}));
		expect(selfSigned.message).toMatch(/rejected our client certificate \(TLS alert: unknown ca\)/);
		const foreign = await failure(client({caFile: peer.caFile, cert: peer.foreignCert, key: peer.foreignKey}));
		expect(foreign.message).toMatch(/rejected our client certificate \(TLS alert: unknown ca\)/);
		const badName = await failure(client(certified(), {}, '127.0.0.1'));
		expect(badName.code).toBe('CERT_INVALID');
		expect(badName.message).toMatch(/certificate is for DNS:localhost, DNS:mon-server, not 127\.0\.0\.1/);
		const plainPort = await failure(client(certified(), {}, 'localhost', peer.plainPort));
		expect(plainPort.code).toBe('TLS_FAILED');
		expect(plainPort.message).toMatch(/did not answer with TLS/);
		const untrusted = await failure(client({cert: peer.clientCert, key: peer.clientKey}));
		expect(untrusted.code).toBe('TRUST_REQUIRED');
	});

	test('plain mon only with --secure off, said loudly', async () => {
		const {client: mon, connector, warnings} = await client({secure: 'off'}, {}, 'localhost', peer.plainPort);
		try {
			expect(connector).toBeUndefined();
			expect(warnings.join('\n')).toMatch(/mon:\/\/localhost:\d+ in PLAIN TEXT/);
			expect(await mon.lines('list group local')).toEqual(['hostgroup local localhost']);
		} finally {
			mon.close();
		}
	});
});
