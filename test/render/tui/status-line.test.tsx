import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {
	StatusLine, basisLabel, formatRtt, retryText, statusSegments,
} from '../../../source/render/tui/status-line.js';
import {HelpOverlay} from '../../../source/render/tui/help-overlay.js';
import {initialState, reduce, type HostState} from '../../../source/render/tui/state.js';
import {sampleAt, tlsFacts} from './fixtures.js';

const id = 'collector:44321';

function hostAfter(tls: typeof tlsFacts | undefined): HostState {
	let state = initialState({
		hosts: [{id, secureMode: tls ? 'enforce' : 'relaxed'}], metrics: [], intervalMs: 1000, raw: false, samples: 0, now: 0,
	});
	state = reduce(state, {
		type: 'connected', host: id, at: 0, tls, descs: [], missing: [],
	});
	state = reduce(state, {
		type: 'sample', host: id, at: 0, rttMs: 2.345, sample: sampleAt(0, {}),
	});
	return state.hosts[0]!;
}

function line(host: HostState, now = 0, asking = false, width = 100): string {
	return render(<StatusLine host={host} now={now} asking={asking} width={width}/>).lastFrame() ?? '';
}

describe('StatusLine', () => {
	test('TLS version, cipher, trust basis, short fingerprint and round-trip time', () => {
		const text = line(hostAfter(tlsFacts));
		expect(text).toContain('● collector:44321 connected');
		expect(text).toContain('TLSv1.3 TLS_AES_256_GCM_SHA384');
		expect(text).toContain('pinned 56:50:80:86…');
		expect(text).toContain('rtt 2.3 ms');
		const wide = statusSegments(hostAfter(tlsFacts), 0, false, false).map(segment => segment.text).join('');
		expect(wide).toContain('pinned 56:50:80:86…A7:30:BF:98 · rtt 2.3 ms · 1 samples');
	});

	test('a plain connection is unmistakable, in words (without colour too) and by its marker', () => {
		const text = line(hostAfter(undefined));
		expect(text).toContain('! collector:44321 connected ·  !! PLAIN TEXT !!  not encrypted, not authenticated');
		expect(text).not.toContain('TLSv');
		expect(text).not.toContain('●');
	});

	test('PLAIN TEXT is red and inverse', () => {
		const label = statusSegments(hostAfter(undefined), 0, false, false).find(segment => segment.text === ' !! PLAIN TEXT !! ');
		expect(label).toMatchObject({color: 'red', inverse: true, bold: true});
	});

	test('disconnected: the reason and the retry countdown', () => {
		const host: HostState = {
			...hostAfter(tlsFacts), phase: 'disconnected', retryAt: 4000, attempt: 3, lastError: {message: 'connection refused', at: 0},
		};
		expect(line(host, 1000)).toContain('○ collector:44321 disconnected: connection refused · retry in 3 s (attempt 3)');
	});

	test('stopped, connecting and waiting for a trust decision', () => {
		const host = hostAfter(tlsFacts);
		expect(line({...host, phase: 'stopped', stop: {exitCode: 4, message: 'changed'}})).toContain('STOPPED (exit 4)');
		const fresh = initialState({
			hosts: [{id, secureMode: 'enforce'}], metrics: [], intervalMs: 1000, raw: false, samples: 0, now: 0,
		}).hosts[0]!;
		expect(line(fresh)).toContain('connecting… · TLS enforce');
		expect(line(fresh, 0, true)).toContain('waiting for your trust decision');
	});

	test('a past error stays visible once connected again', () => {
		const host = {...hostAfter(tlsFacts), lastError: {message: 'connection reset', at: Date.UTC(2026, 0, 1, 12, 0, 0)}};
		expect(statusSegments(host, 0, false, true).map(segment => segment.text).join('')).toMatch(/last error \d\d:\d\d:\d\d: connection reset/v);
	});
});

describe('helpers', () => {
	test('basis labels, rtt and retry text', () => {
		expect(basisLabel('accepted-once')).toBe('accepted once');
		expect(basisLabel('ca')).toBe('CA-verified');
		expect(formatRtt(0.42)).toBe('0.4 ms');
		expect(formatRtt(42.4)).toBe('42 ms');
		expect(formatRtt(1200)).toBe('1.20 s');
		expect(retryText(5000, 1001)).toBe('retry in 4 s');
		expect(retryText(1000, 1001)).toBe('retrying now');
	});
});

describe('HelpOverlay', () => {
	test('lists the keys and the trust words', () => {
		const text = render(<HelpOverlay paused intervalMs={2000} raw={false}/>).lastFrame() ?? '';
		for (const word of ['q', 'p', 'r', '+ / -', 'Tab', 'PLAIN TEXT', 'accepted once', 'every 2 s', 'paused']) {
			expect(text).toContain(word);
		}
	});
});
