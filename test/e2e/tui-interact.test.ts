/**
 * The panes' keys with the real binary (dist/cli.cjs) in a real terminal (tmux) against a real
 * pmcd: Enter zooms (help text from pmcd, min/avg/max), Esc back; / browses the PMNS, a search
 * and Enter add a pane; s saves the set; `secmon --set NAME` opens it again; d removes a pane.
 */
import {
	existsSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {
	afterAll, afterEach, beforeAll, describe, expect, test,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {Tmux} from '../helpers/tmux.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'dist', 'cli.cjs');

describe('zoom, browser and saved sets in a real terminal', () => {
	let peer: PmcdPeer;
	let home: string;
	const terms: Tmux[] = [];

	async function open(args: string[]): Promise<Tmux> {
		const term = await Tmux.start({
			command: [process.execPath, cli, ...args],
			env: {
				SECMON_HOME: home, CI: 'false', FORCE_COLOR: '0', TZ: 'UTC', PCP_DERIVED_CONFIG: '',
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

		peer = await startPmcd('plain');
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-e2e-browse-'));
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

	test('Enter zooms, / adds sample.bin, s saves, --set reopens, d removes', async () => {
		let term = await open(['--secure', 'off', '--host', peer.address, '-t', '1', 'kernel.all.load']);
		await term.waitFor(/1 minute +\d/v, {what: 'the kernel.all.load pane'});

		// Enter: the pane on the whole screen, with pmcd's help text and min/avg/max.
		await term.sendKeys('Tab');
		await term.waitFor(/╔/v, {what: 'the focused pane'});
		await term.sendKeys('Enter');
		let screen = await term.waitFor(/min\/avg\/max over [2-9] sample/v, {what: 'the zoom'});
		expect(screen).toMatch(/instance +now +min +avg +max/v);
		screen = await term.waitFor(/load average/v, {what: 'the help text in the zoom'});
		expect(screen).toMatch(/15 minute +\d/v);
		await term.sendKeys('Escape');
		await term.waitFor(s => !s.includes('min/avg/max over'), {what: 'the panes again'});

		// /: the PMNS, searched; the selected name's help; Enter adds its pane while sampling goes on.
		await term.sendKeys('/');
		screen = await term.waitFor(/Add a metric from .* \d+ here · \d+ name\(s\) in all/v, {what: 'the browser with the names'});
		expect(screen).toMatch(/kernel ▸ \d+/v);
		await term.type('sample.bin');
		screen = await term.waitFor(/› sample\.bin +│/v, {what: 'sample.bin selected'});
		// pmcd has no help text for sample.bin (pminfo -tT says "not available"): the browser says so.
		await term.waitFor(/the collector gives no help text for this name/v, {what: 'sample.bin\'s help (none)'});
		await term.sendKeys('Enter');
		screen = await term.waitFor(/bin-900 +900 /v, {what: 'the sample.bin pane with values'});
		expect(screen).toMatch(/1 minute +\d/v);

		// s: saved as a named set, only now.
		expect(existsSync(path.join(home, 'sets.json'))).toBe(false);
		await term.sendKeys('s');
		await term.waitFor(/Save as set:/v, {what: 'the save dialog'});
		await term.type('e2e-bins');
		await term.waitFor(/Save as set: e2e-bins/v, {what: 'the typed name'});
		await term.sendKeys('Enter');
		await term.waitFor(/saved set e2e-bins .*secmon --set e2e-bins opens it/v, {what: 'the saved notice'});
		expect(JSON.parse(readFileSync(path.join(home, 'sets.json'), 'utf8'))).toMatchObject({
			'e2e-bins': {hosts: [peer.address], metrics: ['kernel.all.load', 'sample.bin'], intervalMs: 1000},
		});
		await term.sendKeys('q');
		expect(await term.waitForExit()).toBe(0);
		await term.kill();

		// --set: the same host and panes again; d removes the focused one.
		term = await open(['--secure', 'off', '--set', 'e2e-bins']);
		screen = await term.waitFor(s => /bin-900 +900 /v.test(s) && /1 minute +\d/v.test(s), {what: 'both panes from the set'});
		expect(screen).toContain('secmon every 1 s');
		await term.sendKeys('Tab');
		await term.waitFor(/╔/v, {what: 'the focused pane'});
		await term.sendKeys('d');
		screen = await term.waitFor(s => !s.includes('kernel.all.load') && s.includes('bin-900'), {what: 'kernel.all.load removed'});
		await term.sendKeys('q');
		expect(await term.waitForExit()).toBe(0);
		// Nothing is written on exit: the set is as saved.
		expect(JSON.parse(readFileSync(path.join(home, 'sets.json'), 'utf8'))).toMatchObject({
			'e2e-bins': {metrics: ['kernel.all.load', 'sample.bin']},
		});
	}, 120_000);
});
