/**
 * Where secmon keeps its trust store, and the file rules around it (docs/design.md#trust-store,
 * docs/design.md#security-semantics: dir 0700, files 0600, warn when a key file is readable by group or others).
 *
 * The store cannot be planted, as OpenSSH's StrictModes checks ~/.ssh (openssh-portable misc.c
 * safe_path(), auth.c auth_secure_path()): a store directory or file that another user owns or
 * that group or others can write is refused, links are never followed (lstat, O_NOFOLLOW), and
 * only regular files of bounded size are read.
 */
import {
	chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, readSync, statSync,
	type Stats,
} from 'node:fs';
import path from 'node:path';
import {SecmonError} from '../errors.js';
import {shellQuote} from '../shell.js';

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

function octalMode(mode: number): string {
	return (mode & 0o7777).toString(8).padStart(4, '0');
}

function storeError(message: string, hint: string, cause?: unknown): SecmonError {
	return new SecmonError('STORE', message, hint, cause === undefined ? undefined : {cause});
}

/** The owner checks only apply where there are POSIX uids (not on Windows). */
function currentUid(): number | undefined {
	return process.getuid?.();
}

/** "group", "others" or "group and others" when `mode` lets them write, else undefined. */
function writers(mode: number): string | undefined {
	const group = (mode & 0o020) !== 0;
	const others = (mode & 0o002) !== 0;
	if (group && others) {
		return 'group and others';
	}

	if (group) {
		return 'group';
	}

	return others ? 'others' : undefined;
}

/** The command that gives `file` back to the current user (`sudo` unless we are root). */
function chownCommand(uid: number, file: string): string {
	return `${uid === 0 ? '' : 'sudo '}chown ${uid} ${shellQuote(file)}`;
}

/**
 * Why a store directory that lstat described as `stats` must not be used, or undefined if it is
 * fine: a link, not a directory, owned by another user, or writable by group or others (anyone
 * who can write it could plant a pin for a collector, or a CA, and secmon would trust it).
 */
function unsafeDir(dir: string, stats: Stats): SecmonError | undefined {
	const quoted = shellQuote(dir);
	if (stats.isSymbolicLink()) {
		let target = '?';
		try {
			target = path.resolve(path.dirname(dir), readlinkSync(dir));
		} catch {
			// Gone since the lstat; the message still names the link.
		}

		return storeError(
			`the trust store directory ${dir} is a symbolic link (to ${target}); secmon never follows links in its store`,
			`Use a real directory (mode 0700) instead of the link, e.g.: rm ${quoted} && cp -a ${shellQuote(target)} ${quoted} && chmod 700 ${quoted}`,
		);
	}

	if (!stats.isDirectory()) {
		return storeError(`${dir} exists but is not a directory`, 'Move it away; secmon keeps its trust store in this directory (set SECMON_HOME to use another one)');
	}

	const uid = currentUid();
	if (uid === undefined) {
		return undefined;
	}

	const wide = writers(stats.mode);
	if (stats.uid !== uid) {
		return storeError(
			`the trust store directory ${dir} is owned by uid ${stats.uid}, not by you (uid ${uid}); its owner could plant pins or CAs in it, so secmon refuses to use it`,
			`Check what is in it (ls -la ${quoted}); if it is yours, take it back: ${chownCommand(uid, dir)}${wide ? ` && chmod 700 ${quoted}` : ''}`,
		);
	}

	if (wide) {
		return storeError(
			`the trust store directory ${dir} is writable by ${wide} (mode ${octalMode(stats.mode)}); anyone who can write it could plant pins or CAs in it, so secmon refuses to use it`,
			`Check what is in it (ls -la ${quoted}), then: chmod 700 ${quoted}`,
		);
	}

	return undefined;
}

/**
 * Check a store directory before reading from it: true if it is safe, false if it does not exist;
 * a SecmonError('STORE') if it is a link, not a directory, another user's, or writable by group or
 * others. Reading never changes modes: a 0755 directory of ours is read as it is.
 */
export function checkPrivateDir(dir: string): boolean {
	let stats: Stats;
	try {
		stats = lstatSync(dir);
	} catch (error) {
		if (errnoCode(error) === 'ENOENT') {
			return false;
		}

		throw storeError(`cannot look at the trust store directory ${dir} (${describeFsError(error)})`, 'Check that you own it (mode 0700), or set SECMON_HOME to another directory', error);
	}

	const problem = unsafeDir(dir, stats);
	if (problem) {
		throw problem;
	}

	return true;
}

/**
 * Create `dir` (and any missing parents, e.g. ~/.pki, as PCP does for ~/.pki/nssdb) with mode 0700.
 * An existing `dir` must pass checkPrivateDir's rules (ours, not a link, not writable by group or
 * others). One that is merely readable or searchable by group or others (0755, from an older
 * secmon or a plain mkdir) is tightened to 0700: nobody could have planted anything in it, and
 * refusing it would only make the user type chmod. Parents that already exist are left alone.
 */
export function ensurePrivateDir(dir: string): void {
	let stats: Stats;
	try {
		// Mode applies to every directory that recursive mkdir creates; umask can only narrow it.
		mkdirSync(dir, {recursive: true, mode: 0o700});
		stats = lstatSync(dir);
	} catch (error) {
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

	const problem = unsafeDir(dir, stats);
	if (problem) {
		throw problem;
	}

	if (currentUid() !== undefined && (stats.mode & 0o077) !== 0) {
		try {
			chmodSync(dir, 0o700);
		} catch (error) {
			throw storeError(`cannot make ${dir} private (${describeFsError(error)})`, `Run: chmod 700 ${shellQuote(dir)}`, error);
		}
	}
}

/** What a non-regular file is, for messages. */
function fileKind(stats: Stats): string {
	if (stats.isDirectory()) {
		return 'a directory';
	}

	if (stats.isFIFO()) {
		return 'a FIFO';
	}

	if (stats.isSocket()) {
		return 'a socket';
	}

	if (stats.isCharacterDevice() || stats.isBlockDevice()) {
		return 'a device';
	}

	return 'not a regular file';
}

export type PrivateFile = {
	/** For messages: "pin file", "CA file", … */
	what: string;
	/** Larger files are refused without being read. */
	maxBytes: number;
	/** How to get rid of a bad file (a command), appended to every refusal's hint. */
	removal: string;
};

// O_NOFOLLOW: a link in place of the file fails with ELOOP instead of being followed. O_NONBLOCK:
// opening a FIFO returns at once instead of waiting for a writer (open(2)); the fstat then refuses it.
const openFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Read a store file as UTF-8, or undefined if it does not exist. Refused (SecmonError 'STORE',
 * naming the file) when it is a link, not a regular file, larger than `maxBytes`, another user's
 * or writable by group or others. Never blocks on a FIFO and never reads more than maxBytes + 1.
 */
export function readPrivateFile(file: string, options: PrivateFile): string | undefined {
	const {what, maxBytes, removal} = options;
	let fd: number;
	try {
		fd = openSync(file, openFlags);
	} catch (error) {
		const code = errnoCode(error);
		if (code === 'ENOENT') {
			return undefined;
		}

		// Linux says ELOOP for O_NOFOLLOW on a link, FreeBSD EMLINK.
		if ((code === 'ELOOP' || code === 'EMLINK') && isLink(file)) {
			throw storeError(`the ${what} ${file} is a symbolic link; secmon never follows links in its store`, `Check where it points (ls -l ${shellQuote(file)}). ${removal}`, error);
		}

		throw storeError(`cannot read the ${what} ${file} (${describeFsError(error)})`, `Check its owner and permissions (it should be yours, mode 0600). ${removal}`, error);
	}

	try {
		const stats = fstatSync(fd);
		if (!stats.isFile()) {
			const kind = fileKind(stats);
			throw storeError(`the ${what} ${file} is ${kind}, not a regular file`, stats.isDirectory() ? `Move it away: mv ${shellQuote(file)} ${shellQuote(`${file}.moved`)}` : removal);
		}

		if (stats.size > maxBytes) {
			throw storeError(`the ${what} ${file} is ${stats.size} bytes, more than the ${maxBytes} a ${what} may hold; secmon did not read it`, removal);
		}

		const uid = currentUid();
		const wide = writers(stats.mode);
		if (uid !== undefined && stats.uid !== uid) {
			throw storeError(
				`the ${what} ${file} is owned by uid ${stats.uid}, not by you (uid ${uid}); secmon only trusts store files you own`,
				`Check it; if it is yours: ${chownCommand(uid, file)}${wide ? ` && chmod 600 ${shellQuote(file)}` : ''}. Otherwise: ${removal}`,
			);
		}

		if (uid !== undefined && wide) {
			throw storeError(
				`the ${what} ${file} is writable by ${wide} (mode ${octalMode(stats.mode)}); secmon only trusts store files nobody else can change`,
				`Check its contents, then: chmod 600 ${shellQuote(file)}. Otherwise: ${removal}`,
			);
		}

		// Read to the end, but never past the cap (the file may have grown since the fstat). The
		// buffer starts at the size fstat gave (a fleet reads a pin per collector: zeroing 64 KiB
		// each time showed in issue 18's profile) and grows to the cap only if the file grew.
		let buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
		let length = 0;
		for (;;) {
			if (length === buffer.length && buffer.length <= maxBytes) {
				const larger = Buffer.alloc(maxBytes + 1);
				buffer.copy(larger);
				buffer = larger;
			}

			const count = readSync(fd, buffer, length, buffer.length - length, null);
			if (count === 0) {
				break;
			}

			length += count;
			if (length > maxBytes) {
				throw storeError(`the ${what} ${file} grew past the ${maxBytes} bytes a ${what} may hold while secmon read it`, removal);
			}
		}

		return buffer.toString('utf8', 0, length);
	} catch (error) {
		if (error instanceof SecmonError) {
			throw error;
		}

		throw storeError(`cannot read the ${what} ${file} (${describeFsError(error)})`, `Check its owner and permissions (it should be yours, mode 0600). ${removal}`, error);
	} finally {
		closeSync(fd);
	}
}

function isLink(file: string): boolean {
	try {
		return lstatSync(file).isSymbolicLink();
	} catch {
		return false;
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
