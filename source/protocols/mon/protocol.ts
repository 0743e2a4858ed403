/**
 * The mon client protocol (pure; docs/icinga-livestatus-mon.md#mon-protocol): one command per line, answered by zero or more
 * data lines and exactly one status line, `220 …` (done), `520 …` (error, also "not allowed"),
 * `530 …` (login failed). Values in `list opstatus` are escaped by mon's esc_str: bytes ≤ 0x20,
 * > 0x7e, `'` and `"` become `\xx` (two hex digits) and a backslash becomes `\\`.
 */
import {SecmonError} from '../../errors.js';

/** opstatus codes (mon's STAT_*): 0 FAIL, 1 OK, …, 9 WARN. */
export const opstatusNames = ['FAIL', 'OK', 'COLDSTART', 'WARMSTART', 'LINKDOWN', 'UNKNOWN', 'TIMEOUT', 'UNTESTED', 'DEPEND', 'WARN'] as const;

/** The states `list failures` reports (docs/icinga-livestatus-mon.md#mon-protocol). */
export const failureStates = new Set([0, 4, 6]);

export type StatusLine = {code: number; message: string};

/** A status line is three digits and a blank (as Mon::Client reads it); anything else is data. */
export function parseStatusLine(line: string): StatusLine | undefined {
	const match = /^(\d{3})(?:\s(.*))?$/.exec(line);
	return match ? {code: Number(match[1]), message: match[2] ?? ''} : undefined;
}

/** Undo esc_str: `\xx` → that byte, `\\` → `\`; the bytes are read as UTF-8. */
export function unescapeMon(text: string): string {
	const bytes: number[] = [];
	for (let i = 0; i < text.length; i++) {
		const char = text[i]!;
		if (char === '\\') {
			if (text[i + 1] === '\\') {
				bytes.push(0x5C);
				i++;
				continue;
			}

			const hex = text.slice(i + 1, i + 3);
			if (/^[\da-f]{2}$/i.test(hex)) {
				bytes.push(Number.parseInt(hex, 16));
				i += 2;
				continue;
			}
		}

		bytes.push(...Buffer.from(char, 'utf8'));
	}

	return Buffer.from(bytes).toString('utf8');
}

/** One `list opstatus` line: `key=value` pairs separated by blanks, values unescaped. */
export function parseOpstatusLine(line: string): Record<string, string> {
	// No prototype: the keys are the peer's text ("__proto__", "constructor").
	const fields: Record<string, string> = Object.create(null) as Record<string, string>;
	for (const pair of line.trim().split(/\s+/)) {
		const eq = pair.indexOf('=');
		if (eq > 0) {
			fields[pair.slice(0, eq)] = unescapeMon(pair.slice(eq + 1));
		}
	}

	return fields;
}

/** A command must be one line of printable text (a newline would smuggle in a second command). */
export function assertCommand(command: string): void {
	if (command === '' || /[\u0000-\u001F\u007F]/.test(command)) {
		throw new SecmonError('USAGE', 'a mon command must be one line of printable text', 'Send one command at a time, e.g.: list opstatus');
	}
}

/** A 520/530 status → SecmonError that says what to do. */
export function monError(command: string, status: StatusLine, where: string): SecmonError {
	const verb = command.split(' ').slice(0, 2).join(' ');
	if (status.code === 530) {
		return new SecmonError('PEER_ERROR', `mon at ${where} refused the login: ${status.code} ${status.message}`, 'Check USER:PASSWORD in the password file against the userfile of mon (authtype userfile)');
	}

	if (/unknown command/i.test(status.message)) {
		// mon says the same for commands that exist but are not allowed to this user (docs/icinga-livestatus-mon.md#mon-protocol).
		return new SecmonError(
			'PEER_ERROR',
			`mon at ${where} refused "${verb}": ${status.code} ${status.message}`,
			'mon gives this answer to commands its auth.cf does not allow: allow it for "all" (e.g. "list: all"), or log in as a user who may (password file with USER:PASSWORD)',
		);
	}

	if (/does not exist/i.test(status.message)) {
		return new SecmonError('PEER_ERROR', `mon at ${where}: ${status.message}`, 'Check the group and service names (list opstatus shows them all)');
	}

	return new SecmonError('PEER_ERROR', `mon at ${where} answered "${verb}" with ${status.code} ${status.message}`, 'Check the command; mon understands list opstatus, list failures, list pids, servertime, version, …');
}
