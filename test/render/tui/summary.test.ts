import {describe, expect, test} from 'vitest';
import {initialState, reduce, type Action} from '../../../source/render/tui/state.js';
import {finalText} from '../../../source/render/tui/summary.js';
import {freeDesc, sampleAt, tlsFacts} from './fixtures.js';

const host = 'collector:44321';

function after(samples: number, actions: Action[]) {
	return actions.reduce(reduce, initialState({
		hosts: [{id: host, secureMode: 'enforce'}], metrics: ['mem.util.free'], intervalMs: 1000, raw: false, samples, now: 0,
	}));
}

const connected: Action = {
	type: 'connected', host, at: 0, tls: tlsFacts, descs: [freeDesc], missing: [],
};
const sampled: Action = {
	type: 'sample', host, at: 0, rttMs: 1, sample: sampleAt(0, {free: 2048}),
};

describe('what stays on the terminal after the UI', () => {
	test('nothing when all went well (the last frame stays on the screen instead)', () => {
		expect(finalText(after(1, [connected, sampled])).stderr).toBe('');
	});

	test('why a collector stopped, its hint, and the warnings seen, once each', () => {
		const {stderr} = finalText(after(0, [
			connected,
			{
				type: 'notice', host, at: 0, text: 'secmon: warning: relaxed mode continues in PLAIN TEXT',
			},
			{
				type: 'notice', host, at: 1, text: 'secmon: warning: relaxed mode continues in PLAIN TEXT',
			},
			{
				type: 'stopped', host, at: 2, exitCode: 4, message: 'WARNING: COLLECTOR CERTIFICATE HAS CHANGED', hint: 'secmon certs remove collector:44321',
			},
		]));
		expect(stderr).toBe('secmon: warning: relaxed mode continues in PLAIN TEXT\nsecmon: WARNING: COLLECTOR CERTIFICATE HAS CHANGED\nsecmon certs remove collector:44321\n');
	});

	test('a collector still away at the end is reported', () => {
		const {stderr} = finalText(after(0, [connected, sampled, {
			type: 'disconnected', host, at: 1, reason: 'connection refused', retryAt: 2,
		}]));
		expect(stderr).toContain('secmon: collector:44321: disconnected: connection refused');
	});
});
