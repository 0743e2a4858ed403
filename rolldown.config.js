/**
 * The build: source/ (TypeScript + TSX) → dist/ as CommonJS: secmon.cjs, lazy chunks/,
 * and cli.cjs (source/launcher.cjs), the `secmon` command, which loads them with V8 code
 * caches. Start-up is the reason for each choice (core issue part 7; bench/startup.mjs):
 * Node 20 pays per module it resolves (so: a bundle), more for ES modules than for
 * CommonJS (each `node:` import builds a module facade), and compiles every file anew on
 * each start unless given a code cache (so: caches, written here by one real run).
 * ink/react stay behind dynamic imports, so only the terminal UI loads them.
 */
import {spawnSync} from 'node:child_process';
import {
	chmodSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs';
import {isBuiltin} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {defineConfig} from 'rolldown';

// Start from an empty dist/: chunk names carry content hashes, so stale ones would pile up.
rmSync(new URL('dist', import.meta.url), {recursive: true, force: true});

/**
 * meow 14 bundles, besides its flag parser, read-package-up and normalize-package-data
 * (with SPDX, semver, hosted-git-info and @babel/code-frame): ~5,000 lines that a
 * secmon flag parse never runs, because every meow call gets our package.json as `pkg`
 * (source/argv/args.ts meowBasics) and nothing reads `cli.pkg`. Loading and caching
 * them anyway costs start-up (core issue part 7), so this plugin points meow's two
 * entries into them at functions that throw, and the bundler drops the rest as unused.
 * It also removes a dead `promisify(execFile)` that alone loads node:child_process
 * (~5 ms). The replacements are exact; if meow changes, the build fails here instead of
 * silently shipping the dead code or a changed behaviour. Still worth it on Node 20, 22 and
 * 24: the command lines that load meow (--help, --version, --flag=value …) start ~14 to 20 ms
 * sooner with it (paired medians of 30 interleaved runs, December 2026).
 */
function meowWithoutPackageReading() {
	const notBundled = what => `() => {\n\tthrow new Error('secmon: meow\\'s ${what} is not in this build (rolldown.config.js); pass pkg to meow');\n}`;
	const edits = [
		['var libExports = requireLib$1();\n', ''],
		['import { execFile } from \'node:child_process\';\n', ''],
		['promisify(execFile);\n', ''],
		// Evaluated at import time, though only package.json errors (code-frame) and normalizePackageData use them.
		['libExports.codeFrameColumns(', 'requireLib$1().codeFrameColumns('],
		// yargs-parser's loader for .js config files, which meow never asks for; building it
		// loads node:module (~0.25 ms). JSON config files would still be read without it.
		['const require$1 = createRequire ? createRequire(import.meta.url) : undefined;', 'const require$1 = undefined;'],
		['var normalizeExports = requireNormalize();\nconst normalizePackageData = getDefaultExportFromCjs(normalizeExports);\n', ''],
		[
			'export { readPackageUpSync as a,',
			`const secmonNoReadPackageUp = ${notBundled('package.json lookup')};\nexport { secmonNoReadPackageUp as a,`,
		],
		[
			' normalizePackageData as n,',
			' secmonNoNormalizePackageData as n,',
		],
		[
			'const secmonNoReadPackageUp',
			`const secmonNoNormalizePackageData = ${notBundled('package.json normalisation')};\nconst secmonNoReadPackageUp`,
		],
	];
	return {
		name: 'secmon-meow-without-package-reading',
		transform(code, id) {
			if (!id.replaceAll('\\', '/').endsWith('/meow/build/dependencies.js')) {
				return null;
			}

			let out = code;
			for (const [from, to] of edits) {
				if (!out.includes(from)) {
					throw new Error(`rolldown.config.js: meow's build changed (no ${JSON.stringify(from.slice(0, 40))}); update meowWithoutPackageReading`);
				}

				out = out.replace(from, to);
			}

			return {code: out, map: null};
		},
	};
}

/**
 * Ink is an ES module with top-level await (yoga-layout loads WebAssembly), which
 * require() cannot load. The TUI code loads it with `await import('ink')` first (kept as a
 * real dynamic import here, which stores the module on a global), and only then imports
 * the components, whose static `import {Box} from 'ink'` this plugin points at that
 * stored module.
 */
function inkBridge() {
	const bridge = '\0secmon-ink-bridge';
	const key = 'Symbol.for(\'secmon.ink\')';
	return {
		name: 'secmon-ink-bridge',
		resolveId(source, _importer, {kind}) {
			if (source !== 'ink') {
				return null;
			}

			return kind === 'dynamic-import' ? {id: 'ink', external: true} : bridge;
		},
		load(id) {
			if (id !== bridge) {
				return null;
			}

			return {
				code: `const ink = globalThis[${key}];
if (!ink) {
	throw new Error('secmon: Ink must be loaded with import("ink") before the terminal UI components');
}

module.exports = ink;
`,
				moduleType: 'js',
			};
		},
		transform(code, id) {
			if (!code.includes('import(\'ink\')') || id.includes('/node_modules/')) {
				return null;
			}

			return {code: code.replaceAll('import(\'ink\')', `import('ink').then(ink => (globalThis[${key}] = ink))`), map: null};
		},
	};
}

/**
 * The bundle's import() of an external package (ink, react: ES modules that require() cannot
 * load, or that Ink must share) calls the function the launcher (source/launcher.cjs) puts on
 * globalThis instead: on Node 20 the launcher compiles the bundle with vm.Script, where an
 * import() works only with vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, which prints an
 * ExperimentalWarning. Without the launcher (a chunk required directly) it is a plain import().
 */
function esmImportsThroughLauncher() {
	const external = /\bimport\("([^".][^"]*)"\)/gv;
	return {
		name: 'secmon-esm-imports-through-launcher',
		renderChunk(code) {
			const out = code.replaceAll(external, (_match, specifier) => `(globalThis[Symbol.for("secmon.import")] ?? (specifier => import(specifier)))(${JSON.stringify(specifier)})`);
			return out === code ? null : {code: out, map: null};
		},
	};
}

/**
 * conf is an ES module that require() can load (Node >= 20.19), but the CommonJS interop
 * would hand `import Conf from 'conf'` the whole module namespace instead of its default
 * export. This module takes the default export explicitly.
 */
function confDefaultExport() {
	const bridge = '\0secmon-conf';
	return {
		name: 'secmon-conf-default-export',
		resolveId(source, _importer, {kind}) {
			if (source !== 'conf') {
				return null;
			}

			return kind === 'import-statement' ? bridge : {id: 'conf', external: true};
		},
		load(id) {
			return id === bridge ? {code: 'const conf = require(\'conf\');\nexport default conf.default;\n', moduleType: 'js'} : null;
		},
	};
}

/**
 * A default import of a Node built-in (`import fs from 'node:fs'`) becomes, in CommonJS
 * output, `__toESM(require('node:fs'))`: a new object with a getter for each of the
 * module's exports, built at start-up for every built-in (~0.5 ms in all). Built-ins are
 * plain CommonJS objects, so an object that inherits from the module and adds `default`
 * answers both `fs.default.x` and a named `fs.x` the same way, for the cost of one object.
 */
function builtinsWithoutInterop() {
	const interop = /^(let (\w+) = require\("((?:node:)?[\w\/]+)"\);\n)\2 = require_rolldown_runtime\.__toESM\(\2, 1\);$/gmv;
	return {
		name: 'secmon-builtins-without-interop',
		renderChunk(code) {
			const out = code.replaceAll(interop, (line, requireLine, name, id) => (
				isBuiltin(id) ? `${requireLine}${name} = {__proto__: ${name}, default: ${name}};` : line
			));
			return out === code ? null : {code: out, map: null};
		},
	};
}

/**
 * Every output file is pure ASCII: other characters (… → § in messages, comments and regular
 * expressions) are written as \u escapes, which mean the same in strings, templates,
 * regular expressions and comments. Node then reads each file as a one-byte string instead
 * of decoding UTF-8 into a two-byte one (~0.5 ms for the fetch chunk at start-up).
 */
function asciiOutput() {
	const nonAscii = /[^\u0000-\u007F]/gv;
	const escape = character => Array.from(
		{length: character.length},
		(_, index) => `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`,
	).join('');
	return {
		name: 'secmon-ascii-output',
		// The final text: the bundler reprints what renderChunk returns, escapes included.
		generateBundle(_options, bundle) {
			for (const file of Object.values(bundle)) {
				if (file.type === 'chunk') {
					file.code = file.code.replaceAll(nonAscii, escape);
				}
			}
		},
	};
}

/**
 * Adds the launcher (dist/cli.cjs) and writes the code caches it reads, by running real
 * commands with SECMON_BUILD_CODE_CACHE=1: a fetch from the embedded collector (no --host:
 * the client, TLS, PCP and --json paths, plus the collector; an earlier run creates its PKI),
 * `--version` (meow), then zabbix-get against a closed port (its flag parsing and client).
 * The caches are for the Node that builds (V8 rejects them on another V8); the launcher uses
 * them when they fit, else Node's own compile cache on Node >= 22.1 (source/launcher.cjs).
 */
function launcherWithCodeCaches() {
	return {
		name: 'secmon-launcher-code-caches',
		generateBundle() {
			this.emitFile({type: 'asset', fileName: 'cli.cjs', source: readFileSync(new URL('source/launcher.cjs', import.meta.url), 'utf8')});
		},
		writeBundle(options) {
			const cli = path.join(options.dir, 'cli.cjs');
			chmodSync(cli, 0o755);
			const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SECMON|PCP)_/v.test(name)));
			const home = mkdtempSync(path.join(os.tmpdir(), 'secmon-build-'));
			try {
				const runs = [
					{args: ['--json', '-f', 'kernel.all.load']},
					{args: ['--json', '-f', 'kernel.all.load'], training: true},
					// Meow: the command lines simple-argv.ts does not take, and --version.
					{args: ['--version'], training: true},
					// Port 1 on loopback: nothing listens there, so this fails fast (exit 1), as expected.
					{args: ['zabbix-get', '-s', '127.0.0.1', '-p', '1', '-k', 'agent.ping'], training: true, status: 1},
				];
				for (const {args, training, status = 0} of runs) {
					const result = spawnSync(process.execPath, [cli, ...args], {
						env: {...env, ...(training ? {SECMON_BUILD_CODE_CACHE: '1'} : {}), SECMON_HOME: home},
						encoding: 'utf8',
						stdio: ['ignore', 'ignore', 'pipe'],
						timeout: 60_000,
					});
					if (result.status !== status) {
						throw new Error(`rolldown.config.js: secmon ${args.join(' ')} exited ${result.status}, expected ${status}: ${result.stderr}`);
					}
				}
			} finally {
				rmSync(home, {recursive: true, force: true});
			}
		},
	};
}

export default defineConfig({
	input: {secmon: 'source/cli.tsx'},
	platform: 'node',
	// Runtime dependencies other than meow stay in node_modules (they are loaded lazily anyway);
	// plain 'ink' and 'conf' are the business of the plugins below.
	external: [/^node:/, /^ink\//, /^react(\/|$)/, /^conf\//, /^node-forge(\/|$)/],
	plugins: [inkBridge(), confDefaultExport(), meowWithoutPackageReading(), builtinsWithoutInterop(), esmImportsThroughLauncher(), asciiOutput(), launcherWithCodeCaches()],
	transform: {jsx: {runtime: 'automatic'}},
	output: {
		dir: 'dist',
		format: 'cjs',
		entryFileNames: '[name].cjs',
		chunkFileNames: 'chunks/[name]-[hash].cjs',
		codeSplitting: {
			groups: [{
				name: 'fetch',
				test: /source\/(commands\/run|argv\/(main|main-flags|simple-argv|normalize)\.ts|sources|plan|target|duration|errors|shell|protocols\/(pcp\/(?!probe)|registry|[a-z]+\/descriptor|shared\/tls-options)|security\/(?!trusted-cas)|render\/(ndjson|pminfo|pcp-format|units|printf)|output\/(format|report|json|pminfo)|metrics)/,
			}, {
				// Meow and what only it needs: loaded by subcommands and by command lines that are not
				// in the plain form (source/argv/simple-argv.ts), not by a plain one-shot fetch.
				name: 'meow',
				test: /node_modules\/meow\/|source\/argv\/(args|main-meow)/,
			}],
		},
		sourcemap: false,
	},
});
