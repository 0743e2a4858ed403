import process from 'node:process';
import {describe, expect, it} from 'vitest';
import {sessionHooks} from '../../source/commands/hooks.js';
import type {Io} from '../../source/io.js';

describe('session hooks', () => {
	it('carry one frozen copy of the command line, the same for every collector of the run (its hints are built once)', () => {
		const io: Io = {env: {}, stdout: process.stdout, stderr: process.stderr};
		const first = sessionHooks(io, () => undefined);
		const second = sessionHooks(io, () => undefined);
		expect(first.argv).toBe(second.argv);
		expect(Object.isFrozen(first.argv)).toBe(true);
		expect(first.argv).toEqual(process.argv.slice(2));
	});
});
