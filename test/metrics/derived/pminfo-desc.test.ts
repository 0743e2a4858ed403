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

/** Hand-written cases for the operators, functions and semantic errors of pmRegisterDerived(3). */
const semanticCases = `s.a = hinv.ncpu + mem.physmem
s.b = kernel.all.cpu.user * kernel.all.cpu.sys
s.c = rate(kernel.uname.release)
s.d = kernel.all.load + disk.dev.read
s.e = hinv.ncpu ? mem.physmem : hinv.ncpu
s.f = nosuch.metric + 1
s.g = -kernel.uname.release
s.h = rescale(hinv.ncpu, "sec")
s.i = disk.dev.read ? 1 : 2
s.j = 3 - kernel.all.cpu.user
s.k = kernel.all.cpu.user - 3
s.l = hinv.ncpu > mem.physmem
s.m = mem.physmem < 3
s.n = rate(hinv.ncpu)
s.o = count(disk.dev.read)
s.q = defined(nosuch) + defined(hinv.ncpu)
s.r = hinv.ncpu
s.s = delta(kernel.all.cpu.user) / delta(kernel.all.cpu.sys)
s.t = mem.physmem * 1024
s.u = sample.byte_ctr + sample.kbyte_ctr
s.v = sample.kbyte_ctr + sample.byte_ctr
s.w = rate(sample.byte_ctr)
s.x = instant(sample.byte_ctr)
s.y = avg(disk.dev.read)
s.z = sum(disk.dev.read)
t.a = max(disk.dev.read)
t.b = disk.dev.read + disk.dev.write
t.c = disk.dev.read[sda]
t.d = -hinv.ncpu
t.e = delta(mem.physmem)
t.f = scalar(disk.dev.read)
t.g = matchinst(/x/, disk.dev.read)
t.h = rescale(sample.byte_ctr, "Kbyte")
t.i = kernel.all.load > 1 ? kernel.all.load : mkconst(1, type=float, semantics=instant)
t.j = 3 + mkconst(2.0, type=float)
t.k = disk.dev.read * hinv.ncpu
t.l = disk.dev.read * mem.physmem
t.m = kernel.all.load && hinv.ncpu
t.n = mem.physmem && 1
t.o = count(nosuch.metric)
t.p = rate(kernel.all.uptime)
t.q = !kernel.all.load
t.r = hinv.ncpu ? disk.dev.read : disk.dev.write
t.s = disk.dev.read ? disk.dev.read : 0
t.t = rate(disk.dev.read) + rate(disk.dev.write)
t.u = mem.physmem / sample.byte_rate
t.v = sample.kbyte_rate * sample.byte_rate
t.w = rate(sample.milliseconds)
t.x = kernel.all.load + hinv.ncpu
t.y = mkconst(10, units="Kbyte") < mem.physmem
t.z = anon(PM_TYPE_64)
`;

describe('semantic checks and inference of hand-written expressions', () => {
	it('give pminfo\'s descriptors and its "Semantic error" lines', async () => {
		const {mkdtempSync, writeFileSync, rmSync} = await import('node:fs');
		const os = await import('node:os');
		const path = await import('node:path');
		const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-derived-'));
		try {
			const file = path.join(dir, 'cases.conf');
			writeFileSync(file, semanticCases);
			const registry = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: file}});
			expect(registry.diagnostics).toEqual([]);
			const derived = registry.metrics.filter(metric => !metric.anon);
			const operands = [...new Set(derived.flatMap(metric => [...metric.expr.matchAll(/[A-Za-z][\w.]*(?=\W|$)/g)].map(m => m[0]).filter(name => name.includes('.'))))];
			const known = parseDescs((await runPminfo(['-h', peer.address, '-d', '-m', ...operands])).stdout);
			const real = await runPminfo(['-h', peer.address, '-d', '-m', 's', 't'], {PCP_DERIVED_CONFIG: file});
			let output = '';
			let errors = '';
			for (const metric of derived) {
				const result = bindDerived(metric, name => known.get(name));
				if (result.ok) {
					output += `\n${metric.name} PMID: ${pmIDStr(result.desc.pmid)}\n${renderDesc(toMetricDesc(metric.name, result.desc))}`;
				} else {
					errors += result.message ?? '';
				}
			}

			expect(errors).toContain('Semantic error');
			expect(real.stderr).toBe(errors);
			expect(output).toBe(real.stdout);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	}, 60_000);
});
