import {
	chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterEach, beforeEach, describe, expect, it,
} from 'vitest';
import {checkKeyFileMode, ensurePrivateDir, secmonHome} from '../../source/security/home.js';

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
