/**
 * No Node warning on any path, on every Node that CI runs (.ci/run: 20, 22, 24). The launcher once
 * gave vm.Script `importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`, and
 * Node prints an ExperimentalWarning for it (lib/internal/vm.js) the first time an import()
 * runs: each time the panes started (ink, react), also from an npm-installed secmon.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {
	afterAll, afterEach, describe, expect, it,
} from 'vitest';
import {cliPath, runSecmon, tempHome} from '../helpers/secmon.js';
import {Tmux} from '../helpers/tmux.js';

const home = tempHome();
const terms: Tmux[] = [];

afterEach(async () => {
	for (const term of terms.splice(0)) {
		await term.kill();
	}
});

afterAll(() => {
	home.remove();
});

describe(`no warning on stderr (Node ${process.version})`, () => {
	it.each([
		['a --json fetch from the embedded collector', ['--json', '-f', 'kernel.all.load']],
		['--help', ['--help']],
		['certs list', ['certs', 'list']],
		['serve --help', ['serve', '--help']],
		['a meow-parsed command line (--flag=value)', ['--json', '--samples=1', '-f', 'hinv.ncpu']],
	])('%s', async (_what, args) => {
		const r = await runSecmon(args, {env: {SECMON_HOME: home.dir}});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).not.toBe('');
		expect(r.stderr).not.toMatch(/warning/iv);
	});

	it('the panes (ink and react loaded by import()) in a real terminal', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-warn-'));
		try {
			const stderrFile = path.join(dir, 'stderr');
			const term = await Tmux.start({
				// A shell keeps stderr apart from the screen: the panes draw on the terminal, stderr goes to a file.
				command: ['sh', '-c', 'file=$1; shift; exec "$@" 2>"$file"', 'sh', stderrFile, process.execPath, cliPath, '-t', '1', '-s', '1', 'kernel.all.load'],
				env: {SECMON_HOME: home.dir, CI: 'false', FORCE_COLOR: '0'},
			});
			terms.push(term);
			expect(await term.waitForExit(30_000)).toBe(0);
			// The last frame of the panes stays on the screen: the metric and its instances.
			expect(await term.capture()).toMatch(/kernel\.all\.load[\s\S]*15 minute/v);
			expect(readFileSync(stderrFile, 'utf8')).not.toMatch(/warning/iv);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
