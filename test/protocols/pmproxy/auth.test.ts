/**
 * HTTP basic authentication against Debian's real pmproxy 6.0.3 in front of a real pmcd that
 * requires SASL authentication (pmcd -S, a private sasldb: test/peers/pmcd.sh sasl). pmproxy
 * passes the Authorization header's user and password on to pmcd (docs/pmproxy.md#authentication).
 */
import {chmodSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {startPmproxy, type PmproxyPeer} from '../../helpers/pmproxy.js';
import {runPminfo} from '../../helpers/pminfo.js';
import {runSecmon, tempHome} from '../../helpers/secmon.js';
import {freePort} from '../../helpers/ports.js';

// pmcd maps the SASL user to a local account, so it is the user running the tests.
const user = os.userInfo().username;
const password = `pw-${process.pid}-${Date.now()}:with:colons`;

let pmcd: PmcdPeer;
let proxy: PmproxyPeer;
let home: {dir: string; remove: () => void};
let good: string;
let wrong: string;

beforeAll(async () => {
	pmcd = await startPmcd('sasl', {sasl: {user, password}});
	proxy = await startPmproxy('tls', pmcd.port);
	home = tempHome();
	good = path.join(home.dir, 'good.pw');
	wrong = path.join(home.dir, 'wrong.pw');
	writeFileSync(good, `${user}:${password}\n`);
	writeFileSync(wrong, `${user}:not-${password}\n`);
	chmodSync(good, 0o600);
	chmodSync(wrong, 0o600);
}, 60_000);

afterAll(async () => {
	await proxy?.stop();
	await pmcd?.stop();
	home?.remove();
});

const spec = () => ['--host', `pmproxys://localhost:${proxy.port}`, '--ca-file', proxy.caFile];
const run = async (args: string[]) => {
	const result = await runSecmon(args, {env: {SECMON_HOME: home.dir}});
	// The password is never printed, whatever happened. (It reaches secmon only through the
	// password file: the command line holds the file's path, nothing to check there.)
	expect(`${result.stdout}${result.stderr}`).not.toContain(password);
	return result;
};

describe('pmproxy in front of a pmcd that requires SASL authentication', () => {
	it('the pmcd really requires it: pminfo is refused without credentials and served with them', async () => {
		const without = await runPminfo(['-h', pmcd.address, '-f', 'hinv.ncpu']);
		expect(without.stderr).toContain('Authentication');
		const withCredentials = await runPminfo(['-h', `pcp://${pmcd.address}?method=plain&username=${user}&password=${encodeURIComponent(password)}`, '-f', 'hinv.ncpu']);
		expect(withCredentials.stdout).toMatch(/^\nhinv\.ncpu\n {4}value \d+\n$/);
	});

	it('with --password-file over verified TLS: values, the same text as pminfo\'s with the same credentials', async () => {
		const pminfo = await runPminfo(['-h', `pcp://${pmcd.address}?method=plain&username=${user}&password=${encodeURIComponent(password)}`, '-f', '-d', 'hinv.ncpu', 'sample.string.hullo']);
		const result = await run([...spec(), '--password-file', good, '-f', '-d', 'hinv.ncpu', 'sample.string.hullo']);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toBe(pminfo.stdout);

		// Sampling: every request of the session carries the credentials (a context created with
		// them answers 401 to a request without them).
		const sampled = await run([...spec(), '--password-file', good, '--json', '-t', '0.2', '-s', '3', 'kernel.all.load']);
		expect(sampled.code).toBe(0);
		const lines = sampled.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; instances: unknown[]; tls: unknown});
		expect(lines).toHaveLength(3);
		expect(lines.every(line => line.type === 'sample' && line.instances.length === 3 && line.tls !== null)).toBe(true);
	});

	it('without a password file: refused, saying pmcd wants a user name and password and how to give them (exit 1)', async () => {
		const result = await run([...spec(), '-f', 'hinv.ncpu']);
		expect(result.stdout).toBe('');
		expect(result.stderr).toContain(`pmproxy at localhost:${proxy.port} could not open a context: the pmcd behind it requires a user name and password (cannot connect to PMCD: Authentication - `);
		expect(result.stderr).toContain('Give a password file with one line USER:PASSWORD (--password-file or SECMON_PASSWORD_FILE)');
		expect(result.code).toBe(1);

		const json = await run([...spec(), '--json', 'hinv.ncpu']);
		expect(JSON.parse(json.stdout.trim())).toMatchObject({type: 'error', code: 'PEER_ERROR', exitCode: 1});
		expect(json.code).toBe(1);
	});

	it('a wrong password: refused, naming the password file (exit 1), the password nowhere in the output', async () => {
		const result = await run([...spec(), '--password-file', wrong, '-f', 'hinv.ncpu']);
		expect(result.stdout).toBe('');
		expect(result.stderr).toContain('the pmcd behind it refused the user name and password from the password file (');
		expect(result.stderr).toContain('Authentication - authentication failure');
		expect(result.stderr).toContain('Check the user name and password in the password file');
		expect(result.code).toBe(1);
	});

	it('through ?hostspec= (pmproxy\'s default pmcd is down): the same, naming that pmcd', async () => {
		const lonely = await startPmproxy('tls', await freePort());
		try {
			const through = ['--host', `pmproxys://localhost:${lonely.port}?hostspec=${pmcd.address}`, '--ca-file', lonely.caFile];
			const refused = await run([...through, '-f', 'hinv.ncpu']);
			expect(refused.stderr).toContain(`the pmcd behind it (${pmcd.address}) requires a user name and password`);
			expect(refused.code).toBe(1);
			const served = await run([...through, '--password-file', good, '-f', 'hinv.ncpu']);
			expect(served.stdout).toMatch(/^\nhinv\.ncpu\n {4}value \d+\n$/);
			expect(served.code).toBe(0);
		} finally {
			await lonely.stop();
		}
	});
});
