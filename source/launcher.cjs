#!/usr/bin/env node
'use strict';
/**
 * The `secmon` command: loads the CommonJS bundle beside it (secmon.cjs and chunks/) with
 * V8 code caches, so that a one-shot `--json` fetch starts close to bare Node (core issue
 * part 7, bench/startup.mjs). Node 20 has no compile cache of its own for user code
 * (module.enableCompileCache arrived in Node 22), and compiling the bundle is a large share
 * of start-up.
 *
 * Each bundle file `X.cjs` may have `X.cjs.cache`, written by the build (rolldown.config.js
 * runs a few real commands with SECMON_BUILD_CODE_CACHE=1). V8 checks that a cache
 * matches the source text, V8 version and flags; a cache that does not match is ignored
 * and the file is compiled as usual.
 *
 * The bundle files require each other only by relative path ("./chunks/fetch-X.cjs"), so
 * this file loads them itself: no resolution, realpath or package.json lookups per file
 * (~1 ms of start-up for three files). Everything else (node: built-ins, ink, react, conf,
 * node-forge) goes through Node's own require, from this directory.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

// Node's CommonJS Module class, without loading the public node:module (and what it pulls in).
const Module = module.constructor;
const writeCaches = process.env.SECMON_BUILD_CODE_CACHE === '1';
const compiled = [];
/** Bundle file name -> its module object, entered before the file runs (cycles see partial exports, as in Node). */
const bundleModules = new Map();
let nodeRequire;

function readCache(file) {
	try {
		return fs.readFileSync(file);
	} catch {
		return undefined;
	}
}

function requireFrom(directory) {
	return request => {
		if (request.startsWith('./') || request.startsWith('../')) {
			return loadBundleFile(path.join(directory, request));
		}

		nodeRequire ??= Module.createRequire(__filename);
		return nodeRequire(request);
	};
}

function loadBundleFile(filename) {
	const known = bundleModules.get(filename);
	if (known) {
		return known.exports;
	}

	const bundleModule = {
		exports: {}, id: filename, filename, loaded: false,
	};
	bundleModules.set(filename, bundleModule);
	// The same wrapper Node uses; a leading #! line is blanked (same length, same line numbers).
	const content = fs.readFileSync(filename, 'utf8');
	const source = Module.wrap(content.startsWith('#!') ? content.replace(/^#!.*/v, match => ' '.repeat(match.length)) : content);
	const script = new vm.Script(source, {
		filename,
		cachedData: writeCaches ? undefined : readCache(filename + '.cache'),
		// import() (ink, react) through Node's own loader; a callback here would need --experimental-vm-modules.
		importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
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
loadBundleFile(path.join(__dirname, 'secmon.cjs'));
