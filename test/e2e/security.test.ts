/**
 * Every security case of the core issue, with the real secmon binary against real
 * pmcd peers (plain, TLS offered, TLS + client certificate required, a wrong-name
 * certificate, a rotated certificate). Exit codes are the documented ones.
 */
import {execFileSync} from 'node:child_process';
import {
	copyFileSync, mkdirSync, readdirSync, readFileSync, statSync,
} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {
	afterAll, afterEach, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {cliPath, runSecmon, tempHome} from '../helpers/secmon.js';

let plain: PmcdPeer;
let offer: PmcdPeer;
let require: PmcdPeer;
let home: ReturnType<typeof tempHome>;

beforeAll(async () => {
	[plain, offer, require] = await Promise.all([startPmcd('plain'), startPmcd('offer'), startPmcd('require')]);
});

afterAll(async () => {
	await Promise.all([plain?.stop(), offer?.stop(), require?.stop()]);
});

afterEach(() => {
	home?.remove();
});

function fresh(): Record<string, string> {
	home = tempHome();
	return {SECMON_HOME: home.dir};
}

function sha256Of(pem: string): string {
	return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', pem], {encoding: 'utf8'}).trim().split('=')[1]!;
}

function pins(dir: string): string[] {
	try {
		return readdirSync(path.join(dir, 'known_collectors'));
	} catch {
		return [];
	}
}

describe('secure modes', () => {
	it('enforce against a plain collector fails with exit 5 and says what to do', async () => {
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu'], {env: {...fresh(), PCP_SECURE_SOCKETS: 'enforce'}});
		expect(r.code).toBe(5);
		expect(r.stdout).toBe('');
		expect(r.stderr).toMatch(/does not offer tls|tls/i);
		expect(r.stderr).toMatch(/relaxed|off/);
	});

	it.each(['1', '', 'enforce'])('PCP_SECURE_SOCKETS=%j means enforce', async value => {
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu'], {env: {...fresh(), PCP_SECURE_SOCKETS: value}});
		expect(r.code).toBe(5);
	});

	it('pcps:// means enforce', async () => {
		const r = await runSecmon(['-h', `pcps://${plain.address}`, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.code).toBe(5);
	});

	it('--secure beats the variables, and of the two variables the stricter wins', async () => {
		const env = {...fresh(), SECMON_SECURE_SOCKETS: 'relaxed', PCP_SECURE_SOCKETS: 'enforce'};
		expect((await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu'], {env})).code).toBe(5);
		expect((await runSecmon(['--secure', 'relaxed', '-h', plain.address, '-f', 'hinv.ncpu'], {env})).code).toBe(0);
		expect((await runSecmon(['--secure', 'enforce', '-h', plain.address, '-f', 'hinv.ncpu'], {env: {...env, PCP_SECURE_SOCKETS: 'relaxed'}})).code).toBe(5);
	});

	it('relaxed against a plain collector works and says loudly that it is plain text', async () => {
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu'], {env: {...fresh(), PCP_SECURE_SOCKETS: 'relaxed'}});
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/);
		expect(r.stderr).toMatch(/PLAIN TEXT/);
	});

	it('relaxed against a TLS collector uses TLS (and so verifies the certificate)', async () => {
		const r = await runSecmon(['--json', '-h', offer.address, '-f', 'hinv.ncpu', '--ca-file', offer.caFile], {env: {...fresh(), PCP_SECURE_SOCKETS: 'relaxed'}});
		expect(r.code).toBe(0);
		const line = JSON.parse(r.stdout.trim()) as {tls: {version: string; trust: string}};
		expect(line.tls.version).toMatch(/^TLSv1\.[23]$/);
		expect(line.tls.trust).toBe('ca');
	});

	it('off talks plain text even to a TLS collector, and the JSON says tls: null', async () => {
		const r = await runSecmon(['--json', '--secure', 'off', '-h', offer.address, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout.trim())).toMatchObject({metric: 'hinv.ncpu', tls: null});
	});
});

describe('certificate verification', () => {
	it('TLS files are read while TCP connects, and their errors still come at the TLS step, after connection errors', async () => {
		const missing = path.join(path.dirname(offer.caFile), 'no-such-ca.pem');
		// A reachable collector: the unreadable CA file is the error (usage, exit 2).
		const unreadable = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '--ca-file', missing, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(unreadable.code).toBe(2);
		expect(unreadable.stderr).toContain(`cannot read --ca-file ${missing} (ENOENT)`);
		// Nothing listening: the connection error comes first, as when files were read at the TLS step.
		const refused = await runSecmon(['--json', '--secure', 'enforce', '-h', '127.0.0.1:1', '--ca-file', missing, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain('Connection refused');
		expect(refused.stderr).not.toContain('--ca-file');
		// A key that does not belong to the certificate: a TLS failure, never plain text.
		const mismatch = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '--ca-file', offer.caFile, '--cert', require.clientCert, '--key', require.otherClientKey, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(mismatch.code).toBe(1);
		expect(JSON.parse(mismatch.stdout.trim())).toMatchObject({type: 'error', code: 'TLS_FAILED'});
		expect(mismatch.stderr).toContain('key values mismatch');
	});

	it('a CA file verifies chain and host name: trusted without any prompt or pin', async () => {
		const env = fresh();
		const r = await runSecmon(['--secure', 'enforce', '-h', offer.address, '--ca-file', offer.caFile, '-f', 'hinv.ncpu'], {env});
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/value \d+/);
		expect(pins(env['SECMON_HOME']!)).toEqual([]);
	});

	it('without --ca-file, Node\'s CA roots include NODE_EXTRA_CA_CERTS, also next to CAs in the store', async () => {
		const trustedByCa = /"trust":"ca"/v;
		const base = fresh();
		const dir = base['SECMON_HOME']!;
		const env = {...base, NODE_EXTRA_CA_CERTS: offer.caFile};
		const r = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(trustedByCa);
		// A CA of the store's own makes the CA list explicit; NODE_EXTRA_CA_CERTS must stay in it.
		mkdirSync(path.join(dir, 'cas'), {recursive: true, mode: 0o700});
		copyFileSync(offer.otherCaFile, path.join(dir, 'cas', 'other.pem'));
		const withStoreCa = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env});
		expect(withStoreCa.code, withStoreCa.stderr).toBe(0);
		expect(withStoreCa.stdout).toMatch(trustedByCa);
		// And neither alone trusts a collector whose CA is in neither.
		const storeCaOnly = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: dir, NODE_EXTRA_CA_CERTS: ''}});
		expect(storeCaOnly.code).toBe(3);
		expect(pins(dir)).toEqual([]);
	});

	it('the wrong CA is refused with exit 3, and relaxed does not fall back to plain text', async () => {
		for (const mode of ['enforce', 'relaxed']) {
			const r = await runSecmon(['--secure', mode, '-h', offer.address, '--ca-file', offer.otherCaFile, '-f', 'hinv.ncpu'], {env: fresh()});
			expect(r.code).toBe(3);
			expect(r.stdout).toBe('');
			expect(r.stderr).toMatch(/ca|issuer/i);
		}
	});

	it('a host-name mismatch under a CA is refused with exit 3 and names both', async () => {
		const wrong = await startPmcd('offer-wrongname');
		try {
			const r = await runSecmon(['--secure', 'enforce', '-h', wrong.address, '--ca-file', wrong.caFile, '-f', 'hinv.ncpu'], {env: fresh()});
			expect(r.code).toBe(3);
			expect(r.stderr).toMatch(/wrong\.example/);
			expect(r.stderr).toMatch(/127\.0\.0\.1/);
		} finally {
			await wrong.stop();
		}
	});

	it('an unknown certificate without a terminal is refused with exit 3, both fingerprints and the exact command', async () => {
		const r = await runSecmon(['--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.code).toBe(3);
		expect(r.stdout).toBe('');
		const sha256 = sha256Of(offer.servedCert!);
		expect(r.stderr).toContain(sha256);
		expect(r.stderr).toMatch(/SHA-1/);
		expect(r.stderr).toContain(`secmon --secure enforce -h ${offer.address} -f hinv.ncpu --fingerprint ${sha256.replaceAll(':', '').toLowerCase()}`);
		expect(r.stderr).toContain('--accept-new');
	});

	it('--json never prompts: exit 3 and one JSON error object', async () => {
		const r = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.code).toBe(3);
		const error = JSON.parse(r.stdout.trim()) as {type: string; code: string; exitCode: number};
		expect(error).toMatchObject({type: 'error', code: 'TRUST_REQUIRED', exitCode: 3});
	});

	it('--fingerprint pins a matching certificate; the next run is trusted by the pin', async () => {
		const env = fresh();
		const sha256 = sha256Of(offer.servedCert!);
		const first = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu', '--fingerprint', sha256], {env});
		expect(first.code).toBe(0);
		expect(JSON.parse(first.stdout.trim())).toMatchObject({tls: {trust: 'fingerprint'}});
		const second = await runSecmon(['--json', '--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env});
		expect(second.code).toBe(0);
		expect(JSON.parse(second.stdout.trim())).toMatchObject({tls: {trust: 'pinned', sha256}});
	});

	it('a wrong --fingerprint is refused with exit 3 and pins nothing', async () => {
		const env = fresh();
		const r = await runSecmon(['--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu', '--fingerprint', 'AA'.repeat(32)], {env});
		expect(r.code).toBe(3);
		expect(pins(env['SECMON_HOME']!)).toEqual([]);
	});

	it('--accept-new pins on first use, the store is private, and a changed certificate is refused with exit 4', async () => {
		const peer = await startPmcd('offer');
		const env = fresh();
		try {
			const accepted = await runSecmon(['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu', '--accept-new'], {env});
			expect(accepted.code).toBe(0);
			const dir = env['SECMON_HOME']!;
			expect(statSync(dir).mode & 0o777).toBe(0o700);
			expect(statSync(path.join(dir, 'known_collectors')).mode & 0o777).toBe(0o700);
			const [file] = pins(dir);
			expect(statSync(path.join(dir, 'known_collectors', file!)).mode & 0o777).toBe(0o600);
			const oldSha = sha256Of(peer.servedCert!);
			expect(readFileSync(path.join(dir, 'known_collectors', file!), 'utf8')).toContain(oldSha);

			await peer.restart('offer-rotated');
			const changed = await runSecmon(['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu', '--accept-new'], {env});
			expect(changed.code).toBe(4);
			expect(changed.stdout).toBe('');
			expect(changed.stderr).toMatch(/CHANGED/);
			expect(changed.stderr).toContain(oldSha);
			expect(changed.stderr).toContain(sha256Of(peer.servedCert!));
			expect(changed.stderr).toContain(`secmon certs remove ${peer.address}`);
			// The old pin is still there, untouched.
			expect(readFileSync(path.join(dir, 'known_collectors', file!), 'utf8')).toContain(oldSha);
			// A pin decides alone (ssh's known_hosts): a replacement that a trusted CA signed is still a change.
			const underCa = await runSecmon(['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu'], {env: {...env, NODE_EXTRA_CA_CERTS: peer.caFile}});
			expect(underCa.code).toBe(4);
			expect(underCa.stderr).toMatch(/CHANGED/);
			// --ca-file stays final: no pin is consulted.
			const withCaFile = await runSecmon(['--secure', 'enforce', '-h', peer.address, '--ca-file', peer.caFile, '-f', 'hinv.ncpu'], {env});
			expect(withCaFile.code, withCaFile.stderr).toBe(0);
		} finally {
			await peer.stop();
		}
	});
});

describe('a pinned collector renews its certificate', () => {
	it('same key: accepted (exit 0) with one note, the pin file holds the new SHA-256; a new key is still exit 4', async () => {
		const peer = await startPmcd('offer');
		const env = fresh();
		try {
			expect((await runSecmon(['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu', '--accept-new'], {env})).code).toBe(0);
			const dir = env['SECMON_HOME']!;
			const [file] = pins(dir);
			const pinFile = path.join(dir, 'known_collectors', file!);
			const oldSha = sha256Of(peer.serverCert);
			const newSha = sha256Of(peer.renewedCert);
			expect(newSha).not.toBe(oldSha);

			await peer.restart('offer-renewed');
			const renewed = await runSecmon(['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu'], {env});
			expect(renewed.code, renewed.stderr).toBe(0);
			expect(renewed.stdout).toMatch(/hinv\.ncpu/);
			const notes = renewed.stderr.split('\n').filter(line => line.includes('renewed'));
			expect(notes).toHaveLength(1);
			expect(notes[0]).toMatch(new RegExp(`^secmon: note: 127\\.0\\.0\\.1:${peer.port} renewed its certificate with the same key; pin updated \\(old SHA-256 ${oldSha}, expires \\d{4}-[\\d\\- :]+UTC; new SHA-256 ${newSha}, expires \\d{4}-[\\d\\- :]+UTC\\)$`));
			expect(renewed.stderr).not.toMatch(/CHANGED/);
			const pin = JSON.parse(readFileSync(pinFile, 'utf8')) as Record<string, string>;
			expect(pin).toMatchObject({sha256: newSha, pinnedBy: 'accept-new'});
			expect(pin['renewedAt']).toMatch(/^\d{4}-/);
			expect(statSync(pinFile).mode & 0o777).toBe(0o600);

			// Next run: plainly pinned, no note.
			const again = await runSecmon(['--json', '--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu'], {env});
			expect(again.code, again.stderr).toBe(0);
			expect(again.stderr).not.toMatch(/renewed/);
			expect(JSON.parse(again.stdout.trim())).toMatchObject({tls: {trust: 'pinned', sha256: newSha}});
			const shown = await runSecmon(['certs', 'show', peer.address], {env});
			expect(shown.stdout).toMatch(/Trusted: +\d{4}-[\d\- :]+UTC, by --accept-new; renewed with the same key \d{4}-/);

			// A new key is a change, as before.
			await peer.restart('offer-rotated');
			const rotated = await runSecmon(['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu'], {env});
			expect(rotated.code).toBe(4);
			expect(rotated.stderr).toMatch(/CHANGED/);
			expect(rotated.stderr).toContain(sha256Of(peer.rotatedCert));
			expect(JSON.parse(readFileSync(pinFile, 'utf8'))).toMatchObject({sha256: newSha});
		} finally {
			await peer.stop();
		}
	});
});

describe('client certificates', () => {
	it('a collector that requires a client certificate refuses a client without one, with a clear message', async () => {
		const r = await runSecmon(['--secure', 'enforce', '-h', require.address, '--ca-file', require.caFile, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.code).toBe(1);
		expect(r.stderr).toMatch(/client certificate/i);
		expect(r.stderr).toMatch(/--cert/);
	});

	it('relaxed or off against it also fails with the client-certificate hint, never plain', async () => {
		for (const args of [['--secure', 'relaxed', '--ca-file', require.caFile], ['--secure', 'off']]) {
			const r = await runSecmon([...args, '-h', require.address, '-f', 'hinv.ncpu'], {env: fresh()});
			expect(r.code).not.toBe(0);
			expect(r.stderr).toMatch(/client certificate/i);
		}
	});

	it('a client certificate from another CA is refused', async () => {
		const r = await runSecmon(['--secure', 'enforce', '-h', require.address, '--ca-file', require.caFile, '--cert', require.otherClientCert, '--key', require.otherClientKey, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.code).toBe(1);
	});

	it('--cert/--key are presented and the fetch works', async () => {
		const r = await runSecmon(['--secure', 'enforce', '-h', require.address, '--ca-file', require.caFile, '--cert', require.clientCert, '--key', require.clientKey, '-f', 'hinv.ncpu'], {env: fresh()});
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/);
	});
});

describe('trust on first use in a real terminal', () => {
	let runs = 0;
	let session = '';
	const tmux = (...args: string[]) => execFileSync('tmux', args, {encoding: 'utf8'});
	const screen = () => tmux('capture-pane', '-p', '-t', session);
	async function waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
		const start = Date.now();
		for (;;) {
			const text = screen();
			if (pattern.test(text)) {
				return text;
			}

			if (Date.now() - start > timeoutMs) {
				throw new Error(`timed out waiting for ${String(pattern)}; screen:\n${text}`);
			}

			await delay(100);
		}
	}

	afterEach(() => {
		try {
			tmux('kill-session', '-t', session);
		} catch {
			// Already gone.
		}
	});

	async function run(env: Record<string, string>, keys: string[], ci = 'false'): Promise<string> {
		// --once: -f alone in a terminal opens the panes (the headline command); this test is about the prompt before pminfo's one-shot text.
		const command = `env SECMON_HOME=${env['SECMON_HOME']} CI=${ci} FORCE_COLOR=0 PCP_SECURE_SOCKETS=enforce ${process.execPath} ${cliPath} -h ${offer.address} -f --once hinv.ncpu; echo "exit=$?"; sleep 30`;
		// A fresh session name per test: a killed session can linger for a moment.
		session = `secmon-tofu-${process.pid}-${++runs}`;
		tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', command);
		const prompt = await waitFor(ci === 'false' ? /default: No/ : /Trust this collector\?/);
		// The prompt shows the SHA-256 in two rows of 16 bytes.
		const sha256 = sha256Of(offer.servedCert!);
		expect(prompt).toContain(sha256.slice(0, 47));
		expect(prompt).toContain(sha256.slice(48));
		expect(prompt).toMatch(/SHA-1/);
		for (const key of keys) {
			tmux('send-keys', '-t', session, key);
		}

		return waitFor(/exit=\d+/);
	}

	it('shows the prompt; "y" saves the pin and prints the values; the next run does not ask', async () => {
		const env = fresh();
		const after = await run(env, ['y']);
		expect(after).toMatch(/hinv\.ncpu\n {4}value \d+/);
		expect(after).toContain('exit=0');
		expect(pins(env['SECMON_HOME']!)).toHaveLength(1);
		const again = await runSecmon(['--secure', 'enforce', '-h', offer.address, '-f', 'hinv.ncpu'], {env});
		expect(again.code).toBe(0);
	});

	it('Enter alone is No: exit 3 and nothing saved', async () => {
		const env = fresh();
		const after = await run(env, ['Enter']);
		expect(after).toContain('exit=3');
		expect(pins(env['SECMON_HOME']!)).toEqual([]);
	});

	it('with CI=true (Ink draws nothing live) the prompt is asked line by line; "y" + Enter saves', async () => {
		const env = fresh();
		const after = await run(env, ['y', 'Enter'], 'true');
		expect(after).toMatch(/hinv\.ncpu\n {4}value \d+/);
		expect(after).toContain('exit=0');
		expect(pins(env['SECMON_HOME']!)).toHaveLength(1);
	});

	it('"o" accepts once without saving', async () => {
		const env = fresh();
		const after = await run(env, ['o']);
		expect(after).toContain('exit=0');
		expect(pins(env['SECMON_HOME']!)).toEqual([]);
	});
});
