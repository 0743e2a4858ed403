/**
 * `--hosts-file FILE` (or `-` for standard input): one host spec per line, as `--host` takes it;
 * blank lines and comments (`#` at the start of a line or after a blank) are skipped. Loaded only
 * when the flag is given.
 */
import {closeSync, openSync, readSync} from 'node:fs';
import type {Readable} from 'node:stream';
import {SecmonError} from '../errors.js';

/** 16 MiB: a million host specs of ~16 bytes; a bigger file is a mistake (a log, a binary). */
export const maxHostsFileBytes = 16 * 1024 * 1024;

export function parseHostsFile(text: string, name: string): string[] {
	const hosts: string[] = [];
	for (const [index, raw] of text.split('\n').entries()) {
		const line = raw.replace(/(?:^|\s)#.*$/v, '').trim();
		if (line === '') {
			continue;
		}

		if (/\s/v.test(line)) {
			throw new SecmonError('USAGE', `--hosts-file ${name}, line ${index + 1}: one host spec per line, not "${line}"`, 'Put each collector on its own line (HOST, HOST:PORT or SCHEME://HOST:PORT); # starts a comment.');
		}

		hosts.push(line);
	}

	return hosts;
}

async function readStdin(stdin: Readable): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stdin) {
		const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
		size += buffer.length;
		if (size > maxHostsFileBytes) {
			stdin.destroy();
			throw tooBig('-');
		}

		chunks.push(buffer);
	}

	return Buffer.concat(chunks).toString('utf8');
}

function tooBig(name: string): SecmonError {
	return new SecmonError('USAGE', `--hosts-file ${name} is bigger than ${maxHostsFileBytes / 1024 / 1024} MiB`, 'Give a file with one host spec per line.');
}

/** At most maxHostsFileBytes, read as they come (a FIFO or /dev/zero cannot make it read forever). */
function readBounded(name: string): Buffer {
	const fd = openSync(name, 'r');
	try {
		const buffer = Buffer.alloc(64 * 1024);
		const chunks: Buffer[] = [];
		let size = 0;
		for (;;) {
			const count = readSync(fd, buffer, 0, buffer.length, null);
			if (count === 0) {
				return Buffer.concat(chunks);
			}

			size += count;
			if (size > maxHostsFileBytes) {
				throw tooBig(name);
			}

			chunks.push(Buffer.from(buffer.subarray(0, count)));
		}
	} finally {
		closeSync(fd);
	}
}

/** The host specs of `--hosts-file NAME`; `-` reads standard input to its end. */
export async function readHostsFile(name: string, stdin: Readable): Promise<string[]> {
	let text: string;
	if (name === '-') {
		text = await readStdin(stdin);
	} else {
		let buffer: Buffer;
		try {
			buffer = readBounded(name);
		} catch (error) {
			if (error instanceof SecmonError) {
				throw error;
			}

			const code = error instanceof Error && 'code' in error ? String(error.code) : 'error';
			throw new SecmonError('USAGE', `--hosts-file ${name}: cannot read it (${code})`, 'Name a readable file with one host spec per line, or - for standard input.');
		}

		text = buffer.toString('utf8');
	}

	const hosts = parseHostsFile(text, name);
	if (hosts.length === 0) {
		throw new SecmonError('USAGE', `--hosts-file ${name} names no collector`, 'Put one host spec per line (HOST, HOST:PORT or SCHEME://HOST:PORT); # starts a comment.');
	}

	return hosts;
}
