import {describe, expect, it} from 'vitest';
import {rerunCommand, rerunWithSecure, shellQuote} from '../source/shell.js';

describe('re-run hints', () => {
	it('quote what a shell would split or expand', () => {
		expect(shellQuote('kernel.all.load')).toBe('kernel.all.load');
		expect(shellQuote('[::1]:44321')).toBe('\'[::1]:44321\'');
		expect(shellQuote('it\'s')).toBe('\'it\'\\\'\'s\'');
	});

	it('carry a secure mode that came from the environment, before a --', () => {
		expect(rerunCommand(['-h', 'c', '-f', 'm'], {secureArgument: 'enforce'})).toBe('secmon -h c -f m --secure enforce');
		expect(rerunCommand(['-h', 'c', '--', '-m'], {secureArgument: 'enforce'})).toBe('secmon -h c --secure enforce -- -m');
		expect(rerunCommand(['-h', 'c', '--secure=relaxed'], {secureArgument: 'enforce'})).toBe('secmon -h c --secure=relaxed');
		expect(rerunCommand(['-h', 'c'], {})).toBe('secmon -h c');
		expect(rerunCommand(undefined)).toBeUndefined();
	});

	it('replace the mode, and for plain text drop the options that imply TLS', () => {
		expect(rerunWithSecure(['-h', 'c', '--secure', 'enforce', '--ca-file', 'ca.pem', '--accept-new', '-f', 'm'], 'off'))
			.toBe('secmon -h c -f m --secure off');
		expect(rerunWithSecure(['-h', 'c', '--fingerprint=AB:CD', '-f', 'm'], 'relaxed')).toBe('secmon -h c -f m --secure relaxed');
		expect(rerunWithSecure(['-h', 'c', '--ca-file', 'ca.pem', '-f', 'm'], 'enforce')).toBe('secmon -h c --ca-file ca.pem -f m --secure enforce');
		expect(rerunWithSecure(['-h', 'c', '--', 'm'], 'off')).toBe('secmon -h c --secure off -- m');
	});

	it('built once per frozen command line and kind, each kind its own (a fleet asks per collector)', () => {
		const argv = Object.freeze(['--host', 'a', '--host', 'b', '--ca-file', 'ca.pem', '-f', 'm']);
		expect(rerunWithSecure(argv, 'off')).toBe('secmon --host a --host b -f m --secure off');
		expect(rerunWithSecure(argv, 'enforce')).toBe('secmon --host a --host b --ca-file ca.pem -f m --secure enforce');
		expect(rerunWithSecure(argv, 'off')).toBe('secmon --host a --host b -f m --secure off');
		expect(rerunCommand(argv)).toBe('secmon --host a --host b --ca-file ca.pem -f m');
		expect(rerunCommand(argv, {secureArgument: 'relaxed'})).toBe('secmon --host a --host b --ca-file ca.pem -f m --secure relaxed');
		expect(rerunCommand(argv)).toBe('secmon --host a --host b --ca-file ca.pem -f m');
	});

	it('never remember a command line that can still change', () => {
		const argv = ['--host', 'a', '-f', 'm'];
		expect(rerunCommand(argv)).toBe('secmon --host a -f m');
		argv[1] = 'b';
		expect(rerunCommand(argv)).toBe('secmon --host b -f m');
		expect(rerunWithSecure(argv, 'off')).toBe('secmon --host b -f m --secure off');
		argv[1] = 'c';
		expect(rerunWithSecure(argv, 'off')).toBe('secmon --host c -f m --secure off');
	});
});
