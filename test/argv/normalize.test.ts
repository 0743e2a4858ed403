import {describe, expect, it} from 'vitest';
import {normalizeArgv} from '../../source/argv/normalize.js';

describe('normalizeArgv', () => {
	it('takes -t DURATION as an interval and bare -t as one-line help', () => {
		expect(normalizeArgv(['-t', '2', 'kernel.all.load'])).toEqual(['--interval', '2', 'kernel.all.load']);
		expect(normalizeArgv(['-t', 'kernel.all.load'])).toEqual(['--oneline', 'kernel.all.load']);
		expect(normalizeArgv(['-t', '500msec'])).toEqual(['--interval', '500msec']);
		// An InDom is pminfo's -t when nothing else names a metric (sampling nothing means nothing).
		expect(normalizeArgv(['-h', 'pmcd', '-t', '60.2'])).toEqual(['-h', 'pmcd', '--oneline', '60.2']);
		expect(normalizeArgv(['-t', '60.2', '-s', '3'])).toEqual(['--oneline', '60.2', '-s', '3']);
		expect(normalizeArgv(['-t', '0.5', 'kernel.all.load'])).toEqual(['--interval', '0.5', 'kernel.all.load']);
		expect(normalizeArgv(['kernel.all.load', '-t', '0.5'])).toEqual(['kernel.all.load', '--interval', '0.5']);
		expect(normalizeArgv(['--set', 'web', '-t', '0.5'])).toEqual(['--set', 'web', '--interval', '0.5']);
		expect(normalizeArgv(['-t', '60.2', '--', 'x'])).toEqual(['--interval', '60.2', '--', 'x']);
		// pminfo's and pmval's -V and -?.
		expect(normalizeArgv(['-V'])).toEqual(['--version']);
		expect(normalizeArgv(['-?'])).toEqual(['--help']);
		expect(normalizeArgv(['-t'])).toEqual(['--oneline']);
	});

	it('expands pminfo flag groups', () => {
		expect(normalizeArgv(['-dfmtT', 'disk.dev.read'])).toEqual(['--desc', '--fetch', '--pmid', '--oneline', '--help-text', 'disk.dev.read']);
		expect(normalizeArgv(['-fy'])).toEqual(['-fy']);
		// Every boolean short flag of the main table groups; flags that take a value never do.
		expect(normalizeArgv(['-Mr', '-fh', '-fs'])).toEqual(['--pmid-long', '--raw', '-fh', '-fs']);
	});

	it('stops at --', () => {
		expect(normalizeArgv(['--', '-t'])).toEqual(['--', '-t']);
	});
});
