/**
 * The one colour rule for what commands write (certs, verify, the plain-text trust prompt): ANSI
 * colour only on a terminal, and never when NO_COLOR is set and not empty (https://no-color.org),
 * FORCE_COLOR is 0 or TERM is dumb. A leaf module (no imports), so the security layer may use it
 * too. The panes (render/tui) colour through Ink, told by this rule (render/tui/mount.ts).
 */

export type Tone = 'ok' | 'warn' | 'error';

/** Whether to colour what is written to `stream` (the stream the text goes to, not always stdout). */
export function colorWanted(stream: NodeJS.WritableStream | {isTTY?: boolean}, env: Readonly<Record<string, string | undefined>>): boolean {
	const noColor = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
	return (stream as {isTTY?: unknown}).isTTY === true && !noColor && env['FORCE_COLOR'] !== '0' && env['TERM'] !== 'dumb';
}

/** SGR codes: green, yellow, bold red; each ends with its own reset, so surrounding text keeps its style. */
const codes: Record<Tone, readonly [string, string]> = {
	ok: ['\u001B[32m', '\u001B[39m'],
	warn: ['\u001B[33m', '\u001B[39m'],
	error: ['\u001B[1;31m', '\u001B[22;39m'],
};

/** `text` in the tone's colour when `color` is on, else as it is. */
export function paint(text: string, tone: Tone, color: boolean): string {
	return color ? `${codes[tone][0]}${text}${codes[tone][1]}` : text;
}

/** Like `paint`, but an `ok` text stays uncoloured: only problems stand out (certs list/show, the trust prompt's validity). */
export function paintProblem(text: string, tone: Tone, color: boolean): string {
	return tone === 'ok' ? text : paint(text, tone, color);
}
