/**
 * Two pmproxy:// targets that differ only by ?hostspec= are two collectors everywhere: their
 * names carry the hostspec, so the panes keep both (they were one name, and the second was
 * dropped), pminfo's text heads each with its own line, and --json lines say "hostspec". The
 * real binary against Debian's real pmproxy in front of two real pmcds, panes in a real terminal.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {startPmproxy, type PmproxyPeer} from '../helpers/pmproxy.js';
import {runSecmon} from '../helpers/secmon.js';
import {Tmux} from '../helpers/tmux.js';
import {checkJsonLines} from '../helpers/json-lines.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'dist', 'cli.cjs');

describe('pmproxy targets that differ only by ?hostspec=', () => {
	let first: PmcdPeer;
	let second: PmcdPeer;
	let proxy: PmproxyPeer;
	let home: string;
	let specs: string[];
	let names: string[];

	beforeAll(async () => {
		if (!existsSync(cli)) {
			throw new Error(`${cli} is missing: run "npm run build" first (npm test does)`);
		}

		[first, second] = await Promise.all([startPmcd('plain'), startPmcd('plain')]);
		proxy = await startPmproxy('tls', first.port);
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-hostspec-'));
		specs = [first, second].map(pmcd => `pmproxys://localhost:${proxy.port}?hostspec=${pmcd.address}`);
		names = [first, second].map(pmcd => `localhost:${proxy.port}?hostspec=${pmcd.address}`);
	}, 60_000);

	afterAll(async () => {
		await proxy?.stop();
		await Promise.all([first?.stop(), second?.stop()]);
		if (home) {
			rmSync(home, {recursive: true, force: true});
		}
	});

	const hosts = () => specs.flatMap(spec => ['--host', spec]);

	test('pminfo\'s text: one heading per target, with its hostspec', async () => {
		const result = await runSecmon([...hosts(), '--ca-file', proxy.caFile, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout.replaceAll(/value \d+/gv, 'value N')).toBe(`\n== ${names[0]!} ==\n\nhinv.ncpu\n    value N\n\n== ${names[1]!} ==\n\nhinv.ncpu\n    value N\n`);
	});

	test('--json: each line says its hostspec (host and port are the same); errors too', async () => {
		const result = await runSecmon([...hosts(), '--ca-file', proxy.caFile, '--json', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
		expect(result.code).toBe(0);
		const lines = checkJsonLines(result.stdout, 'secmon.json') as Array<Record<string, unknown>>;
		expect(lines.map(line => String(line['hostspec'])).toSorted((a, b) => a.localeCompare(b))).toEqual([first.address, second.address].toSorted((a, b) => a.localeCompare(b)));
		expect(lines.every(line => line['host'] === 'localhost' && line['port'] === proxy.port)).toBe(true);

		const gone = `pmproxys://localhost:${proxy.port}?hostspec=127.0.0.1:1`;
		const failed = await runSecmon(['--host', gone, '--ca-file', proxy.caFile, '--json', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
		expect(failed.code).toBe(1);
		const [error] = checkJsonLines(failed.stdout, 'secmon.json') as Array<Record<string, unknown>>;
		expect(error).toMatchObject({type: 'error', host: 'localhost', hostspec: '127.0.0.1:1'});
		expect(failed.stderr).toContain(`pmproxy at localhost:${proxy.port}?hostspec=127.0.0.1:1 could not answer /pmapi/context`);
	});

	test('the panes: both collectors, each on its own status line and in its own panes', async () => {
		const term = await Tmux.start({
			command: [process.execPath, cli, ...hosts(), '--ca-file', proxy.caFile, '-t', '0.5', 'hinv.ncpu'],
			env: {
				SECMON_HOME: home, CI: 'false', FORCE_COLOR: '0', TZ: 'UTC',
			},
			cwd: root,
			columns: 140,
			rows: 30,
		});
		try {
			const screen = await term.waitFor(s => names.every(name => s.includes(`● ${name} connected`)) && (s.match(/hinv\.ncpu @ /gv) ?? []).length === 2, {what: 'both collectors sampling', timeoutMs: 30_000});
			expect(screen).not.toContain('STOPPED');
			await term.sendKeys('q');
			expect(await term.waitForExit()).toBe(0);
		} finally {
			await term.kill();
		}
	}, 60_000);
});
