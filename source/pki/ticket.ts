/**
 * Icinga 2 auto-signing tickets. A ticket is
 * hex(PBKDF2-HMAC-SHA1(password = CN, salt = TicketSalt, 50000 iterations, 20 bytes)):
 * lib/remote/pkiutility.cpp GenTicket → lib/base/tlsutility.cpp PBKDF2_SHA1 (Icinga/icinga2),
 * verified against `icinga2 pki ticket --cn CN --salt S` (docs/icinga-livestatus-mon.md#ticket-enrollment).
 */
import {pbkdf2} from 'node:crypto';
import fs from 'node:fs/promises';
import {promisify} from 'node:util';
import {SecmonError} from '../errors.js';
import {readText} from './files.js';

const pbkdf2Async = promisify(pbkdf2);

/** Icinga 2's GenTicket uses 50000 iterations and a SHA-1 sized (20 byte) output. */
export const icingaTicketIterations = 50_000;

/** The ticket `icinga2 pki ticket --cn CN --salt SALT` prints (lowercase hex, 40 digits). */
export async function icingaTicket(cn: string, salt: string): Promise<string> {
	if (cn === '') {
		throw new SecmonError('USAGE', 'the CN for the ticket is empty', 'give the agent\'s certificate CN (its NodeName), e.g. --cn agent1.example.org');
	}

	if (salt === '') {
		throw new SecmonError('USAGE', 'the ticket salt is empty', 'use the master\'s TicketSalt from /etc/icinga2/constants.conf: --salt-file /etc/icinga2/constants.conf');
	}

	// Icinga passes the String's bytes (UTF-8) to PKCS5_PBKDF2_HMAC_SHA1.
	const digest = await pbkdf2Async(Buffer.from(cn, 'utf8'), Buffer.from(salt, 'utf8'), icingaTicketIterations, 20, 'sha1');
	return digest.toString('hex');
}

/**
 * The salt from a file: either an Icinga 2 constants.conf (its `const TicketSalt = "…"` line is
 * used) or a file holding just the salt (one trailing newline is dropped).
 */
export function parseSaltFile(text: string): string {
	const constant = /^\s*const\s+TicketSalt\s*=\s*"((?:[^"\\]|\\.)*)"/m.exec(text);
	if (constant) {
		return constant[1]!.replaceAll(/\\(.)/g, '$1');
	}

	return text.replace(/\r?\n$/, '');
}

export async function readSaltFile(file: string): Promise<{salt: string; warning?: string}> {
	const text = await readText(file, 'the salt file', 'give the master\'s constants.conf (e.g. /etc/icinga2/constants.conf) or a file that holds only the salt');
	const salt = parseSaltFile(text);
	if (salt === '' && /^\s*const\s+TicketSalt\b/m.test(text)) {
		throw new SecmonError(
			'USAGE',
			`TicketSalt is empty in ${file}`,
			'this Icinga 2 instance was never set up as a master; run "icinga2 node setup --master" (or "icinga2 api setup") there, or use the master\'s constants.conf',
		);
	}

	if (salt === '' || /^\s*const\s/m.test(text) && !/^\s*const\s+TicketSalt\b/m.test(text)) {
		throw new SecmonError(
			'USAGE',
			`no ticket salt found in ${file}`,
			'the file must hold only the salt, or be an Icinga 2 constants.conf with a line: const TicketSalt = "…"',
		);
	}

	// constants.conf is normally 0640 root:nagios, so only a world-readable file is worth a warning.
	const {mode} = await fs.stat(file);
	if (process.platform !== 'win32' && (mode & 0o004) !== 0) {
		return {
			salt,
			warning: `warning: the salt file ${file} is readable by every local user (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); whoever knows the salt can get certificates signed for any name. Fix: chmod o-r ${file}`,
		};
	}

	return {salt};
}
