/**
 * The build's start-up machinery (rolldown.config.js, source/launcher.cjs): the bundle is
 * CommonJS with V8 code caches written by real training runs. A cache V8 rejects costs
 * nothing but speed, so nothing else would notice it going stale: check it here.
 */
import {readdirSync, readFileSync} from 'node:fs';
import Module, {createRequire} from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import {describe, expect, it} from 'vitest';
import {cliPath} from '../helpers/secmon.js';

const dist = path.dirname(cliPath);

function bundleFiles(): string[] {
	return [
		...readdirSync(dist).map(name => path.join(dist, name)),
		...readdirSync(path.join(dist, 'chunks')).map(name => path.join(dist, 'chunks', name)),
	].filter(file => file.endsWith('.cjs'));
}

describe('dist/ (npm run build)', () => {
	it('has code caches for the fetch path and zabbix-get, and V8 accepts every one', () => {
		const cached = bundleFiles().filter(file => {
			try {
				readFileSync(`${file}.cache`);
				return true;
			} catch {
				return false;
			}
		});
		const names = cached.map(file => path.basename(file));
		expect(names).toContain('secmon.cjs');
		expect(names.some(name => name.startsWith('fetch-'))).toBe(true);
		expect(names.some(name => name.startsWith('zabbix-get-'))).toBe(true);
		for (const file of cached) {
			const source = readFileSync(file, 'utf8').replace(/^#!.*/v, match => ' '.repeat(match.length));
			const script = new vm.Script(Module.wrap(source), {
				filename: file,
				cachedData: readFileSync(`${file}.cache`),
				importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
			});
			expect(script.cachedDataRejected, `${file}.cache rejected`).toBe(false);
		}
	});

	it('is pure ASCII, so Node reads each file as a one-byte string', () => {
		for (const file of bundleFiles()) {
			const nonAscii = /[^\u0000-\u007F]/v.exec(readFileSync(file, 'latin1'));
			expect(nonAscii?.[0], `${file} has a non-ASCII character`).toBeUndefined();
		}
	});

	it('parses flags exactly like the original meow, with ASCII-first patterns (non-ASCII flags too)', async () => {
		const {default: originalMeow} = await import('meow');
		const fetchChunk = bundleFiles().find(file => path.basename(file).startsWith('fetch-'))!;
		const {meow: bundledMeow} = createRequire(import.meta.url)(fetchChunk) as {meow: typeof originalMeow};
		const flags = {
			caFile: {type: 'string'}, pmidLong: {type: 'boolean', shortFlag: 'M'}, äpfelKuchen: {type: 'string'}, x2y: {type: 'boolean'},
		} as const;
		const argvs = [
			['--ca-file', 'a', '-M', 'kernel.all.load'],
			['--fööBar=1', '--ÄpfelKuchen', 'b'],
			['--äpfel-kuchen', 'z', '--x2y', '--foo_bar-Baz', '--FOO-bar', '--a1b2-C3d', '--HTTPServer', '--ﬀ-x'],
			['--Éclair-ÉCLAIR', '--number2Letter', '--über-2x', '--ca_file', 'c'],
			['--ZipCodeZ', '--a0b-z9Z', '--QUIET-Zone', '--w0rld-Wide'],
		];
		for (const argv of argvs) {
			const options = {
				importMeta: import.meta, argv, flags, pkg: {name: 'x', version: '1'}, allowUnknownFlags: true,
			};
			const bundled = bundledMeow('', options);
			const original = originalMeow('', options);
			expect({flags: bundled.flags, input: bundled.input}, argv.join(' ')).toEqual({flags: original.flags, input: original.input});
		}
	});

	it('the launcher is the bin and runs the bundle (version from package.json)', async () => {
		const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {bin: {secmon: string}; version: string};
		expect(path.resolve(path.dirname(new URL('../../package.json', import.meta.url).pathname), packageJson.bin.secmon)).toBe(cliPath);
		const {execFileSync} = await import('node:child_process');
		expect(execFileSync(process.execPath, [cliPath, '--version'], {encoding: 'utf8'}).trim()).toBe(packageJson.version);
	});
});
