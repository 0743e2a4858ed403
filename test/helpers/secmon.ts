import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {checkJsonOutput} from './json-lines.js';

/** The built CLI (npm test builds dist/ before vitest runs). */
export const cliPath = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));

export type SecmonResult = {stdout: string; stderr: string; code: number | null; signal: NodeJS.Signals | null};

/**
 * Runs the real secmon binary as a user would, with a clean environment: no
 * PCP_SECURE_SOCKETS / SECMON_* leaking in from the caller, SECMON_HOME set by the test.
 * With --json, every line it prints must match its schema in docs/schema/ (json-lines.ts), or
 * the run rejects.
 */
export async function runSecmon(args: string[], options: {env?: Record<string, string>; input?: string; timeoutMs?: number} = {}): Promise<SecmonResult> {
	const env: Record<string, string> = {};
	for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'SYSTEMROOT']) {
		const value = process.env[name];
		if (value !== undefined) {
			env[name] = value;
		}
	}

	Object.assign(env, {FORCE_COLOR: '0', NO_COLOR: '1'}, options.env);
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cliPath, ...args], {env, stdio: ['pipe', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
		});
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
		}, options.timeoutMs ?? 30_000);
		child.on('error', reject);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			try {
				checkJsonOutput(args, stdout);
			} catch (error) {
				reject(error instanceof Error ? error : new Error(String(error)));
				return;
			}

			resolve({
				stdout, stderr, code, signal,
			});
		});
		child.stdin.end(options.input ?? '');
	});
}

/** A private secmon home (trust store) for one test; remove() deletes it. */
export function tempHome(): {dir: string; remove: () => void} {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-home-'));
	return {
		dir, remove() {
			rmSync(dir, {recursive: true, force: true});
		},
	};
}
