/**
 * `--json` that scripts can use without work (issue 16 part 4), against a real pmcd: counters
 * carry the raw value and the rate pmval computes for the same counter on the same pmcd, and a
 * name the collector does not know is a per-metric error inside each sample, and a refusal is one
 * line whose message is one line, with the banner's facts as fields (the banner stays on stderr).
 */
import {execFileSync} from 'node:child_process';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {runPasted} from '../helpers/hints.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPcpTool, runPmval} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let peer: PmcdPeer;
const home = tempHome();
const env = () => ({SECMON_HOME: home.dir, PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: ''});

type Line = {
	type: string; metric: string; timestamp: string; units: string; rateUnits?: string;
	value?: number; rate?: number | null; instances?: Array<{id: number; name: string; value: number; rate?: number | null}>;
	error?: {code: number; message: string};
};

function parse(stdout: string): Line[] {
	return stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Line);
}

/** Pmval's header units line and its values (one column: a singular metric). */
async function pmval(metric: string, samples: number): Promise<{units: string; values: number[]}> {
	const result = await runPmval(['-h', peer.address, '-t', '1', '-s', String(samples), metric], {PCP_SECURE_SOCKETS: '0'});
	expect(result.code, result.stderr).toBe(0);
	const units = /^units: +(.*)$/mv.exec(result.stdout)![1]!;
	const values = result.stdout.split('\n\n').at(-1)!.split('\n').filter(line => line.startsWith(' ')).map(line => Number(line.trim()));
	return {units, values};
}

beforeAll(async () => {
	peer = await startPmcd('plain');
	// The sample PMDA's constant-rate counter: 10000 per second from now on (so that counting in whole units costs under 0.1 %).
	const stored = await runPcpTool('/usr/bin/pmstore', ['-h', peer.address, 'sample.const_rate.gradient', '10000'], {PCP_SECURE_SOCKETS: '0'});
	expect(stored.code, stored.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
});

describe('--json -t: counters carry the raw value and the rate per second', () => {
	it('equals pmval\'s rate and units on the same pmcd; the first sample\'s rate is null', async () => {
		const [ours, constRate, millis, cpu, ncpu] = await Promise.all([
			runSecmon(['-h', peer.address, '--json', '-t', '1', '-s', '4', 'sample.const_rate.value', 'sample.milliseconds', 'kernel.percpu.cpu.user', 'kernel.all.cpu.user', 'kernel.all.load'], {env: env()}),
			pmval('sample.const_rate.value', 3),
			pmval('sample.milliseconds', 3),
			pmval('kernel.all.cpu.user', 3),
			runSecmon(['-h', peer.address, '--json', '-f', 'hinv.ncpu'], {env: env()}),
		]);
		expect(ours.stderr).toBe('');
		expect(ours.code).toBe(0);
		const lines = parse(ours.stdout);
		const series = (metric: string) => lines.filter(line => line.metric === metric);

		// Pmval: "count (converting to count / sec)", "millisec (converting to time utilization)".
		expect(constRate.units).toBe('count (converting to count / sec)');
		expect(series('sample.const_rate.value').map(line => `${line.units} (converting to ${line.rateUnits})`)).toEqual(Array.from({length: 4}, () => constRate.units));
		expect(millis.units).toBe('millisec (converting to time utilization)');
		expect(series('sample.milliseconds')[0]).toMatchObject({units: 'millisec', rateUnits: 'time utilization'});
		// Pmval -t 1 -s 3 kernel.all.cpu.user: time utilization of all CPUs, 0 to hinv.ncpu.
		const cpus = Number((JSON.parse(ncpu.stdout) as Line).value);
		expect(cpu.units).toBe('millisec (converting to time utilization)');
		const allCpu = series('kernel.all.cpu.user');
		expect(allCpu.map(line => `${line.units} (converting to ${line.rateUnits})`)).toEqual(Array.from({length: 4}, () => cpu.units));
		expect(cpu.values).toHaveLength(3);
		expect(allCpu[0]!.rate).toBeNull();
		for (const rate of [...cpu.values, ...allCpu.slice(1).map(line => line.rate!)]) {
			expect(rate).toBeGreaterThanOrEqual(0);
			expect(rate).toBeLessThanOrEqual(cpus * 1.1);
		}

		// Pmval prints a rate per interval (three for -s 3); secmon's first sample has rate null.
		for (const [metric, theirs] of [['sample.const_rate.value', constRate.values], ['sample.milliseconds', millis.values]] as const) {
			const rates = series(metric).map(line => line.rate);
			expect(rates[0], metric).toBeNull();
			expect(theirs).toHaveLength(3);
			// Both sample the same steady counter at different instants: equal within 1 % (secmon's
			// timestamps have millisecond precision, pmval's microseconds).
			const expected = theirs.reduce((sum, value) => sum + value, 0) / theirs.length;
			for (const rate of rates.slice(1)) {
				expect(Math.abs(rate! - expected) / expected, `${metric}: ${rate} vs pmval ${theirs.join(' ')}`).toBeLessThan(0.01);
			}
		}

		// The raw values stay raw, and each rate is pmval's arithmetic on them: the change over the
		// change of the collector's timestamps, a millisecond counter divided by 1000 ms per second.
		const perCpu = series('kernel.percpu.cpu.user');
		expect(perCpu[0]!.instances!.every(instance => instance.rate === null)).toBe(true);
		for (const [index, line] of perCpu.entries()) {
			if (index === 0) {
				continue;
			}

			const before = perCpu[index - 1]!;
			const seconds = (Date.parse(line.timestamp) - Date.parse(before.timestamp)) / 1000;
			for (const instance of line.instances!) {
				const then = before.instances!.find(other => other.id === instance.id)!;
				expect(instance.rate).toBeCloseTo((instance.value - then.value) / (seconds * 1000), 12);
				expect(instance.rate).toBeGreaterThanOrEqual(0);
				expect(instance.rate).toBeLessThanOrEqual(1.1); // one CPU, with tick granularity
			}
		}

		// Not a counter: no rate.
		expect(series('kernel.all.load').every(line => line.rateUnits === undefined && line.instances!.every(instance => !('rate' in instance)))).toBe(true);
	});

	it('-f --json (one shot, pminfo\'s job) has no rate fields', async () => {
		const ours = await runSecmon(['-h', peer.address, '--json', '-f', 'sample.const_rate.value'], {env: env()});
		expect(ours.code).toBe(0);
		const [line] = parse(ours.stdout);
		expect(line).toMatchObject({metric: 'sample.const_rate.value', semantics: 'counter'});
		expect(line).not.toHaveProperty('rate');
		expect(line).not.toHaveProperty('rateUnits');
	});
});

describe('--json: a name the collector does not know is a per-metric error in each sample', () => {
	it('among good names: every sample carries it as error {code, message}; no top-level error line; exit 1', async () => {
		const ours = await runSecmon(['-h', peer.address, '--json', '-t', '1', '-s', '2', 'no.such.metric', 'sample.long.hundred'], {env: env()});
		expect(ours.code).toBe(1);
		const lines = parse(ours.stdout);
		expect(lines.every(line => line.type === 'sample')).toBe(true);
		expect(lines.map(line => [line.metric, line.value ?? line.error])).toEqual([
			['sample.long.hundred', 100],
			['no.such.metric', {code: -12_357, message: 'Unknown metric name'}],
			['sample.long.hundred', 100],
			['no.such.metric', {code: -12_357, message: 'Unknown metric name'}],
		]);
		expect(lines[1]!.timestamp).toBe(lines[0]!.timestamp);
		expect(ours.stderr).toBe(`secmon: ${peer.address}: no.such.metric: Unknown metric name\nCheck the metric name (secmon --host HOST lists every name).\n`);
	});

	it('only unknown names: their error lines once, then the end (exit 1)', async () => {
		const ours = await runSecmon(['-h', peer.address, '--json', '-t', '1', 'no.such.metric', 'nor.this'], {env: env()});
		expect(ours.code).toBe(1);
		expect(parse(ours.stdout).map(line => [line.type, line.metric, line.error?.code])).toEqual([
			['sample', 'no.such.metric', -12_357],
			['sample', 'nor.this', -12_357],
		]);
	});

	it('text mode keeps its stderr lines and samples the good names', async () => {
		const ours = await runSecmon(['-h', peer.address, '-t', '1', '-s', '1', 'no.such.metric', 'sample.long.hundred'], {env: env()});
		expect(ours.code).toBe(1);
		expect(ours.stderr).toContain('no.such.metric: Unknown metric name');
		expect(ours.stdout).toMatch(/sample\.long\.hundred +100/v);
	});
});

function sha256Of(pem: string): string {
	return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', pem], {encoding: 'utf8'}).trim().split('=')[1]!;
}

type ErrorLine = {type: 'error'; code: string; message: string; hint?: string; exitCode: number; fix?: string[]; detail?: string[]} & Record<string, unknown>;

describe('--json refusals: a one-line message, the facts as fields, the banner on stderr', () => {
	let tls: PmcdPeer;
	const store = tempHome();
	beforeAll(async () => {
		tls = await startPmcd('offer');
	}, 60_000);

	afterAll(async () => {
		await tls?.stop();
		store.remove();
	});

	it('TRUST_REQUIRED: the certificate\'s fingerprints and the commands that trust it; the --accept-new one works as printed', async () => {
		const ours = await runSecmon(['--json', '--secure', 'enforce', '-h', tls.address, '-t', '1', '-s', '1', 'hinv.ncpu'], {env: {SECMON_HOME: store.dir}});
		expect(ours.code).toBe(3);
		const lines = ours.stdout.trimEnd().split('\n');
		expect(lines).toHaveLength(1);
		const error = JSON.parse(lines[0]!) as ErrorLine;
		const sha256 = sha256Of(tls.servedCert!);
		expect(error).toMatchObject({
			type: 'error', code: 'TRUST_REQUIRED', exitCode: 3, sha256, host: tls.host, port: tls.port,
		});
		expect(error.message).toBe(`the certificate of collector ${tls.address} is not trusted (${/not trusted \((.*)\)$/mv.exec(ours.stderr)![1]!})`);
		expect(error).not.toHaveProperty('detail');
		expect(error.fix).toEqual([
			`secmon --json --secure enforce -h ${tls.address} -t 1 -s 1 hinv.ncpu --fingerprint ${sha256.replaceAll(':', '').toLowerCase()}`,
			`secmon --json --secure enforce -h ${tls.address} -t 1 -s 1 hinv.ncpu --accept-new`,
		]);
		expect(ours.stderr).toContain(`SHA-256 ${sha256}`);
		const accepted = await runPasted(error.fix![1]!, store.dir);
		expect(accepted.code, accepted.stderr).toBe(0);
		expect(JSON.parse(accepted.stdout.trimEnd())).toMatchObject({type: 'sample', metric: 'hinv.ncpu', tls: {trust: 'accept-new', sha256}});
	});

	// The collector was pinned by the test above (--accept-new).
	it('CERT_CHANGED: pinned and presented SHA-256, the pin file and the fix commands; exit 4', async () => {
		const oldSha = sha256Of(tls.servedCert!);
		await tls.restart('offer-rotated');
		try {
			for (const args of [['-t', '1', '-s', '1'], ['-f']]) {
				const ours = await runSecmon(['--json', '--secure', 'enforce', '-h', tls.address, ...args, 'hinv.ncpu'], {env: {SECMON_HOME: store.dir}});
				expect(ours.code).toBe(4);
				const lines = ours.stdout.trimEnd().split('\n');
				expect(lines).toHaveLength(1);
				const error = JSON.parse(lines[0]!) as ErrorLine;
				expect(error).toMatchObject({
					type: 'error',
					code: 'CERT_CHANGED',
					message: `the certificate of collector ${tls.address} has CHANGED since it was pinned; connection refused (possible interception)`,
					exitCode: 4,
					pinnedSha256: oldSha,
					presentedSha256: sha256Of(tls.rotatedCert),
					pinnedBy: 'accept-new',
					host: tls.host,
					port: tls.port,
				});
				expect(error['pinFile']).toMatch(/known_collectors/v);
				expect(error.fix![0]).toBe(`secmon certs remove ${tls.address}`);
				expect(error.fix![1]).toContain(`--fingerprint ${sha256Of(tls.rotatedCert).replaceAll(':', '').toLowerCase()}`);
				expect(JSON.stringify(error)).not.toContain('@@@');
				// The banner stays for humans.
				expect(ours.stderr).toContain('@@@@@@@@');
				expect(ours.stderr).toContain('IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!');
			}
		} finally {
			await tls.restart('offer');
		}
	});
});
