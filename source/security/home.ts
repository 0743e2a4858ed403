/**
 * Where secmon keeps its trust store, and the file-mode rules around it (DESIGN.md "Security
 * semantics": dir 0700, files 0600, warn when a key file is readable by group or others).
 */
import {chmodSync, mkdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {SecmonError} from '../errors.js';

/** `SECMON_HOME` if set (tests point it at a temp dir), else `~/.pki/secmon` (next to PCP's ~/.pki/nssdb, not inside it). */
export function secmonHome(env: NodeJS.ProcessEnv = process.env): string {
	const override = env['SECMON_HOME'];
	if (override !== undefined && override.trim() !== '') {
		return path.resolve(override);
	}

	// What os.homedir() does (libuv: $HOME if set and not empty, else the passwd entry), without
	// loading node:os for the usual case (start-up, core issue part 7).
	return path.join(process.env['HOME'] || process.getBuiltinModule('node:os').homedir(), '.pki', 'secmon');
}

/** The errno code of a Node fs/net error ("ENOENT"), if any. */
export function errnoCode(error: unknown): string | undefined {
	return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function describeFsError(error: unknown): string {
	const code = errnoCode(error);
	const message = error instanceof Error ? error.message : String(error);
	return code ? `${code}: ${message.replace(/^[A-Z]+: /v, '')}` : message;
}

/**
 * Create `dir` (and any missing parents, e.g. ~/.pki, as PCP does for ~/.pki/nssdb) with mode 0700.
 * If `dir` exists with a wider mode it is tightened to 0700. Parents that already exist are left alone.
 */
export function ensurePrivateDir(dir: string): void {
	try {
		// Mode applies to every directory that recursive mkdir creates; umask can only narrow it.
		mkdirSync(dir, {recursive: true, mode: 0o700});
		const stats = statSync(dir);
		if (!stats.isDirectory()) {
			throw new SecmonError('STORE', `${dir} exists but is not a directory`, 'Move it away; secmon keeps its trust store in this directory (set SECMON_HOME to use another one)');
		}

		if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
			chmodSync(dir, 0o700);
		}
	} catch (error) {
		if (error instanceof SecmonError) {
			throw error;
		}

		if (errnoCode(error) === 'EEXIST' || errnoCode(error) === 'ENOTDIR') {
			throw new SecmonError(
				'STORE',
				`${dir} (or one of its parents) exists but is not a directory`,
				'Move it away; secmon keeps its trust store in this directory (set SECMON_HOME to use another one)',
				{cause: error},
			);
		}

		throw new SecmonError(
			'STORE',
			`cannot prepare the private directory ${dir} (${describeFsError(error)})`,
			'Check that you own it and can write to it (it must be mode 0700), or set SECMON_HOME to another directory',
			{cause: error},
		);
	}
}

/**
 * A warning when a private key or secret file can be read or written by group or others
 * (OpenSSH refuses such keys; secmon warns), else undefined. Missing files are not reported here:
 * reading them produces the real error.
 */
export function checkKeyFileMode(file: string): string | undefined {
	if (process.platform === 'win32') {
		return undefined;
	}

	let mode: number;
	try {
		mode = statSync(file).mode;
	} catch {
		return undefined;
	}

	if ((mode & 0o077) === 0) {
		return undefined;
	}

	const octal = (mode & 0o777).toString(8).padStart(4, '0');
	return `warning: private key file ${file} is accessible by group or others (mode ${octal}); anyone who can read it can impersonate you. Fix: chmod 600 ${file}`;
}
