#!/usr/bin/env node
'use strict';
/**
 * The `secmon` command: loads the CommonJS bundle beside it (secmon.cjs and chunks/) so that
 * a one-shot `--json` fetch starts close to bare Node (core issue part 7, bench/startup.mjs).
 * Compiling the bundle is a large share of start-up, so compiled code is kept:
 *
 * - The bundle files are compiled here with vm.Script and the V8 code cache `X.cjs.cache` the
 *   build wrote beside each `X.cjs` (rolldown.config.js runs a few real commands with
 *   SECMON_BUILD_CODE_CACHE=1 and writes the caches at exit, so they hold every function those
 *   runs compiled, not only top levels). V8 checks that a cache matches the source text, V8
 *   version and flags, and ignores one that does not.
 * - When the build's caches do not fit this Node (a dist/ built by another Node) and Node has a
 *   compile cache (>= 22.1: module.enableCompileCache, lib/internal/modules/helpers.js), that is
 *   used instead, in a directory of the user's own (below), with a plain require of the bundle.
 *   It holds only what Node compiled eagerly, so it starts slower than fitting build caches
 *   (Node 22: ~30 ms slower for one TLS --json fetch, December 2026), but faster than none.
 *
 * Neither path gives vm.Script `importModuleDynamically`: the only way to allow import() there
 * without --experimental-vm-modules, vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, prints an
 * ExperimentalWarning on every Node (lib/internal/vm.js). The bundle's import() of ES-module-only
 * packages (ink, react) calls the function below instead, whose import() is in this file, which
 * Node compiled itself.
 */
const fs = require('node:fs');
// Public node:module: it also sets Module.enableCompileCache (lib/module.js), which
// module.constructor alone does not have yet.
const Module = require('node:module');
const path = require('node:path');

// Resolved from this directory, as the bundle's own import() would be (dist/ and dist/chunks/
// find the same node_modules). rolldown.config.js (esmImportsThroughLauncher) calls it.
globalThis[Symbol.for('secmon.import')] = specifier => import(specifier);

/**
 * The compile cache directory: $XDG_CACHE_HOME/secmon/node-compile-cache, else
 * ~/.cache/secmon/node-compile-cache. Not Node's default (os.tmpdir()): a cache is code that
 * runs, so it is kept where only this user can write, as the trust store is (security/home.ts):
 * a directory that is a link, another user's, or writable by group or others is not used.
 * Undefined (no cache, only slower) when there is no such directory and it cannot be made.
 */
function compileCacheDirectory() {
	// As the XDG Base Directory Specification says: a relative path in $XDG_CACHE_HOME is ignored.
	const {XDG_CACHE_HOME: xdg, HOME: home} = process.env;
	const base = xdg && path.isAbsolute(xdg) ? xdg : (home && path.isAbsolute(home) ? path.join(home, '.cache') : undefined);
	if (base === undefined) {
		return undefined;
	}

	const directory = path.join(base, 'secmon', 'node-compile-cache');
	try {
		fs.mkdirSync(directory, {recursive: true, mode: 0o700});
		const stats = fs.lstatSync(directory);
		const uid = process.getuid?.();
		return stats.isDirectory() && (uid === undefined || stats.uid === uid) && (stats.mode & 0o022) === 0 ? directory : undefined;
	} catch {
		return undefined;
	}
}

const entry = path.join(__dirname, 'secmon.cjs');
const writeCaches = process.env.SECMON_BUILD_CODE_CACHE === '1';

/** The wrapped source of a bundle file: a leading #! line is blanked (same length, same line numbers). */
function wrappedSource(filename) {
	const content = fs.readFileSync(filename, 'utf8');
	return Module.wrap(content.startsWith('#!') ? content.replace(/^#!.*/v, match => ' '.repeat(match.length)) : content);
}

function readCache(file) {
	try {
		return fs.readFileSync(file);
	} catch {
		return undefined;
	}
}

/** The entry compiled with its build cache, or undefined when there is no cache or V8 rejects it. */
function entryWithFittingCache() {
	const vm = require('node:vm');
	const cachedData = readCache(entry + '.cache');
	if (cachedData === undefined) {
		return undefined;
	}

	const script = new vm.Script(wrappedSource(entry), {filename: entry, cachedData});
	return script.cachedDataRejected ? undefined : script;
}

const fitting = writeCaches || typeof Module.enableCompileCache !== 'function' ? undefined : entryWithFittingCache();
if (!writeCaches && fitting === undefined && typeof Module.enableCompileCache === 'function') {
	// NODE_DISABLE_COMPILE_CACHE=1 turns it off, as for any Node program.
	const directory = compileCacheDirectory();
	if (directory !== undefined) {
		Module.enableCompileCache(directory);
	}

	// The bundle runs the command when loaded.
	// eslint-disable-next-line import-x/no-unassigned-import
	require('./secmon.cjs');
} else {
	loadWithCodeCaches(fitting);
}

/** `entryScript`: secmon.cjs already compiled with its fitting cache (entryWithFittingCache). */
function loadWithCodeCaches(entryScript) {
	const vm = require('node:vm');
	const compiled = [];
	/** Bundle file name -> its module object, entered before the file runs (cycles see partial exports, as in Node). */
	const bundleModules = new Map();
	let nodeRequire;

	// The bundle files require each other only by relative path ("./chunks/fetch-X.cjs"), so they
	// are loaded here: no resolution, realpath or package.json lookups per file (~1 ms of start-up
	// for three files). Everything else (node: built-ins, ink, react, conf, node-forge) goes
	// through Node's own require, from this directory.
	const requireFrom = directory => request => {
		if (request.startsWith('./') || request.startsWith('../')) {
			return loadBundleFile(path.join(directory, request));
		}

		nodeRequire ??= Module.createRequire(__filename);
		return nodeRequire(request);
	};

	function loadBundleFile(filename) {
		const known = bundleModules.get(filename);
		if (known) {
			return known.exports;
		}

		const bundleModule = {
			exports: {}, id: filename, filename, loaded: false,
		};
		bundleModules.set(filename, bundleModule);
		// The same wrapper Node uses; the entry may have been compiled already.
		let script = filename === entry ? entryScript : undefined;
		script ??= new vm.Script(wrappedSource(filename), {
			filename,
			cachedData: writeCaches ? undefined : readCache(filename + '.cache'),
		});
		if (writeCaches) {
			compiled.push({filename, script});
		}

		const directory = path.dirname(filename);
		try {
			script.runInThisContext().call(bundleModule.exports, bundleModule.exports, requireFrom(directory), bundleModule, filename, directory);
		} catch (error) {
			// As Node does: a file that failed to load is not kept half-initialized for the next require.
			bundleModules.delete(filename);
			throw error;
		}

		bundleModule.loaded = true;
		return bundleModule.exports;
	}

	if (writeCaches) {
		// After the run, so that the caches hold every function the run compiled, not only top levels.
		process.once('exit', () => {
			// The first training run that loads a file writes its cache; later runs add other files.
			for (const {filename, script} of compiled) {
				if (!fs.existsSync(filename + '.cache')) {
					fs.writeFileSync(filename + '.cache', script.createCachedData());
				}
			}
		});
	}

	// The bundle runs the command when loaded.
	loadBundleFile(entry);
}
