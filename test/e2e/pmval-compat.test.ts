/**
 * `secmon pmval` against Debian's real pmval 6.0.3, run side by side in the same test on the same
 * real pmcd: byte-identical stdout, the same stderr lines (pmval's "pmval:" is "secmon pmval:")
 * and exit status. Values that move between the two runs (load averages, CPU time, disk and
 * network rates) are masked: each such line keeps its byte length and its number of values, so
 * column widths and the decimal-point layout are still compared; every other byte must match.
 */
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPmval} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let plain: PmcdPeer;
let tls: PmcdPeer;
let require: PmcdPeer;
const home = tempHome();

beforeAll(async () => {
	[plain, tls, require] = await Promise.all([startPmcd('plain'), startPmcd('offer'), startPmcd('require')]);
}, 120_000);

afterAll(async () => {
	await Promise.all([plain?.stop(), tls?.stop(), require?.stop()]);
	home.remove();
});

/** A line of values only (digits, point, exponent, "!", "?"): masked to its length and value count. */
const valueLine = /^[\d .E+!?-]+$/;

function mask(output: string): string {
	return output.split('\n').map(line => (valueLine.test(line) && /\d/.test(line)
		? `<${line.trim().split(/ +/).length} values, ${line.length} bytes>`
		: line)).join('\n');
}

/** Both tools in plain text, as PCP_SECURE_SOCKETS=0 asks (secmon's default would use TLS when offered). */
const plainText = {PCP_SECURE_SOCKETS: '0'};

type Side = {args?: string[]; env?: Record<string, string>};

async function compare(args: string[], options: {moving?: boolean; host?: string; pmval?: Side; secmon?: Side} = {}): Promise<void> {
	const host = options.host === undefined ? ['-h', plain.address] : (options.host === '' ? [] : ['-h', options.host]);
	const [ours, theirs] = await Promise.all([
		runSecmon(['pmval', ...host, ...(options.secmon?.args ?? []), ...args], {env: {SECMON_HOME: home.dir, ...plainText, ...options.secmon?.env}}),
		runPmval([...host, ...args], {...plainText, ...options.pmval?.env}),
	]);
	// Never two empty outputs passing for equal ones.
	expect(theirs.stdout + theirs.stderr).not.toBe('');
	if (options.moving) {
		expect(mask(ours.stdout)).toBe(mask(theirs.stdout));
	} else {
		expect(ours.stdout).toBe(theirs.stdout);
	}

	expect(ours.stderr.replaceAll('secmon pmval', 'pmval')).toBe(theirs.stderr);
	expect(ours.code).toBe(theirs.code);
}

describe('secmon pmval against the real pmval (same pmcd, same run)', () => {
	it.each([
		['sample.long.one'],
		['sample.ulonglong.one'],
		['sample.float.one'],
		['sample.double.one'],
		['sample.string.hullo'],
		['sample.aggregate.hullo'],
		['hinv.ncpu'],
	])('instant and discrete values of every type: %s', async metric => {
		await compare(['-s', '2', '-t', '0.1', metric]);
	});

	it('multi-instance values: the instance heads and their column widths', async () => {
		await compare(['-s', '2', '-t', '0.1', 'sample.bin']);
		await compare(['-s', '2', '-t', '0.1', 'kernel.all.load'], {moving: true});
	});

	it.each([
		['kernel.all.cpu.user'], // Millisec: converting to time utilization
		['disk.dev.read'], // Count, one instance per disk, heads shifted for the decimals
		['network.interface.in.bytes'], // Byte / sec, several instances
		['sample.byte_ctr'],
	])('counters as rates: %s', async metric => {
		await compare(['-s', '3', '-t', '0.2', metric], {moving: true});
	});

	it('-r: counters raw', async () => {
		await compare(['-r', '-s', '2', '-t', '0.1', 'kernel.all.cpu.user'], {moving: true});
		await compare(['-r', '-s', '2', '-t', '0.1', 'network.interface.in.bytes'], {moving: true});
	});

	it('-f and -w: precision, widths, cut heads with their full labels', async () => {
		await compare(['-f', '3', '-s', '2', '-t', '0.1', 'kernel.all.cpu.user'], {moving: true});
		await compare(['-f', '2', '-w', '8', '-s', '2', '-t', '0.1', 'kernel.all.load'], {moving: true});
		await compare(['-f', '9', '-s', '1', 'sample.float.bin']);
		await compare(['-w', '5', '-s', '2', '-t', '0.1', 'sample.bin']);
		await compare(['-w', '12', '-s', '1', 'sample.bin']);
		await compare(['-w', '11', '-f', '0', '-s', '1', 'sample.double.bin']);
		await compare(['-f', '5', '-w', '6', '-s', '1', 'sample.long.one']); // Too large: exit 1
	});

	it('-i: instance selection (quoted, repeated, by the first word of a name) and HOST:METRIC[INST]', async () => {
		await compare(['-s', '2', '-t', '0.1', '-i', '\'bin-100\' bin-300', '-i', 'bin-900', 'sample.bin']);
		await compare(['-s', '1', '-i', '"1 minute","15 minute"', 'kernel.all.load'], {moving: true});
		await compare(['-s', '1', '-i', '5', 'kernel.all.load'], {moving: true});
		await compare(['-s', '1', `${plain.address}:sample.bin[bin-200,bin-400]`], {host: ''});
		await compare(['-s', '1', '-i', 'no-such-bin', 'sample.bin']);
		await compare(['-s', '1', `${plain.address}:sample.long.one[a]`], {host: ''});
	});

	it('-s and -T: sample counts, "samples: 0", the count -T +DELTA gives', async () => {
		await compare(['-s', '0', 'sample.long.one']);
		await compare(['-s', '1', 'sample.bin']);
		await compare(['-T', '+1sec', '-t', '0.4', 'sample.long.one']);
		await compare(['-T', '1sec', '-t', '0.4', 'sample.long.one']); // The + is optional
		await compare(['-T', '1.1', '-t', '0.4', 'sample.long.one']);
		await compare(['-s', '2', '-t', '0', 'sample.long.one']); // Interval 0 is 1 sec
	});

	it('PCP_HOST names the pmcd when no -h does, with PMCD_PORT\'s port; a spec\'s HOST: wins over it', async () => {
		const both = (env: Record<string, string>) => ({host: '', pmval: {env}, secmon: {env}});
		await compare(['-s', '2', '-t', '0.1', 'sample.long.one'], both({PCP_HOST: plain.address}));
		await compare(['-s', '1', 'sample.bin'], both({PCP_HOST: '127.0.0.1', PMCD_PORT: String(plain.port)}));
		await compare(['-s', '1', `${plain.address}:sample.long.one`], both({PCP_HOST: 'nosuchhost.invalid'}));
		await compare(['-s', '1', `${plain.address}:sample.long.one`], both({PCP_HOST: ''}));
	});

	it('PCP_HOST with -h is too many hosts, and an empty PCP_HOST names none: usage errors in secmon\'s words', async () => {
		const theirs = await runPmval(['-h', plain.address, '-s', '1', 'sample.long.one'], {...plainText, PCP_HOST: plain.address});
		expect(theirs.code).toBe(1);
		expect(theirs.stderr).toContain(`pmval: too many hosts requested: ${plain.address}\n`);
		const ours = await runSecmon(['pmval', '-h', plain.address, '-s', '1', 'sample.long.one'], {env: {SECMON_HOME: home.dir, ...plainText, PCP_HOST: plain.address}});
		expect(ours).toMatchObject({code: 2, stdout: ''});
		expect(ours.stderr).toBe(`secmon: too many hosts requested: ${plain.address} (PCP_HOST names "${plain.address}" already; unset PCP_HOST or drop -h) (secmon pmval)\nsee: secmon pmval --help\n`);
		const theirsEmpty = await runPmval(['-s', '1', 'sample.long.one'], {...plainText, PCP_HOST: ''});
		expect(theirsEmpty.code).toBe(1);
		expect(theirsEmpty.stderr).toContain('Cannot connect to PMCD on host ""');
		const empty = await runSecmon(['pmval', '-s', '1', 'sample.long.one'], {env: {SECMON_HOME: home.dir, ...plainText, PCP_HOST: ''}});
		expect(empty).toMatchObject({code: 2, stdout: ''});
		expect(empty.stderr).toBe('secmon: PCP_HOST is empty: it names no pmcd (set it to a host, or unset it for the local pmcd) (secmon pmval)\nsee: secmon pmval --help\n');
	});

	it('TZ, -Z and -z: the same bytes whatever the zone; the Note lines', async () => {
		await compare(['-s', '2', '-t', '0.1', 'sample.long.one'], {pmval: {env: {TZ: 'Australia/Sydney'}}, secmon: {env: {TZ: 'Australia/Sydney'}}});
		await compare(['-Z', 'Europe/Paris', '-s', '2', '-t', '0.1', 'sample.bin']);
		await compare(['-z', '-s', '1', 'sample.long.one']);
	});

	it('errors: unknown metric, no descriptor, unsupported type, no values, per-metric errors', async () => {
		await compare(['-s', '1', 'no.such.metric']);
		await compare(['-s', '1', 'sample.bad.unknown']);
		await compare(['-s', '1', 'sample.bad.nosupport']);
		await compare(['-s', '2', '-t', '0.1', 'sample.noinst']);
		await compare(['-s', '2', '-t', '0.1', 'sample.needprofile']);
	});

	it('TLS: pmcd offering TLS, verified by --ca-file (pmval: enforce with the same CA)', async () => {
		await compare(['-s', '2', '-t', '0.1', 'sample.bin'], {
			host: tls.address,
			secmon: {args: ['--ca-file', tls.caFile], env: {PCP_SECURE_SOCKETS: ''}},
			pmval: {env: {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: tls.clientVerifyConf}},
		});
		await compare(['-s', '3', '-t', '0.2', 'kernel.all.cpu.user'], {
			moving: true,
			host: `pcps://${tls.address}`,
			secmon: {args: ['--ca-file', tls.caFile], env: {PCP_SECURE_SOCKETS: ''}},
			pmval: {env: {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: tls.clientVerifyConf}},
		});
	});

	it('TLS with a client certificate (--cert/--key) on a pmcd that requires one', async () => {
		await compare(['-s', '1', 'sample.long.one'], {
			host: require.address,
			secmon: {args: ['--ca-file', require.caFile, '--cert', require.clientCert, '--key', require.clientKey], env: {PCP_SECURE_SOCKETS: ''}},
			pmval: {env: {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: require.clientVerifyConf}},
		});
	});

	it('the security plumbing refuses what the main command refuses', async () => {
		// An unknown certificate with no terminal: exit 3 and a hint that re-runs secmon pmval.
		const untrusted = await runSecmon(['pmval', '-h', tls.address, '-s', '1', 'sample.long.one'], {env: {SECMON_HOME: home.dir}});
		expect(untrusted.code).toBe(3);
		expect(untrusted.stdout).toBe('');
		expect(untrusted.stderr).toContain(`secmon pmval -h ${tls.address} -s 1 sample.long.one --accept-new`);
		// --ca-file implies TLS: the plain pmcd is refused (exit 5).
		const refused = await runSecmon(['pmval', '-h', plain.address, '--ca-file', tls.caFile, '-s', '1', 'sample.long.one'], {env: {SECMON_HOME: home.dir}});
		expect(refused.code).toBe(5);
		expect(refused.stdout).toBe('');
	});
});
