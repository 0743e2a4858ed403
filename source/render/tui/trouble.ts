/**
 * One host's trouble in a line (the panes keep the other hosts visible): what stopped it, in a few
 * words, and the one command that fixes it, taken from the refusal's own hint (security/messages.ts
 * changedHint, security/downgrade.ts), so the two never disagree. The full banner is one key away.
 */
import type {HostState} from './state.js';

type Stop = NonNullable<HostState['stop']>;

/** Exit codes (errors.ts) whose cause a few words say better than the banner's first line. */
const causes: Record<number, [string, string]> = {
	3: ['certificate not trusted', ''],
	4: ['certificate CHANGED', ' (possible interception)'],
	5: ['TLS refused or missing', ' (possible TLS stripping)'],
};

/** "certificate CHANGED (possible interception)" ("certificate CHANGED" when `short`), or the message's first line that says something. */
export function stopCause(stop: Stop, short = false): string {
	const known = causes[stop.exitCode];
	if (known) {
		return short ? known[0] : known.join('');
	}

	const line = stop.message.split('\n').map(text => text.replace(/^secmon: /v, '').replaceAll(/^[@\s]+|[@\s]+$/gv, '')).find(text => text !== '');
	return line ?? 'stopped';
}

/** The first command the hint gives ("secmon certs remove collector:44321"), or undefined. */
export function fixCommand(stop: Stop): string | undefined {
	const lines = (stop.hint ?? '').split('\n');
	const indented = lines.map(line => /^\s+(secmon \S.*)$/v.exec(line)?.[1]).find(command => command !== undefined);
	if (indented) {
		return indented.trim();
	}

	// "Remove it with: secmon certs remove collector:44321 (or: rm …)"
	return /secmon .*/v.exec(stop.hint ?? '')?.[0].split(' (')[0]!.trim();
}

/** What a stopped host's status line says after "STOPPED (exit N)": the fix first, then the cause, then how to see the whole warning. */
export function troubleText(stop: Stop): string {
	const fix = fixCommand(stop);
	return `${fix ? `fix: ${fix} · ` : ''}${stopCause(stop)} · Enter on its pane: the full warning`;
}

/** The lines in each of its panes (narrower; the pane wraps them, never cutting the command): what happened, then the fix. */
export function paneTroubleText(stop: Stop): string {
	const fix = fixCommand(stop);
	return `✖ STOPPED: ${stopCause(stop, true)}\n${fix ? `fix: ${fix} · ` : ''}Enter: why`;
}
