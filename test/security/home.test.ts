import {execFileSync} from 'node:child_process';
import {
	chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterEach, beforeEach, describe, expect, it,
} from 'vitest';
import {
	checkKeyFileMode, checkPrivateDir, ensurePrivateDir, readPrivateFile, secmonHome,
} from '../../source/security/home.js';
import {shellQuote} from '../../source/shell.js';

let temporary: string;

beforeEach(() => {
	temporary = mkdtempSync(path.join(os.tmpdir(), 'secmon-home-'));
});

afterEach(() => {
	rmSync(temporary, {recursive: true, force: true});
});

function mode(file: string): number {
	return statSync(file).mode & 0o777;
}

describe('secmonHome', () => {
	it('uses SECMON_HOME when set, resolved to an absolute path', () => {
		expect(secmonHome({SECMON_HOME: temporary})).toBe(temporary);
		expect(path.isAbsolute(secmonHome({SECMON_HOME: 'relative/dir'}))).toBe(true);
	});

	it('defaults to ~/.pki/secmon (never ~/.pki/nssdb)', () => {
		expect(secmonHome({})).toBe(path.join(os.homedir(), '.pki', 'secmon'));
		expect(secmonHome({SECMON_HOME: '  '})).toBe(path.join(os.homedir(), '.pki', 'secmon'));
	});
});

describe('ensurePrivateDir', () => {
	it('creates missing parents and the directory with mode 0700, even under a permissive umask', () => {
		const old = process.umask(0o002);
		try {
			const dir = path.join(temporary, 'home', '.pki', 'secmon');
			ensurePrivateDir(dir);
			expect(mode(dir)).toBe(0o700);
			expect(mode(path.join(temporary, 'home', '.pki'))).toBe(0o700);
		} finally {
			process.umask(old);
		}
	});

	it('tightens an existing directory with a wider mode', () => {
		const dir = path.join(temporary, 'wide');
		mkdirSync(dir);
		chmodSync(dir, 0o755);
		ensurePrivateDir(dir);
		expect(mode(dir)).toBe(0o700);
	});

	it('refuses, without changing it, a directory that group or others can write, or a link', () => {
		const dir = path.join(temporary, 'shared');
		mkdirSync(dir);
		chmodSync(dir, 0o775);
		expect(() => {
			ensurePrivateDir(dir);
		}).toThrow(`the trust store directory ${dir} is writable by group (mode 0775)`);
		expect(mode(dir)).toBe(0o775);
		expect(() => checkPrivateDir(dir)).toThrow(/writable by group/v);
		chmodSync(dir, 0o700);
		expect(checkPrivateDir(dir)).toBe(true);
		expect(checkPrivateDir(path.join(temporary, 'missing'))).toBe(false);
		const link = path.join(temporary, 'link');
		symlinkSync(dir, link);
		expect(() => {
			ensurePrivateDir(link);
		}).toThrow(`the trust store directory ${link} is a symbolic link (to ${dir})`);
	});

	it('refuses a file in the way with a STORE error', () => {
		const file = path.join(temporary, 'file');
		writeFileSync(file, 'x');
		expect(() => {
			ensurePrivateDir(file);
		}).toThrow(/not a directory/v);
	});
});

describe('checkKeyFileMode', () => {
	it('warns when group or others can read the key, naming the fix', () => {
		const key = path.join(temporary, 'client.key');
		writeFileSync(key, 'secret', {mode: 0o644});
		chmodSync(key, 0o644);
		const warning = checkKeyFileMode(key);
		expect(warning).toContain(key);
		expect(warning).toContain('0644');
		expect(warning).toContain(`chmod 600 ${key}`);
		expect(warning).not.toContain('secret');
		chmodSync(key, 0o640);
		expect(checkKeyFileMode(key)).toContain('0640');
	});

	it('is quiet for 0600 and 0400 keys and for missing files', () => {
		const key = path.join(temporary, 'client.key');
		writeFileSync(key, 'secret', {mode: 0o600});
		expect(checkKeyFileMode(key)).toBeUndefined();
		chmodSync(key, 0o400);
		expect(checkKeyFileMode(key)).toBeUndefined();
		expect(checkKeyFileMode(path.join(temporary, 'missing.key'))).toBeUndefined();
	});
});

describe('readPrivateFile', () => {
	const rules = {what: 'test file', maxBytes: 8, removal: 'Delete it'};

	it('reads a small regular file of ours, and says undefined for a missing one', () => {
		const file = path.join(temporary, 'small');
		writeFileSync(file, 'héllo', {mode: 0o600});
		expect(readPrivateFile(file, rules)).toBe('héllo');
		expect(readPrivateFile(path.join(temporary, 'missing'), rules)).toBeUndefined();
	});

	it('refuses a file one byte over the cap and a link, naming the file', () => {
		const file = path.join(temporary, 'big');
		writeFileSync(file, '123456789', {mode: 0o600});
		expect(() => readPrivateFile(file, rules)).toThrow(`the test file ${file} is 9 bytes, more than the 8 a test file may hold`);
		const link = path.join(temporary, 'link');
		symlinkSync(path.join(temporary, 'small'), link);
		expect(() => readPrivateFile(link, rules)).toThrow(`the test file ${link} is a symbolic link`);
		// A FIFO is tested through the CLI (store-strict.test.ts): a blocking open here would hang the test worker, past any timeout.
	});

	// The buffer starts at the size fstat gave: a file with more bytes than that (one that grew
	// after the fstat; /proc files say 0 bytes) is still read whole, and still only up to the cap.
	// /proc/self files belong to the process's own user, so this runs for any user.
	it('reads a file past the size fstat gave, and never past the cap', () => {
		const file = '/proc/self/limits';
		const text = readFileSync(file, 'utf8');
		expect(statSync(file).size).toBe(0);
		expect(readPrivateFile(file, {what: 'test file', maxBytes: 64 * 1024, removal: 'Delete it'})).toBe(text);
		expect(() => readPrivateFile(file, rules)).toThrow(`the test file ${file} grew past the 8 bytes a test file may hold while secmon read it`);
	});
});

describe('shellQuote', () => {
	it('leaves plain paths alone and single-quotes the rest so hints paste as they are', () => {
		expect(shellQuote('/home/a/.pki/secmon')).toBe('/home/a/.pki/secmon');
		expect(shellQuote('/tmp/my dir')).toBe('\'/tmp/my dir\'');
		expect(execFileSync('sh', ['-c', `printf %s ${shellQuote('it\'s $HOME')}`], {encoding: 'utf8'})).toBe('it\'s $HOME');
	});
});
