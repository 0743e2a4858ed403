/**
 * What stays on the terminal after the full-screen UI closes: with -s N the last sample of each
 * collector as plain text (the alternate screen is gone), and on stderr why a collector stopped
 * (the certificate-changed banner must never vanish with the screen) and the warnings seen.
 */
import {toRates} from '../../metrics/rate.js';
import {renderTextSample} from '../text.js';
import type {MonitorState} from './state.js';

export function finalText(state: MonitorState): {stdout: string; stderr: string} {
	let stdout = '';
	if (state.samplesWanted > 0) {
		for (const host of state.hosts) {
			if (host.latest) {
				const descs = new Map(host.descs.map(d => [d.name, d]));
				stdout += renderTextSample({
					target: host.id,
					timestamp: host.latest.timestamp,
					rows: toRates(host.previous, host.latest, descs, state.raw),
					tls: host.tls,
					first: host.previous === undefined,
				});
			}
		}
	}

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

	return {stdout, stderr: lines.length > 0 ? `${lines.join('\n')}\n` : ''};
}
