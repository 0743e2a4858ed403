/**
 * Evaluation: values computed from a fetch of the operands equal Debian's pminfo -f for the same
 * derived metrics on a real pmcd (the sample PMDA's constant metrics, so both fetches agree), and
 * libpcp's arithmetic rules on synthetic inputs (derive_fetch.c).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {loadDerivedMetrics, newRegistry, loadConfigText} from '../../../source/metrics/derived/config.js';
import {
	Evaluator, type DerivedResult, type InstanceAtom, type OperandResult,
} from '../../../source/metrics/derived/evaluate.js';
import {bindDerived} from '../../../source/metrics/derived/infer.js';
import {parseUnitsStr} from '../../../source/metrics/derived/units.js';
import {
	PM_INDOM_NULL, PM_SEM_COUNTER, PM_SEM_INSTANT, PM_TYPE_32, PM_TYPE_DOUBLE, PM_TYPE_U32, PM_TYPE_U64, type PcpDescriptor,
} from '../../../source/metrics/derived/types.js';
import type {MetricValues} from '../../../source/metrics/model.js';
import {toMetricDesc} from '../../../source/protocols/pcp/model.js';
import {renderValues} from '../../../source/render/pminfo.js';
import {startPmcd, type PmcdPeer} from '../../helpers/pmcd.js';
import {runPminfo, runPmval} from '../../helpers/pminfo.js';

const valueCases = `v.a = sample.long.ten + sample.ulong.hundred
v.b = sample.long.ten - sample.ulong.hundred
v.c = sample.long.ten / 4
v.d = 0 / sample.long.ten
v.e = sample.float.ten * 3
v.f = sample.bin * 2
v.g = sample.bin + sample.bin[bin-300]
v.h = sum(sample.bin)
v.i = sample.bin > 450
v.j = sample.long.ten > 5 ? sample.bin : mkconst(7, type=32, semantics=instant)
v.k = sample.bin < 500 ? sample.bin : mkconst(0, type=32, semantics=instant)
v.l = delta(sample.long.ten)
v.m = rate(sample.bin)
v.n = instant(sample.long.ten)
v.o = -sample.ulong.hundred
v.p = !sample.long.ten
v.q = mkconst(3.5, type=float) * sample.long.ten
v.r = rescale(mkconst(2048, units="Kbyte"), "Mbyte")
v.s = sample.ulonglong.million * sample.longlong.one
v.t = scalar(sample.bin[bin-200])
v.u = matchinst(/bin-[1-3]00/, sample.bin)
v.v = matchinst(!/bin-[1-3]00/, sample.bin)
v.w = defined(sample.long.ten) && defined(no.such)
v.x = sample.double.hundred / 3
v.y = hinv.ncpu * 100
v.z = avg(sample.bin)
w.a = max(sample.bin) - min(sample.bin)
w.b = sample.bin[nosuch]
w.c = count(sample.bin)
w.d = mkconst(1.5, type=double) + mkconst(2, type=U64, semantics=discrete)
w.e = sample.long.ten == 10 && sample.float.ten >= 10
`;

let peer: PmcdPeer;
const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-derived-'));

beforeAll(async () => {
	peer = await startPmcd('plain');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	rmSync(dir, {recursive: true, force: true});
});

const typeWords: Record<string, number> = {
	'32-bit int': 0, '32-bit unsigned int': 1, '64-bit int': 2, '64-bit unsigned int': 3, float: 4, double: 5, string: 6,
};
const semWords: Record<string, number> = {counter: 1, instant: 3, discrete: 4};

type Operand = {desc: PcpDescriptor; values: OperandResult; names: Map<number, string>};

/** pminfo -d -f -m blocks → descriptors, values and instance names. */
function parseOperands(output: string): Map<string, Operand> {
	const operands = new Map<string, Operand>();
	for (const block of output.split('\n\n')) {
		const lines = block.trim().split('\n');
		const head = /^(\S+) PMID: (\d+)\.(\d+)\.(\d+)$/.exec(lines[0] ?? '');
		const type = /Data Type: (.+?) {2}InDom: \S+ 0x([\da-f]+)/.exec(lines[1] ?? '');
		const sem = /Semantics: (\S+) {2}Units: (.*)$/.exec(lines[2] ?? '');
		if (!head || !type || !sem) {
			continue;
		}

		const units = parseUnitsStr(sem[2] === 'none' ? '' : sem[2]!);
		const desc: PcpDescriptor = {
			pmid: ((Number(head[2]) << 22) | (Number(head[3]) << 10) | Number(head[4])) >>> 0,
			type: typeWords[type[1]!]!,
			indom: Number.parseInt(type[2]!, 16) >>> 0,
			sem: semWords[sem[1]!]!,
			units: 'error' in units
				? {
					...units, dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
				}
				: units.units,
		};
		const values: InstanceAtom[] = [];
		const names = new Map<number, string>();
		for (const line of lines.slice(3)) {
			const match = /^ {4}(?:inst \[(\d+) or "(.*)"] )?value (.+)$/.exec(line);
			if (!match) {
				continue;
			}

			const inst = match[1] === undefined ? -1 : Number(match[1]);
			if (match[2] !== undefined) {
				names.set(inst, match[2]);
			}

			const text = match[3]!;
			values.push({inst, value: desc.type === 2 || desc.type === 3 ? BigInt(text) : Number(text)});
		}

		operands.set(head[1]!, {desc, values, names});
	}

	return operands;
}

function toMetricValues(result: DerivedResult, names: ReadonlyMap<number, string>): MetricValues {
	if (typeof result === 'number') {
		return result === 0 ? {status: 'novalues'} : {status: 'error', code: result, message: String(result)};
	}

	return {status: 'ok', values: result.map(({inst, value}) => ({instance: inst, name: names.get(inst), value: value as number | bigint}))};
}

describe('values from one fetch, compared with pminfo -f', () => {
	it('match for constants, arithmetic, functions, filters and the ternary operator', async () => {
		const file = path.join(dir, 'values.conf');
		writeFileSync(file, valueCases);
		const registry = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: file}});
		expect(registry.diagnostics).toEqual([]);
		const derived = registry.metrics.filter(metric => !metric.anon);
		const operandNames = ['sample.long.ten', 'sample.ulong.hundred', 'sample.float.ten', 'sample.bin', 'sample.ulonglong.million', 'sample.longlong.one', 'sample.double.hundred', 'hinv.ncpu'];
		const operands = parseOperands((await runPminfo(['-h', peer.address, '-d', '-f', '-m', ...operandNames])).stdout);
		expect(operands.size).toBe(operandNames.length);
		const real = await runPminfo(['-h', peer.address, '-f', 'v', 'w'], {PCP_DERIVED_CONFIG: file});
		const values = new Map([...operands].map(([name, operand]) => [name, operand.values]));
		const names = new Map<number, string>();
		for (const operand of operands.values()) {
			for (const [inst, name] of operand.names) {
				names.set(inst, name);
			}
		}

		let output = '';
		for (const metric of derived) {
			const bound = bindDerived(metric, name => operands.get(name)?.desc);
			expect(bound.ok, metric.name).toBe(true);
			if (!bound.ok) {
				continue;
			}

			const result = new Evaluator(bound.expr).evaluate({
				timestamp: 1000,
				values,
				lookupInstance: (_indom, name) => [...names].find(([, n]) => n === name)?.[0],
				instanceName: (_indom, inst) => names.get(inst),
			});
			output += `\n${metric.name}\n${renderValues(toMetricValues(result, names), toMetricDesc(metric.name, bound.desc), names)}`;
		}

		expect(output).toBe(real.stdout);
	}, 60_000);
});

describe('values over several fetches, compared with pmval', () => {
	it('rate() and delta() of constant metrics: nothing on the first sample, then zeros; instant() the value', async () => {
		const file = path.join(dir, 'pmval.conf');
		writeFileSync(file, 'p.r = rate(sample.long.ten)\np.d = delta(sample.bin)\np.i = instant(hinv.ncpu)\n');
		const registry = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: file}});
		const operands = parseOperands((await runPminfo(['-h', peer.address, '-d', '-f', '-m', 'sample.long.ten', 'sample.bin', 'hinv.ncpu'])).stdout);
		const values = new Map([...operands].map(([name, operand]) => [name, operand.values]));
		for (const name of ['p.r', 'p.d', 'p.i']) {
			const real = await runPmval(['-h', peer.address, '-s', '3', '-t', '0.1', name], {PCP_DERIVED_CONFIG: file});
			const samples = real.stdout.split('\n').slice(real.stdout.split('\n').findIndex(line => line.startsWith('interval:')) + 1)
				.filter(line => line.trim() !== '' && !/^\s*bin-/.test(line))
				.map(line => (line === 'No values available' ? undefined : line.trim().split(/\s+/).map(Number)));
			const bound = bindDerived(registry.metrics.find(metric => metric.name === name)!, operand => operands.get(operand)?.desc);
			expect(bound.ok).toBe(true);
			if (!bound.ok) {
				continue;
			}

			const evaluator = new Evaluator(bound.expr);
			const ours = [0, 0.1, 0.2].map(timestamp => {
				const result = evaluator.evaluate({timestamp, values});
				return typeof result === 'number' ? undefined : result.map(({value}) => Number(value));
			});
			expect(ours, name).toEqual(samples);
		}
	}, 60_000);
});

const noUnits = {
	dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
};

function evaluator(expr: string, descs: Record<string, Partial<PcpDescriptor>>): Evaluator {
	const registry = newRegistry();
	loadConfigText(registry, 't.conf', `t.x = ${expr}\n`);
	const metric = registry.metrics.at(-1)!;
	expect(metric.name).toBe('t.x');
	const bound = bindDerived(metric, name => (descs[name]
		? {
			pmid: 1, type: PM_TYPE_U32, sem: PM_SEM_INSTANT, indom: PM_INDOM_NULL, units: noUnits, ...descs[name],
		}
		: undefined));
	if (!bound.ok) {
		throw new Error(bound.message ?? `missing ${bound.missing}`);
	}

	return new Evaluator(bound.expr);
}

const at = (timestamp: number, values: Record<string, OperandResult>) => ({timestamp, values: new Map(Object.entries(values))});
const one = (value: number | bigint, inst = -1): InstanceAtom[] => [{inst, value}];

describe('libpcp arithmetic on synthetic samples', () => {
	it('delta() and rate() have no values on the first fetch, then use the previous one', () => {
		const e = evaluator('rate(c)', {c: {sem: PM_SEM_COUNTER}});
		expect(e.evaluate(at(10, {c: one(100)}))).toBe(0);
		expect(e.evaluate(at(12, {c: one(160)}))).toEqual(one(30));
		// A U32 counter that wrapped: the difference wraps too (2^32 - 10 + 20).
		expect(e.evaluate(at(13, {c: one(4_294_967_286)}))).toEqual(one(4_294_967_126));
		expect(e.evaluate(at(14, {c: one(20)}))).toEqual(one(30));
	});

	it('delta() of U32 is 64-bit and can be negative; of U64 a double', () => {
		const e = evaluator('delta(c)', {c: {sem: PM_SEM_COUNTER}});
		e.evaluate(at(1, {c: one(10)}));
		expect(e.evaluate(at(2, {c: one(4)}))).toEqual(one(-6n));
		const f = evaluator('delta(c)', {c: {type: PM_TYPE_U64, sem: PM_SEM_COUNTER}});
		f.evaluate(at(1, {c: one(10n)}));
		expect(f.evaluate(at(2, {c: one(4n)}))).toEqual(one(-6));
	});

	it('rate() of a time counter is a utilisation (millisec per second / 1000)', () => {
		const e = evaluator('rate(t)', {t: {sem: PM_SEM_COUNTER, units: {...noUnits, dimTime: 1, scaleTime: 2}}});
		e.evaluate(at(0, {t: one(0)}));
		expect(e.evaluate(at(2, {t: one(1000)}))).toEqual(one(0.5));
	});

	it('integers wrap like C, 0/x is 0 (also 0/0), x/0 is infinite', () => {
		expect(evaluator('a - b', {a: {}, b: {}}).evaluate(at(0, {a: one(1), b: one(2)}))).toEqual(one(4_294_967_295));
		expect(evaluator('a / b', {a: {}, b: {}}).evaluate(at(0, {a: one(0), b: one(0)}))).toEqual(one(0));
		expect(evaluator('a / b', {a: {}, b: {}}).evaluate(at(0, {a: one(1), b: one(0)}))).toEqual(one(Number.POSITIVE_INFINITY));
		expect(evaluator('a * 3', {a: {type: PM_TYPE_32}}).evaluate(at(0, {a: one(-2)}))).toEqual(one(4_294_967_290));
	});

	it('scales the operand with the smaller scale and makes the result a double', () => {
		const kbyte = {...noUnits, dimSpace: 1, scaleSpace: 1};
		const byte = {...noUnits, dimSpace: 1};
		expect(evaluator('k + b', {k: {units: kbyte}, b: {units: byte}}).evaluate(at(0, {k: one(2), b: one(1024)}))).toEqual(one(3));
	});

	it('matches instances between operands by id, in the left operand\'s order', () => {
		const e = evaluator('a + b', {a: {indom: 7}, b: {indom: 7}});
		const a = [{inst: 1, value: 10}, {inst: 2, value: 20}, {inst: 3, value: 30}];
		const b = [{inst: 3, value: 3}, {inst: 1, value: 1}];
		expect(e.evaluate(at(0, {a, b}))).toEqual([{inst: 1, value: 11}, {inst: 3, value: 33}]);
	});

	it('passes operand errors up, except count() which makes them 0', () => {
		expect(evaluator('a + 1', {a: {}}).evaluate(at(0, {a: -12_386}))).toBe(-12_386);
		expect(evaluator('count(a)', {a: {indom: 7}}).evaluate(at(0, {a: -12_386}))).toEqual(one(0));
		expect(evaluator('a + 1', {a: {}}).evaluate(at(0, {a: 0}))).toBe(0);
	});

	it('stops at the first operand error of a ternary, leaving the later operands\' history alone', () => {
		const e = evaluator('g ? rate(c) : rate(c)', {g: {}, c: {sem: PM_SEM_COUNTER}});
		expect(e.evaluate(at(0, {g: -12_386, c: one(0)}))).toBe(-12_386);
		expect(e.evaluate(at(1, {g: one(1), c: one(10)}))).toBe(0);
		expect(e.evaluate(at(2, {g: one(1), c: one(30)}))).toEqual(one(20));
	});

	it('takes a singular guard for all instances of the chosen operand', () => {
		const e = evaluator('g ? a : b', {g: {}, a: {indom: 7, type: PM_TYPE_DOUBLE}, b: {indom: 7, type: PM_TYPE_DOUBLE}});
		const a = [{inst: 1, value: 1}, {inst: 2, value: 2}];
		const b = [{inst: 1, value: -1}, {inst: 2, value: -2}];
		expect(e.evaluate(at(0, {g: one(0), a, b}))).toEqual(b);
		expect(e.evaluate(at(0, {g: one(5), a, b}))).toEqual(a);
	});
});
