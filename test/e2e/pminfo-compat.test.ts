/**
 * secmon's pminfo mode against Debian's real pminfo 6.0.3, on the same real pmcd:
 * byte-identical output (core issue part 3). Values that change between the two
 * runs (load averages, disk counters) are masked; every other byte must match.
 */
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let peer: PmcdPeer;
const home = tempHome();

beforeAll(async () => {
	peer = await startPmcd('plain');
});

afterAll(async () => {
	await peer?.stop();
	home.remove();
});

/** Metrics whose values move between two runs a few ms apart. */
const moving = /^(kernel\.all\.load|disk\.dev\.read|sample\.(?:seconds|milliseconds|load|colour|step|step_counter|drift|lights|mirage\w*|dynamic\.\w+|rapid|scramble\.\w+|sysinfo|hordes\.\w+|byte_ctr|byte_rate|kbyte_ctr|kbyte_rate|datasize|recv_pdu|xmit_pdu|percpu\.\w+|pdu|proc\.\w+))$/;

function mask(output: string): string {
	const lines = output.split('\n');
	let current = '';
	return lines.map(line => {
		// A block starts with the metric's name; help text lines (-T) also start at column 0.
		const name = /^([a-z_]\w*(?:\.\w+)+)(?: |$)/i.exec(line);
		if (name) {
			current = name[1]!;
			return line;
		}

		if (!line.startsWith(' ')) {
			return line;
		}

		// Keep the number's shape (sign, decimal point, exponent) and hide only its digits.
		return moving.test(current) || /(?:_ctr|\.ctr\.\w+|ulonglong\.bin|^sample\.negative\..*)$/.test(current)
			? line.replace(/ value (.*)$/, (_, value: string) => ` value ${value.replaceAll(/\d+/g, 'N')}`)
			: line;
	}).join('\n');
}

const coreMetrics = ['kernel.all.load', 'hinv.ncpu', 'mem.physmem', 'kernel.uname.release', 'disk.dev.read'];
/** Sample-PMDA subtrees with every value type, strings, aggregates, negative numbers, errors and no-values. */
const sampleMetrics = [
	'sample.long',
	'sample.ulong',
	'sample.longlong',
	'sample.ulonglong',
	'sample.float',
	'sample.double',
	'sample.string',
	'sample.aggregate',
	'sample.negative',
	'sample.bad',
	'sample.needprofile',
	'sample.many.int',
	'sample.mirage',
];

/**
 * Both tools in plain text, as PCP_SECURE_SOCKETS=0 asks (pminfo's default; secmon's default would
 * use TLS when offered and warn about plain text on stderr, which pminfo does not).
 */
const plainText = {PCP_SECURE_SOCKETS: '0'};

async function compare(args: string[]): Promise<void> {
	const host = ['-h', peer.address];
	const [ours, theirs] = await Promise.all([
		runSecmon([...host, ...args], {env: {SECMON_HOME: home.dir, ...plainText}}),
		runPminfo([...host, ...args], plainText),
	]);
	expect(mask(ours.stdout)).toBe(mask(theirs.stdout));
	expect(ours.stderr.replaceAll('secmon', 'pminfo')).toBe(theirs.stderr);
	expect(ours.code).toBe(theirs.code);
}

describe('pminfo compatibility (real pminfo vs secmon, same pmcd)', () => {
	it.each([
		['-f'],
		['-d'],
		['-m'],
		['-M'],
		['-t'],
		['-T'],
		['-dfmtT'],
	])('%s on the core metrics', async flag => {
		await compare([flag, ...coreMetrics]);
	});

	it.each([['-f'], ['-d'], ['-dmtT']])('%s on sample metrics of every type', async flag => {
		await compare([flag, ...sampleMetrics]);
	});

	it('expands non-leaf names (hinv, kernel.uname)', async () => {
		await compare(['-f', 'hinv', 'kernel.uname']);
	});

	it('lists names under a prefix with no flags', async () => {
		await compare(['sample.long', 'kernel.all']);
	});

	it('reports unknown names on stderr with exit 1 and still prints the others', async () => {
		await compare(['-f', 'no.such.metric', 'hinv.ncpu', 'sample.nonexistent']);
	});

	it('keeps argument order when leaves (looked up first), a non-leaf, an unknown name and a repeat mix', async () => {
		await compare(['-f', 'hinv.ncpu', 'kernel.uname', 'no.such.metric', 'sample.long.one', 'hinv.ncpu']);
		await compare(['-d', 'kernel.uname', 'hinv.ncpu', 'kernel.uname.release']);
	});

	it('takes a PMID argument', async () => {
		await compare(['-f', '60.0.32']);
	});

	it('lists every name of the namespace like bare pminfo (with its client-side event.* names)', async () => {
		// Both without global derived metrics (test/e2e/pminfo-derived.test.ts has them).
		const [ours, theirs] = await Promise.all([
			runSecmon(['-h', peer.address], {env: {SECMON_HOME: home.dir, ...plainText, PCP_DERIVED_CONFIG: ''}}),
			runPminfo(['-h', peer.address], plainText),
		]);
		expect(ours.stdout.split('\n')).toEqual(theirs.stdout.split('\n'));
		expect(ours.stdout).toContain('\nevent.flags\nevent.missed\n');
		expect(ours.code).toBe(0);
	});
});
