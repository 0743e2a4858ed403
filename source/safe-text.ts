/**
 * Text from a peer, made safe for a terminal: every control character that a terminal would act
 * on is shown as an inert escape instead (`\x1b`, `\x9b`, `\u202e`), so a collector cannot set
 * the window title (ESC ] 0 ; … BEL), clear the screen (ESC [ 2 J), swallow output with a
 * dangling OSC, or reorder what the user reads with a right-to-left override (CVE-2021-42574,
 * "Trojan Source"). One function, used wherever peer text may reach a terminal.
 *
 * Made visible: C0 (U+0000–U+001F) but the line breaks and tabs a multi-line text keeps, DEL
 * (U+007F), C1 (U+0080–U+009F, where U+009B is a one-byte CSI), the bidi embeddings, overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069), the bidi marks (U+200E, U+200F, U+061C), and the
 * line and paragraph separators (U+2028, U+2029) that some terminals break lines at.
 */
import type {Writable} from 'node:stream';

const unsafe = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gv;
const unsafeOneLine = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gv;

function escape(char: string): string {
	const code = char.codePointAt(0)!;
	switch (char) {
		case '\n': {
			return '\\n';
		}

		case '\t': {
			return '\\t';
		}

		case '\r': {
			return '\\r';
		}

		default: {
			return code <= 0xFF ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
		}
	}
}

/**
 * `text` with every control character escaped. `multiline` keeps line feeds and tabs (help text,
 * a multi-line message); otherwise they are escaped too (a value in a pane cell, a name).
 */
export function safeText(text: string, options: {multiline?: boolean} = {}): string {
	const pattern = options.multiline ? unsafe : unsafeOneLine;
	pattern.lastIndex = 0;
	return pattern.test(text) ? text.replace(pattern, escape) : text;
}

/** True when `text` holds nothing safeText would change. */
export function isSafeText(text: string, options: {multiline?: boolean} = {}): boolean {
	const pattern = options.multiline ? unsafe : unsafeOneLine;
	pattern.lastIndex = 0;
	return !pattern.test(text);
}

// Characters JSON.stringify leaves raw that a terminal would act on; all are valid as \u escapes.
const jsonUnsafe = /[\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gv;

/**
 * JSON.stringify(value), with the characters it leaves raw but a terminal acts on (DEL, C1, bidi
 * controls, line separators) written as \u escapes: the same JSON value, safe to print.
 */
export function safeJson(value: unknown): string {
	const text = JSON.stringify(value);
	jsonUnsafe.lastIndex = 0;
	return jsonUnsafe.test(text) ? text.replace(jsonUnsafe, char => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`) : text;
}

/** A writer that escapes peer text only when `stream` is a terminal, as ls does (scripts keep the exact bytes). */
export function terminalSafe(stream: {write: (text: string) => unknown; isTTY?: boolean}): (text: string) => void {
	if (stream.isTTY === true) {
		return text => {
			stream.write(safeText(text, {multiline: true}));
		};
	}

	return text => {
		stream.write(text);
	};
}

/** Warnings to stderr, one line each, with peer text made inert. */
export function stderrWarn(stderr: Writable): (message: string) => void {
	return message => {
		const text = safeText(message, {multiline: true});
		stderr.write(text.endsWith('\n') ? text : `${text}\n`);
	};
}
