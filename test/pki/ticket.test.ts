import {execFileSync} from 'node:child_process';
import {
	chmodSync, chownSync, mkdirSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
	afterAll, describe, expect, it,
} from 'vitest';
import {icingaTicket, parseSaltFile, readSaltFile} from '../../source/pki/ticket.js';
import {cleanTempDirs, run, tempDir} from './helpers.js';

afterAll(() => {
	cleanTempDirs();
});

const icinga2 = '/usr/sbin/icinga2';

/** `icinga2 pki ticket --cn CN --salt SALT`, the reference (docs/icinga-livestatus-mon.md#ticket-enrollment). */
async function referenceTicket(cn: string, salt: string): Promise<string> {
	const result = await run(icinga2, ['pki', 'ticket', '--cn', cn, '--salt', salt]);
	expect(result.code, result.stderr).toBe(0);
	return result.stdout;
}

/** icinga2 as root drops to user nagios (docs/icinga-livestatus-mon.md#running-icinga2): give it a directory tree it owns. */
function nagiosTree(dir: string): void {
	chmodSync(path.dirname(dir), 0o755);
	if (process.getuid?.() === 0) {
		const uid = Number(execFileSync('id', ['-u', 'nagios'], {encoding: 'utf8'}).trim());
		const gid = Number(execFileSync('id', ['-g', 'nagios'], {encoding: 'utf8'}).trim());
		execFileSync('chown', ['-R', `${uid}:${gid}`, dir]);
		chownSync(dir, uid, gid);
	}
}

describe('icingaTicket equals icinga2 pki ticket', () => {
	const pairs: Array<[string, string]> = [
		['agent1.example.org', '4f9c2b7e1d0a33c5e8f1a2b3c4d5e6f7'],
		['secmon-agent', 'TicketSalt'],
		['a', 'b'],
		['node with spaces', 'salt with spaces and "quotes" \\ and $dollars'],
		['Ünïcödé-nöde.example', 'sälz'],
		['x'.repeat(64), 'y'.repeat(200)],
	];
	for (const [cn, salt] of pairs) {
		it(`cn ${JSON.stringify(cn.slice(0, 20))}, salt ${JSON.stringify(salt.slice(0, 20))}`, async () => {
			const [ours, theirs] = await Promise.all([icingaTicket(cn, salt), referenceTicket(cn, salt)]);
			expect(ours).toMatch(/^[\da-f]{40}$/);
			expect(`${ours}\n`).toBe(theirs);
		});
	}

	it('differs when the CN or the salt differs', async () => {
		const base = await icingaTicket('agent1', 'salt');
		expect(await icingaTicket('agent2', 'salt')).not.toBe(base);
		expect(await icingaTicket('agent1', 'salt2')).not.toBe(base);
	});

	it('refuses an empty CN or salt', async () => {
		await expect(icingaTicket('', 'x')).rejects.toThrow(/CN/);
		await expect(icingaTicket('x', '')).rejects.toThrow(/salt is empty/);
	});
});

describe('salt files', () => {
	it('reads the TicketSalt of a constants.conf exactly as icinga2 does', async () => {
		const base = tempDir('ticket');
		const work = path.join(base, 'icinga');
		for (const sub of ['etc', 'lib', 'log', 'cache', 'spool', 'run']) {
			mkdirSync(path.join(work, sub), {recursive: true});
		}

		const salt = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
		const constants = path.join(work, 'etc', 'constants.conf');
		writeFileSync(constants, [
			'/* Secret key for remote node tickets */',
			'//const TicketSalt = "commented out"',
			`const TicketSalt = "${salt}"`,
			'const ZoneName = NodeName',
			'',
		].join('\n'), {mode: 0o640});
		writeFileSync(path.join(work, 'etc', 'icinga2.conf'), 'include "constants.conf"\n');
		nagiosTree(work);
		const defines = ['ConfigDir=etc', 'DataDir=lib', 'LogDir=log', 'CacheDir=cache', 'SpoolDir=spool', 'InitRunDir=run'].map(item => {
			const [key, sub] = item.split('=') as [string, string];
			return `-D${key}=${path.join(work, sub)}`;
		});
		// `daemon -C` dumps the constants to cache/icinga2.vars, where `pki ticket` without --salt reads TicketSalt.
		const validate = await run(icinga2, ['daemon', '-C', '-c', path.join(work, 'etc', 'icinga2.conf'), ...defines]);
		expect(validate.code, validate.stdout + validate.stderr).toBe(0);
		const reference = await run(icinga2, ['pki', 'ticket', '--cn', 'agent7.example', ...defines]);
		expect(reference.code, reference.stderr).toBe(0);

		const read = await readSaltFile(constants);
		expect(read.salt).toBe(salt);
		expect(read.warning).toBeUndefined();
		expect(`${await icingaTicket('agent7.example', read.salt)}\n`).toBe(reference.stdout);
	});

	it('takes a plain salt file, drops one newline, and warns when every user can read it', async () => {
		const base = tempDir('salt');
		const file = path.join(base, 'salt');
		writeFileSync(file, 's3cret \n', {mode: 0o644});
		const read = await readSaltFile(file);
		expect(read.salt).toBe('s3cret ');
		expect(read.warning).toMatch(/readable by every local user.*chmod o-r/);
		expect(parseSaltFile('abc\r\n')).toBe('abc');
		expect(parseSaltFile('const TicketSalt = "with \\"escape\\""\n')).toBe('with "escape"');
	});

	it('explains an empty TicketSalt (a master that was never set up) and a missing file', async () => {
		const base = tempDir('salt-empty');
		const file = path.join(base, 'constants.conf');
		writeFileSync(file, 'const PluginDir = "/usr/lib/nagios/plugins"\nconst TicketSalt = ""\n', {mode: 0o600});
		await expect(readSaltFile(file)).rejects.toThrow(/TicketSalt is empty/);
		await expect(readSaltFile(path.join(base, 'none'))).rejects.toThrow(/does not exist/);
	});
});
