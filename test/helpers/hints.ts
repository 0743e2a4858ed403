import {spawn} from 'node:child_process';
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {cliPath, type SecmonResult} from './secmon.js';

/** The commands a message suggests: its lines that start with "secmon " (indented or not). */
export function suggestedCommands(text: string): string[] {
	return text.split('\n').map(line => line.trim()).filter(line => line.startsWith('secmon '));
}

let binDir: string | undefined;

/** A directory with a `secmon` on it that runs the built CLI, as `npm link` would put it on PATH. */
function secmonOnPath(): string {
	if (binDir === undefined) {
		binDir = mkdtempSync(path.join(os.tmpdir(), 'secmon-bin-'));
		const script = path.join(binDir, 'secmon');
		writeFileSync(script, `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
		chmodSync(script, 0o755);
	}

	return binDir;
}

/**
 * Runs a suggested command verbatim, as pasted into a fresh shell: /bin/sh, a PATH with secmon on
 * it, and no PCP_SECURE_SOCKETS or SECMON_* variable but the test's own store (SECMON_HOME).
 */
export async function runPasted(command: string, secmonHome: string): Promise<SecmonResult> {
	const env = {
		PATH: `${secmonOnPath()}:/usr/bin:/bin`, HOME: process.env['HOME'] ?? '/root', SECMON_HOME: secmonHome, NO_COLOR: '1',
	};
	return new Promise((resolve, reject) => {
		const child = spawn('/bin/sh', ['-c', command], {env, stdio: ['ignore', 'pipe', 'pipe']});
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
		}, 30_000);
		child.on('error', reject);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({
				stdout, stderr, code, signal,
			});
		});
	});
}
