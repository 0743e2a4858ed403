/**
 * pmproxy:// against Debian's real pmproxy 6.0.3 in front of a real pmcd (test/peers/pmproxy.sh):
 * pminfo-identical text (compared with the real pminfo on the same pmcd), --json, hostspec,
 * context expiry, plain and TLS, and each TLS refusal.
 */
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, beforeAll, beforeEach, describe, expect, it,
} from 'vitest';
import {isRunning, startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {startPmproxy, type PmproxyPeer} from '../../helpers/pmproxy.js';
import {runPminfo} from '../../helpers/pminfo.js';
import {runSecmon, tempHome} from '../../helpers/secmon.js';
import {freePort} from '../../helpers/ports.js';
import {PmproxyApi} from '../../../source/protocols/pmproxy/api.js';
import {PmproxyHttp} from '../../../source/protocols/pmproxy/http.js';
import {connectTcp} from '../../../source/security/tls.js';
import {SecmonError} from '../../../source/errors.js';

let pmcd: PmcdPeer;
let plain: PmproxyPeer;
let secure: PmproxyPeer;

beforeAll(async () => {
	pmcd = await startPmcd('plain');
	[plain, secure] = await Promise.all([startPmproxy('plain', pmcd.port), startPmproxy('tls', pmcd.port)]);
}, 60_000);

// The private pmcd here sometimes vanished (no log line, no core) while pmproxy was connected to
// it (docs/pmproxy.md#a-private-pmproxy): every test starts with it running, on the same port.
beforeEach(async () => {
	if (!isRunning(pmcd.pid)) {
		await pmcd.restart();
	}
});

afterAll(async () => {
	await Promise.all([plain?.stop(), secure?.stop()]);
	await pmcd?.stop();
});

async function withHome<T>(run: (home: string) => Promise<T>): Promise<T> {
	const home = tempHome();
	try {
		return await run(home.dir);
	} finally {
		home.remove();
	}
}

/** Values that move between two runs (as in test/e2e/pminfo-compat.test.ts): digits masked. */
const moving = /^(kernel\.all\.load|disk\.dev\.read|sample\.(?:seconds|milliseconds|load|step|step_counter|drift|byte_ctr|byte_rate|kbyte_ctr|kbyte_rate|datasize|recv_pdu|xmit_pdu|percpu\.\w+|pdu))$/;

function mask(output: string): string {
	let current = '';
	return output.split('\n').map(line => {
		const name = /^([a-z_]\w*(?:\.\w+)+)(?: |$)/i.exec(line);
		if (name) {
			current = name[1]!;
			return line;
		}

		return line.startsWith(' ') && (moving.test(current) || /(?:_ctr|ulonglong\.bin|^sample\.negative\..*)$/.test(current))
			? line.replace(/ value (.*)$/, (_, value: string) => ` value ${value.replaceAll(/\d+/g, 'N')}`)
			: line;
	}).join('\n');
}

const coreMetrics = ['kernel.all.load', 'hinv.ncpu', 'mem.physmem', 'kernel.uname.release', 'disk.dev.read'];
const sampleMetrics = ['sample.long', 'sample.ulong', 'sample.longlong', 'sample.ulonglong', 'sample.float', 'sample.double', 'sample.string.hullo', 'sample.aggregate.hullo', 'sample.negative'];

async function compare(args: string[]): Promise<void> {
	await withHome(async home => {
		// One after the other: pmcd 6.0.3 here exited without a word when pmproxy's and pminfo's
		// requests overlapped (docs/pmproxy.md#a-private-pmproxy).
		const ours = await runSecmon(['--host', `pmproxys://localhost:${secure.port}`, '--ca-file', secure.caFile, ...args], {env: {SECMON_HOME: home}});
		const theirs = await runPminfo(['-h', pmcd.address, ...args], {PCP_SECURE_SOCKETS: '0'});
		expect(mask(ours.stdout)).toBe(mask(theirs.stdout));
		expect(ours.stderr.replaceAll('secmon', 'pminfo')).toBe(theirs.stderr);
		expect(ours.code).toBe(theirs.code);
	});
}

describe('pminfo text from pmproxy equals pminfo on the same pmcd', () => {
	it.each([['-f'], ['-d'], ['-t'], ['-T'], ['-dfmtT']])('%s on the core metrics', async flag => {
		await compare([flag, ...coreMetrics]);
	});

	it.each([['-f'], ['-d'], ['-dtT']])('%s on sample metrics of every numeric type, strings and an aggregate', async flag => {
		await compare([flag, ...sampleMetrics]);
	});

	it('expands non-leaf names and reports unknown ones (exit 1)', async () => {
		await compare(['-f', 'hinv', 'no.such.metric', 'kernel.uname']);
	});
});

describe('pmproxy:// output and sessions', () => {
	it('--json: one sample with descriptors and instance names', async () => {
		await withHome(async home => {
			const result = await runSecmon(['--host', `pmproxys://localhost:${secure.port}`, '--ca-file', secure.caFile, '--json', 'kernel.all.load', 'hinv.ncpu', 'sample.ulonglong.bin'], {env: {SECMON_HOME: home}});
			expect(result.stderr).toBe('');
			expect(result.code).toBe(0);
			const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
			const text = JSON.stringify(lines);
			expect(text).toContain('"1 minute"');
			expect(text).toContain('hinv.ncpu');
			expect(text).toContain('sample.ulonglong.bin');
		});
	});

	it('derived metrics over pmproxy, in pminfo\'s job and when sampling (-t) beside a real metric', async () => {
		await withHome(async home => {
			const config = path.join(home, 'derived.conf');
			writeFileSync(config, 'my.ncpu2 = hinv.ncpu * 2\n');
			const spec = ['--host', `pmproxys://localhost:${secure.port}`, '--ca-file', secure.caFile, '-c', config];
			const [ncpu] = /value (\d+)/.exec((await runSecmon([...spec, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}})).stdout)!.slice(1);
			const once = await runSecmon([...spec, '-f', '-d', 'my.ncpu2'], {env: {SECMON_HOME: home}});
			expect(once.stdout).toBe(`\nmy.ncpu2\n    Data Type: 32-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff\n    Semantics: discrete  Units: none\n    value ${Number(ncpu) * 2}\n`);
			const sampled = await runSecmon([...spec, '-t', '0.2', '-s', '2', 'kernel.all.load', 'my.ncpu2'], {env: {SECMON_HOME: home}});
			expect(sampled.code).toBe(0);
			expect(sampled.stdout.match(/ {2}kernel\.all\.load\n {4}1 minute/g)).toHaveLength(2);
			expect(sampled.stdout.match(new RegExp(` {2}my\\.ncpu2 {2}${Number(ncpu) * 2}\\n`, 'g'))).toHaveLength(2);
		});
	});

	it('reaches another pmcd with ?hostspec= (pmproxy\'s default pmcd is down)', async () => {
		const nowhere = await freePort();
		const lonely = await startPmproxy('plain', nowhere);
		try {
			await withHome(async home => {
				const without = await runSecmon(['--host', `pmproxy://127.0.0.1:${lonely.port}`, '--secure', 'off', '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(without.code).toBe(1);
				expect(without.stderr).toMatch(/could not answer \/pmapi\/context: HTTP 400 \(cannot connect to PMCD/);
				expect(without.stderr).toContain('?hostspec=HOST:PORT');
				const through = await runSecmon(['--host', `pmproxy://127.0.0.1:${lonely.port}?hostspec=${pmcd.address}`, '--secure', 'off', '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(through.stdout).toMatch(/^\nhinv\.ncpu\n {4}value \d+\n$/);
				expect(through.code).toBe(0);
			});
		} finally {
			await lonely.stop();
		}
	});

	it('re-creates a context that expired (polltimeout 1 s) and goes on', async () => {
		const who = `pmproxy at 127.0.0.1:${plain.port}`;
		const http = new PmproxyHttp({
			open: async () => connectTcp({host: '127.0.0.1', port: plain.port}, 5000),
			who,
			hostHeader: `127.0.0.1:${plain.port}`,
			requestTimeoutMs: 10_000,
			failure: error => (error instanceof SecmonError ? error : new SecmonError('CONNECT_FAILED', String(error))),
		});
		const api = new PmproxyApi({http, who, pollTimeoutSeconds: 1});
		try {
			const {context: first} = await api.createContext();
			const before = await api.fetch(['hinv.ncpu']);
			expect(before.values[0]?.name).toBe('hinv.ncpu');
			expect(api.contextId).toBe(first);
			// Let pmproxy expire the context: it answers 400 "expired context identifier" afterwards.
			await new Promise(resolve => {
				setTimeout(resolve, 2500);
			});
			const after = await api.fetch(['hinv.ncpu']);
			expect(after.values[0]?.name).toBe('hinv.ncpu');
			expect(api.contextsCreated).toBe(2);
			expect(api.contextId).not.toBe(first);
		} finally {
			http.close();
		}
	});

	it('pmproxy:// without TLS at pmproxy: plain HTTP, said loudly (secmon\'s default mode)', async () => {
		await withHome(async home => {
			const result = await runSecmon(['--host', `pmproxy://127.0.0.1:${plain.port}`, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
			expect(result.stderr).toContain('does not offer TLS; secmon continues in PLAIN HTTP');
			expect(result.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/);
			expect(result.code).toBe(0);
		});
	});
});

describe('pmproxy TLS refusals', () => {
	it('refuses plain HTTP under pmproxys:// and --secure enforce (exit 5)', async () => {
		await withHome(async home => {
			for (const args of [[`pmproxys://127.0.0.1:${plain.port}`], [`pmproxy://127.0.0.1:${plain.port}`, '--secure', 'enforce']]) {
				const result = await runSecmon(['--host', ...args, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(result.stderr).toContain('offers no TLS');
				expect(result.stderr).toContain('secure.enabled = true');
				expect(result.stdout).toBe('');
				expect(result.code).toBe(5);
			}
		});
	});

	it('refuses an unknown CA without a terminal (exit 3) and names the fingerprint', async () => {
		await withHome(async home => {
			const result = await runSecmon(['--host', `pmproxys://localhost:${secure.port}`, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
			expect(result.stderr).toContain('is not trusted');
			expect(result.stderr).toContain('--fingerprint');
			expect(result.code).toBe(3);
		});
	});

	it('refuses a certificate for another name (exit 3, as for every collector), even with the right CA', async () => {
		const wrong = await startPmproxy('tls-wrongname', pmcd.port);
		try {
			await withHome(async home => {
				const result = await runSecmon(['--host', `pmproxys://localhost:${wrong.port}`, '--ca-file', wrong.caFile, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(result.stderr).toMatch(/wrong\.example/);
				expect(result.stderr).toMatch(/localhost/);
				expect(result.stdout).toBe('');
				expect(result.code).toBe(3);
			});
		} finally {
			await wrong.stop();
		}
	});

	it('a changed certificate after a pin is refused (exit 4); TLS seen before makes plain HTTP a refused downgrade (exit 5)', async () => {
		const moving = await startPmproxy('tls', pmcd.port);
		try {
			await withHome(async home => {
				const spec = `pmproxy://localhost:${moving.port}`;
				const first = await runSecmon(['--host', spec, '--accept-new', '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(first.code).toBe(0);
				expect(first.stdout).toMatch(/value \d+/);
				const again = await runSecmon(['--host', spec, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(again.stderr).toBe('');
				expect(again.code).toBe(0);

				await moving.restart('tls-rotated');
				const changed = await runSecmon(['--host', spec, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(changed.stderr).toMatch(/CHANGED|changed/);
				expect(changed.stdout).toBe('');
				expect(changed.code).toBe(4);

				await moving.restart('plain');
				const stripped = await runSecmon(['--host', spec, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(stripped.stderr).toContain('was read over verified TLS before');
				expect(stripped.stdout).toBe('');
				expect(stripped.code).toBe(5);
			});
		} finally {
			await moving.stop();
		}
	}, 60_000);

	it('a pmproxy that requires a client certificate: refused without one, served with the test CA\'s', async () => {
		const strict = await startPmproxy('require', pmcd.port);
		try {
			await withHome(async home => {
				const spec = `pmproxys://localhost:${strict.port}`;
				const without = await runSecmon(['--host', spec, '--ca-file', strict.caFile, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(without.stderr).toMatch(/client certificate/);
				expect(without.code).not.toBe(0);
				const withCert = await runSecmon(['--host', spec, '--ca-file', strict.caFile, '--cert', strict.clientCert, '--key', strict.clientKey, '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home}});
				expect(withCert.stderr).toBe('');
				expect(withCert.stdout).toMatch(/hinv\.ncpu\n {4}value \d+/);
				expect(withCert.code).toBe(0);
			});
		} finally {
			await strict.stop();
		}
	});

	it('secmon verify of a pmproxy without TLS (it closes on the hello): TLS not offered, exit 5, as the main command decides', async () => {
		await withHome(async home => {
			const result = await runSecmon(['verify', `pmproxy://127.0.0.1:${plain.port}`], {env: {SECMON_HOME: home}});
			expect(result.code, result.stdout + result.stderr).toBe(5);
			expect(result.stdout).toContain('TLS           NOT OFFERED (TLS from the first byte)');
			expect(result.stdout).not.toContain('during the TLS handshake');
			expect(result.stdout).toContain('secmon pki snippet pmproxy');
			const json = await runSecmon(['verify', `pmproxy://127.0.0.1:${plain.port}`, '--json'], {env: {SECMON_HOME: home}});
			expect(JSON.parse(json.stdout)).toMatchObject({
				tlsOffered: false, exitCode: 5, problem: {code: 'TLS_REQUIRED'},
			});
		});
	});

	it('secmon verify pmproxys://… reports a CA-verified certificate (exit 0)', async () => {
		await withHome(async home => {
			const result = await runSecmon(['verify', `pmproxys://localhost:${secure.port}`, '--ca-file', secure.caFile], {env: {SECMON_HOME: home}});
			expect(result.code).toBe(0);
			expect(result.stdout).toMatch(/localhost/);
		});
	});
});
