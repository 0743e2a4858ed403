/**
 * `secmon certs import-nss`: certutil listings, and real NSS databases made by certutil
 * (libnss3-tools, test/peers/install-nss.sh) imported into a store a real pmcd then uses.
 */
import {execFileSync} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {
	existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {hostNamesOf, parseCertutilList, targetFromNickname} from '../../../source/commands/certs/import-nss.js';
import {initCa} from '../../../source/pki/ca.js';
import {issueCertificate} from '../../../source/pki/issue.js';
import {describeCertificate} from '../../../source/security/certificate.js';
import {testPki} from '../../helpers/certs.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {runSecmon, type SecmonResult} from '../../helpers/secmon.js';

/** How the one --json sample says its collector was trusted. */
function trustOf(stdout: string): string {
	return (JSON.parse(stdout.trim()) as {tls: {trust: string}}).tls.trust;
}

const temporary: string[] = [];
function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), `secmon-certs-${prefix}-`));
	temporary.push(dir);
	return dir;
}

/** The real CLI, as a user runs it. */
async function secmon(home: string, args: string[]): Promise<SecmonResult> {
	return runSecmon(args, {env: {SECMON_HOME: home}});
}

function sha256Of(file: string): string {
	return new X509Certificate(readFileSync(file)).fingerprint256;
}

function certutil(args: string[]): string {
	return execFileSync('certutil', args, {encoding: 'utf8', env: {...process.env, LC_ALL: 'C'}});
}

let offer: PmcdPeer;

beforeAll(async () => {
	offer = await startPmcd('offer');
});

afterAll(async () => {
	await offer?.stop();
	for (const dir of temporary) {
		rmSync(dir, {recursive: true, force: true});
	}
});

describe('certutil listings (pure)', () => {
	it('reads certutil -L listings, nicknames and certificate names', async () => {
		const listing = '\nCertificate Nickname                                         Trust Attributes\n'
			+ '                                                             SSL,S/MIME,JAR/XPI\n\n'
			+ 'PCP Collector certificate                                    Pu,u,u\n'
			+ 'NSS Certificate DB:collector.example:44321                   P,,  \n'
			+ 'my CA                                                        CT,C,C\n';
		expect(parseCertutilList(listing)).toEqual([
			{nickname: 'PCP Collector certificate', ssl: 'Pu', trust: 'Pu,u,u'},
			{nickname: 'NSS Certificate DB:collector.example:44321', ssl: 'P', trust: 'P,,'},
			{nickname: 'my CA', ssl: 'CT', trust: 'CT,C,C'},
		]);
		expect(targetFromNickname('NSS Certificate DB:collector.example:44321')).toEqual({host: 'collector.example', port: 44_321});
		expect(targetFromNickname('[::1]:4000')).toEqual({host: '::1', port: 4000});
		expect(targetFromNickname('PCP Collector certificate')).toBeUndefined();
		expect(targetFromNickname('host:99999')).toBeUndefined();
		const pki = await testPki();
		expect(hostNamesOf(describeCertificate(pki.server.cert))).toEqual(expect.arrayContaining(['collector', '127.0.0.1']));
	});
});

describe('import-nss from a real NSS database made by certutil', () => {
	let nss: string;

	beforeAll(async () => {
		nss = tempDir('nssdb');
		certutil(['-N', '-d', `sql:${nss}`, '--empty-password']);
		// What pminfo's NSS era saved on "yes": the leaf, nickname "PCP Collector certificate", trusted peer.
		certutil(['-A', '-d', `sql:${nss}`, '-n', 'PCP Collector certificate', '-t', 'P,P,P', '-i', offer.servedCert!]);
		certutil(['-A', '-d', `sql:${nss}`, '-n', 'secmon test CA', '-t', 'C,,', '-i', offer.caFile]);
		certutil(['-A', '-d', `sql:${nss}`, '-n', 'distrusted', '-t', 'p,p,p', '-i', offer.otherCaFile]);
		// A peer certificate that names no host: it must be listed with the command that pins it.
		const ca = await initCa({dir: tempDir('nameless-ca'), algorithm: 'ecdsa-p256', cn: 'nameless CA'});
		const nameless = await issueCertificate({ca, cn: 'PCP Collector', algorithm: 'ecdsa-p256'});
		const namelessFile = path.join(tempDir('nameless'), 'nameless.pem');
		writeFileSync(namelessFile, nameless.certificatePem);
		certutil(['-A', '-d', `sql:${nss}`, '-n', 'nameless', '-t', 'P,,', '-i', namelessFile]);
	});

	it('peer certificates become pins (names from the subjectAltName, --port), CAs become trusted CAs', async () => {
		const home = tempDir('import');
		const dry = await secmon(home, ['certs', 'import-nss', nss, '--port', String(offer.port), '--dry-run']);
		expect(dry.code, dry.stderr).toBe(0);
		expect(dry.stdout).toContain(`would pin 127.0.0.1:${offer.port} (from its subjectAltName, port ${offer.port})`);
		expect(existsSync(path.join(home, 'known_collectors'))).toBe(false);

		const result = await secmon(home, ['certs', 'import-nss', nss, '--port', String(offer.port)]);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toContain(`Importing from the NSS database sql:${nss}:`);
		expect(result.stdout).toContain(`  PCP Collector certificate  [P,P,P] CN=collector, SHA-256 ${sha256Of(offer.servedCert!)}`);
		expect(result.stdout).toContain(`    pinned 127.0.0.1:${offer.port} (from its subjectAltName, port ${offer.port})`);
		expect(result.stdout).toContain(`    pinned localhost:${offer.port}`);
		expect(result.stdout).toContain('    trusted CA "secmon test CA"');
		expect(result.stdout).toContain('  distrusted  [p,p,p]: skipped, explicitly distrusted in NSS (p)');
		expect(result.stdout).toMatch(/ {2}nameless {2}\[P,,] CN=PCP Collector, SHA-256 [\dA-F:]+\n {4}NOT pinned: neither its nickname nor its subjectAltName names a host/);
		expect(result.stdout).toContain(`secmon --host pcps://HOST:${offer.port} --fingerprint `);

		const list = await secmon(home, ['certs', 'list', '--json']);
		const json = JSON.parse(list.stdout) as {pins: Array<{target: string; trustedBy: string; importedFrom: string}>; cas: Array<{name: string; trustedBy: string}>};
		expect(json.pins.find(pin => pin.target === `127.0.0.1:${offer.port}`)).toMatchObject({trustedBy: 'import-nss', importedFrom: `sql:${nss}, nickname "PCP Collector certificate"`});
		expect(json.cas).toEqual([expect.objectContaining({name: 'secmon test CA', trustedBy: 'import-nss'})]);

		// Idempotent: running it again changes nothing.
		const again = await secmon(home, ['certs', 'import-nss', nss, '--port', String(offer.port)]);
		expect(again.code).toBe(0);
		expect(again.stdout).toContain(`    already pinned 127.0.0.1:${offer.port}`);
		expect(again.stdout).toContain('    already a trusted CA ("secmon test CA")');

		// The imported trust is used for real: a pin decides alone where there is one (like
		// ssh's known_hosts); without the pin, the imported CA does.
		const viaPin = await secmon(home, ['--host', `pcps://127.0.0.1:${offer.port}`, '-f', 'hinv.ncpu', '--json']);
		expect(viaPin.code, viaPin.stderr).toBe(0);
		expect(trustOf(viaPin.stdout)).toBe('pinned');
		expect((await secmon(home, ['certs', 'remove', `127.0.0.1:${offer.port}`])).code).toBe(0);
		const viaCa = await secmon(home, ['--host', `pcps://127.0.0.1:${offer.port}`, '-f', 'hinv.ncpu', '--json']);
		expect(viaCa.code, viaCa.stderr).toBe(0);
		expect(trustOf(viaCa.stdout)).toBe('ca');
	});

	it('a host:port nickname pins exactly that; a different existing pin is never replaced (exit 1)', async () => {
		const db = tempDir('nickname-db');
		certutil(['-N', '-d', `sql:${db}`, '--empty-password']);
		certutil(['-A', '-d', `sql:${db}`, '-n', `127.0.0.1:${offer.port}`, '-t', 'P,,', '-i', offer.servedCert!]);
		expect(certutil(['-L', '-d', `sql:${db}`])).toContain(`NSS Certificate DB:127.0.0.1:${offer.port}`);
		const home = tempDir('nickname');
		const result = await secmon(home, ['certs', 'import-nss', `sql:${db}`]);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toContain(`    pinned 127.0.0.1:${offer.port} (from its nickname)`);
		expect(result.stdout).not.toContain('localhost');
		const fetched = await secmon(home, ['--host', `pcps://127.0.0.1:${offer.port}`, '-f', 'hinv.ncpu', '--json']);
		expect(trustOf(fetched.stdout)).toBe('pinned');

		const other = tempDir('conflict-db');
		certutil(['-N', '-d', `sql:${other}`, '--empty-password']);
		certutil(['-A', '-d', `sql:${other}`, '-n', `127.0.0.1:${offer.port}`, '-t', 'P,,', '-i', offer.rotatedCert]);
		const conflict = await secmon(home, ['certs', 'import-nss', other]);
		expect(conflict.code).toBe(1);
		expect(conflict.stdout).toContain(`NOT pinned 127.0.0.1:${offer.port}: a different certificate is already pinned there (SHA-256 ${sha256Of(offer.servedCert!)}); nothing was replaced`);
		expect((await secmon(home, ['certs', 'show', `127.0.0.1:${offer.port}`, '--json'])).stdout).toContain(sha256Of(offer.servedCert!));
	});

	it('says what to do without a database or without certutil', async () => {
		const home = tempDir('nodb');
		const missing = await secmon(home, ['certs', 'import-nss', tempDir('empty')]);
		expect(missing.code).toBe(1);
		expect(missing.stderr).toMatch(/no NSS database in .* \(neither cert9\.db nor cert8\.db\)/);
		const noCertutil = await runSecmon(['certs', 'import-nss', nss], {env: {SECMON_HOME: home, PATH: tempDir('empty-path')}});
		expect(noCertutil.code).toBe(1);
		expect(noCertutil.stderr).toContain('certutil is not installed');
		expect(noCertutil.stderr).toContain('apt-get install libnss3-tools');
	});
});
