/**
 * Derived metrics in secmon's pminfo mode against Debian's real pminfo 6.0.3 on the same real pmcd
 * (issue 16 part 1): every metric of Debian's global configuration with -d -m -M -t -T -f, the full
 * listing (count and order), -c/--derived files with their diagnostics and semantic errors,
 * PCP_DERIVED_CONFIG empty and set. Moving values are masked; every other byte must match.
 */
import {mkdtempSync, readdirSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';
import {globalDerivedDirectory, loadDerivedMetrics} from '../../source/metrics/derived/config.js';

const globalDir = globalDerivedDirectory({});
const haveConfig = (() => {
	try {
		return readdirSync(globalDir).length > 0;
	} catch {
		return false;
	}
})();

let peer: PmcdPeer;
const home = tempHome();
const dir = mkdtempSync(path.join(os.tmpdir(), 'derived-conf-'));
const conf = path.join(dir, 'my.conf');
const conf2 = path.join(dir, 'more.conf');

beforeAll(async () => {
	peer = await startPmcd('plain');
	writeFileSync(conf, [
		'# values that do not move, the operators, aggregates, instance filters, errors',
		'my.ncpu2 = hinv.ncpu * 2',
		'my.ncpu2(oneline) = twice the CPUs',
		'my.ncpu2(helptext) = "Twice the number of CPUs,',
		'over two lines."',
		'my.load = kernel.all.load[1] + 0.5',
		'my.sum = sum(sample.bin)',
		'my.bad = sample.long.one + kernel.all.cpu.user',
		'my.cmp = sample.bin > 300',
		'my.str = sample.string.hullo',
		'my.neg = -sample.ulong.ten',
		'my.avg = avg(sample.bin)',
		'my.filt = matchinst(/bin-[1-3]00/, sample.bin)',
		'my.none = no.such.metric + 1',
		'my.cnt = count(sample.bin)',
		'my.div = sample.long.one / sample.long.ten',
		'my.ternary = sample.long.one > 0 ? sample.bin : sample.bin * 2',
		'my.rate = rate(sample.long.one)',
		'my syntax = 1 +',
		'my.syntax = 1 +',
		'',
	].join('\n'));
	writeFileSync(conf2, 'more.hundred = sample.long.hundred * 1.5\nmore.kb = rescale(mem.physmem, "Mbyte")\n');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
});

/** Derived metrics whose values move between the two runs. */
const moving = /^(?:my\.load|kernel\.all\.load)$/;

function mask(output: string): string {
	let current = '';
	return output.split('\n').map(line => {
		const name = /^([a-z_]\w*(?:\.\w+)+)(?: |$)/i.exec(line);
		if (name) {
			current = name[1]!;
			return line;
		}

		return line.startsWith(' ') && moving.test(current)
			? line.replace(/ value (.*)$/, (_, value: string) => ` value ${value.replaceAll(/\d+/g, 'N')}`)
			: line;
	}).join('\n');
}

const plainText = {PCP_SECURE_SOCKETS: '0'};

/** Both tools with the same arguments and the same derived configuration environment. */
async function compare(args: string[], derived: {PCP_DERIVED_CONFIG?: string} = {}): Promise<{stdout: string; stderr: string}> {
	derived.PCP_DERIVED_CONFIG ??= globalDir;
	const host = ['-h', peer.address];
	const [ours, theirs] = await Promise.all([
		runSecmon([...host, ...args], {env: {SECMON_HOME: home.dir, ...plainText, ...derived}}),
		runPminfo([...host, ...args], {...plainText, PCP_DERIVED_CONFIG: derived.PCP_DERIVED_CONFIG ?? globalDir}),
	]);
	expect(mask(ours.stdout)).toBe(mask(theirs.stdout));
	expect(ours.stderr.replaceAll('secmon', 'pminfo')).toBe(theirs.stderr);
	expect(ours.code).toBe(theirs.code);
	return theirs;
}

describe.skipIf(!haveConfig)('derived metrics of Debian\'s global configuration, secmon vs pminfo', () => {
	const names = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: globalDir}}).metrics.map(metric => metric.name);

	it('has the configuration this test expects', () => {
		expect(names.length).toBeGreaterThan(60);
		expect(names).toContain('kernel.cpu.util.user');
		expect(names).toContain('disk.dev.await');
	});

	it.each([['-d'], ['-m'], ['-M'], ['-t'], ['-T'], ['-f'], ['-dmtT'], ['-dfmMtT']])('%s on every one (those whose operands pmcd lacks: Unknown metric name)', async flag => {
		const theirs = await compare([flag, ...names]);
		expect(theirs.stdout).toContain('kernel.cpu.util.user');
	});

	it('expands a prefix to real and derived names (disk.dev, kernel.cpu, event)', async () => {
		await compare(['disk.dev', 'kernel.cpu', 'event']);
		await compare(['-d', 'kernel.cpu.util']);
	});

	it('lists the whole namespace as pminfo does: real names, then the derived ones that bind', async () => {
		const theirs = await compare([]);
		const listed = theirs.stdout.split('\n');
		expect(listed.indexOf('kernel.cpu.util.user')).toBeGreaterThan(listed.indexOf('event.missed'));
	});

	it('loads the global configuration when PCP_DERIVED_CONFIG is unset', async () => {
		const [ours, theirs] = await Promise.all([
			runSecmon(['-h', peer.address], {env: {SECMON_HOME: home.dir, ...plainText}}),
			runPminfo(['-h', peer.address], {...plainText, PCP_DERIVED_CONFIG: globalDir}),
		]);
		expect(ours.stdout).toBe(theirs.stdout);
		expect(ours.stdout).toContain('\nkernel.cpu.util.user\n');
	});

	it('takes PMIDs of derived metrics (511.0.N)', async () => {
		await compare(['-d', '511.0.1', '511.0.3']);
	});
});

describe('PCP_DERIVED_CONFIG and -c/--derived, secmon vs pminfo', () => {
	it('empty PCP_DERIVED_CONFIG: no global derived metrics, event.flags and event.missed stay', async () => {
		const theirs = await compare([], {PCP_DERIVED_CONFIG: ''});
		expect(theirs.stdout).toContain('\nevent.missed\n');
		expect(theirs.stdout).not.toContain('kernel.cpu.util');
		await compare(['-f', 'kernel.cpu.util.user', 'hinv.ncpu'], {PCP_DERIVED_CONFIG: ''});
	});

	it('PCP_DERIVED_CONFIG set to a file, with its diagnostics after the connection', async () => {
		const theirs = await compare(['-dfmtT', 'my', 'more'], {PCP_DERIVED_CONFIG: `${conf}:${conf2}`});
		expect(theirs.stderr).toContain('Semantic error');
		expect(theirs.stderr).toContain('syntax error');
	});

	it('-c FILE and --derived FILE after the global metrics, every flag', async () => {
		for (const flag of ['-d', '-m', '-M', '-t', '-T', '-f', '-dfmMtT']) {
			await compare(['-c', conf, flag, 'my', 'more', 'kernel.cpu.util.sys'], {PCP_DERIVED_CONFIG: globalDir});
		}

		await compare(['--derived', conf, '-c', conf2, '-f', 'my.ncpu2', 'more']);
		await compare(['-c', conf, '-c', conf, '-f', 'my.ncpu2']);
		await compare(['-c', conf, '-f', 'my.ncpu2'], {PCP_DERIVED_CONFIG: ''});
	});

	it('-c FILE lists its metrics in the full listing', async () => {
		await compare(['-c', conf]);
	});

	it('-c with a missing file says so, and the rest still works', async () => {
		const theirs = await compare(['-c', path.join(dir, 'none.conf'), '-f', 'hinv.ncpu']);
		expect(theirs.stderr).toContain('derived configuration(s) error');
	});
});
