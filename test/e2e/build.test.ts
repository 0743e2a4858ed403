/**
 * The build's start-up machinery (rolldown.config.js, source/launcher.cjs): the bundle is
 * CommonJS with V8 code caches written by real training runs. A cache V8 rejects costs
 * nothing but speed, so nothing else would notice it going stale: check it here.
 */
import {spawnSync} from 'node:child_process';
import {
	chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import Module, {createRequire} from 'node:module';
import path from 'node:path';
import process from 'node:process';
import vm from 'node:vm';
import {describe, expect, it} from 'vitest';
import {cliPath} from '../helpers/secmon.js';
import type {parseWithMeow} from '../../source/argv/args.js';

const dist = path.dirname(cliPath);

function bundleFiles(): string[] {
	return [
		...readdirSync(dist).map(name => path.join(dist, name)),
		...readdirSync(path.join(dist, 'chunks')).map(name => path.join(dist, 'chunks', name)),
	].filter(file => file.endsWith('.cjs'));
}

/** Node >= 22.1 has a compile cache, which the launcher uses when the build's caches do not fit (source/launcher.cjs). */
const nodeCompileCache = typeof (Module as {enableCompileCache?: unknown}).enableCompileCache === 'function';

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
			});
			expect(script.cachedDataRejected, `${file}.cache rejected`).toBe(false);
		}
	});

	it('uses the build\'s caches when they fit: no compile cache is written', () => {
		const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-build-home-'));
		try {
			const result = spawnSync(process.execPath, [cliPath, '--json', '-f', 'hinv.ncpu'], {
				env: {PATH: process.env['PATH'], SECMON_HOME: path.join(home, 'secmon'), HOME: home}, encoding: 'utf8', timeout: 60_000,
			});
			expect(result.status, result.stderr).toBe(0);
			expect(() => readdirSync(path.join(home, '.cache'))).toThrow(/ENOENT/v);
		} finally {
			rmSync(home, {recursive: true, force: true});
		}
	});

	const cleanup: string[] = [];
	it.runIf(nodeCompileCache)('on Node >= 22.1, when the build\'s caches do not fit (another Node built it): Node\'s compile cache in ~/.cache/secmon, private to the user', () => {
		const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-build-home-'));
		try {
			// A copy of dist/ whose caches no V8 accepts, as a dist/ built by another Node is here; beside
			// dist/ (in .tmp/, ignored by git), so that it finds node_modules as dist/ does.
			const scratch = path.join(path.dirname(dist), '.tmp');
			mkdirSync(scratch, {recursive: true});
			const copy = mkdtempSync(path.join(scratch, 'dist-'));
			cleanup.push(copy);
			cpSync(dist, copy, {recursive: true});
			for (const file of [...readdirSync(copy).map(name => path.join(copy, name)), ...readdirSync(path.join(copy, 'chunks')).map(name => path.join(copy, 'chunks', name))]) {
				if (file.endsWith('.cache')) {
					writeFileSync(file, 'not a V8 code cache');
				}
			}

			const run = (env: Record<string, string>) => spawnSync(process.execPath, [path.join(copy, 'cli.cjs'), '--json', '-f', 'hinv.ncpu'], {
				env: {PATH: process.env['PATH'], SECMON_HOME: path.join(home, 'secmon'), ...env}, encoding: 'utf8', timeout: 60_000,
			});
			const cache = path.join(home, '.cache', 'secmon', 'node-compile-cache');
			const first = run({HOME: home});
			expect(first.status, first.stderr).toBe(0);
			expect(statSync(cache).mode & 0o777).toBe(0o700);
			expect(readdirSync(cache).length).toBeGreaterThan(0);
			// A cache is code that runs: one that group or others can write is not used (nor written).
			const shared = path.join(home, 'shared');
			mkdirSync(path.join(shared, 'secmon', 'node-compile-cache'), {recursive: true});
			chmodSync(path.join(shared, 'secmon', 'node-compile-cache'), 0o777);
			expect(run({HOME: home, XDG_CACHE_HOME: shared}).status).toBe(0);
			expect(readdirSync(path.join(shared, 'secmon', 'node-compile-cache'))).toEqual([]);
		} finally {
			rmSync(home, {recursive: true, force: true});
			for (const directory of cleanup.splice(0)) {
				rmSync(directory, {recursive: true, force: true});
			}
		}
	});

	it('is pure ASCII, so Node reads each file as a one-byte string', () => {
		for (const file of bundleFiles()) {
			const nonAscii = /[^\u0000-\u007F]/v.exec(readFileSync(file, 'latin1'));
			expect(nonAscii?.[0], `${file} has a non-ASCII character`).toBeUndefined();
		}
	});

	it('parses flags exactly like the original meow, without its package.json reader (non-ASCII flags too)', async () => {
		const {default: originalMeow} = await import('meow');
		const meowChunk = bundleFiles().find(file => path.basename(file).startsWith('meow-'))!;
		// The subcommands' meow call (source/argv/args.ts parseWithMeow) is imported dynamically by
		// zabbix-get.ts, so the chunk exports its module namespace.
		const exported = Object.values(createRequire(import.meta.url)(meowChunk) as Record<string, {parseWithMeow?: unknown}>);
		const bundledParse = exported.map(value => value.parseWithMeow).find(value => typeof value === 'function') as typeof parseWithMeow;
		expect(bundledParse).toBeTypeOf('function');
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
			const bundled = bundledParse(argv, flags);
			// What parseWithMeow passes, given to the original meow.
			const original = originalMeow({
				importMeta: import.meta, argv, flags, pkg: {name: 'secmon'}, allowUnknownFlags: true, autoHelp: false, autoVersion: false, description: false,
			});
			expect({flags: bundled.flags, input: bundled.input}, argv.join(' ')).toEqual({flags: original.flags, input: original.input});
		}
	});

	it('a plain one-shot --json fetch loads neither meow nor ink/react (argv/simple-argv.ts); --help does load meow', () => {
		const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-build-home-'));
		try {
			// Node's own preload option, so the bundle runs exactly as users run it. The launcher loads
			// bundle files itself (not into require.cache), so record the files read instead.
			const preload = path.join(home, 'loaded.cjs');
			writeFileSync(preload, [
				'const fs = require("node:fs"); const read = fs.readFileSync; const files = [];',
				'fs.readFileSync = function (file, ...rest) { if (typeof file === "string") files.push(file); return read.call(this, file, ...rest); };',
				'process.on("exit", () => fs.writeFileSync(process.env.LOADED_OUT, [...files, ...Object.keys(require.cache)].join("\\n")));',
			].join('\n'));
			const loaded = (args: string[]): string[] => {
				const out = path.join(home, 'loaded.txt');
				const result = spawnSync(process.execPath, ['-r', preload, cliPath, ...args], {
					env: {PATH: process.env['PATH'], SECMON_HOME: home, LOADED_OUT: out}, encoding: 'utf8', timeout: 60_000,
				});
				expect(result.status, result.stderr).toBe(0);
				return readFileSync(out, 'utf8').split('\n').map(file => path.relative(dist, file));
			};

			// No --host: the embedded collector, so the test needs no pmcd.
			const plain = loaded(['--json', '-f', 'kernel.all.load']);
			expect(plain.some(file => file.startsWith(path.join('chunks', 'fetch-')))).toBe(true);
			expect(plain.filter(file => /meow|node_modules.(ink|react)/v.test(file))).toEqual([]);
			const help = loaded(['--help']);
			expect(help.some(file => file.startsWith(path.join('chunks', 'meow-')))).toBe(true);
		} finally {
			rmSync(home, {recursive: true, force: true});
		}
	});

	it('the launcher is the bin and runs the bundle (version from package.json)', async () => {
		const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {bin: {secmon: string}; version: string};
		expect(path.resolve(path.dirname(new URL('../../package.json', import.meta.url).pathname), packageJson.bin.secmon)).toBe(cliPath);
		const {execFileSync} = await import('node:child_process');
		expect(execFileSync(process.execPath, [cliPath, '--version'], {encoding: 'utf8'}).trim()).toBe(packageJson.version);
	});
});
