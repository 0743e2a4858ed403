/**
 * lazy-check.ts vouches for expressions without parsing them, so it must never vouch for one
 * libpcp's parser (parser.ts, compared with pminfo in config.test.ts) refuses: generated
 * expressions of its subset and thousands of one-character mutations of them, the hand-written
 * error cases, and Debian's global configuration. A configuration loaded with the check has the
 * same names, PMIDs, trees and diagnostics (compared with the real pminfo) as one parsed whole.
 */
import {spawnSync} from 'node:child_process';
import {
	existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, describe, expect, it,
} from 'vitest';
import {globalDerivedDirectory, loadDerivedMetrics, type DerivedRegistry} from '../../../source/metrics/derived/config.js';
import {lazyCheck, shapeOf, surelyValid} from '../../../source/metrics/derived/lazy-check.js';
import {newParserSession, parseDerivedExpression} from '../../../source/metrics/derived/parser.js';
import {pcpClientEnv, pminfoPath} from '../../helpers/pminfo.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-lazy-check-'));
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

/** mulberry32: the same expressions on every run. */
function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state + 0x6D_2B_79_F5) | 0;
		let t = Math.imul(state ^ (state >>> 15), 1 | state);
		t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

const next = random(15);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const gap = () => pick(['', '', ' ', '  ', '\t']);
const names = ['a.b', 'kernel.all.cpu.user', 'x', 'hinv.ncpu', 'a_1.b2', 'rate', 'delta.x', 'disk.dev.read_bytes', 'Z9'];
const units = ['kbyte', 'millisec / count', 'count', 'sec', 'Kbyte / sec', 'byte / sec^2', 'count x 10^3'];
const operators = ['+', '-', '*', '/', '<', '<=', '==', '>=', '>', '!=', '&&', '||'];

/** An expression of lazy-check.ts's subset, with random blanks. */
function generate(depth: number): string {
	const leaf = depth <= 0 || next() < 0.3;
	if (leaf) {
		switch (pick(['name', 'integer', 'real', 'call', 'mkconst', 'anon'])) {
			case 'name': {
				return pick(names);
			}

			case 'integer': {
				return String(Math.floor(next() * 10 ** Math.ceil(next() * 9)));
			}

			case 'real': {
				return `${Math.floor(next() * 1000)}.${Math.floor(next() * 100)}`;
			}

			case 'call': {
				return `${pick(['avg', 'count', 'delta', 'max', 'min', 'sum', 'rate', 'instant', 'defined'])}(${gap()}${pick(names)}${gap()})`;
			}

			case 'anon': {
				return `anon(${gap()}${pick(['PM_TYPE_32', 'PM_TYPE_U32', 'PM_TYPE_64', 'PM_TYPE_U64', 'PM_TYPE_FLOAT', 'PM_TYPE_DOUBLE'])}${gap()})`;
			}

			default: {
				const real = next() < 0.5;
				const specs = [
					`type${gap()}=${gap()}"${real ? pick(['double', 'FLOAT']) : pick(['32', 'u32', 'U64', 'double'])}"`,
					`semantics${gap()}=${gap()}"${pick(['counter', 'Instant', 'discrete'])}"`,
					`units${gap()}=${gap()}"${pick(units)}"`,
				].filter(() => next() < 0.6);
				if (specs.length === 0) {
					specs.push(`units="${pick(units)}"`);
				}

				return `mkconst(${gap()}${real ? '1.5' : '0'}${gap()},${specs.map(spec => `${gap()}${spec}${gap()}`).join(',')})`;
			}
		}
	}

	const sub = () => generate(depth - 1);
	switch (pick(['paren', 'rescale', 'unary', 'binary', 'binary', 'binary', 'ternary'])) {
		case 'paren': {
			return `(${gap()}${sub()}${gap()})`;
		}

		case 'rescale': {
			return `rescale(${gap()}${sub()}${gap()},${gap()}"${pick(units)}"${gap()})`;
		}

		case 'unary': {
			return `${pick(['-', '!'])}${gap()}${sub()}`;
		}

		case 'binary': {
			return `${sub()}${gap() || ' '}${pick(operators)}${gap() || ' '}${sub()}`;
		}

		default: {
			return `${sub()} ?${gap()}${sub()}${gap()}: ${sub()}`;
		}
	}
}

/** Whether a check vouched for `expr` (answered without a tree) from the initial state. */
function vouched(check: ReturnType<typeof lazyCheck>, expr: string): boolean {
	const answer = check(expr, newParserSession());
	return answer.ok && answer.tree === undefined;
}

/** libpcp's answer from the initial lexer state, and whether it leaves that state. */
function parses(expr: string): boolean {
	const session = newParserSession();
	return parseDerivedExpression(expr, session).ok && !session.inMatchinst;
}

const generated = Array.from({length: 400}, () => generate(1 + Math.floor(next() * 5)));

/** Hand-written refusals, one a line: each near a form the check accepts. */
const invalid = `1 +
rate(x+y)
3 $ 4
! 
-
1 2
99999999999
4294967296
1.5.5
mkconst(1.5, type="u32")
mkconst(1, units="furlong")
mkconst(1, type="foo")
mkconst(1, semantics="bar")
mkconst(1)
mkconst(1,)
mkconst (1, type="u32")
mkconst(1, types="u32")
mkconst(1, type=="u32")
foo ? 1
1 +* 2
rescale(x, 3)
rescale(x, "bytes/furlong")
rescale (x, "kbyte")
rescale(x "kbyte")
"abc"
a b
a )
(a
1 + (
+ 3
a ? b
a ? b : c : d
(a ? b) : c
a ? (b : c)
rate(
count(3)
rate (x)
rate(type)
rate(x)(y)
a ! b
a & b
a | b
a = b
a < = b
a =< b
a !== b
sum(a) b
( 
a +
1 + 2 )
a.b(c)
x (y)
type
units + 1
a + semantics
1a
1rate(x)
_a.b
a__b + 2x
anon(PM_TYPE_STRING)
anon(x.y)
anon(PM_TYPE_U32
defined(a b)
5..
a +\u00A0b
a[x
a / b\\
a {0}
{0}
mkconst(1, units={0})
1 ? 2 :
delta(a) [x]
scalar()
(a)(b)
rescale(a, "kbyte") rescale(a, "kbyte")
--
a -- 
"a" + b
a + "b`.split('\n');

describe('lazy-check.ts vouches only for what the parser accepts', () => {
	it('accepts every generated expression of its subset, and the parser accepts each', () => {
		for (const expr of generated) {
			expect([expr, surelyValid(expr)]).toEqual([expr, true]);
			expect([expr, parses(expr)]).toEqual([expr, true]);
		}
	});

	it('never vouches for a mutation the parser refuses (and refuses some)', () => {
		const alphabet = 'ab.1 (),+-*/<>=!&|?:"_\t{}[^`e';
		// One check for all, as one loading shares its memo of shapes between valid and invalid ones.
		const check = lazyCheck();
		let refused = 0;
		let vouchedCount = 0;
		for (const expr of generated) {
			for (let round = 0; round < 12; round++) {
				const at = Math.floor(next() * (expr.length + 1));
				const mutated = pick([
					() => expr.slice(0, at) + expr.slice(at + 1),
					() => expr.slice(0, at) + pick([...alphabet]) + expr.slice(at),
					() => expr.slice(0, at) + pick([...alphabet]) + expr.slice(at + 1),
					() => expr.slice(0, at) + expr.slice(at, at + 4) + expr.slice(at),
				])();
				const direct = surelyValid(mutated);
				if (vouched(check, mutated) || direct) {
					vouchedCount++;
					expect([mutated, parses(mutated)]).toEqual([mutated, true]);
				} else if (!parses(mutated)) {
					refused++;
				}
			}
		}

		expect(refused).toBeGreaterThan(1000);
		expect(vouchedCount).toBeGreaterThan(500);
	});

	it('refuses the hand-written error cases', () => {
		for (const expr of invalid) {
			expect([expr, parses(expr)]).toEqual([expr, false]);
			expect([expr, surelyValid(expr)]).toEqual([expr, false]);
		}
	});

	it('answers as the parser does on random token strings of its subset (both answers many times)', () => {
		// Tokens of the subset, and near-misses: keywords, a too-large integer, a blank before '('.
		const operands = ['a', 'a.b', 'x_1', 'type', 'units', 'semantics', '1', '2.5', '.5', '5.', '4294967295', '4294967296', '0000000007'];
		const functions = ['rate(', 'avg(', 'defined(', 'anon(', 'mkconst(', 'rescale(', 'rate (', 'PM_TYPE_U32', 'PM_TYPE_STRING'];
		const values = ['"kbyte"', '"double"', '"Counter"', '"furlong"', '"u32"', 'u32', 'double', '32', '='];
		const punctuation = ['(', '(', ')', ')', ',', '?', ':', '!', '-', '"'];
		const vocabulary = [...operands, ...functions, ...values, ...operators, ...punctuation];
		const check = lazyCheck();
		let valid = 0;
		let invalid = 0;
		for (let index = 0; index < 30_000; index++) {
			const tokens = Array.from({length: 1 + Math.floor(next() * 9)}, () => pick(vocabulary));
			const expr = tokens.join(pick([' ', ' ', '', '\t']));
			const answer = parses(expr);
			expect([expr, surelyValid(expr), vouched(check, expr)]).toEqual([expr, answer, answer]);
			if (answer) {
				valid++;
			} else {
				invalid++;
			}
		}

		expect(valid).toBeGreaterThan(500);
		expect(invalid).toBeGreaterThan(500);
	});

	it('shares an answer only between expressions of one shape, which the parser answers alike', () => {
		// Each pair: the first is valid; the second differs where a name's text matters.
		const pairs: Array<[string, string]> = [
			['mkconst(1, units="kbyte")', 'mkconst(1, units="furlong")'],
			['mkconst(1, type=double)', 'mkconst(1, type=foo)'],
			['mkconst(1.5, type=double)', 'mkconst(1.5, type=u32)'],
			['anon(PM_TYPE_U32) + a', 'anon(PM_TYPE_FOO) + a'],
			['rate(a) + b', 'rate(type) + b'],
			['a + b', 'a + units'],
			['rescale(a, "kbyte")', 'rescale(a, "bytes x")'],
			['a + b ? 1 : 2', 'a + "b" ? 1 : 2'],
			['a == b', 'a = b'],
			['x.y + 1', 'x.y(1)'],
		];
		const check = lazyCheck();
		for (const [good, bad] of pairs) {
			expect([good, parses(good), vouched(check, good)]).toEqual([good, true, true]);
			expect([bad, parses(bad), vouched(check, bad)]).toEqual([bad, false, false]);
		}

		expect(shapeOf('delta(disk.dev.read) == 0 ? mkconst(0, type="double", units="kbyte / count") : delta(disk.dev.read_bytes)'))
			.toBe('delta(N) == 0 ? mkconst(0, type="double", units="kbyte / count") : delta(N)');
		// Names in strings, before '(', after a lone '=', in anon(), keywords, after a digit stay.
		expect(shapeOf('"a b" + c(d) + anon( e) + type + 1f + mkconst(1, units=f) + i')).toBe('"a b" + c(N) + anon( e) + type + 1f + mkconst(1, units=f) + N');
		expect(shapeOf('a + g[h] + i')).toBe('a + g[h] + i');
		// An unterminated string: the expression is its own shape.
		expect(shapeOf('a + "b + c')).toBe('a + "b + c');
		expect(shapeOf('a + "b" + c "d')).toBe('a + "b" + c "d');
	});

	// A configuration file may hold lines of up to its size cap (1 MB): their shapes are found in
	// one pass (a lookahead over the rest of the line after every name took minutes for 1 MB).
	it('a 1 MB expression of names, or one string of names, is loaded without stalling', () => {
		const check = lazyCheck();
		const names = `${'a+'.repeat(500_000)}a`;
		const quoted = `mkconst(1, units="${'a '.repeat(500_000)}")`;
		expect(shapeOf(names)).toBe(`${'N+'.repeat(500_000)}N`);
		expect(shapeOf(quoted)).toBe(quoted);
		expect(vouched(check, names)).toBe(true);
	}, 60_000);

	it('leaves what is outside its subset to the parser', () => {
		for (const expr of ['a[x]', '(a + b)[eth1]', 'matchinst(/x/, a)', 'scalar(a)', '`a b`', '00000000001', 'a + 1'.padStart(2000, '(').padEnd(3995, ')')]) {
			expect([expr, parses(expr)]).toEqual([expr, true]);
			expect([expr, surelyValid(expr)]).toEqual([expr, false]);
		}
	});

	const global = globalDerivedDirectory(process.env);
	it.skipIf(!existsSync(global))('accepts every expression of the global configuration (Debian: /etc/pcp/derived)', () => {
		let count = 0;
		for (const file of readdirSync(global)) {
			for (const line of readFileSync(path.join(global, file), 'utf8').split('\n')) {
				const definition = /^[A-Za-z][\w.]*\s*=\s*(.+)$/.exec(line);
				if (definition) {
					count++;
					expect([definition[1], surelyValid(definition[1]!)]).toEqual([definition[1], true]);
				}
			}
		}

		expect(count).toBeGreaterThan(20);
	});
});

/** Valid lines between failing ones; m.c leaves libpcp's lexer inside matchinst, so m.d's '/' is a pattern. */
const mixed = `${generated.slice(0, 40).map((expr, index) => `g.a${index} = ${expr}`).join('\n')}
m.a = 1 +
m.b = rate(a.b) / 2
m.c = matchinst(/[/, x)
m.d = a.b / 2
m.e = matchinst(/x/, a.b)
m.f = a.b / 2
m.g = a.b ? 1
m.g = 3
m.h = rate(a.b)
m.h = 4
m.h(oneline) = hi
m.i = mkconst(1.5, type="u32")
m.j = mkconst(1.5, type="float")
${generated.slice(40, 80).map((expr, index) => `g.b${index} = ${expr}`).join('\n')}
`;

function summary(registry: DerivedRegistry) {
	return {
		metrics: registry.metrics.map(metric => ({
			name: metric.name, pmid: metric.pmid, tree: metric.tree, oneline: metric.oneline,
		})),
		diagnostics: registry.diagnostics.join(''),
	};
}

describe('a configuration loaded with the check', () => {
	const file = path.join(dir, 'mixed.conf');
	writeFileSync(file, mixed);

	it('has the same names, PMIDs, trees and diagnostics as one parsed whole', () => {
		const lazy = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: file}, check: lazyCheck()});
		const eager = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: file}});
		expect(lazy.metrics.length).toBeGreaterThan(80);
		expect(summary(lazy)).toEqual(summary(eager));
		expect(lazy.diagnostics.join('')).toContain('m.d, ...) syntax error');
	});

	it('parses a tree only when it is used', () => {
		const lazy = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: file}, check: lazyCheck()});
		const metric = lazy.metrics.find(entry => entry.name === 'm.h')!;
		expect(Object.getOwnPropertyDescriptor(metric, 'tree')?.get).toBeTypeOf('function');
		expect(metric.tree).toEqual({kind: 'function', name: 'rate', metric: 'a.b'});
		expect(metric.tree).toBe(metric.tree);
	});

	it.skipIf(!existsSync(pminfoPath))('prints the diagnostics Debian\'s pminfo prints', () => {
		const real = spawnSync(pminfoPath, ['-c', file, '-h', '127.0.0.1:1', 'x'], {env: pcpClientEnv(), encoding: 'latin1'});
		const realDiagnostics = real.stderr.split('\n').filter(line => !line.startsWith('pminfo: Cannot connect')).join('\n');
		const lazy = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: ''}, extra: [file], check: lazyCheck()});
		expect(realDiagnostics.split('\n').length).toBeGreaterThan(10);
		expect(lazy.diagnostics.join('')).toBe(realDiagnostics);
	});
});
