/**
 * The sets file's keys are the user's text: a threshold for a metric named `__proto__` or
 * `constructor` is kept as that metric's, written back as it was read.
 */
import {chmodSync, mkdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, describe, expect, test,
} from 'vitest';
import {
	loadSet, readSets, saveSet, setsFile,
} from '../../source/sets/store.js';
import {tempHome} from '../helpers/secmon.js';

describe('saved set thresholds keyed by Object.prototype names', () => {
	const home = tempHome();
	afterAll(() => {
		home.remove();
	});

	test('"__proto__" and "constructor" threshold keys round-trip through the sets file', () => {
		const dir = path.join(home.dir, 'secmon');
		mkdirSync(dir, {mode: 0o700});
		chmodSync(dir, 0o700);
		const thresholds = JSON.parse('{"__proto__": {"warn": "~:5"}, "constructor": {"warn": "1", "crit": "2"}, "kernel.all.load": {"crit": "4"}}') as Record<string, {warn?: string; crit?: string}>;
		saveSet(dir, 'proto', {
			hosts: ['collector'], metrics: ['__proto__', 'constructor', 'kernel.all.load'], intervalMs: 1000, thresholds,
		}, new Date('2026-12-03T12:00:00Z'));
		const written = readFileSync(setsFile(dir), 'utf8');
		expect(JSON.parse(written)).toEqual({
			proto: {
				hosts: ['collector'],
				metrics: ['__proto__', 'constructor', 'kernel.all.load'],
				intervalMs: 1000,
				savedAt: '2026-12-03T12:00:00.000Z',
				thresholds,
			},
		});
		expect(written).toContain('"__proto__": {');

		const set = loadSet(dir, 'proto');
		expect(Object.entries(set.thresholds!)).toEqual([
			['__proto__', {warn: '~:5'}],
			['constructor', {warn: '1', crit: '2'}],
			['kernel.all.load', {crit: '4'}],
		]);

		// Saved again as read: the file is unchanged.
		saveSet(dir, 'proto', set, new Date('2026-12-03T12:00:00Z'));
		expect(readFileSync(setsFile(dir), 'utf8')).toBe(written);
		expect(Object.keys(readSets(dir))).toEqual(['proto']);
	});
});
