/**
 * Event records in pminfo -f as Debian's pminfo 6.0.3 prints them (libpcp print_event_summary):
 * "[N event records (M missed) timestamps A...B]", not hex (issue 16 part 1). The sample PMDA
 * walks through its event states one fetch at a time from sample.event.reset, so each tool is
 * given the same seven states; the timestamps (the fetch times) are masked.
 */
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPcpTool, runPminfo} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let peer: PmcdPeer;
const home = tempHome();

beforeAll(async () => {
	peer = await startPmcd('plain');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
});

const events = ['sample.event.records', 'sample.event.highres_records', 'sample.event.no_indom_records'];
const plainText = {PCP_SECURE_SOCKETS: '0'};

async function reset(): Promise<void> {
	for (const metric of ['sample.event.reset', 'sample.event.reset_highres']) {
		const stored = await runPcpTool('/usr/bin/pmstore', ['-h', peer.address, metric, '0'], plainText);
		expect(stored.code).toBe(0);
	}
}

const mask = (text: string) => text.replaceAll(/\d\d:\d\d:\d\d\.\d+/g, 'HH:MM:SS');

async function states(run: () => Promise<{stdout: string; code: number | null}>): Promise<string[]> {
	await reset();
	const out: string[] = [];
	for (let state = 0; state < 7; state++) {
		const result = await run();
		expect(result.code).toBe(0);
		out.push(mask(result.stdout));
	}

	return out;
}

describe('event records in pminfo -f, secmon vs pminfo', () => {
	it('print as record counts, missed records and first...last timestamps', async () => {
		const ours = await states(async () => runSecmon(['-h', peer.address, '-f', ...events], {env: {SECMON_HOME: home.dir, ...plainText}}));
		const theirs = await states(async () => runPminfo(['-h', peer.address, '-f', ...events], plainText));
		expect(ours).toEqual(theirs);
		const all = theirs.join('');
		expect(all).toContain('event records (');
		expect(all).toContain('[1 event record timestamp HH:MM:SS]');
		expect(all).toContain('[0 event records]');
	});
});
