/**
 * What the panes say on stderr once the full-screen UI closes (its last frame stays on the screen,
 * mount.ts): why a collector stopped (the certificate-changed banner must never vanish with the
 * screen), a collector still away, and the warnings seen.
 */
import type {MonitorState} from './state.js';

export function finalText(state: MonitorState): {stderr: string} {
	const lines: string[] = [];
	const said = new Set<string>();
	for (const notice of state.notices) {
		const text = notice.text.startsWith('secmon: ') ? notice.text : `secmon: ${notice.host ? `${notice.host}: ` : ''}${notice.text}`;
		if (!said.has(text)) {
			said.add(text);
			lines.push(text);
		}
	}

	for (const host of state.hosts) {
		if (host.stop) {
			lines.push(`secmon: ${host.stop.message}`);
			if (host.stop.hint) {
				lines.push(host.stop.hint);
			}
		} else if (host.phase === 'disconnected') {
			lines.push(`secmon: ${host.id}: disconnected: ${host.lastError?.message ?? 'connection lost'}`, 'Check that the collector runs and is reachable, then run the command again.');
		}
	}

	return {stderr: lines.length > 0 ? `${lines.join('\n')}\n` : ''};
}
