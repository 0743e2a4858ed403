/**
 * The Icinga 2 source and `secmon enroll` against a real icinga2 2.13 (test/peers/icinga2.sh):
 * client-certificate and password users, 401/404, the event stream, and ticket enrollment from a
 * second working directory (its own secmon home) with signed, refused and pending requests.
 */
import {statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {enrollCommand} from '../../../source/commands/enroll.js';
import {SecmonError} from '../../../source/errors.js';
import {enrolledPaths} from '../../../source/protocols/icinga/credentials.js';
import {openIcinga} from '../../../source/protocols/icinga/open.js';
import type {IcingaSource} from '../../../source/protocols/icinga/source.js';
import {parseHostSpec} from '../../../source/target.js';
import {
	hooksFor, icingaLog, planFor, startIcinga, waitFor, type IcingaPeer, type PlanOptions,
} from '../../helpers/icinga.js';
import {tempHome} from '../../helpers/secmon.js';

let peer: IcingaPeer;
const homes: Array<{dir: string; remove: () => void}> = [];

function home(): string {
	const made = tempHome();
	homes.push(made);
	return made.dir;
}

beforeAll(async () => {
	peer = await startIcinga();
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	for (const made of homes) {
		made.remove();
	}
});

function target() {
	return parseHostSpec(`icinga://127.0.0.1:${peer.port}`);
}

async function open(options: PlanOptions, env: Record<string, string> = {}): Promise<{source: IcingaSource; warnings: string[]}> {
	const fullEnv = {SECMON_HOME: env['SECMON_HOME'] ?? home(), SECMON_SERVERNAME: peer.nodeName, ...env};
	const hooks = hooksFor(fullEnv);
	const source = await openIcinga(target(), await planFor(options, fullEnv), hooks);
	return {source, warnings: hooks.warnings};
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

function certUser(): PlanOptions {
	return {caFile: peer.caFile, cert: peer.clientCert, key: peer.clientKey};
}

function buffer(): {stream: Writable; text: () => string} {
	let text = '';
	return {
		stream: new Writable({
			write(chunk: Buffer, _encoding, callback) {
				text += chunk.toString();
				callback();
			},
		}),
		text: () => text,
	};
}

describe('reading Icinga 2 over its REST API', () => {
	test('client certificate (ApiUser secmon-cert): services, hosts and /v1/status as metrics with units', async () => {
		const {source} = await open(certUser());
		try {
			expect(source.tls).toMatchObject({basis: 'ca', version: 'TLSv1.3'});
			// The first check results come within the 2 s check interval.
			// Each service has its own first check: wait for both, not only the first to answer.
			await waitFor(async () => (await source.describe(['service:web-01!temperature.temp', 'service:secmon-local!disk-root./'])).descs.length === 2, 'check results for web-01!temperature and secmon-local!disk-root');
			const {descs, errors} = await source.describe(['service:web-01!temperature', 'host:web-01.status', 'status:CIB.num_hosts_down', 'service:secmon-local!disk-root./']);
			expect(errors).toEqual([]);
			const names = descs.map(desc => desc.name);
			expect(names).toEqual(expect.arrayContaining([
				'service:web-01!temperature.state',
				'service:web-01!temperature.temp',
				'service:web-01!temperature.humidity',
				'service:web-01!temperature.requests',
				'service:web-01!temperature.fan speed',
				'service:web-01!temperature.wait',
				'host:web-01.status',
				'status:CIB.num_hosts_down',
				'service:secmon-local!disk-root./',
			]));
			const byName = new Map(descs.map(desc => [desc.name, desc]));
			expect(byName.get('service:web-01!temperature.requests')).toMatchObject({semantics: 'counter'});
			expect(byName.get('service:web-01!temperature.wait')).toMatchObject({unitsText: 'sec'});
			expect(byName.get('service:secmon-local!disk-root./')).toMatchObject({unitsText: 'byte', units: {dimSpace: 1}});
			const sample = await source.fetch();
			const value = (name: string) => {
				const result = sample.metrics.find(metric => metric.name === name)?.result;
				return result?.status === 'ok' ? result.values[0]!.value : result;
			};

			expect(value('service:web-01!temperature.temp')).toBe(23.5);
			expect(value('service:web-01!temperature.status')).toBe('WARNING');
			expect(value('service:web-01!temperature.output')).toBe('room temperature 23.5 C');
			expect(value('service:web-01!temperature.wait')).toBe(0.25);
			expect(value('service:web-01!temperature.fan speed')).toBe(1200);
			expect(value('host:web-01.status')).toBe('DOWN');
			expect(value('status:CIB.num_hosts_down')).toBe(1);
			expect(value('service:secmon-local!disk-root./')).toBeGreaterThan(0);

			// retain (the panes' d): only the host's metric is left, and only hosts are polled.
			const paths: string[] = [];
			const {json} = source.http;
			source.http.json = async (...args: Parameters<typeof json>) => {
				paths.push(`${args[0]} ${args[1]}`);
				return json.apply(source.http, args);
			};

			source.retain(['host:web-01.status']);
			const after = await source.fetch();
			expect(after.metrics.map(metric => metric.name)).toEqual(['host:web-01.status']);
			expect(paths).toEqual(['POST /v1/objects/hosts']);
		} finally {
			source.close();
		}
	});

	test('unknown names are reported per name; Icinga\'s 404 may also mean a missing permission', async () => {
		const {source} = await open(certUser());
		try {
			const {descs, errors} = await source.describe(['service:nosuch!x', 'host:nosuch']);
			expect(descs).toEqual([]);
			expect(errors.map(error => error.name)).toEqual(['service:nosuch!x', 'host:nosuch']);
			expect(errors[0]!.message).toMatch(/Unknown metric name.*objects\/query\/Service/);
		} finally {
			source.close();
		}
	});

	test('password from a file (ApiUser secmon-pw); a wrong one is a 401 that names the user, never the password', async () => {
		const dir = home();
		const file = path.join(dir, 'icinga.pw');
		writeFileSync(file, 'secmon-pw:secmon-pw-secret\n', {mode: 0o600});
		const {source} = await open({caFile: peer.caFile}, {SECMON_PASSWORD_FILE: file});
		try {
			const {descs} = await source.describe(['host:web-01.state']);
			expect(descs.map(desc => desc.name)).toEqual(['host:web-01.state']);
		} finally {
			source.close();
		}

		writeFileSync(file, 'secmon-pw:wrong\n', {mode: 0o644});
		const hooksEnv = {SECMON_PASSWORD_FILE: file};
		const error = await failure(open({caFile: peer.caFile}, hooksEnv));
		expect(error.message).toMatch(/refused to authenticate us: HTTP 401/);
		expect(error.hint).toMatch(/ApiUser "secmon-pw"/);
		expect(`${error.message} ${error.hint}`).not.toContain('wrong');
	});

	test('a group-readable password file is used with a warning', async () => {
		const dir = home();
		const file = path.join(dir, 'icinga.pw');
		writeFileSync(file, 'secmon-pw:secmon-pw-secret\n', {mode: 0o640});
		const {source, warnings} = await open({caFile: peer.caFile}, {SECMON_PASSWORD_FILE: file});
		source.close();
		expect(warnings.join('\n')).toMatch(/password file .* is accessible by group or others .*chmod 600/);
	});

	test('no credentials, a CA-signed certificate without an ApiUser, a self-signed certificate: 401 with what to do', async () => {
		const none = await failure(open({caFile: peer.caFile}));
		expect(none.message).toMatch(/HTTP 401/);
		expect(none.hint).toMatch(/secmon enroll/);
		const other = await failure(open({caFile: peer.caFile, cert: peer.otherCert, key: peer.otherKey}));
		expect(other.hint).toMatch(/client_cn of an ApiUser/);
		const selfSigned = await failure(open({caFile: peer.caFile, cert: peer.selfSignedCert, key: peer.selfSignedKey}));
		expect(selfSigned.message).toMatch(/HTTP 401/);
		await waitFor(() => icingaLog(peer).includes('Unauthorized request'), 'the 401 in the icinga2 log');
	});

	test('TLS trust: wrong name, wrong CA, unknown certificate without a prompt', async () => {
		const badName = await failure(open(certUser(), {SECMON_SERVERNAME: ''}));
		expect(badName.code).toBe('CERT_INVALID');
		expect(badName.message).toMatch(/certificate is for DNS:icinga2-master, not 127\.0\.0\.1/);
		expect(badName.hint).toMatch(/--servername NAME/);
		const wrongCa = await failure(open({...certUser(), caFile: peer.selfSignedCert}));
		expect(wrongCa.code).toBe('CERT_INVALID');
		expect(wrongCa.message).toMatch(/not signed by the given CA/);
		const unknown = await failure(open({cert: peer.clientCert, key: peer.clientKey}));
		expect(unknown.code).toBe('TRUST_REQUIRED');
		expect(unknown.exitCode).toBe(3);
	});

	test('live updates come from the event stream after the first sample', async () => {
		const {source} = await open(certUser());
		try {
			await source.describe(['service:web-01!temperature.requests', 'service:web-01!temperature.last_check']);
			const first = await source.fetch();
			expect(source.streaming).toBe(false);
			await source.fetch();
			expect(source.streaming).toBe(true);
			const lastCheck = (sample: typeof first) => {
				const {result} = (sample.metrics.find(metric => metric.name === 'service:web-01!temperature.last_check')!);
				return result.status === 'ok' ? result.values[0]!.value as number : 0;
			};

			// A new check result (every 2 s) arrives as an event: no poll in between.
			const before = lastCheck(first);
			const updated = await waitFor(async () => {
				const sample = await source.fetch();
				return lastCheck(sample) > before ? sample : undefined;
			}, 'a newer check result from the event stream', 10_000);
			expect(source.streaming).toBe(true);
			expect(lastCheck(updated)).toBeGreaterThan(before);
			await waitFor(() => icingaLog(peer).includes('POST /v1/events') || icingaLog(peer).includes('New client connection for identity \'secmon-client\''), 'the event stream connection in the icinga2 log');
		} finally {
			source.close();
		}
	});
});

describe('secmon enroll (pki::RequestCertificate with a ticket)', () => {
	async function enroll(args: string[], secmonHome: string) {
		const stdout = buffer();
		const stderr = buffer();
		const code = await enrollCommand(['--host', `icinga://127.0.0.1:${peer.port}`, '--ca-file', peer.caFile, '--servername', peer.nodeName, '--key-bits', '2048', ...args], {stdout: stdout.stream, stderr: stderr.stream, env: {SECMON_HOME: secmonHome}});
		return {code, stdout: stdout.text(), stderr: stderr.text()};
	}

	test('a ticket from the master gets a signed certificate into the secmon home, used from then on', async () => {
		const secmonHome = home();
		const ticketFile = path.join(secmonHome, 'ticket');
		writeFileSync(ticketFile, `${await peer.ticket('secmon-agent')}\n`, {mode: 0o600});
		const result = await enroll(['--cn', 'secmon-agent', '--ticket-file', ticketFile, '--json'], secmonHome);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		const summary = JSON.parse(result.stdout) as Record<string, unknown>;
		expect(summary).toMatchObject({
			type: 'enrolled', cn: 'secmon-agent', issuer: 'CN=Icinga CA', master: {trust: 'ca'},
		});
		const paths = enrolledPaths(secmonHome, {host: '127.0.0.1', port: peer.port});
		expect(statSync(paths.key).mode & 0o777).toBe(0o600);
		expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
		expect(statSync(path.join(secmonHome, 'icinga')).mode & 0o777).toBe(0o700);
		await waitFor(() => /Sending certificate response for CN 'secmon-agent' to endpoint '[^']*' \(auto-signing ticket\)/.test(icingaLog(peer)), 'the auto-signing in the icinga2 log');

		// The stored certificate is found by host:port and maps to ApiUser secmon-enrolled, which
		// may not read events: live updates fall back to polling, with a note.
		const {source, warnings} = await open({caFile: peer.caFile}, {SECMON_HOME: secmonHome});
		try {
			const {descs} = await source.describe(['host:secmon-local.state']);
			expect(descs).toHaveLength(1);
			await source.fetch();
			await source.fetch();
			expect(source.streaming).toBe(false);
			expect(warnings).toEqual([]);
		} finally {
			source.close();
		}

		await waitFor(() => icingaLog(peer).includes('user: secmon-enrolled'), 'ApiUser secmon-enrolled in the icinga2 log');
		const again = await enroll(['--cn', 'secmon-agent', '--ticket-file', ticketFile], secmonHome);
		expect(again.code).toBe(2);
		expect(again.stderr).toMatch(/already stored.*\n.*--force/);
	});

	test('a ticket for another CN is refused with the master\'s reason and what to do', async () => {
		const secmonHome = home();
		const result = await enroll(['--cn', 'secmon-agent2', '--ticket', await peer.ticket('someone-else')], secmonHome);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/refused the certificate request for CN=secmon-agent2: Invalid ticket for CN 'secmon-agent2'/);
		expect(result.stderr).toMatch(/icinga2 pki ticket --cn secmon-agent2/);
		expect(enrolledPaths(secmonHome, {host: '127.0.0.1', port: peer.port}).cert).not.toSatisfy((file: string) => statSync(file, {throwIfNoEntry: false}) !== undefined);
	});

	test('without a ticket the request is pending until `icinga2 ca sign`; the same request then succeeds', async () => {
		const secmonHome = home();
		const pending = await enroll(['--cn', 'secmon-pending'], secmonHome);
		expect(pending.code).toBe(1);
		const fingerprint = /request fingerprint ([\da-f]{64})/.exec(pending.stderr)?.[1];
		expect(fingerprint).toBeDefined();
		expect(pending.stderr).toContain(`icinga2 ca sign ${fingerprint!}`);
		expect(await peer.signPending()).toContain(fingerprint);
		const signed = await enroll(['--cn', 'secmon-pending'], secmonHome);
		expect(signed.stderr).toBe('');
		expect(signed.code).toBe(0);
		expect(signed.stdout).toMatch(/Enrolled CN=secmon-pending with the Icinga 2 master/);
	});

	test('the master\'s certificate is checked before anything is sent', async () => {
		const secmonHome = home();
		const stdout = buffer();
		const stderr = buffer();
		const code = await enrollCommand(['--host', `127.0.0.1:${peer.port}`, '--cn', 'x', '--ticket', 'a'.repeat(40), '--key-bits', '2048'], {stdout: stdout.stream, stderr: stderr.stream, env: {SECMON_HOME: secmonHome}});
		expect(code).toBe(3);
		expect(stderr.text()).toMatch(/not trusted|--fingerprint/);
		const usage = await enroll(['--cn', 'bad/name'], secmonHome);
		expect(usage.code).toBe(2);
	});
});
