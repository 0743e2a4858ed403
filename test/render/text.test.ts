import {describe, expect, test} from 'vitest';
import {toRates} from '../../source/metrics/rate.js';
import {renderTextSample} from '../../source/render/text.js';
import {
	freeDesc, loadDesc, readDesc, sampleAt, tlsFacts,
} from './tui/fixtures.js';

const descs = new Map([loadDesc, freeDesc, readDesc].map(d => [d.name, d]));

describe('plain text samples', () => {
	test('a block per sample: header, aligned instances, scaled values, rates after the second sample', () => {
		const first = sampleAt(0, {load: [0.5, 12.25, 0.3], free: 22_020_096, reads: {vda: 1000, nvme0n1: 0}});
		const second = sampleAt(2, {load: [0.5, 12.25, 0.3], free: 22_020_096, reads: {vda: 1200, nvme0n1: 10}});
		expect(renderTextSample({
			target: 'collector:44321', timestamp: first.timestamp, rows: toRates(undefined, first, descs, false), tls: tlsFacts, first: true,
		})).toBe([
			'2026-11-24T12:00:00.000Z  collector:44321  TLS TLSv1.3, pinned',
			'  kernel.all.load',
			'    1 minute   0.50',
			'    5 minute   12.2',
			'    15 minute  0.30',
			'  mem.util.free  21.0 GiB',
			'  disk.dev.read: (rate after the next sample)',
			'',
		].join('\n'));
		expect(renderTextSample({
			target: 'collector:44321', timestamp: second.timestamp, rows: toRates(first, second, descs, false), tls: undefined, first: false,
		})).toContain([
			'2026-11-24T12:00:02.000Z  collector:44321  PLAIN TEXT (not encrypted)',
			'  kernel.all.load',
		].join('\n'));
		expect(renderTextSample({
			target: 'c', timestamp: second.timestamp, rows: toRates(first, second, descs, false), tls: undefined, first: false,
		})).toContain('  disk.dev.read\n    vda       100/s\n    nvme0n1     5/s\n');
	});

	test('errors and missing values say so', () => {
		const text = renderTextSample({
			target: 'c',
			timestamp: new Date(0),
			rows: [
				{name: 'a.b', result: {status: 'error', code: -12_357, message: 'Unknown metric name'}, rate: false},
				{name: 'c.d', result: {status: 'novalues'}, rate: false},
			],
			tls: undefined,
			first: false,
		});
		expect(text).toContain('  a.b: error: Unknown metric name\n  c.d: no values\n');
	});
});
