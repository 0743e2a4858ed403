import {
	chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {
	checkPskIdentity, loadPsk, readPskIdentityFile, readPskKeyFile,
} from '../../../source/protocols/zabbix/psk.js';
import {runZabbixGet, stripZabbixPrefix, zabbixPeersInstalled} from '../../helpers/zabbix.js';

let dir: string;
const hex32 = 'a1'.repeat(16);

function file(name: string, content: string, mode = 0o600): string {
	const target = path.join(dir, name);
	writeFileSync(target, content, {mode});
	chmodSync(target, mode);
	return target;
}

function errorOf(action: () => unknown): SecmonError {
	try {
		action();
	} catch (error) {
		expect(error).toBeInstanceOf(SecmonError);
		return error as SecmonError;
	}

	throw new Error('expected an error');
}

beforeAll(() => {
	dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-psk-'));
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

// The cases zabbix_get checks, with its exact message (docs/zabbix.md#zabbix_get and its zbx_read_psk_file()).
const cases: Array<[string, string | undefined, (name: string) => string]> = [
	['short.psk', 'abcd1234\n', name => `PSK in file "${name}" is too short. Minimum is 32 hex-digits`],
	['long.psk', `${'0'.repeat(600)}\n`, name => `PSK in file "${name}" is too long. Maximum is 512 hex-digits`],
	['odd.psk', `${'0'.repeat(31)}z\n`, name => `invalid PSK in file "${name}"`],
	['space.psk', ` ${'0'.repeat(32)}\n`, name => `invalid PSK in file "${name}"`],
	['oddlength.psk', `${'0'.repeat(33)}\n`, name => `invalid PSK in file "${name}"`],
	['empty.psk', '', name => `cannot read from file "${name}" or file empty`],
	['newline.psk', '\n', name => `file "${name}" is empty`],
	['missing.psk', undefined, name => `cannot open file "${name}": [2] No such file or directory`],
];

describe('readPskKeyFile', () => {
	it('reads the first line, CR/LF stripped, 16..256 bytes', () => {
		expect(readPskKeyFile(file('ok.psk', `${hex32}\r\nsecond line is ignored\n`)).key).toEqual(Buffer.alloc(16, 0xA1));
		expect(readPskKeyFile(file('max.psk', 'F'.repeat(512))).key.length).toBe(256);
		expect(readPskKeyFile(file('ok2.psk', hex32)).warning).toBeUndefined();
	});

	it.each(cases)('%s: zabbix_get\'s message, exit 1', (name, content, message) => {
		const target = content === undefined ? path.join(dir, name) : file(name, content);
		const error = errorOf(() => readPskKeyFile(target));
		expect(error.message).toBe(message(target));
		expect(error.exitCode).toBe(1);
		expect(error.hint).toBeTruthy();
	});

	it('refuses a directory like zabbix_get', () => {
		const sub = path.join(dir, 'adir');
		mkdirSync(sub);
		expect(errorOf(() => readPskKeyFile(sub)).message).toBe(`cannot read from file "${sub}" or file empty`);
	});

	it('warns when group or others can read the key, and never puts the key in a message', () => {
		const target = file('open.psk', `${hex32}\n`, 0o644);
		const {warning} = readPskKeyFile(target);
		expect(warning).toContain('mode 0644');
		expect(warning).toContain(`chmod 600 ${target}`);
		expect(warning).not.toContain(hex32);
		expect(readPskKeyFile(file('group.psk', `${hex32}\n`, 0o640)).warning).toContain('0640');
	});
});

describe('identities', () => {
	it('accepts up to 128 UTF-8 characters, refuses empty and longer', () => {
		expect(checkPskIdentity('é'.repeat(128))).toHaveLength(128);
		expect(errorOf(() => checkPskIdentity('')).message).toBe('configuration parameter "--tls-psk-identity" is defined but empty');
		expect(errorOf(() => checkPskIdentity('x'.repeat(129))).exitCode).toBe(2);
	});

	it('reads an identity file', () => {
		expect(readPskIdentityFile(file('id', 'secmon-psk-01\nrest'))).toBe('secmon-psk-01');
		expect(loadPsk({identityFile: file('id2', 'ident\n'), keyFile: file('k.psk', hex32)})).toEqual({identity: 'ident', key: Buffer.alloc(16, 0xA1), warnings: []});
		expect(errorOf(() => loadPsk({keyFile: file('k2.psk', hex32)})).message).toContain('"--tls-psk-identity" is not defined');
	});
});

describe.runIf(zabbixPeersInstalled())('same messages as the real zabbix_get', () => {
	it.each(cases.filter(([, content]) => content !== undefined))('%s', async (name, content) => {
		const target = file(`zg-${name}`, content!);
		const result = await runZabbixGet(['-s', '127.0.0.1', '-p', '1', '-k', 'agent.ping', '--tls-connect', 'psk', '--tls-psk-identity', 'x', '--tls-psk-file', target]);
		expect(result.code).toBe(1);
		expect(stripZabbixPrefix(result.stderr).trim()).toBe(`ERROR: ${errorOf(() => readPskKeyFile(target)).message}`);
	});
});
