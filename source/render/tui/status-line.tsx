/**
 * One line per collector: connection state, TLS version and cipher, how the certificate came to be
 * trusted (with a short fingerprint), round-trip time and the last error. A plain-text connection
 * is shown as "! … !! PLAIN TEXT !!" in red inverse so that it cannot be mistaken for a secure one,
 * with or without colour. Props only.
 */
import {shortFingerprint} from '../../security/certificate.js';
import type {TrustBasis} from '../../security/types.js';
import {CellLine, type Segment} from './cell.js';
import type {HostState} from './state.js';
import {troubleText} from './trouble.js';

export type {Segment} from './cell.js';

const basisText: Record<TrustBasis, string> = {
	ca: 'CA-verified',
	pinned: 'pinned',
	fingerprint: 'pinned by --fingerprint',
	accepted: 'accepted and pinned',
	'accepted-once': 'accepted once',
	'accept-new': 'pinned by --accept-new',
	psk: 'pre-shared key',
};

export function basisLabel(basis: TrustBasis): string {
	return basisText[basis];
}

/** "0.4 ms", "12 ms", "1.20 s" */
export function formatRtt(ms: number): string {
	if (ms < 10) {
		return `${ms.toFixed(1)} ms`;
	}

	return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Local wall-clock time, "14:03:07". */
export function clockTime(epochMs: number): string {
	const date = new Date(epochMs);
	return [date.getHours(), date.getMinutes(), date.getSeconds()].map(n => String(n).padStart(2, '0')).join(':');
}

/** "retry in 4 s" / "retrying now" */
export function retryText(retryAt: number | undefined, now: number): string {
	if (retryAt === undefined) {
		return '';
	}

	const seconds = Math.ceil((retryAt - now) / 1000);
	return seconds > 0 ? `retry in ${seconds} s` : 'retrying now';
}

export type StatusLineProps = Readonly<{
	host: HostState;
	now: number;
	/** A trust prompt for this collector is open. */
	asking?: boolean;
	/** Columns available: a line that would not fit drops the least important details first. */
	width?: number;
}>;

function phaseSegment(host: HostState, now: number, asking: boolean): Segment {
	if (asking) {
		return {text: 'waiting for your trust decision', color: 'yellow', bold: true};
	}

	switch (host.phase) {
		case 'connected': {
			return {text: 'connected', color: 'green'};
		}

		case 'connecting': {
			return {text: host.everConnected ? 'reconnecting…' : 'connecting…', color: 'yellow'};
		}

		case 'disconnected': {
			const attempt = host.attempt > 1 ? ` (attempt ${host.attempt})` : '';
			return {text: `disconnected: ${host.lastError?.message ?? 'connection lost'} · ${retryText(host.retryAt, now)}${attempt}`, color: 'red'};
		}

		case 'stopped': {
			return {
				text: ` STOPPED (exit ${host.stop?.exitCode ?? 1}) `, color: 'red', inverse: true, bold: true,
			};
		}
	}
}

/** A stopped host: why, and the one command that fixes it, right after the phase (before the TLS details, cut first). */
function troubleSegments(host: HostState): Segment[] {
	return host.phase === 'stopped' && host.stop ? [{text: ` ${troubleText(host.stop)}`, color: 'red'}] : [];
}

function securitySegments(host: HostState, compact: boolean): Segment[] {
	if (!host.everConnected) {
		return [{text: host.secureMode === 'off' ? 'TLS off' : `TLS ${host.secureMode}`, dim: true}];
	}

	if (host.tls === undefined) {
		// Words, not only colour: with NO_COLOR (no red, no inverse) this still cannot pass for TLS.
		return [
			{
				text: ' !! PLAIN TEXT !! ', color: 'red', inverse: true, bold: true,
			},
			{text: ' not encrypted, not authenticated', color: 'red'},
		];
	}

	const {tls} = host;
	const fingerprint = compact ? `${tls.sha256.split(':').slice(0, 4).join(':')}…` : shortFingerprint(tls.sha256);
	return [
		{text: `${tls.version} ${tls.cipher}`, color: 'green'},
		{text: ` · ${basisLabel(tls.basis)} `},
		{text: fingerprint, dim: true},
	];
}

/** The status line as styled pieces; `compact` shortens the fingerprint and drops the sample count. */
export function statusSegments(host: HostState, now: number, asking: boolean, compact: boolean): Segment[] {
	const plain = host.phase === 'connected' && host.everConnected && host.tls === undefined;
	const marker = plain
		? '!'
		: {
			connected: '●', connecting: '◌', disconnected: '○', stopped: '✖',
		}[host.phase];
	const markerColor = {
		connected: 'green', connecting: 'yellow', disconnected: 'red', stopped: 'red',
	}[host.phase];
	const segments: Segment[] = [
		{text: `${marker} `, color: markerColor},
		{text: host.id, bold: true},
		{text: ' '},
		phaseSegment(host, now, asking),
		...troubleSegments(host),
		{text: ' · '},
		...securitySegments(host, compact),
	];
	if (host.rttMs !== undefined) {
		segments.push({text: ` · rtt ${formatRtt(host.rttMs)}`, dim: true});
	}

	if (host.missed) {
		segments.push({text: ` · ${host.missed} ${host.missed === 1 ? 'round' : 'rounds'} missed (slow answers)`, color: 'yellow'});
	}

	if (host.lastError && host.phase === 'connected') {
		segments.push({text: ` · last error ${clockTime(host.lastError.at)}: ${host.lastError.message}`, color: 'yellow'});
	}

	if (host.samples > 0 && !compact) {
		segments.push({text: ` · ${host.samples} samples`, dim: true});
	}

	return segments;
}

function length(segments: Segment[]): number {
	return segments.reduce((sum, segment) => sum + [...segment.text].length, 0);
}

export function StatusLine({
	host, now, asking, width,
}: StatusLineProps) {
	const columns = width ?? 100;
	let segments = statusSegments(host, now, asking === true, false);
	if (length(segments) > columns) {
		segments = statusSegments(host, now, asking === true, true);
	}

	// Cells: the round-trip time and counters change every sample (see cell.tsx).
	return <CellLine segments={segments} width={columns}/>;
}
