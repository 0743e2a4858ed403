import {describe, expect, it} from 'vitest';
import {
	isIpLiteral, parseHostSpec, pmcdPort, pmcdPorts,
} from '../source/target.js';

describe('parseHostSpec', () => {
	it.each([
		['collector', {
			protocol: 'pcp', host: 'collector', port: 44_321, display: 'collector:44321',
		}],
		['collector:4000', {protocol: 'pcp', host: 'collector', port: 4000}],
		['127.0.0.1:44400', {host: '127.0.0.1', port: 44_400}],
		['[::1]:44400', {host: '::1', port: 44_400, display: '[::1]:44400'}],
		['[::1]', {host: '::1', port: 44_321}],
		['::1', {host: '::1', port: 44_321}],
		['pcp://collector', {protocol: 'pcp', scheme: 'pcp', port: 44_321}],
		['pcps://collector:1234', {protocol: 'pcp', scheme: 'pcps', port: 1234}],
		['pcps://collector?secure=relaxed', {scheme: 'pcps', secureParameter: 'relaxed', host: 'collector'}],
		['zabbix://agent', {protocol: 'zabbix', port: 10_050}],
		['zabbix://[fe80::1]:10051', {protocol: 'zabbix', host: 'fe80::1', port: 10_051}],
		['icinga://master', {protocol: 'icinga', port: 5665}],
		['livestatus://site', {protocol: 'livestatus', port: 6557}],
		['mon://monhost', {protocol: 'mon', port: 2583}],
		['pmproxy://proxy', {protocol: 'pmproxy', scheme: 'pmproxy', port: 44_322}],
		['pmproxys://proxy:8443?hostspec=pmcd1:44321', {
			protocol: 'pmproxy', scheme: 'pmproxys', port: 8443, hostspec: 'pmcd1:44321', display: 'proxy:8443?hostspec=pmcd1:44321',
		}],
		['pmproxy://[::1]', {protocol: 'pmproxy', display: '[::1]:44322'}],
		['PCPS://Collector', {scheme: 'pcps', host: 'Collector'}],
	])('%s', (spec, expected) => {
		expect(parseHostSpec(spec)).toMatchObject(expected);
	});

	it.each(['', 'http://x', 'constructor://x', 'tostring://x', 'host:0', 'host:65536', 'host:abc', '[::1', '[::1]x', 'a b', 'user@host', 'pcp://x?hostspec=y', 'pmproxy://x?hostspec=', 'pmproxy://x?hostspec=a,b', 'pmproxy://x?hostspec=%1B%5B2Jpmcd', 'pmproxy://x?hostspec=pmcd\u202Eevil', 'pmproxy://x?hostspec=a%0Db'])('rejects %j with a usage error', spec => {
		expect(() => parseHostSpec(spec)).toThrow(expect.objectContaining({code: 'USAGE', exitCode: 2}) as Error);
	});

	it.each(['pmproxy://x?hostspec=pmcd:0', 'pmproxy://x?hostspec=pmcd:65536', 'pmproxy://x?hostspec=pcp%3A%2F%2Fpmcd1', 'pmproxy://x?hostspec=pmcd%2Fx', 'pmproxy://x?hostspec=pmcd%3Ax', 'pmproxy://x?hostspec=%5B%3A%3A1'])('refuses the hostspec of %j: one HOST or HOST:PORT only', spec => {
		expect(() => parseHostSpec(spec)).toThrow(expect.objectContaining({code: 'USAGE', exitCode: 2}) as Error);
	});

	it.each([
		'pmproxy://p?hostspec=pcp%3A%2F%2Fpmcd1%3Fusername%3Dmon%26password%3Dhunter2',
		'pmproxy://p?hostspec=mon%3Ahunter2%40pmcd1',
		'pmproxy://p?hostspec=pmcd1%26password%3Dhunter2',
		'pmproxy://p?hostspec=pmcd1&password=hunter2',
		'pmproxy://p?password=hunter2',
	])('refuses credentials in the hostspec of %j, pointing to --password-file, without echoing them', spec => {
		let error: unknown;
		try {
			parseHostSpec(spec);
		} catch (error_) {
			error = error_;
		}

		expect(error).toMatchObject({code: 'USAGE', exitCode: 2});
		const {message, hint} = error as {message: string; hint?: string};
		expect(hint).toContain('--password-file');
		expect(`${message} ${hint ?? ''}`).not.toContain('hunter2');
	});

	it.each(['pmcd1', 'pmcd1:44321', 'pmcd-1.example.org:1', '10.0.0.1:44321', '[::1]', '[fe80::1]:44321'])('takes the hostspec %j', pmcd => {
		expect(parseHostSpec(`pmproxy://p?hostspec=${encodeURIComponent(pmcd)}`)).toMatchObject({hostspec: pmcd});
	});

	it('knows IP literals', () => {
		expect(isIpLiteral('127.0.0.1')).toBe(true);
		expect(isIpLiteral('::1')).toBe(true);
		expect(isIpLiteral('collector')).toBe(false);
		expect(isIpLiteral('1.2.3.example')).toBe(false);
	});
});

describe('PMCD_PORT', () => {
	it('moves a PCP host given without a port to $PMCD_PORT\'s first port; an explicit port wins', () => {
		const env = {PMCD_PORT: '47713,47799'};
		expect(parseHostSpec('collector', env)).toMatchObject({port: 47_713, display: 'collector:47713'});
		expect(parseHostSpec('pcps://collector', env).port).toBe(47_713);
		expect(parseHostSpec('collector:44321', env).port).toBe(44_321);
		expect(parseHostSpec('zabbix://agent', env).port).toBe(10_050);
		expect(parseHostSpec('collector').port).toBe(44_321);
	});

	it('ignores a PMCD_PORT that is not a port, as 44321', () => {
		for (const value of ['', 'x', '0', '70000', ',44321']) {
			expect(pmcdPort({PMCD_PORT: value})).toBe(44_321);
		}

		expect(pmcdPort({PMCD_PORT: ' 4444 '})).toBe(4444);
	});

	it('keeps the other ports to try in turn, in order, without repeats, at most 16', () => {
		expect(pmcdPorts({PMCD_PORT: '47713,47799,47713'})).toEqual([47_713, 47_799]);
		expect(pmcdPorts({PMCD_PORT: '47713,x,47799'})).toEqual([47_713]);
		expect(pmcdPorts({})).toEqual([44_321]);
		expect(pmcdPorts({PMCD_PORT: Array.from({length: 40}, (_, i) => 40_000 + i).join(',')})).toHaveLength(16);
		expect(parseHostSpec('collector', {PMCD_PORT: '47713,47799'}).otherPorts).toEqual([47_799]);
		expect(parseHostSpec('collector:1', {PMCD_PORT: '47713,47799'}).otherPorts).toBeUndefined();
		expect(parseHostSpec('zabbix://agent', {PMCD_PORT: '47713,47799'}).otherPorts).toBeUndefined();
	});
});
