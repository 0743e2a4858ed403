import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {
	collectorsHelp, descriptorFor, protocolOfScheme, protocols, schemes,
} from '../../source/protocols/registry.js';

describe('the protocol registry', () => {
	it('lists each protocol once, PCP first (the default), each scheme once', () => {
		expect(protocols.map(descriptor => descriptor.name)).toEqual(['pcp', 'zabbix', 'icinga', 'livestatus', 'mon', 'pmproxy']);
		expect(schemes).toEqual(['pcp', 'pcps', 'zabbix', 'icinga', 'livestatus', 'mon', 'pmproxy', 'pmproxys']);
		expect(new Set(schemes).size).toBe(schemes.length);
		expect(protocolOfScheme('pcps')).toBe('pcp');
		expect(protocolOfScheme('http')).toBeUndefined();
		expect(protocolOfScheme('constructor')).toBeUndefined();
		expect(protocols.map(descriptor => [descriptor.name, descriptor.defaultPort, descriptor.tls])).toEqual([
			['pcp', 44_321, 'upgrade'],
			['zabbix', 10_050, 'psk-or-direct'],
			['icinga', 5665, 'direct'],
			['livestatus', 6557, 'direct'],
			['mon', 2583, 'direct'],
			['pmproxy', 44_322, 'direct'],
		]);
		for (const descriptor of protocols) {
			expect(descriptorFor(descriptor.name)).toBe(descriptor);
		}
	});

	it('writes the Collectors lines of secmon --help', () => {
		expect(collectorsHelp()).toBe([
			'  host, host:port, [v6]:port            PCP pmcd (default port 44321)',
			'  pcp://host[:port]  pcps://host[:port] PCP; pcps:// means --secure enforce',
			'  zabbix://host[:port]                  Zabbix agent (10050)',
			'  icinga://host[:port]                  Icinga 2 REST API (5665)',
			'  livestatus://host[:port]              Checkmk Livestatus behind TLS (6557)',
			'  mon://host[:port]                     mon behind stunnel (2583)',
			'  pmproxy://host[:port][?hostspec=H]    PCP\'s pmproxy REST API (44322), TLS when offered',
			'  pmproxys://host[:port]                pmproxy, TLS required',
		].join('\n'));
	});

	it.each(protocols.map(descriptor => descriptor.name))('%s/descriptor.ts is data and lazy imports only (every run loads it)', name => {
		const text = readFileSync(new URL(`../../source/protocols/${name}/descriptor.ts`, import.meta.url), 'utf8');
		const staticImports = text.split('\n').filter(line => /^import\s/v.test(line));
		// Besides types, only shared/descriptor.ts's helpers, which are data and lazy imports themselves (below).
		expect(staticImports.filter(line => !line.startsWith('import type ') && !line.endsWith(' from \'../shared/descriptor.js\';'))).toEqual([]);
		// Its lazy imports stay in its own folder or the shared one.
		for (const [, target] of text.matchAll(/import\('([^']+)'\)/gv)) {
			expect(target).toMatch(/^\.\/|^\.\.\/shared\//v);
		}
	});

	it('shared/descriptor.ts is types and lazy imports only (every run loads it too)', () => {
		const text = readFileSync(new URL('../../source/protocols/shared/descriptor.ts', import.meta.url), 'utf8');
		const staticImports = text.split('\n').filter(line => /^import\s/v.test(line));
		expect(staticImports.filter(line => !line.startsWith('import type '))).toEqual([]);
		for (const [, target] of text.matchAll(/import\('([^']+)'\)/gv)) {
			expect(target).toMatch(/^\.\/[\w\-]+\.js$/v);
		}
	});
});
