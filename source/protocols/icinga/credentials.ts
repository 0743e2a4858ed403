/**
 * Client credentials for Icinga 2 (and mon's `login`): certificates enrolled with
 * `secmon enroll` live in the secmon home, per collector; passwords come from a file, never argv.
 */
import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {SecmonError} from '../../errors.js';
import {checkKeyFileMode, errnoCode} from '../../security/home.js';
import {pinFileName} from '../../security/store.js';
import type {Target} from '../../security/types.js';

export type EnrolledPaths = {
	dir: string;
	key: string;
	cert: string;
	/** The Icinga CA certificate the master sent with the signed one. */
	ca: string;
	/** Key and self-signed certificate of a request the master has not signed yet. */
	pendingKey: string;
	pendingCert: string;
};

/** `<home>/icinga/<host>_<port>/` (the same escaping as the trust store's pin files). */
export function enrolledPaths(home: string, target: Target): EnrolledPaths {
	const dir = path.join(home, 'icinga', pinFileName(target).replace(/\.json$/, ''));
	return {
		dir,
		key: path.join(dir, 'client.key'),
		cert: path.join(dir, 'client.crt'),
		ca: path.join(dir, 'ca.crt'),
		pendingKey: path.join(dir, 'pending.key'),
		pendingCert: path.join(dir, 'pending.crt'),
	};
}

/** The enrolled certificate for `target`, if `secmon enroll` stored one. */
export function enrolledCertificate(home: string, target: Target): {cert: string; key: string} | undefined {
	const paths = enrolledPaths(home, target);
	return existsSync(paths.cert) && existsSync(paths.key) ? {cert: paths.cert, key: paths.key} : undefined;
}

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
