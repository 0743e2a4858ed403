/**
 * Child processes in tests (concurrency tests) cannot import TypeScript on Node 20. This turns a
 * source module and the relative modules it imports into plain ESM .js files under `outDir`,
 * keeping the directory layout, with TypeScript's own transpiler (no type check).
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '../..');

/** Transpile `entry` (path relative to the repo root, e.g. "source/security/store.ts") and its relative imports; returns the .js path of the entry. */
export function transpileTree(entry: string, outDir: string): string {
	const done = new Set<string>();
	const pending = [path.resolve(root, entry)];
	while (pending.length > 0) {
		const file = pending.pop()!;
		if (done.has(file)) {
			continue;
		}

		done.add(file);
		const source = readFileSync(file, 'utf8');
		const output = ts.transpileModule(source, {
			compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, jsx: ts.JsxEmit.ReactJSX},
			fileName: file,
		}).outputText;
		const target = path.join(outDir, path.relative(root, file)).replace(/\.tsx?$/v, '.js');
		mkdirSync(path.dirname(target), {recursive: true});
		writeFileSync(target, output);
		for (const match of output.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/gv)) {
			const base = path.resolve(path.dirname(file), match[1]!);
			for (const candidate of [`${base}.ts`, `${base}.tsx`]) {
				try {
					readFileSync(candidate);
					pending.push(candidate);
					break;
				} catch {
					// Try the next extension.
				}
			}
		}
	}

	return path.join(outDir, entry).replace(/\.tsx?$/v, '.js');
}
