/**
 * A trust store that cannot be planted (OpenSSH StrictModes, openssh-portable misc.c safe_path()):
 * store directories and files owned by someone else or writable by group or others are refused,
 * links are never followed, only regular files of bounded size are read. Unit cases on TrustStore,
 * then the real CLI, so that a FIFO that would block is caught by a process timeout.
 */
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {
	chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync,
	truncateSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, afterEach, beforeAll, beforeEach, describe, expect, it,
} from 'vitest';
import {isSecmonError, type SecmonError} from '../../source/errors.js';
import {colonHex} from '../../source/security/certificate.js';
import {maxPinFileBytes, TrustStore} from '../../source/security/store.js';
import {addTrustedCa, listTrustedCas} from '../../source/security/trusted-cas.js';
import type {Pin} from '../../source/security/types.js';
import {testPki} from '../helpers/certs.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runSecmon} from '../helpers/secmon.js';

const isRoot = process.getuid?.() === 0;
const nobody = 65_534;

let temporary: string;
let store: TrustStore;

beforeEach(() => {
	temporary = mkdtempSync(path.join(os.tmpdir(), 'secmon-strict-'));
	store = new TrustStore(path.join(temporary, 'secmon'));
});

afterEach(() => {
	rmSync(temporary, {recursive: true, force: true});
});

function fakePin(host: string, port: number, seed: string): Pin {
	return {
		host,
		port,
		sha256: colonHex(createHash('sha256').update(seed).digest('hex')),
		sha1: colonHex(createHash('sha1').update(seed).digest('hex')),
		spkiSha256: createHash('sha256').update(`spki ${seed}`).digest('base64'),
		subject: 'CN=collector',
		issuer: 'CN=collector',
		notAfter: '2046-11-23T22:58:40.000Z',
		pinnedAt: '2026-11-23T23:00:00.000Z',
		pinnedBy: 'accept-new',
		pem: `-----BEGIN CERTIFICATE-----\n${seed}\n-----END CERTIFICATE-----\n`,
	};
}

function caught(fn: () => unknown): SecmonError {
	try {
		fn();
	} catch (error) {
		if (isSecmonError(error)) {
			return error;
		}

		throw error;
	}

	throw new Error('expected a SecmonError');
}

const target = {host: 'collector', port: 44_321};

function mode(file: string): number {
	return statSync(file).mode & 0o777;
}

describe('store directories', () => {
	it.each([
		['group-writable', 0o770, 'group'],
		['world-writable', 0o777, 'group and others'],
		['others-writable', 0o702, 'others'],
	])('a %s home with a planted pin is refused for every read and write, with the chmod that fixes it', (_name, wide, who) => {
		store.add(fakePin('collector', 44_321, 'planted'));
		chmodSync(store.home, wide);
		for (const action of [() => store.get(target), () => store.scan(), () => store.trustedCas(), () => store.tlsMemory(target), () => store.add(fakePin('other', 1, 'x'))]) {
			const error = caught(action);
			expect(error.code).toBe('STORE');
			expect(error.exitCode).toBe(1);
			expect(error.message).toBe(`the trust store directory ${store.home} is writable by ${who} (mode 0${wide.toString(8)}); anyone who can write it could plant pins or CAs in it, so secmon refuses to use it`);
			expect(error.hint).toContain(`chmod 700 ${store.home}`);
		}

		// Nothing was tightened behind the user's back, and the hint's command really fixes it.
		expect(mode(store.home)).toBe(wide);
		execFileSync('sh', ['-c', /then: (.*)$/v.exec(caught(() => store.get(target)).hint!)![1]!]);
		expect(store.get(target)?.sha256).toBe(fakePin('collector', 44_321, 'planted').sha256);
	});

	it('a group-writable known_collectors/ or cas/ is refused, naming it', async () => {
		store.add(fakePin('collector', 44_321, 'a'));
		chmodSync(store.knownDir, 0o775);
		expect(caught(() => store.get(target)).message).toContain(`${store.knownDir} is writable by group (mode 0775)`);
		expect(caught(() => store.list()).message).toContain(store.knownDir);
		chmodSync(store.knownDir, 0o700);
		const pki = await testPki();
		store.addTrustedCa(pki.ca.cert);
		chmodSync(store.casDir, 0o730);
		expect(caught(() => store.trustedCas()).message).toContain(`${store.casDir} is writable by group (mode 0730)`);
		expect(caught(() => listTrustedCas(store)).hint).toContain(`chmod 700 ${store.casDir}`);
		// Pins are read from their own directory only: they are still fine.
		expect(store.get(target)).toBeDefined();
	});

	it('a 0755 home of ours is read as it is, and tightened to 0700 when secmon writes to it', () => {
		mkdirSync(store.home, {mode: 0o755});
		chmodSync(store.home, 0o755);
		expect(store.get(target)).toBeUndefined();
		expect(mode(store.home)).toBe(0o755);
		store.add(fakePin('collector', 44_321, 'a'));
		expect(mode(store.home)).toBe(0o700);
		expect(mode(store.knownDir)).toBe(0o700);
	});

	it.skipIf(!isRoot)('a home or known_collectors/ owned by another user is refused, with the chown that fixes it (needs root to chown; CI runs as root)', () => {
		store.add(fakePin('collector', 44_321, 'a'));
		chownSync(store.knownDir, nobody, nobody);
		const error = caught(() => store.get(target));
		expect(error.message).toBe(`the trust store directory ${store.knownDir} is owned by uid ${nobody}, not by you (uid 0); its owner could plant pins or CAs in it, so secmon refuses to use it`);
		expect(error.hint).toContain(`chown 0 ${store.knownDir}`);
		expect(caught(() => store.add(fakePin('x', 1, 'x'))).message).toContain(`owned by uid ${nobody}`);
		chownSync(store.knownDir, 0, 0);
		chownSync(store.home, nobody, nobody);
		chmodSync(store.home, 0o777);
		const both = caught(() => store.scan());
		expect(both.message).toContain(`${store.home} is owned by uid ${nobody}`);
		expect(both.hint).toContain(`chown 0 ${store.home} && chmod 700 ${store.home}`);
	});

	it('a symbolic link as the home or as known_collectors/ is refused, naming the link and where it points', () => {
		const real = new TrustStore(path.join(temporary, 'real'));
		real.add(fakePin('collector', 44_321, 'a'));
		symlinkSync(real.home, store.home);
		let error = caught(() => store.get(target));
		expect(error.message).toBe(`the trust store directory ${store.home} is a symbolic link (to ${real.home}); secmon never follows links in its store`);
		expect(caught(() => store.add(fakePin('x', 1, 'x'))).message).toContain('is a symbolic link');
		rmSync(store.home);
		mkdirSync(store.home, {mode: 0o700});
		symlinkSync(real.knownDir, store.knownDir);
		error = caught(() => store.scan());
		expect(error.message).toContain(`${store.knownDir} is a symbolic link`);
		expect(error.hint).toContain(`rm ${store.knownDir} && cp -a ${real.knownDir} ${store.knownDir}`);
	});

	it('a file where a store directory belongs is refused', () => {
		mkdirSync(store.home, {mode: 0o700});
		writeFileSync(store.knownDir, '');
		expect(caught(() => store.get(target)).message).toBe(`${store.knownDir} exists but is not a directory`);
	});
});

describe('store files', () => {
	beforeEach(() => {
		mkdirSync(store.knownDir, {recursive: true, mode: 0o700});
	});

	it('a symbolic link in place of a pin is refused, even to a valid pin, and never replaced', () => {
		const elsewhere = path.join(temporary, 'elsewhere.json');
		const real = new TrustStore(path.join(temporary, 'real'));
		real.add(fakePin('collector', 44_321, 'a'));
		writeFileSync(elsewhere, readFileSync(real.pinPath(target)));
		symlinkSync(elsewhere, store.pinPath(target));
		const error = caught(() => store.get(target));
		expect(error.message).toBe(`the pin file ${store.pinPath(target)} is a symbolic link; secmon never follows links in its store`);
		expect(error.hint).toContain('secmon certs remove collector:44321');
		expect(store.scan().problems.map(problem => problem.error.message)).toEqual([error.message]);
		expect(caught(() => store.add(fakePin('collector', 44_321, 'b'))).message).toContain('is a symbolic link');
		expect(store.remove(target)).toBe(true);
		expect(readFileSync(elsewhere, 'utf8')).toContain('"host": "collector"');
	});

	it('a symbolic link among the CA files, or as the trusted-CA index, is refused', async () => {
		const pki = await testPki();
		mkdirSync(store.casDir, {mode: 0o700});
		const outside = path.join(temporary, 'ca.pem');
		writeFileSync(outside, pki.ca.cert);
		symlinkSync(outside, path.join(store.casDir, 'linked.pem'));
		expect(caught(() => store.trustedCas()).message).toBe(`the CA file ${path.join(store.casDir, 'linked.pem')} is a symbolic link; secmon never follows links in its store`);
		rmSync(path.join(store.casDir, 'linked.pem'));
		addTrustedCa(store, pki.ca.cert, {how: 'trust-ca'});
		const index = path.join(store.home, 'trusted-cas.json');
		writeFileSync(outside, readFileSync(index));
		rmSync(index);
		symlinkSync(outside, index);
		expect(caught(() => listTrustedCas(store)).message).toBe(`the trusted-CA index ${index} is a symbolic link; secmon never follows links in its store`);
	});

	it('an over-large pin (a 600 MB sparse file) is refused unread, naming the file and the cap', () => {
		const file = store.pinPath(target);
		closeSync(openSync(file, 'w', 0o600));
		truncateSync(file, 600 * 1024 * 1024);
		const error = caught(() => store.get(target));
		expect(error.message).toBe(`the pin file ${file} is 629145600 bytes, more than the ${maxPinFileBytes} a pin file may hold; secmon did not read it`);
		expect(error.hint).toContain(`rm ${file}`);
	});

	it('an over-large CA file is refused unread', () => {
		mkdirSync(store.casDir, {mode: 0o700});
		const file = path.join(store.casDir, 'huge.pem');
		closeSync(openSync(file, 'w', 0o600));
		truncateSync(file, 2 * 1024 * 1024);
		expect(caught(() => store.trustedCas()).message).toContain(`the CA file ${file} is 2097152 bytes, more than the 1048576`);
	});

	it.skipIf(!isRoot)('a device in place of a pin is refused (mknod needs root; CI runs as root)', () => {
		const file = store.pinPath(target);
		execFileSync('mknod', [file, 'c', '1', '5']); // /dev/zero's numbers: reading it would never end
		expect(caught(() => store.get(target)).message).toBe(`the pin file ${file} is a device, not a regular file`);
	});

	it('a pin file writable by group or others is refused with the chmod that fixes it', () => {
		store.add(fakePin('collector', 44_321, 'a'));
		const file = store.pinPath(target);
		chmodSync(file, 0o664);
		const error = caught(() => store.get(target));
		expect(error.message).toContain(`the pin file ${file} is writable by group (mode 0664)`);
		expect(error.hint).toContain(`chmod 600 ${file}`);
		chmodSync(file, 0o644);
		expect(store.get(target)?.host).toBe('collector');
	});

	it.skipIf(!isRoot)('a pin file owned by another user is refused (needs root to chown; CI runs as root)', () => {
		store.add(fakePin('collector', 44_321, 'a'));
		const file = store.pinPath(target);
		chownSync(file, nobody, nobody);
		const error = caught(() => store.get(target));
		expect(error.message).toContain(`the pin file ${file} is owned by uid ${nobody}, not by you (uid 0)`);
		expect(error.hint).toContain(`chown 0 ${file}`);
	});
});

describe('the real CLI', () => {
	let home: string;

	beforeEach(() => {
		home = path.join(temporary, 'home');
	});

	it.each([['0770', 0o770], ['0777', 0o777]])('secmon certs list refuses a %s store with a planted pin (exit 1), naming the directory and the fix', async (_name, wide) => {
		new TrustStore(home).add(fakePin('collector', 44_321, 'planted'));
		chmodSync(home, wide);
		const result = await runSecmon(['certs', 'list'], {env: {SECMON_HOME: home}});
		expect(result.code).toBe(1);
		expect(result.stdout).toBe('');
		expect(result.stderr).toContain(`the trust store directory ${home} is writable by`);
		expect(result.stderr).toContain(`chmod 700 ${home}`);
	});

	it('a FIFO in place of a pin fails at once (exit 1), never blocks', async () => {
		const planted = new TrustStore(home);
		mkdirSync(planted.knownDir, {recursive: true, mode: 0o700});
		execFileSync('mkfifo', ['-m', '600', planted.pinPath(target)]);
		for (const args of [['certs', 'list'], ['certs', 'show', 'collector:44321']]) {
			// Would be killed (signal SIGKILL, code null) if opening the FIFO waited for a writer.
			const result = await runSecmon(args, {env: {SECMON_HOME: home}, timeoutMs: 20_000});
			expect(result.signal).toBeNull();
			expect(result.code).toBe(1);
			expect(result.stderr).toContain(`the pin file ${planted.pinPath(target)} is a FIFO, not a regular file`);
		}
	}, 60_000);

	describe('against a real pmcd offering TLS', () => {
		let peer: PmcdPeer;

		beforeAll(async () => {
			peer = await startPmcd('offer');
		});

		afterAll(async () => {
			await peer?.stop();
		});

		const fetch = () => ['--secure', 'enforce', '-h', peer.address, '-f', 'hinv.ncpu'];

		it('a pin in a group-writable store is not trusted: the connection is refused (exit 1) until the store is private', async () => {
			const env = {SECMON_HOME: home, NODE_EXTRA_CA_CERTS: ''};
			expect((await runSecmon([...fetch(), '--accept-new'], {env})).code).toBe(0);
			expect((await runSecmon(fetch(), {env})).code).toBe(0);
			chmodSync(home, 0o770);
			const refused = await runSecmon(fetch(), {env});
			expect(refused.code).toBe(1);
			expect(refused.stdout).toBe('');
			expect(refused.stderr).toContain(`the trust store directory ${home} is writable by group (mode 0770)`);
			expect(refused.stderr).toContain(`chmod 700 ${home}`);
			chmodSync(home, 0o700);
			expect((await runSecmon(fetch(), {env})).code).toBe(0);
		});

		it.skipIf(!isRoot)('a pin in a store owned by another user is not trusted (needs root to chown; CI runs as root)', async () => {
			const env = {SECMON_HOME: home, NODE_EXTRA_CA_CERTS: ''};
			expect((await runSecmon([...fetch(), '--accept-new'], {env})).code).toBe(0);
			chownSync(path.join(home, 'known_collectors'), nobody, nobody);
			const refused = await runSecmon(fetch(), {env});
			expect(refused.code).toBe(1);
			expect(refused.stderr).toContain(`${path.join(home, 'known_collectors')} is owned by uid ${nobody}`);
		});
	});
});
