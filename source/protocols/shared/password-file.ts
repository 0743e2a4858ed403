/**
 * Passwords for Icinga 2 (HTTP basic auth) and mon's `login`: read only from a file, never argv,
 * with a warning when group or others can read it.
 */
import {readFile} from 'node:fs/promises';
import {SecmonError} from '../../errors.js';
import {checkKeyFileMode, errnoCode} from '../../security/home.js';

/**
 * A password file: one line `USER:PASSWORD` (a trailing newline is ignored). The password may
 * hold colons; the user may not.
 */
export function parsePasswordFile(text: string, file: string): {user: string; password: string} {
	const line = text.replace(/\r?\n$/, '');
	if (line.includes('\n')) {
		throw new SecmonError('USAGE', `the password file ${file} has more than one line`, 'Write one line: USER:PASSWORD');
	}

	const colon = line.indexOf(':');
	if (colon <= 0) {
		throw new SecmonError('USAGE', `the password file ${file} does not hold USER:PASSWORD`, 'Write one line: USER:PASSWORD (for example: printf \'%s\\n\' "monitor:$SECRET" > FILE; chmod 600 FILE)');
	}

	return {user: line.slice(0, colon), password: line.slice(colon + 1)};
}

export async function readPasswordFile(file: string, warn: (message: string) => void): Promise<{user: string; password: string}> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		throw new SecmonError('USAGE', `cannot read the password file ${file} (${errnoCode(error) ?? String(error)})`, 'Check the path and its permissions (it should be yours, mode 0600)', {cause: error});
	}

	const warning = checkKeyFileMode(file);
	if (warning) {
		warn(warning.replace('private key file', 'password file'));
	}

	return parsePasswordFile(text, file);
}
