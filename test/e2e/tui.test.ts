/**
 * The real binary (dist/cli.cjs, built by `npm run build`) in a real terminal (tmux) against a real
 * pmcd: trust prompt inside the UI, panes updating, p/r/q, the collector killed and restarted,
 * a changed certificate (exit 4), and CI=true in a terminal (plain text, readable prompt).
 */
import {X509Certificate} from 'node:crypto';
import {
	existsSync, mkdtempSync, readdirSync, readFileSync, rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {
	afterAll, afterEach, beforeAll, describe, expect, test,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {Tmux} from '../helpers/tmux.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'dist', 'cli.cjs');

/** "23:51:02" in the header: the time of the newest sample. */
function sampleClock(screen: string): string | undefined {
	return /^secmon every .*? · (\d\d:\d\d:\d\d)/mv.exec(screen)?.[1];
}

describe('secmon TUI in a real terminal', () => {
	let peer: PmcdPeer;
	let home: string;
	let sha256: string;
	const terms: Tmux[] = [];

	async function open(args: string[], env: Record<string, string> = {}, secmonHome = home): Promise<Tmux> {
		const term = await Tmux.start({
			command: [process.execPath, cli, ...args],
			env: {
				SECMON_HOME: secmonHome, CI: 'false', FORCE_COLOR: '0', TZ: 'UTC', ...env,
			},
			cwd: root,
			columns: 120,
			rows: 40,
		});
		terms.push(term);
		return term;
	}

	beforeAll(async () => {
		if (!existsSync(cli)) {
			throw new Error(`${cli} is missing: run "npm run build" first (npm test does)`);
		}

		peer = await startPmcd('offer');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-tui-'));
		sha256 = new X509Certificate(readFileSync(peer.serverCert)).fingerprint256;
	});

	afterEach(async () => {
		for (const term of terms.splice(0)) {
			await term.kill();
		}
	});

	afterAll(async () => {
		await peer?.stop();
		if (home) {
			rmSync(home, {recursive: true, force: true});
		}
	});

	test('prompt accepted, panes update, p/r work, the collector restarts and the panes recover, resize re-flows, q quits', async () => {
		const term = await open(['--secure', 'enforce', '--host', peer.address, '-t', '1', 'kernel.all.load', 'mem.util.free', 'disk.dev.read', 'sample.bin']);

		// Trust on first use, inside the UI.
		let screen = await term.waitFor(/can't be established/v, {what: 'the trust prompt'});
		expect(screen).toContain(`The authenticity of collector ${peer.address} can't be established.`);
		expect(screen).toContain(sha256.split(':').slice(0, 16).join(':'));
		expect(screen).toContain('waiting for your trust decision');
		await term.sendKeys('y');

		screen = await term.waitFor(/connected · TLSv1\.3 \S+ · accepted and pinned/v, {what: 'the status line after accepting'});
		expect(screen).not.toContain('can\'t be established');
		expect(readdirSync(path.join(home, 'known_collectors')).length).toBe(1);

		// Panes with values; they update every second.
		screen = await term.waitFor(/bin-900 +900 /v, {what: 'the sample.bin pane'});
		expect(screen).toMatch(/mem\.util\.free +instant, Kbyte/v);
		expect(screen).toMatch(/\d+(?:\.\d+)? (?:MiB|GiB)/v);
		expect(screen).toMatch(/disk\.dev\.read +rate\/s, count/v);
		const first = sampleClock(screen);
		expect(first).toBeDefined();
		screen = await term.waitFor(s => sampleClock(s) !== undefined && sampleClock(s) !== first, {what: 'a newer sample'});

		// p pauses: the sample time stops; p again resumes.
		await term.sendKeys('p');
		screen = await term.waitFor(/ PAUSED /v, {what: 'PAUSED'});
		const paused = sampleClock(screen);
		await delay(2500);
		expect(sampleClock(await term.capture())).toBe(paused);
		await term.sendKeys('p');
		await term.waitFor(s => !s.includes(' PAUSED ') && sampleClock(s) !== paused, {what: 'sampling to resume'});

		// r: counters raw, and back to rates.
		await term.sendKeys('r');
		screen = await term.waitFor(/disk\.dev\.read +raw counter/v, {what: 'raw counters'});
		expect(screen).toContain('every 1 s · raw counters');
		await term.sendKeys('r');
		await term.waitFor(/disk\.dev\.read +rate\/s/v, {what: 'rates again'});

		// The collector goes away: the UI stays, says so, and retries.
		await peer.halt();
		screen = await term.waitFor(/disconnected · (?:retry in \d+ s|retrying now)/v, {what: 'the disconnected panes'});
		expect(screen).toMatch(/○ \S+ disconnected: /v);
		expect(await term.exitStatus()).toBeUndefined();

		// Back on the same port: the pin is checked again and the panes resume.
		await peer.restart();
		screen = await term.waitFor(/● \S+ connected · TLSv1\.3 \S+ · pinned/v, {what: 'reconnection', timeoutMs: 30_000});
		const resumed = sampleClock(screen);
		screen = await term.waitFor(s => sampleClock(s) !== resumed && !s.includes('disconnected ·'), {what: 'samples after the restart'});
		expect(screen).toMatch(/bin-900 +900 /v);

		// A narrower terminal: the panes re-flow into one column.
		expect(screen.split('\n').some(line => line.includes('kernel.all.load') && line.includes('mem.util.free'))).toBe(true);
		await term.resize(60, 40);
		screen = await term.waitFor(s => s.includes('kernel.all.load') && !s.split('\n').some(line => line.includes('kernel.all.load') && line.includes('mem.util.free')), {what: 'one column of panes'});
		expect(screen).toContain('mem.util.free');

		await term.sendKeys('q');
		expect(await term.waitForExit()).toBe(0);
	}, 120_000);

	test('the headline command: -f in a terminal asks first, opens the panes; NO_COLOR draws no colour; q leaves the last frame; --once is one shot', async () => {
		const fresh = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-headline-'));
		try {
			const term = await open(['--host', peer.address, '-f', 'kernel.all.load'], {NO_COLOR: '1', FORCE_COLOR: ''}, fresh);
			await term.waitFor(/can't be established/v, {what: 'the trust prompt'});
			await term.sendKeys('y');
			let screen = await term.waitFor(/15 minute +\d/v, {what: 'the kernel.all.load pane'});
			expect(screen).toMatch(/kernel\.all\.load +instant/v);
			expect(screen).toMatch(/● \S+ connected · TLSv1\.3/v);
			const coloured = await term.capture({escapes: true});
			expect(coloured).not.toMatch(/\u001B\[[\d;]*m/v);
			await term.sendKeys('q');
			expect(await term.waitForExit()).toBe(0);
			screen = await term.capture();
			// (Its first line can scroll away in a tmux just started: the status line and the pane are checked.)
			expect(screen).toMatch(/● \S+ connected · TLSv1\.3[\s\S]*kernel\.all\.load +instant[\s\S]*1 minute +\d[\s\S]*15 minute +\d/v);
			expect(screen).not.toMatch(/warning/iv);

			// --once: pminfo's text, in the same terminal, and the exit.
			const once = await open(['--host', peer.address, '-f', '--once', 'kernel.all.load'], {}, fresh);
			expect(await once.waitForExit()).toBe(0);
			expect(await once.capture()).toMatch(/^kernel\.all\.load\n {4}inst \[1 or "1 minute"\] value \d/mv);

			// FORCE_COLOR=1 (and no NO_COLOR): colours; FORCE_COLOR=0: none.
			for (const [force, sgr] of [['1', true], ['0', false]] as const) {
				const term = await open(['--host', peer.address, '-f', 'kernel.all.load'], {FORCE_COLOR: force}, fresh);
				await term.waitFor(/15 minute +\d/v, {what: `the pane with FORCE_COLOR=${force}`});
				expect(/\u001B\[[\d;]*m/v.test(await term.capture({escapes: true}))).toBe(sgr);
				await term.sendKeys('q');
				expect(await term.waitForExit()).toBe(0);
			}
		} finally {
			rmSync(fresh, {recursive: true, force: true});
		}
	}, 60_000);

	test('two collectors, one changes its certificate: that host stops in its own lines with the fix, Enter shows the warning, the other keeps sampling; exit 4', async () => {
		const other = await startPmcd('offer');
		const fresh = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-two-'));
		try {
			const term = await open(['--secure', 'enforce', '--accept-new', '--host', peer.address, '--host', other.address, '-f', 'kernel.all.load', 'sample.bin'], {}, fresh);
			await term.waitFor(s => (s.match(/pinned by --accept-new/gv) ?? []).length === 2 && /bin-900 +900 /v.test(s), {what: 'both collectors sampling'});
			await peer.restart('offer-rotated');
			let screen = await term.waitFor(/✖ \S+ +STOPPED \(exit 4\)/v, {what: 'the changed certificate on its status line', timeoutMs: 30_000});
			expect(screen).toContain(`✖ ${peer.address}  STOPPED (exit 4)  fix: secmon certs remove ${peer.address} · certificate CHANGED`);
			expect(screen).toContain('│ ✖ STOPPED: certificate CHANGED ');
			// The command wrapped in the 40-column pane, never cut.
			expect(screen).toContain('│ fix: secmon certs remove ');
			expect(screen).toContain(`│ ${peer.address} · Enter: why`);
			expect(screen).not.toContain('SOMETHING NASTY');
			// The other collector keeps sampling, its panes on screen.
			expect(screen).toMatch(new RegExp(`● ${other.address.replaceAll('.', String.raw`\.`)} connected`, 'v'));
			// The newest sample's time moves on: only the other collector still samples.
			const before = sampleClock(screen);
			screen = await term.waitFor(s => sampleClock(s) !== undefined && sampleClock(s) !== before, {what: 'the other collector to sample on'});
			// Its pane (the host shortened in the middle, the end of the port kept).
			const otherPane = new RegExp(String.raw`kernel\.all\.load @ \S*${other.address.slice(-3)}  instant`, 'v');
			expect(screen).toMatch(otherPane);

			// Enter on the stopped host's pane: the whole warning; Esc: back.
			await term.sendKeys('Tab');
			await term.waitFor(/^╔/mv, {what: 'the focus on its first pane'});
			await term.sendKeys('Enter');
			screen = await term.waitFor(/SOMETHING NASTY/v, {what: 'the full warning'});
			expect(screen).toContain('WARNING: COLLECTOR CERTIFICATE HAS CHANGED');
			await term.sendKeys('Escape');
			await term.waitFor(s => !s.includes('SOMETHING NASTY') && otherPane.test(s), {what: 'the panes again'});

			await term.sendKeys('q');
			expect(await term.waitForExit()).toBe(4);
		} finally {
			await other.stop();
			await peer.restart('offer');
			rmSync(fresh, {recursive: true, force: true});
		}
	}, 90_000);

	test('CI=true in a terminal: plain text samples and a readable line prompt, no screen drawing', async () => {
		const fresh = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-ci-'));
		try {
			const term = await open(['--secure', 'enforce', '--host', peer.address, '-t', '500msec', '-s', '2', 'kernel.all.load'], {CI: 'true'}, fresh);
			const screen = await term.waitFor(/Trust this collector\? \[y\] yes, save it/v, {what: 'the line prompt'});
			expect(screen).toContain(`SHA-256:  ${sha256}`);
			await term.sendKeys('o', 'Enter');
			expect(await term.waitForExit()).toBe(0);
			const out = await term.capture();
			expect(out.match(/TLS TLSv1\.3, accepted-once/gv)).toHaveLength(2);
			expect(out).toMatch(/1 minute +\d/v);
			expect(out).not.toMatch(/[╭╰│]/v);
		} finally {
			rmSync(fresh, {recursive: true, force: true});
		}
	}, 60_000);

	test('a changed certificate: refused loudly, exit 4, the warning stays on the terminal', async () => {
		// The pin saved in the first test is for server.pem; now the collector shows another certificate.
		await peer.restart('offer-rotated');
		try {
			const term = await open(['--secure', 'enforce', '--host', peer.address, 'kernel.all.load']);
			expect(await term.waitForExit(30_000)).toBe(4);
			const screen = await term.capture();
			expect(screen).toContain('WARNING: COLLECTOR CERTIFICATE HAS CHANGED');
			expect(screen).toContain('secmon certs remove');
		} finally {
			await peer.restart('offer');
		}
	}, 60_000);
});
