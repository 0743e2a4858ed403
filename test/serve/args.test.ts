/** `secmon serve`'s command line (source/serve/args.ts), parsed by the subcommands' parser (argv/args.ts). */
import {describe, expect, test} from 'vitest';
import {parseListen, parseServeArgs} from '../../source/serve/args.js';

describe('secmon serve options', () => {
	test('defaults: TLS required on loopback port 44321', () => {
		expect(parseServeArgs([])).toEqual({
			listen: [{host: '127.0.0.1', port: 44_321}, {host: '::1', port: 44_321}],
			tls: 'require',
			requireClientCert: false,
			explicitListen: false,
		});
	});

	test('every option', () => {
		expect(parseServeArgs(['--listen', '0.0.0.0:4000', '--listen', '[::1]:4001', '--tls', 'offer', '--cert', 'c.pem', '--key', 'k.pem', '--client-ca', 'ca.pem'])).toEqual({
			listen: [{host: '0.0.0.0', port: 4000}, {host: '::1', port: 4001}],
			tls: 'offer',
			clientCa: 'ca.pem',
			requireClientCert: false,
			cert: 'c.pem',
			key: 'k.pem',
			explicitListen: true,
		});
		expect(parseServeArgs(['--require-client-cert'])).toMatchObject({tls: 'require', requireClientCert: true});
		expect(parseServeArgs(['--help'])).toBe('help');
	});

	test('connection limits and timeouts', () => {
		expect(parseServeArgs(['--max-clients', '200', '--max-per-address', '16', '--idle-timeout', '10min', '--handshake-timeout', '2500msec'])).toMatchObject({
			limits: {
				maxClients: 200, maxPerAddress: 16, idleMs: 600_000, handshakeMs: 2500,
			},
		});
		expect(parseServeArgs(['--idle-timeout', '90'])).toMatchObject({limits: {idleMs: 90_000}});
	});

	test.each([
		[['--tls', 'maybe'], /--tls maybe/v],
		[['--cert', 'c.pem'], /--cert and --key go together/v],
		[['--tls', 'offer', '--require-client-cert'], /cannot work with --tls offer/v],
		[['--tls', 'off', '--client-ca', 'x'], /--tls off serves plain text/v],
		[['--require-client-cert', '--cert', 'c', '--key', 'k'], /needs --client-ca/v],
		[['--listen', '44321'], /expected ADDR:PORT/v],
		[['--listen', '[127.0.0.1]:1'], /not an IPv6 address/v],
		[['--bogus'], /bogus/v],
		[['--max-clients', '0'], /--max-clients 0: expected a whole number/v],
		[['--max-per-address', '-1'], /--max-per-address/v],
		[['--max-per-address', '2.5'], /--max-per-address 2\.5: expected a whole number/v],
		[['--idle-timeout', 'forever'], /--idle-timeout forever: expected a time/v],
		[['--idle-timeout', '30days'], /--idle-timeout 30days/v],
		[['--handshake-timeout', '0'], /--handshake-timeout 0: expected a time/v],
	])('%j is a usage error', (argv, message) => {
		expect(() => parseServeArgs(argv)).toThrow(message);
	});

	test('listen addresses', () => {
		expect(parseListen('[::]:44321')).toEqual({host: '::', port: 44_321});
		expect(parseListen('localhost:1')).toEqual({host: 'localhost', port: 1});
		expect(() => parseListen('127.0.0.1:70000')).toThrow(/ADDR:PORT/v);
	});

	// node:util parseArgs parsed these until serve moved to the subcommands' parser (argv/args.ts):
	// the same refusals, in that parser's words.
	test.each([
		[['--bogus'], 'unknown option --bogus for secmon serve'],
		[['--listen'], '--listen needs a value (secmon serve)'],
		[['--listen', '--tls', 'off'], '--listen needs a value (secmon serve)'],
		[['--listen', '127.0.0.1:1', '--listen='], '--listen needs a value (secmon serve)'],
		[['--tls'], '--tls needs a value (secmon serve)'],
		[['x'], 'unexpected argument "x": secmon serve takes options only'],
		[['--', '--tls'], 'unexpected argument "--tls": secmon serve takes options only'],
	])('%j: %s', (argv, message) => {
		expect(() => parseServeArgs(argv)).toThrow(expect.objectContaining({code: 'USAGE', message, hint: 'see: secmon serve --help'}) as Error);
	});

	test('a flag given twice is refused (node:util parseArgs took the last)', () => {
		expect(() => parseServeArgs(['--tls', 'offer', '--tls', 'off'])).toThrow(/--tls can only be set once/v);
	});

	test('-h and --help', () => {
		expect(parseServeArgs(['-h'])).toBe('help');
		expect(parseServeArgs(['--max-clients', '3', '--help'])).toBe('help');
	});
});
