/**
 * Writing PKI files safely: every file is written to a temporary name in the same directory and
 * then renamed (or hard-linked when it must not replace anything), so readers never see half a
 * file. Secrets are created with mode 0600 from the first byte (never chmod-ed afterwards).
 */
import {randomBytes} from 'node:crypto';
import {constants as fsConstants} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {SecmonError} from '../errors.js';

export const secretMode = 0o600;
export const publicMode = 0o644;

function fsMessage(error: unknown): string {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return code ?? (error instanceof Error ? error.message : String(error));
}

export async function exists(file: string): Promise<boolean> {
	try {
		await fs.lstat(file);
		return true;
	} catch {
		return false;
	}
}

/** mkdir -p with mode 0700 for what it creates; an existing directory is left as it is. */
export async function ensureDir(dir: string): Promise<void> {
	try {
		await fs.mkdir(dir, {recursive: true, mode: 0o700});
		const stats = await fs.stat(dir);
		if (!stats.isDirectory()) {
			throw new Error('not a directory');
		}
	} catch (error) {
		throw new SecmonError(
			'STORE',
			`cannot create the directory ${dir} (${fsMessage(error)})`,
			'check that the parent directory exists and that you may write to it, or choose another one with --out',
			{cause: error},
		);
	}
}

export type WriteOptions = {
	mode: number;
	/** Replace an existing file (atomically). Without it an existing file is an error. */
	overwrite: boolean;
};

/**
 * Writes `data` to `file` atomically. Without `overwrite`, an existing file makes it fail with
 * EEXIST (checked by link(2), so two processes cannot both "create" the same file).
 */
export async function writeFileAtomic(file: string, data: string, options: WriteOptions): Promise<void> {
	const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
	let handle: fs.FileHandle | undefined;
	try {
		// O_EXCL|O_NOFOLLOW: never write through a planted file or symlink; mode applies at creation.
		handle = await fs.open(temporary, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, options.mode);
		await handle.writeFile(data, 'utf8');
		await handle.sync();
		await handle.close();
		handle = undefined;
		if (options.overwrite) {
			await fs.rename(temporary, file);
		} else {
			await fs.link(temporary, file);
			await fs.unlink(temporary);
		}
	} catch (error) {
		await handle?.close().catch(() => undefined);
		await fs.unlink(temporary).catch(() => undefined);
		if ((error as NodeJS.ErrnoException).code === 'EEXIST' && !options.overwrite) {
			throw new SecmonError(
				'STORE',
				`${file} already exists; secmon does not overwrite it`,
				'move it away first, pass --force to replace it, or choose another directory with --out',
				{cause: error},
			);
		}

		throw new SecmonError(
			'STORE',
			`cannot write ${file} (${fsMessage(error)})`,
			'check that the directory exists and that you may write to it',
			{cause: error},
		);
	}
}

export async function readText(file: string, what: string, hint: string): Promise<string> {
	try {
		return await fs.readFile(file, 'utf8');
	} catch (error) {
		const {code} = (error as NodeJS.ErrnoException);
		throw new SecmonError(
			code === 'ENOENT' ? 'USAGE' : 'STORE',
			code === 'ENOENT' ? `${what} ${file} does not exist` : `cannot read ${what} ${file} (${fsMessage(error)})`,
			hint,
			{cause: error},
		);
	}
}

/** A file name made from a certificate CN: letters, digits, ".", "_" and "-" only. */
export function safeBaseName(cn: string): string {
	const base = cn.trim().replaceAll(/[^\w.-]+/g, '_').replace(/^\.+/, '_').slice(0, 100);
	return base === '' ? 'cert' : base;
}
