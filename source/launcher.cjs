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
 * and the file is compiled as usual. Only files of this directory tree are handled here;
 * everything else (node_modules) goes through Node's loader untouched.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

// Node's CommonJS Module class, without loading the public node:module (and what it pulls in).
const Module = module.constructor;
const root = __dirname;
const writeCaches = process.env.SECMON_BUILD_CODE_CACHE === '1';
const compiled = [];
const nodeCompile = Module.prototype._compile;

function readCache(file) {
	try {
		return fs.readFileSync(file);
	} catch {
		return undefined;
	}
}

Module.prototype._compile = function (content, filename, ...rest) {
	if (!filename.endsWith('.cjs') || !filename.startsWith(root + path.sep) || filename === __filename) {
		return nodeCompile.call(this, content, filename, ...rest);
	}

	// The same wrapper Node uses; a leading #! line is blanked (same length, same line numbers).
	const source = Module.wrap(content.replace(/^#!.*/v, match => ' '.repeat(match.length)));
	const script = new vm.Script(source, {
		filename,
		cachedData: writeCaches ? undefined : readCache(filename + '.cache'),
		// import() (ink, react) through Node's own loader; a callback here would need --experimental-vm-modules.
		importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
	});
	if (writeCaches) {
		compiled.push({filename, script});
	}

	const require = Module.createRequire(filename);
	return script.runInThisContext().call(this.exports, this.exports, require, this, filename, path.dirname(filename));
};

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

// eslint-disable-next-line import-x/no-unassigned-import -- the bundle runs the command when loaded
require('./secmon.cjs');
