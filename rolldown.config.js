/**
 * The build: source/ (TypeScript + TSX) → dist/ as a few ES modules. Bundling
 * matters for start-up: Node 20 pays per module it resolves, and the `--json`
 * path must start close to bare Node (core issue part 7; bench/startup.mjs).
 * ink/react stay behind dynamic imports, so only the terminal UI loads them.
 */
import {rmSync} from 'node:fs';
import {defineConfig} from 'rolldown';

// Start from an empty dist/: chunk names carry content hashes, so stale ones would pile up.
rmSync(new URL('dist', import.meta.url), {recursive: true, force: true});

/**
 * meow 14's bundled dependencies evaluate two libraries at import time that a
 * flag parse never uses: normalize-package-data (its SPDX matcher sorts with
 * ICU collation, ~15 ms) and @babel/code-frame (only for package.json syntax
 * errors). This plugin makes both lazy — same code, loaded on first use. The
 * replacements are exact; if meow changes, the build fails here instead of
 * silently losing the optimisation.
 */
function lazyMeowDependencies() {
	const edits = [
		['var libExports = requireLib$1();\n', ''],
		['libExports.codeFrameColumns(', 'requireLib$1().codeFrameColumns('],
		[
			'var normalizeExports = requireNormalize();\nconst normalizePackageData = getDefaultExportFromCjs(normalizeExports);',
			'const normalizePackageData = (...arguments_) => getDefaultExportFromCjs(requireNormalize())(...arguments_);',
		],
	];
	return {
		name: 'secmon-lazy-meow-dependencies',
		transform(code, id) {
			if (!id.replaceAll('\\', '/').endsWith('/meow/build/dependencies.js')) {
				return null;
			}

			let out = code;
			for (const [from, to] of edits) {
				if (!out.includes(from)) {
					throw new Error(`rolldown.config.js: meow's build changed (no ${JSON.stringify(from.slice(0, 40))}); update lazyMeowDependencies`);
				}

				out = out.replace(from, to);
			}

			return {code: out, map: null};
		},
	};
}

export default defineConfig({
	input: {cli: 'source/cli.tsx'},
	platform: 'node',
	// Runtime dependencies other than meow stay in node_modules (they are loaded lazily anyway).
	external: [/^node:/, /^ink(\/|$)/, /^react(\/|$)/, /^conf(\/|$)/, /^node-forge(\/|$)/],
	plugins: [lazyMeowDependencies()],
	transform: {jsx: {runtime: 'automatic'}},
	output: {
		dir: 'dist',
		format: 'esm',
		chunkFileNames: 'chunks/[name]-[hash].js',
		sourcemap: false,
	},
});
