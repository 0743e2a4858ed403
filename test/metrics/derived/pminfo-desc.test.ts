/**
 * Every derived metric Debian ships (/etc/pcp/derived/*.conf through $PCP_VAR_DIR/config/derived):
 * the descriptor and PMID the engine infers from the operands' descriptors equal what Debian's
 * real pminfo 6.0.3 prints (-d -m) against a real pmcd. The operand descriptors come from the
 * same pmcd (pminfo -d without derived metrics), so this checks the engine, not the client.
 */
import {readdirSync} from 'node:fs';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {runPminfo} from '../../helpers/pminfo.js';
import {globalDerivedDirectory, loadDerivedMetrics} from '../../../source/metrics/derived/config.js';
import {bindDerived} from '../../../source/metrics/derived/infer.js';
import {parseUnitsStr} from '../../../source/metrics/derived/units.js';
import type {PcpDescriptor} from '../../../source/metrics/derived/types.js';
import {toMetricDesc} from '../../../source/protocols/pcp/model.js';
import {renderDesc} from '../../../source/render/pminfo.js';
import {pmIDStr} from '../../../source/render/pcp-format.js';

const globalDir = globalDerivedDirectory({});
const haveConfig = (() => {
	try {
		return readdirSync(globalDir).length > 0;
	} catch {
		return false;
	}
})();

let peer: PmcdPeer;

beforeAll(async () => {
	peer = await startPmcd('plain');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
});

const typeWords: Record<string, number> = {
	'32-bit int': 0, '32-bit unsigned int': 1, '64-bit int': 2, '64-bit unsigned int': 3, float: 4, double: 5, string: 6, aggregate: 7, event: 9,
};
const semWords: Record<string, number> = {counter: 1, instant: 3, discrete: 4};

/** Parses pminfo -d -m blocks into descriptors. */
function parseDescs(output: string): Map<string, PcpDescriptor> {
	const descs = new Map<string, PcpDescriptor>();
	for (const block of output.split('\n\n')) {
		const match = /^(\S+) PMID: (\d+)\.(\d+)\.(\d+)\n {4}Data Type: (.+?) {2}InDom: \S+ 0x([\da-f]+)\n {4}Semantics: (\S+) {2}Units: (.*)$/m.exec(block.trim());
		if (!match) {
			continue;
		}

		const parsed = parseUnitsStr(match[8] === 'none' ? '' : match[8]!);
		if ('error' in parsed) {
			throw new Error(`units ${match[8]}: ${parsed.error}`);
		}

		descs.set(match[1]!, {
			pmid: ((Number(match[2]) << 22) | (Number(match[3]) << 10) | Number(match[4])) >>> 0,
			type: typeWords[match[5]!] ?? -1,
			indom: Number.parseInt(match[6]!, 16) >>> 0,
			sem: semWords[match[7]!] ?? 0,
			units: parsed.units,
		});
	}

	return descs;
}

describe.skipIf(!haveConfig)('derived descriptors of Debian\'s configuration', () => {
	it('match pminfo -d -m for every metric whose operands pmcd has, with the same PMIDs', async () => {
		const registry = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: globalDir}});
		expect(registry.diagnostics).toEqual([]);
		const derived = registry.metrics.filter(metric => !metric.anon);
		expect(derived.length).toBeGreaterThan(50);

		const operands = [...new Set(derived.flatMap(metric => [...metric.expr.matchAll(/[A-Za-z][\w.]*(?=\W|$)/g)].map(m => m[0]).filter(name => name.includes('.'))))];
		const base = await runPminfo(['-h', peer.address, '-d', '-m', ...operands]);
		const known = parseDescs(base.stdout);
		expect(known.has('disk.dev.total')).toBe(true);

		const real = await runPminfo(['-h', peer.address, '-d', '-m', ...derived.map(metric => metric.name)], {PCP_DERIVED_CONFIG: globalDir});
		let expected = '';
		let actual = '';
		let compared = 0;
		const blocks = new Map(real.stdout.split('\n\n').filter(Boolean).map(block => [block.trim().split(' ')[0]!, `${block.trim()}\n`]));
		for (const metric of derived) {
			const result = bindDerived(metric, name => known.get(name));
			const block = blocks.get(metric.name);
			if (!result.ok) {
				// Unbound (missing operands): pminfo says "Unknown metric name".
				expect(block, metric.name).toBeUndefined();
				expect(real.stderr).toContain(`Error: ${metric.name}: Unknown metric name`);
				continue;
			}

			compared++;
			expected += block ?? `${metric.name} missing from pminfo\n`;
			actual += `${metric.name} PMID: ${pmIDStr(result.desc.pmid)}\n${renderDesc(toMetricDesc(metric.name, result.desc))}`;
		}

		expect(actual).toBe(expected);
		expect(compared).toBeGreaterThan(30);
	}, 60_000);
});
