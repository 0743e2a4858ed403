/**
 * Zabbix pre-shared keys: the key comes from a FILE only (never argv, so it never shows in `ps`
 * or shell history), the same format and checks as Zabbix's zbx_read_psk_file() (docs/zabbix.md#running-the-agent):
 * the first line only, CR/LF stripped, 32..512 hex digits (16..256 bytes). Errors use
 * zabbix_get's own wording so that scripts and people recognise them.
 */
import {
	closeSync, fstatSync, openSync, readSync,
} from 'node:fs';
import {SecmonError} from '../../errors.js';

export const pskMinHexDigits = 32;
export const pskMaxHexDigits = 512;
/** HOST_TLS_PSK_IDENTITY_LEN: the agent's TLSPSKIdentity limit, in UTF-8 characters. */
export const pskIdentityMaxChars = 128;

export type PskKey = {
	key: Buffer;
	/** Set when the file is readable or writable by group or others. */
	warning?: string;
};

export type Psk = {identity: string; key: Buffer; warnings: string[]};

// zabbix_get exits 1 for bad PSK files (it checks them at run time), so these are failures, not usage errors.
function fileError(message: string, hint: string): SecmonError {
	return new SecmonError('USAGE', message, hint, {exitCode: 1});
}

const keyHint = (file: string) => `Put the key as 32-512 hex digits on the first line of ${file} (e.g. openssl rand -hex 32 > ${file}; chmod 600 ${file}) and configure the same key as TLSPSKFile on the agent`;

/** Reads and validates a PSK file. Throws SecmonError with zabbix_get's messages. */
export function readPskKeyFile(file: string): PskKey {
	let fd: number;
	try {
		fd = openSync(file, 'r');
	} catch (error) {
		const error_ = error as NodeJS.ErrnoException;
		throw fileError(`cannot open file "${file}": [${-(error_.errno ?? 0)}] ${describeErrno(error_)}`, 'Check the path given to --tls-psk-file and that this user may read it');
	}

	let head: Buffer;
	let mode: number;
	try {
		const stat = fstatSync(fd);
		mode = stat.mode;
		if (stat.isDirectory()) {
			throw fileError(`cannot read from file "${file}" or file empty`, keyHint(file));
		}

		// fgets(buf, 514): at most 512 hex digits plus CR/LF matter.
		head = Buffer.alloc(pskMaxHexDigits + 2);
		const read = readSync(fd, head, 0, head.length, 0);
		head = head.subarray(0, read);
	} finally {
		closeSync(fd);
	}

	if (head.length === 0) {
		throw fileError(`cannot read from file "${file}" or file empty`, keyHint(file));
	}

	const newline = head.findIndex(byte => byte === 0x0A || byte === 0x0D);
	const line = (newline === -1 ? head : head.subarray(0, newline)).toString('latin1');
	if (line.length === 0) {
		throw fileError(`file "${file}" is empty`, keyHint(file));
	}

	if (line.length < pskMinHexDigits) {
		throw fileError(`PSK in file "${file}" is too short. Minimum is ${pskMinHexDigits} hex-digits`, keyHint(file));
	}

	if (line.length > pskMaxHexDigits) {
		throw fileError(`PSK in file "${file}" is too long. Maximum is ${pskMaxHexDigits} hex-digits`, keyHint(file));
	}

	if (!/^(?:[\dA-Fa-f]{2})+$/.test(line)) {
		throw fileError(`invalid PSK in file "${file}"`, `${keyHint(file)}; the line must contain hex digits only, an even number of them, with no spaces`);
	}

	const result: PskKey = {key: Buffer.from(line, 'hex')};
	if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
		const octal = (mode & 0o777).toString(8).padStart(4, '0');
		result.warning = `warning: PSK file ${file} is accessible by group or others (mode ${octal}); anyone who can read it can impersonate this client and read its traffic. Fix: chmod 600 ${file}`;
	}

	return result;
}

function describeErrno(error: NodeJS.ErrnoException): string {
	const texts: Record<string, string> = {
		ENOENT: 'No such file or directory',
		EACCES: 'Permission denied',
		EISDIR: 'Is a directory',
		ENOTDIR: 'Not a directory',
		ELOOP: 'Too many levels of symbolic links',
	};
	return texts[error.code ?? ''] ?? error.message;
}

/** Validates a PSK identity (not secret: it travels in clear in the ClientHello). */
export function checkPskIdentity(identity: string, source = '--tls-psk-identity'): string {
	if (identity === '') {
		throw new SecmonError('USAGE', `configuration parameter "${source}" is defined but empty`, 'Give the identity configured as TLSPSKIdentity on the agent');
	}

	if ([...identity].length > pskIdentityMaxChars) {
		throw new SecmonError('USAGE', `PSK identity in ${source} is longer than ${pskIdentityMaxChars} UTF-8 characters`, 'Zabbix agents accept at most 128 characters in TLSPSKIdentity; use the identity configured on the agent');
	}

	return identity;
}

/** Reads a PSK identity from the first line of a file (for people who keep identity and key together). */
export function readPskIdentityFile(file: string): string {
	let text: string;
	try {
		const fd = openSync(file, 'r');
		try {
			const buffer = Buffer.alloc(4096);
			text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
		} finally {
			closeSync(fd);
		}
	} catch (error) {
		const error_ = error as NodeJS.ErrnoException;
		throw fileError(`cannot open file "${file}": [${-(error_.errno ?? 0)}] ${describeErrno(error_)}`, 'Check the path of the PSK identity file');
	}

	return checkPskIdentity(text.split(/\r?\n/, 1)[0] ?? '', `file "${file}"`);
}

/** Identity from a string or a file, key from a file. */
export function loadPsk(options: {identity?: string; identityFile?: string; keyFile: string}): Psk {
	let identity: string;
	if (options.identity !== undefined) {
		identity = checkPskIdentity(options.identity);
	} else if (options.identityFile === undefined) {
		throw new SecmonError('USAGE', 'parameter "--tls-psk-file" is defined, but "--tls-psk-identity" is not defined', 'Give the identity configured as TLSPSKIdentity on the agent with --tls-psk-identity');
	} else {
		identity = readPskIdentityFile(options.identityFile);
	}

	const {key, warning} = readPskKeyFile(options.keyFile);
	return {identity, key, warnings: warning ? [warning] : []};
}
