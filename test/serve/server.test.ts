/**
 * Debian's real pminfo and pmval against `secmon serve`: plain, TLS with a
 * verified CA (PCP_SECURE_SOCKETS=enforce), and with a required client
 * certificate; answers compared with a real pmcd on the same machine.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {initCa, loadCa} from '../../source/pki/ca.js';
import {issueCertificate} from '../../source/pki/issue.js';
import {linuxMetrics} from '../../source/serve/linux/metrics.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo, runPmval} from '../helpers/pminfo.js';
import {clientTlsConf, startCollector, type TestCollector} from './helpers.js';

const names = [...linuxMetrics.map(metric => metric.name), 'pmcd.hostname'];

/** `pminfo -f` output with the values blanked (they change between samples). */
function withoutValues(text: string): string {
	return text.replaceAll(/ value .*$/gmv, ' value …');
}

function withoutLabels(text: string): string {
	return text.split('\n').filter(line => !line.includes(' labels {')).join('\n');
}

describe('real pminfo and pmval against secmon serve (plain)', () => {
	let pmcd: PmcdPeer;
	let collector: TestCollector;

	beforeAll(async () => {
		[pmcd, collector] = await Promise.all([startPmcd('plain'), startCollector(['--tls', 'off'])]);
	});

	afterAll(async () => {
		await Promise.all([pmcd?.stop(), collector?.stop()]);
	});

	test('pminfo -dmtT: names, PMIDs, descriptors and help text are exactly pmcd\'s', async () => {
		const [theirs, ours] = await Promise.all([
			runPminfo(['-h', pmcd.address, '-dmtT', ...names, 'pmcd.client.whoami']),
			runPminfo(['-h', collector.address, '-dmtT', ...names, 'pmcd.client.whoami']),
		]);
		expect(ours.stderr).toBe('');
		expect(ours.code).toBe(0);
		expect(ours.stdout).toBe(theirs.stdout);
	});

	test('pminfo -f -d -m -t -T -l: same blocks and instances as pmcd, labels for context and agent', async () => {
		const [theirs, ours] = await Promise.all([
			runPminfo(['-h', pmcd.address, '-f', '-d', '-m', '-t', '-T', '-l', ...names]),
			runPminfo(['-h', collector.address, '-f', '-d', '-m', '-t', '-T', '-l', ...names]),
		]);
		expect(ours.stderr).toBe('');
		expect(ours.code).toBe(0);
		expect(withoutLabels(withoutValues(ours.stdout))).toBe(withoutLabels(withoutValues(theirs.stdout)));
		// Context + domain labels are pmcd's; hinv.ncpu has no others, so the line is identical.
		const labelLine = (text: string) => text.split('\n').find((line, index, lines) => lines[index - 3]?.startsWith('hinv.ncpu') && line.includes('labels'));
		expect(labelLine(ours.stdout)).toBeDefined();
		expect(labelLine(ours.stdout)).toBe(labelLine(theirs.stdout));
	});

	test('pminfo lists every served name (and pminfo\'s own event.* names)', async () => {
		const result = await runPminfo(['-h', collector.address]);
		expect(result.code).toBe(0);
		expect(result.stdout.trim().split('\n').toSorted()).toEqual([...names, 'pmcd.client.whoami', 'event.flags', 'event.missed'].toSorted());
	});

	test('pminfo on a non-leaf expands to the leaves below it; unknown names are reported like pmcd', async () => {
		const [theirs, ours] = await Promise.all([
			runPminfo(['-h', pmcd.address, '-m', 'mem.util.used', 'no.such.metric', 'kernel.all.cpu']),
			runPminfo(['-h', collector.address, '-m', 'mem.util.used', 'no.such.metric', 'kernel.all.cpu']),
		]);
		expect(ours.stderr).toBe(theirs.stderr);
		expect(ours.stdout).toContain('kernel.all.cpu.user PMID: 60.0.20');
		expect(ours.stdout).toContain('mem.util.used PMID: 60.1.1');
		expect(ours.code).toBe(1);
	});

	test('pminfo by PMID and instance-domain help', async () => {
		const [theirs, ours] = await Promise.all([
			runPminfo(['-h', pmcd.address, '-f', '60.0.32', '-T', '60.2']),
			runPminfo(['-h', collector.address, '-f', '60.0.32', '-T', '60.2']),
		]);
		expect(ours.stdout).toBe(theirs.stdout);
	});

	test('pmval -s 3: instances, counter to rate, host from pmcd.hostname', async () => {
		for (const metric of ['kernel.all.load', 'disk.dev.read', 'network.interface.in.bytes', 'kernel.all.cpu.idle']) {
			const [theirs, ours] = await Promise.all([
				runPmval(['-h', pmcd.address, '-s', '3', '-t', '0.2', metric]),
				runPmval(['-h', collector.address, '-s', '3', '-t', '0.2', metric]),
			]);
			expect(ours.stderr, metric).toBe('');
			expect(ours.code, metric).toBe(0);
			// Everything but the sample rows (metric, host, semantics, units, … and the instance names row) is identical.
			const isSample = (line: string) => /^[\s\d.eE+\-?]+$/v.test(line) && /\d/v.test(line);
			const header = (text: string) => text.split('\n').filter(line => !isSample(line)).join('\n');
			expect(header(ours.stdout), metric).toBe(header(theirs.stdout));
			expect(ours.stdout.split('\n').filter(line => isSample(line)), metric).toHaveLength(3);
		}
	});
});

describe('TLS: PCP_SECURE_SOCKETS=enforce verifying the printed CA', () => {
	let collector: TestCollector;
	let dir: string;
	let verifyConf: string;

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-tls-'));
		collector = await startCollector();
		verifyConf = clientTlsConf(dir, 'verify.conf', {ca: collector.caFile!});
	});

	afterAll(async () => {
		await collector?.stop();
		rmSync(dir, {recursive: true, force: true});
	});

	test('the first start prints the CA clients should trust', () => {
		expect(collector.caFile).toBe(path.join(collector.home, 'serve', 'ca.pem'));
		expect(collector.stdout.text).toContain(`CA certificate for clients: ${collector.caFile}`);
		expect(collector.stdout.text).toContain(`listening on ${collector.address} (TLS required)`);
		expect(collector.stdout.text).toContain(`secmon --ca-file ${collector.caFile} --host pcps://${collector.address} -f kernel.all.load`);
	});

	test('pminfo -f and pmval over TLS with the server certificate verified', async () => {
		const env = {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: verifyConf};
		const info = await runPminfo(['-h', collector.address, '-f', '-d', '-m', '-t', '-T', '-l', 'kernel.all.load', 'hinv.ncpu', 'filesys.free'], env);
		expect(info.stderr).toBe('');
		expect(info.code).toBe(0);
		expect(info.stdout).toMatch(/inst \[15 or "15 minute"\] value \d/v);
		const val = await runPmval(['-h', collector.address, '-s', '3', '-t', '0.2', 'kernel.all.cpu.user'], env);
		expect(val.stderr).toBe('');
		expect(val.code).toBe(0);
		expect(val.stdout).toContain('semantics: cumulative counter (converting to rate)');
	});

	test('relaxed clients use TLS too', async () => {
		const info = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'relaxed', PCP_TLSCONF_PATH: verifyConf});
		expect(info.code).toBe(0);
		expect(info.stdout).toContain('value');
	});

	test('a client trusting another CA fails the handshake', async () => {
		const otherDir = path.join(dir, 'other-ca');
		const other = await initCa({dir: otherDir, algorithm: 'rsa2048', cn: 'unrelated CA'});
		const conf = clientTlsConf(dir, 'other.conf', {ca: other.certificatePath});
		const info = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
		expect(info.code).toBe(1);
		expect(info.stderr).toContain('TLS protocol failure');
	});

	test('--tls require refuses plain clients on loopback with an error pminfo and pmval print', async () => {
		const info = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu', 'mem.physmem']);
		expect(info.code).toBe(1);
		expect(info.stdout).toBe('');
		expect(info.stderr).toBe('Error: hinv.ncpu: No permission to perform requested operation\nError: mem.physmem: No permission to perform requested operation\n');
		const val = await runPmval(['-h', collector.address, '-s', '1', 'kernel.all.load']);
		expect(val.code).not.toBe(0);
		expect(val.stderr).toContain('pmval: pmLookupName(kernel.all.load): No permission to perform requested operation');
		expect(collector.stderr.text).toContain('refused a plain-text client (--tls require)');
	});
});

describe('TLS with a required client certificate', () => {
	let collector: TestCollector;
	let dir: string;
	const env = (conf: string) => ({PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});

	async function clientCert(caDir: string, name: string): Promise<{cert: string; key: string}> {
		const ca = await loadCa(caDir);
		const issued = await issueCertificate({
			ca, cn: name, usage: 'client', algorithm: 'rsa2048', days: 2,
		});
		const cert = path.join(dir, `${name}.pem`);
		const key = path.join(dir, `${name}.key`);
		writeFileSync(cert, issued.certificatePem);
		writeFileSync(key, issued.keyPem, {mode: 0o600});
		return {cert, key};
	}

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-cert-'));
		collector = await startCollector(['--require-client-cert']);
	});

	afterAll(async () => {
		await collector?.stop();
		rmSync(dir, {recursive: true, force: true});
	});

	test('a certificate from the collector CA is accepted', async () => {
		const {cert, key} = await clientCert(path.join(collector.home, 'serve'), 'tester');
		const conf = clientTlsConf(dir, 'good.conf', {ca: collector.caFile!, cert, key});
		const info = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu'], env(conf));
		expect(info.stderr).toBe('');
		expect(info.stdout).toMatch(/value \d+/v);
		const val = await runPmval(['-h', collector.address, '-s', '2', '-t', '0.2', 'mem.util.free'], env(conf));
		expect(val.code).toBe(0);
	});

	test('no certificate, or one from another CA, is refused', async () => {
		await initCa({dir: path.join(dir, 'rogue'), algorithm: 'rsa2048', cn: 'rogue CA'});
		const rogue = await clientCert(path.join(dir, 'rogue'), 'intruder');
		for (const conf of [
			clientTlsConf(dir, 'none.conf', {ca: collector.caFile!}),
			clientTlsConf(dir, 'rogue.conf', {ca: collector.caFile!, cert: rogue.cert, key: rogue.key}),
		]) {
			const info = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu'], env(conf));
			expect(info.code, conf).toBe(1);
			expect(info.stdout, conf).not.toMatch(/value \d/v);
			expect(info.stderr, conf).toContain('IPC protocol failure');
		}
	});

	test('the greeting says a certificate is required, so plain and relaxed clients stop at once', async () => {
		for (const mode of [undefined, 'relaxed']) {
			const info = await runPminfo(['-h', collector.address, '-f', 'hinv.ncpu'], mode ? {PCP_SECURE_SOCKETS: mode} : {});
			expect(info.code).toBe(1);
			expect(info.stderr).toMatch(/PMCD requires a client certificate|No permission to perform requested operation/v);
		}
	});
});
