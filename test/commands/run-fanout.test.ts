/**
 * pminfo's job over several collectors when one collector's own setup fails (its ordered sink
 * cannot be opened; the failure is made in the test): the other collectors, a real pmcd reached
 * directly and through a relay and a closed port, still print in --host order, the failure is
 * reported in its place, and the run exits with the worst code.
 */
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import type {Flags} from '../../source/argv/main-flags.js';
import {runPminfo} from '../../source/commands/run.js';
import {SecmonError} from '../../source/errors.js';
import {openSink} from '../../source/output/format.js';
import {makePlan} from '../../source/plan.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {startRelay, type Relay} from '../helpers/mitm.js';
import {freePort} from '../helpers/ports.js';

class Capture extends Writable {
	text = '';
	override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
		this.text += chunk.toString();
		callback();
	}
}

const flags: Flags = {
	host: [],
	derived: [],
	warn: [],
	crit: [],
	fetch: true,
	desc: false,
	pmid: false,
	pmidLong: false,
	oneline: false,
	helpText: false,
	labels: false,
	verify: false,
	force: false,
	events: false,
	json: false,
	raw: false,
	names: false,
	once: false,
	acceptNew: false,
	secure: 'off',
};

describe('one collector\'s setup fails among good ones', () => {
	let pmcd: PmcdPeer;
	let relays: Relay[];
	let closed: string;

	beforeAll(async () => {
		pmcd = await startPmcd('plain');
		relays = [await startRelay({host: pmcd.host, port: pmcd.port}), await startRelay({host: pmcd.host, port: pmcd.port})];
		closed = `127.0.0.1:${await freePort()}`;
	}, 60_000);

	afterAll(async () => {
		await Promise.all((relays ?? []).map(async relay => relay.close()));
		await pmcd?.stop();
	});

	test('the others print in --host order, the failure in its place, the worst exit code', async () => {
		const [failing, last] = relays.map(relay => relay.address) as [string, string];
		const order = [pmcd.address, failing, closed, last];
		const env = {SECMON_HOME: '/nonexistent-secmon-home', PCP_DERIVED_CONFIG: ''};
		const plan = makePlan(['hinv.ncpu'], {...flags, host: order}, {env, stdinIsTty: false, stdoutIsTty: false});
		expect(plan.format).toBe('pminfo');
		const stdout = new Capture();
		const stderr = new Capture();
		const io = {stdout, stderr, env};
		const sink = await openSink(plan.format, io, plan);
		const code = await runPminfo(plan, io, sink, async (hostIo, target) => {
			if (target.display === failing) {
				throw new SecmonError('TRUST_REQUIRED', `cannot set up the output of ${failing}`, 'Nothing to do: the test made it fail.', {exitCode: 3});
			}

			return openSink(plan.format, hostIo, plan);
		});

		// The failed collector has no heading; every other one has its own, in --host order.
		const headings = [...stdout.text.matchAll(/^== (.+) ==$/gmv)].map(match => match[1]);
		expect(headings).toEqual([pmcd.address, closed, last]);
		const blocks = stdout.text.split(/^== .+ ==$/mv).slice(1);
		expect(blocks[0]).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		expect(blocks[1]!.trim()).toBe('');
		expect(blocks[2]).toMatch(/hinv\.ncpu\n {4}value \d+/v);
		// Each failure in its collector's place: the setup's before the closed port's.
		const setup = stderr.text.indexOf(`cannot set up the output of ${failing}`);
		const refused = stderr.text.indexOf(`Cannot connect to PMCD on host "${closed}"`);
		expect(setup).toBeGreaterThanOrEqual(0);
		expect(refused).toBeGreaterThan(setup);
		// Worst: the setup's 3 over the closed port's 1.
		expect(code).toBe(3);
	}, 60_000);
});
