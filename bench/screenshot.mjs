#!/usr/bin/env node
/**
 * The readme screenshot, taken from the real program: two private pmcd collectors (one offering
 * TLS, one plain), `node dist/cli.cjs` in a 120×40 tmux terminal, the trust prompt answered, then
 * `tmux capture-pane -e` after a while of sampling, converted with bench/ansi-svg.mjs.
 *
 *   npm run build && node bench/screenshot.mjs [--seconds 20] [--out media] [--port 49020]
 * Writes media/secmon-tui.svg (panes), media/secmon-tui-prompt.svg (trust prompt),
 * media/secmon-zoom.svg (Enter on a pane), media/secmon-browser.svg (/, the metric browser) and
 * media/secmon-headline.svg (the headline command, `secmon --host H -f kernel.all.load`, once the
 * collector is trusted).
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {ansiToSvg} from './ansi-svg.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const {values} = parseArgs({
	options: {
		seconds: {type: 'string', default: '20'},
		out: {type: 'string', default: path.join(root, 'media')},
		port: {type: 'string', default: '49020'},
	},
});
const pmcdScript = path.join(root, 'test/peers/pmcd.sh');
const certs = process.env.SECMON_TEST_CERTS ?? path.join(os.tmpdir(), `secmon-peer-pki-${process.getuid?.() ?? 'user'}`);
const work = mkdtempSync(path.join(os.tmpdir(), 'secmon-screenshot-'));
const socket = path.join(work, 'tmux.socket');
const tlsPort = Number(values.port);
const plainPort = tlsPort + 1;

function pmcd(...args) {
	return execFileSync('bash', [pmcdScript, ...args], {env: {...process.env, SECMON_TEST_CERTS: certs}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']}).trim();
}

function tmux(...args) {
	return execFileSync('tmux', ['-S', socket, ...args], {encoding: 'utf8'});
}

function capture(escapes, session = 'shot') {
	return tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);
}

async function waitFor(pattern, what, session = 'shot', timeoutMs = 20_000) {
	const deadline = Date.now() + timeoutMs;
	let screen = '';
	while (Date.now() < deadline) {
		screen = capture(false, session);
		if (pattern.test(screen)) {
			return screen;
		}

		await delay(100);
	}

	throw new Error(`timed out waiting for ${what}:\n${screen}`);
}

const metrics = ['kernel.all.load', 'kernel.all.cpu.user', 'mem.util.free', 'network.interface.in.bytes'];
const hosts = [`127.0.0.1:${tlsPort}`, `127.0.0.1:${plainPort}`];
const command = [
	process.execPath,
	path.join(root, 'dist/cli.cjs'),
	'--secure',
	'relaxed',
	...hosts.flatMap(host => ['--host', host]),
	'-t',
	'500msec',
	...metrics,
];
const environment = {
	SECMON_HOME: path.join(work, 'home'),
	CI: 'false',
	FORCE_COLOR: '1',
	TZ: 'UTC',
};

try {
	pmcd('start', 'offer', String(tlsPort), path.join(work, 'tls'));
	pmcd('start', 'plain', String(plainPort), path.join(work, 'plain'));
	writeFileSync(path.join(work, 'tmux.conf'), 'set -g status off\nset -g default-terminal tmux-256color\n');
	const size = ['-x', '120', '-y', '40'];
	const env = Object.entries(environment).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
	tmux('-f', path.join(work, 'tmux.conf'), 'new-session', '-d', '-s', 'shot', ...size, ...env, '--', ...command);

	await waitFor(/can't be established/v, 'the trust prompt');
	await delay(1500);
	const promptTitle = `secmon --secure relaxed --host ${hosts[0]} --host ${hosts[1]} … (trust on first use)`;
	writeFileSync(path.join(values.out, 'secmon-tui-prompt.svg'), ansiToSvg(capture(true), {columns: 120, title: promptTitle, trim: true}));

	tmux('send-keys', '-t', 'shot', 'y');
	await waitFor(/accepted and pinned/v, 'the accepted status line');
	await delay(Number(values.seconds) * 1000);
	tmux('send-keys', '-t', 'shot', 'Tab');
	await delay(700);
	const title = `secmon --secure relaxed --host ${hosts[0]} --host ${hosts[1]} -t 500msec kernel.all.load …`;
	writeFileSync(path.join(values.out, 'secmon-tui.svg'), ansiToSvg(capture(true), {columns: 120, title, trim: true}));
	// Enter zooms the focused pane (render/tui/zoom.tsx), Esc back.
	tmux('send-keys', '-t', 'shot', 'Enter');
	await waitFor(/min\/avg\/max over \d+ sample/v, 'the zoomed pane');
	await delay(Number(values.seconds) * 500);
	writeFileSync(path.join(values.out, 'secmon-zoom.svg'), ansiToSvg(capture(true), {columns: 120, title: `${title} (Enter: zoom)`, trim: true}));
	tmux('send-keys', '-t', 'shot', 'Escape');
	await delay(500);
	// / opens the metric browser (render/tui/browser.tsx): the collector's names, searched.
	tmux('send-keys', '-t', 'shot', '/');
	await waitFor(/Add a metric/v, 'the metric browser');
	tmux('send-keys', '-t', 'shot', '-l', 'disk.dev.r');
	await delay(1500);
	writeFileSync(path.join(values.out, 'secmon-browser.svg'), ansiToSvg(capture(true), {columns: 120, title: `${title} (/: add a metric)`, trim: true}));
	tmux('send-keys', '-t', 'shot', 'Escape');
	await delay(500);
	tmux('send-keys', '-t', 'shot', 'q');
	await delay(500);

	// The headline command on the collector just trusted: no prompt, the panes at once.
	tmux('-f', path.join(work, 'tmux.conf'), 'new-session', '-d', '-s', 'headline', '-x', '120', '-y', '14', ...env, '--', process.execPath, path.join(root, 'dist/cli.cjs'), '--host', hosts[0], '-f', 'kernel.all.load');
	await waitFor(/15 minute +\d/v, 'the headline panes', 'headline');
	await delay(Number(values.seconds) * 1000);
	writeFileSync(path.join(values.out, 'secmon-headline.svg'), ansiToSvg(capture(true, 'headline'), {columns: 120, title: `secmon --host ${hosts[0]} -f kernel.all.load`, trim: true}));
	tmux('send-keys', '-t', 'headline', 'q');
	await delay(500);
	process.stdout.write(`wrote ${path.join(values.out, 'secmon-tui.svg')}, secmon-tui-prompt.svg, secmon-zoom.svg, secmon-browser.svg and secmon-headline.svg\n`);
} finally {
	try {
		execFileSync('tmux', ['-S', socket, 'kill-server'], {stdio: 'ignore'});
	} catch {
		// The UI quit and the server with it.
	}

	for (const dir of ['tls', 'plain']) {
		try {
			pmcd('stop', path.join(work, dir));
		} catch {
			// Not started.
		}
	}

	rmSync(work, {recursive: true, force: true});
}
