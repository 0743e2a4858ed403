/**
 * Secure by default (issue 13), with the real secmon binary against real pmcd peers: TLS
 * whenever the collector offers it, strict secure-mode values, options that imply TLS, the
 * downgrade memory against a man in the middle that clears pmcd's TLS offer and against a pmcd
 * restarted without TLS, --servername, and every suggested command run verbatim in a fresh shell.
 */
import {execFileSync} from 'node:child_process';
import {readdirSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
	afterAll, afterEach, beforeAll, describe, expect, it,
} from 'vitest';
import {runPasted, suggestedCommands} from '../helpers/hints.js';
import {startGreetingStripper, type GreetingStripper} from '../helpers/mitm.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let plain: PmcdPeer;
let offer: PmcdPeer;
const homes: Array<ReturnType<typeof tempHome>> = [];

beforeAll(async () => {
	[plain, offer] = await Promise.all([startPmcd('plain'), startPmcd('offer')]);
});

afterAll(async () => {
	await Promise.all([plain?.stop(), offer?.stop()]);
});

afterEach(() => {
	for (const home of homes.splice(0)) {
		home.remove();
	}
});

function fresh(): {env: Record<string, string>; dir: string} {
	const home = tempHome();
	homes.push(home);
	return {env: {SECMON_HOME: home.dir}, dir: home.dir};
}

function sha256Of(pem: string): string {
	return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', pem], {encoding: 'utf8'}).trim().split('=')[1]!;
}

function storeFiles(dir: string, sub: string): string[] {
	try {
		return readdirSync(path.join(dir, sub));
	} catch {
		return [];
	}
}

type JsonLine = {type: string; code?: string; exitCode?: number; tls?: {trust: string; version: string} | null};

function jsonLine(stdout: string): JsonLine {
	const lines = stdout.trim().split('\n');
	expect(lines).toHaveLength(1);
	return JSON.parse(lines[0]!) as JsonLine;
}

describe('the default mode: TLS whenever the collector offers it', () => {
	it('a collector that offers TLS is read over TLS and verified as in enforce: unknown certificate → exit 3', async () => {
		const {env} = fresh();
		const r = await runSecmon(['--json', '-h', offer.address, '-f', 'hinv.ncpu'], {env});
		expect(r.code).toBe(3);
		expect(jsonLine(r.stdout)).toMatchObject({type: 'error', code: 'TRUST_REQUIRED', exitCode: 3});
		const ca = await runSecmon(['--json', '-h', offer.address, '-f', 'hinv.ncpu', '--ca-file', offer.caFile], {env});
		expect(ca.code, ca.stderr).toBe(0);
		expect(jsonLine(ca.stdout).tls).toMatchObject({trust: 'ca', version: 'TLSv1.3'});
	});

	it('a collector that offers no TLS is read in plain text, with the PLAIN TEXT warning and tls: null', async () => {
		const {env} = fresh();
		const r = await runSecmon(['--json', '-h', plain.address, '-f', 'hinv.ncpu'], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(jsonLine(r.stdout).tls).toBeNull();
		expect(r.stderr).toContain(`${plain.address} does not offer TLS; secmon continues in PLAIN TEXT`);
	});

	it('--help says what the default is and that it differs from PCP', async () => {
		const r = await runSecmon(['--help']);
		expect(r.stdout).toContain('relaxed (TLS whenever offered; the default)');
		expect(r.stdout).toContain('Unlike PCP, unset is not plain text');
	});
});

describe('strict values of SECMON_SECURE_SOCKETS and PCP_SECURE_SOCKETS', () => {
	it.each([
		['PCP_SECURE_SOCKETS', 'yes'],
		['PCP_SECURE_SOCKETS', 'enforced'],
		['SECMON_SECURE_SOCKETS', 'strict'],
	])('%s=%s is a usage error (exit 2) naming the variable, its value and the valid values', async (name, value) => {
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu'], {env: {...fresh().env, [name]: value}});
		expect(r.code).toBe(2);
		expect(r.stdout).toBe('');
		expect(r.stderr).toContain(`${name}="${value}" is not a secure mode`);
		expect(r.stderr).toContain('enforce, 1 or empty');
		expect(r.stderr).toContain('0, off, no or false');
	});

	it('a typo in SECMON_SECURE_SOCKETS does not win over a correct PCP_SECURE_SOCKETS=enforce: it is an error', async () => {
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu'], {env: {...fresh().env, SECMON_SECURE_SOCKETS: 'of', PCP_SECURE_SOCKETS: 'enforce'}});
		expect(r.code).toBe(2);
	});

	it.each(['0', 'off', 'no', 'false', 'OFF'])('PCP_SECURE_SOCKETS=%s is plain text', async value => {
		const r = await runSecmon(['--json', '-h', offer.address, '-f', 'hinv.ncpu'], {env: {...fresh().env, PCP_SECURE_SOCKETS: value}});
		expect(r.code, r.stderr).toBe(0);
		expect(jsonLine(r.stdout).tls).toBeNull();
	});

	it('when both are set and disagree, the stricter wins and secmon says so once', async () => {
		const r = await runSecmon(['-h', plain.address, '-h', `pcp://${plain.address}`, '-f', 'hinv.ncpu'], {env: {...fresh().env, SECMON_SECURE_SOCKETS: 'relaxed', PCP_SECURE_SOCKETS: 'enforce'}});
		expect(r.code).toBe(5);
		expect(r.stderr.match(/disagree; the stricter, enforce, applies/gv)).toHaveLength(1);
	});
});

describe('options that imply TLS', () => {
	const options: Array<[string, () => string[]]> = [
		['--ca-file', () => ['--ca-file', offer.caFile]],
		['--fingerprint', () => ['--fingerprint', sha256Of(offer.serverCert)]],
		['--accept-new', () => ['--accept-new']],
		['--cert', () => ['--cert', offer.clientCert, '--key', offer.clientKey]],
		['--servername', () => ['--servername', 'collector']],
	];

	it.each(options)('%s against a collector that offers no TLS: exit 5 naming the option, nothing pinned', async (name, args) => {
		const {env, dir} = fresh();
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu', ...args()], {env});
		expect(r.code).toBe(5);
		expect(r.stdout).toBe('');
		expect(r.stderr).toContain(`PMCD at ${plain.address} offers no TLS, but ${name} needs TLS`);
		expect(storeFiles(dir, 'known_collectors')).toEqual([]);
	});

	it.each(options)('%s with --secure off is a usage error', async (name, args) => {
		const r = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu', '--secure', 'off', ...args()], {env: fresh().env});
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(new RegExp(`secmon: ${name}(?:, --key)? needs? TLS, but --secure off turns TLS off`, 'v'));
	});
});

describe('downgrade memory', () => {
	let mitm: GreetingStripper;

	beforeAll(async () => {
		mitm = await startGreetingStripper({host: offer.host, port: offer.port});
	});

	afterAll(async () => {
		await mitm?.close();
	});

	afterEach(() => {
		mitm.strip = false;
	});

	it('a man in the middle that clears the TLS offer of a pinned collector is refused (exit 5); each suggested way on works verbatim', async () => {
		const {env, dir} = fresh();
		const pinned = await runSecmon(['-h', mitm.address, '-f', 'hinv.ncpu', '--accept-new'], {env});
		expect(pinned.code, pinned.stderr).toBe(0);
		expect(storeFiles(dir, 'known_collectors')).toHaveLength(1);

		mitm.strip = true;
		// Without memory, the stripped greeting really is read as plain (what first contact risks).
		const control = await runSecmon(['--json', '-h', mitm.address, '-f', 'hinv.ncpu'], {env: fresh().env});
		expect(control.code, control.stderr).toBe(0);
		expect(jsonLine(control.stdout).tls).toBeNull();

		for (const mode of [[], ['--secure', 'relaxed']]) {
			const r = await runSecmon(['-h', mitm.address, '-f', 'hinv.ncpu', ...mode], {env});
			expect(r.code).toBe(5);
			expect(r.stdout).toBe('');
			expect(r.stderr).toContain(`PMCD at ${mitm.address} was read over verified TLS before, but now offers no TLS`);
			expect(r.stderr).toContain('pinned certificate SHA-256 ' + sha256Of(offer.serverCert));
			expect(r.stderr).toContain('stripping TLS');
		}

		const json = await runSecmon(['--json', '-h', mitm.address, '-f', 'hinv.ncpu'], {env});
		expect(json.code).toBe(5);
		expect(jsonLine(json.stdout)).toMatchObject({type: 'error', code: 'TLS_REQUIRED', exitCode: 5});

		const refused = await runSecmon(['-h', mitm.address, '-f', 'hinv.ncpu'], {env});
		const commands = suggestedCommands(refused.stderr);
		expect(commands).toEqual([`secmon certs remove ${mitm.address}`, `secmon -h ${mitm.address} -f hinv.ncpu --secure off`]);

		// --secure off for one run: plain text, with a loud warning that names the earlier TLS.
		const once = await runPasted(commands[1]!, dir);
		expect(once.code, once.stderr).toBe(0);
		expect(once.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		expect(once.stderr).toContain(`WARNING: PMCD at ${mitm.address} was read over verified TLS before`);
		expect(once.stderr).toContain('PLAIN TEXT');

		// certs remove: secmon forgets the collector, and the next run is a first contact again.
		const removed = await runPasted(commands[0]!, dir);
		expect(removed.code, removed.stderr).toBe(0);
		expect(storeFiles(dir, 'known_collectors')).toEqual([]);
		const after = await runSecmon(['--json', '-h', mitm.address, '-f', 'hinv.ncpu'], {env});
		expect(after.code, after.stderr).toBe(0);
		expect(jsonLine(after.stdout).tls).toBeNull();
		expect(after.stderr).toContain('PLAIN TEXT');
	});

	it('a real pmcd restarted without TLS after a CA-verified read: exit 5, also when the mode is relaxed', async () => {
		const peer = await startPmcd('offer');
		try {
			const {env, dir} = fresh();
			const verified = await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu', '--ca-file', peer.caFile], {env});
			expect(verified.code, verified.stderr).toBe(0);
			expect(storeFiles(dir, 'known_collectors')).toEqual([]);
			expect(storeFiles(dir, 'known_tls')).toHaveLength(1);
			await peer.restart('plain');
			for (const extra of [[], ['--secure', 'relaxed']]) {
				const r = await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu', ...extra], {env});
				expect(r.code).toBe(5);
				expect(r.stderr).toContain('certificate verified by a CA SHA-256 ' + sha256Of(peer.serverCert));
			}

			const off = await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu', '--secure', 'off'], {env});
			expect(off.code, off.stderr).toBe(0);
			expect(off.stderr).toContain('WARNING');
		} finally {
			await peer.stop();
		}
	});

	it('the embedded collector leaves no memory behind', async () => {
		const {env, dir} = fresh();
		const r = await runSecmon(['-f', 'hinv.ncpu'], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(storeFiles(dir, 'known_tls')).toEqual([]);
	});
});

describe('hints that work verbatim in a fresh shell', () => {
	it('exit 3 under PCP_SECURE_SOCKETS=enforce: both suggested commands carry --secure enforce and pin the collector over TLS', async () => {
		for (const which of ['--fingerprint', '--accept-new']) {
			const {env, dir} = fresh();
			const refused = await runSecmon(['-h', offer.address, '-f', 'hinv.ncpu'], {env: {...env, PCP_SECURE_SOCKETS: 'enforce'}});
			expect(refused.code).toBe(3);
			const command = suggestedCommands(refused.stderr).find(line => line.includes(which))!;
			expect(command).toContain(`-h ${offer.address} -f hinv.ncpu --secure enforce ${which}`);
			const pasted = await runPasted(`${command} --json`, dir);
			expect(pasted.code, pasted.stderr).toBe(0);
			expect(jsonLine(pasted.stdout).tls).toMatchObject({version: 'TLSv1.3'});
			expect(storeFiles(dir, 'known_collectors')).toHaveLength(1);
		}
	});

	it('exit 5 in enforce against a plain collector: the suggested relaxed command reads it, loudly', async () => {
		const {env, dir} = fresh();
		const refused = await runSecmon(['-h', plain.address, '-f', 'hinv.ncpu', '--ca-file', offer.caFile], {env: {...env, SECMON_SECURE_SOCKETS: 'enforce'}});
		expect(refused.code).toBe(5);
		const [command] = suggestedCommands(refused.stderr);
		expect(command).toBe(`secmon -h ${plain.address} -f hinv.ncpu --secure relaxed`);
		const pasted = await runPasted(command!, dir);
		expect(pasted.code, pasted.stderr).toBe(0);
		expect(pasted.stderr).toContain('PLAIN TEXT');
	});

	it('exit 4: the suggested commands remove the pin, or replace it with the new fingerprint', async () => {
		const peer = await startPmcd('offer');
		try {
			const {env, dir} = fresh();
			expect((await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu', '--accept-new'], {env})).code).toBe(0);
			await peer.restart('offer-rotated');
			const changed = await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu'], {env: {...env, PCP_SECURE_SOCKETS: '1'}});
			expect(changed.code).toBe(4);
			const commands = suggestedCommands(changed.stderr);
			const replace = commands.find(line => line.includes('--fingerprint'))!;
			expect(replace).toContain(`-h ${peer.address} -f hinv.ncpu --secure enforce --fingerprint`);
			expect(commands).toContain(`secmon certs remove ${peer.address}`);
			const replaced = await runPasted(replace, dir);
			expect(replaced.code, replaced.stderr).toBe(0);
			expect((await runSecmon(['--json', '-h', peer.address, '-f', 'hinv.ncpu'], {env})).stdout).toContain('"trust":"pinned"');
			await peer.restart('offer');
			expect((await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu'], {env})).code).toBe(4);
			expect((await runPasted(`secmon certs remove ${peer.address}`, dir)).code).toBe(0);
			expect((await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu'], {env})).code).toBe(3);
		} finally {
			await peer.stop();
		}
	});
});

describe('--servername for PCP', () => {
	it('verifies the given name instead of the address', async () => {
		const {env} = fresh();
		// server.pem names DNS:localhost (and the loopback addresses), not "collector".
		const right = await runSecmon(['-h', offer.address, '-f', 'hinv.ncpu', '--ca-file', offer.caFile, '--servername', 'localhost'], {env});
		expect(right.code, right.stderr).toBe(0);
		const wrong = await runSecmon(['-h', offer.address, '-f', 'hinv.ncpu', '--ca-file', offer.caFile, '--servername', 'other.example'], {env});
		expect(wrong.code).toBe(3);
		expect(wrong.stderr).toContain('other.example');
		const peer = await startPmcd('offer-wrongname');
		try {
			const reached = await runSecmon(['-h', peer.address, '-f', 'hinv.ncpu', '--ca-file', peer.caFile, '--servername', 'wrong.example'], {env});
			expect(reached.code, reached.stderr).toBe(0);
		} finally {
			await peer.stop();
		}
	});
});

describe('downgrade memory in the live panes', () => {
	it('a reconnect that finds the TLS offer stripped stops that host with the reason; the other host goes on', async () => {
		const {Tmux} = await import('../helpers/tmux.js');
		const {cliPath} = await import('../helpers/secmon.js');
		const mitm = await startGreetingStripper({host: offer.host, port: offer.port});
		const {env, dir} = fresh();
		expect((await runSecmon(['-h', mitm.address, '-f', 'hinv.ncpu', '--accept-new'], {env})).code).toBe(0);
		const term = await Tmux.start({
			command: [process.execPath, cliPath, '-h', mitm.address, '-h', plain.address, '-t', '1', 'hinv.ncpu'],
			env: {
				...env, CI: 'false', FORCE_COLOR: '0', TZ: 'UTC',
			},
			cwd: dir,
			columns: 160,
			rows: 50,
		});
		try {
			let screen = await term.waitFor(s => /TLSv1\.3 \S+ · pinned/v.test(s) && s.includes('PLAIN TEXT'), {what: 'both hosts sampling'});
			mitm.strip = true;
			mitm.dropAll();
			// That host's status line and panes: the refusal and the command that fixes it.
			screen = await term.waitFor(/STOPPED \(exit 5\)/v, {what: 'the downgrade refusal for the stripped host', timeoutMs: 30_000});
			expect(screen).toContain(`✖ ${mitm.address}  STOPPED (exit 5)  fix: secmon certs remove ${mitm.address} · TLS refused or missing`);
			// The plain host keeps sampling: its pane is still there after the refusal.
			expect(screen).toContain(`hinv.ncpu @ ${plain.address}`);
			// Enter on the stopped host's pane: the whole refusal.
			await term.sendKeys('Tab');
			await term.waitFor(/^╔/mv, {what: 'the focus on its pane'});
			await term.sendKeys('Enter');
			screen = await term.waitFor(/was read over verified TLS before/v, {what: 'the whole refusal'});
			expect(screen).toContain(`${mitm.address} stopped (exit 5)`);
			await term.sendKeys('q');
			expect(await term.waitForExit(15_000)).toBe(5);
		} finally {
			await term.kill();
			await mitm.close();
		}
	}, 90_000);
});
