/**
 * The configuration loader and the expression parser against Debian's real pminfo 6.0.3: the
 * same files give the same diagnostics, byte for byte (pmLoadDerivedConfig's messages, the caret
 * line, pmDerivedErrStr), and the man page's precedence rules give the documented trees.
 */
import {spawnSync} from 'node:child_process';
import {
	existsSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, describe, expect, it,
} from 'vitest';
import {
	loadConfigText, loadDerivedMetrics, newRegistry, type ConfigFileSystem,
} from '../../../source/metrics/derived/config.js';
import {parseDerivedExpression, type DerivedNode} from '../../../source/metrics/derived/parser.js';
import {makePmid} from '../../../source/metrics/derived/types.js';
import {pcpClientEnv, pminfoPath} from '../../helpers/pminfo.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-derived-'));
afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

/** Syntax errors: each line one case, with libpcp's message (or none) and caret. */
const syntaxCases = `a.b = 1 +
a.c = rate(x+y)
a.d = 3 $ 4
a.e = ! 
a.f = -
a.g = 1 2
a.h = 99999999999
  
a.i
=3
a.j(oneline) = hi
a.k(foo) = x
a.k = mkconst(1.5, type=32)
a.l = mkconst(1, units="furlong")
a.m = foo ? 1
a.n = 1 +* 2
a.o = matchinst(/[/, x)
a.p = rescale(x, 3)
a.q = x[abc
a.r = "abc"
b.a = a b
b.b = a )
b.c = (a
b.d = 1 + (
b.e = + 3
b.f = a ? b
b.g = rate(
b.h = mkconst(1, foo=3)
b.i = count(3)
b.j = a ! b
b.k = a & b
b.l = sum(a) b
b.m = ( 
b.n = a +
b.o = a )  
b.p = 1 + 2 )
b.q = matchinst(a, b)
b.r = matchinst(/a/ b)
b.s = rescale(a "x")
b.t = mkconst(1, type=foo)
b.u = mkconst(1, semantics=bar)
b.proto1 = mkconst(1, type="constructor")
b.proto2 = mkconst(1, semantics="toString")
b.proto3 = mkconst(1, type=hasOwnProperty)
b.v = mkconst(a, type=32)
b.x = 3.4.5
b.y = a < 
b.z = scalar()
c.a = a == b == 
c.b = matchinst(/(/, a)
c.c = matchinst(/a{1/, a)
c.d = 1 ? 2 : 
c.e = rescale(a, "bytes/furlong")
c.f = mkconst(1)
c.g = delta(a) [x]
c.h = .5 + 5.
c.i = 1e5
c.j = a[x] + (b)[y]
c.k = -a*b
c.l = mkconst(1, type="u64", semantics="COUNTER", units="Kbyte / sec")
c.m = mkconst(2.5, units=count)
c.n = a[x\\]y]
c.o = 1 ? 2 : 3 ? 4 : 5
c.p = 4294967295 + 4294967296
c.q = defined(x)
c.r = a.b.c_d9
c.s = 3 @
c.t = mkconst(1,)
c.u = rescale(a, "")
c.v = (a + b
c.w = defined(a b)
c.x = anon(PM_TYPE_U32
c.y = -
c.z = 1 ? 2
`;

/** Attributes, comments, names, and libpcp's matchinst lexer state leaking into the next line. */
const attributeCases = `# comment
m.a = hinv.ncpu
m.a(oneline) = one line text
m.a(helptext) = 'first line
second "quoted" \\'single\\' \\\\ back\\
slash-joined
third'
m.b = mem.physmem
m.b(oneline) = "quoted oneline" trailing
m.b(helptext) = "multi
line" junk here
m.b(oneline) = dup
m.b(colour) = red
m.c (oneline) = x
m.d( = x
m.e) = x
m.f() = x
(oneline) = x
9bad = 1
m.g =    
m.h(oneline) =   
m.a = 2
m.i = matchinst(/x/ y)
m.j = a / b
m.k = hinv.ncpu
m.k(helptext) = 'never closed
`;

/** What real pminfo prints while loading `-c FILE` (before it fails to connect to a closed port). */
function realDiagnostics(file: string): string {
	const result = spawnSync(pminfoPath, ['-c', file, '-h', '127.0.0.1:1', 'x'], {env: pcpClientEnv(), encoding: 'latin1'});
	return result.stderr.split('\n').filter(line => !line.startsWith('pminfo: Cannot connect')).join('\n');
}

function ourDiagnostics(file: string, text: string): string {
	const registry = newRegistry();
	loadConfigText(registry, file, text);
	return registry.diagnostics.join('');
}

describe.skipIf(!existsSync(pminfoPath))('pmLoadDerivedConfig diagnostics, compared with Debian\'s pminfo', () => {
	for (const [name, text] of [['syntax.conf', syntaxCases], ['attributes.conf', attributeCases]] as const) {
		it(`${name}: the same messages, carets and line numbers`, () => {
			const file = path.join(dir, name);
			writeFileSync(file, text);
			const real = realDiagnostics(file);
			expect(real.split('\n').length).toBeGreaterThan(20);
			expect(ourDiagnostics(file, text)).toBe(real);
		});
	}
});

/** mulberry32: the same files on every run. */
function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state + 0x6D_2B_79_F5) | 0;
		let t = Math.imul(state ^ (state >>> 15), 1 | state);
		t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

/**
 * A quoted value read the way the rules say, one character at a time over the file's text
 * from just after the opening quote: a backslash takes the next character as it is (a newline
 * after it is dropped), the matching quote ends it; undefined if the text ends first.
 */
function readQuoted(text: string, from: number, quote: string): string | undefined {
	let value = '';
	for (let i = from; i < text.length; i++) {
		const c = text[i]!;
		if (c === '\\') {
			i++;
			if (i < text.length && text[i] !== '\n') {
				value += text[i];
			}
		} else if (c === quote) {
			return value;
		} else {
			value += c;
		}
	}

	return undefined;
}

describe('quoted attribute values, generated (quotes, backslashes, newlines, text after the value)', () => {
	const next = random(15);
	const pieces = ['a', 'text ', ' ', '\t', '\\', '\\\\', '"', '\'', '\n', '\\\n', 'x\ny'];
	const files = Array.from({length: 40}, (_, index) => {
		const quote = next() < 0.5 ? '"' : '\'';
		const body = Array.from({length: Math.floor(next() * 12)}, () => pieces[Math.floor(next() * pieces.length)]!).join('');
		const head = `m.a = 1\nm.a(helptext) = ${quote}`;
		const text = `${head}${body}\nm.b = 2\nm.b(oneline) = b's line\nm.c = 3\n`;
		// Nothing after the quote on its line is "attribute value missing": nothing is read.
		const missing = text[head.length] === '\n';
		return {
			name: path.join(dir, `quoted-${index}.conf`), text, missing, value: missing ? undefined : readQuoted(text, head.length, quote),
		};
	});

	it('gives each value as read character by character, and keeps the lines after it', () => {
		let unterminated = 0;
		for (const {
			name, text, missing, value,
		} of files) {
			const registry = newRegistry();
			loadConfigText(registry, name, text);
			const metric = (metricName: string) => registry.metrics.find(entry => entry.name === metricName);
			expect([text, metric('m.a')?.helptext]).toEqual([text, value]);
			if (value === undefined && !missing) {
				unterminated++;
				expect(metric('m.c')).toBeUndefined();
			} else {
				expect(metric('m.c')).toBeDefined();
			}
		}

		// Both kinds are generated.
		expect(unterminated).toBeGreaterThan(3);
		expect(unterminated).toBeLessThan(files.length - 10);
	});

	it.skipIf(!existsSync(pminfoPath))('prints pminfo\'s diagnostics (line numbers, extra text, missing termination)', () => {
		let lines = 0;
		for (const {name, text} of files) {
			writeFileSync(name, text);
			const real = realDiagnostics(name);
			lines += real.split('\n').length;
			expect([text, ourDiagnostics(name, text)]).toEqual([text, real]);
		}

		expect(lines).toBeGreaterThan(files.length * 2);
	});
});

describe('registration', () => {
	it('numbers PMIDs 511.0.N in order after event.flags and event.missed, skipping failed lines', () => {
		const registry = newRegistry();
		loadConfigText(registry, 'x.conf', 'a.x = 1\na.y = 1 +\na.z = 2\na.w = 3');
		expect(registry.metrics.map(metric => [metric.name, metric.pmid])).toEqual([
			['event.flags', makePmid(511, 0, 1)],
			['event.missed', makePmid(511, 0, 2)],
			['a.x', makePmid(511, 0, 3)],
			['a.z', makePmid(511, 0, 4)],
		]);
	});

	it('keeps one-line and help texts with libpcp\'s quoting and escapes', () => {
		const registry = newRegistry();
		loadConfigText(registry, 'x.conf', attributeCases);
		const find = (name: string) => registry.metrics.find(metric => metric.name === name);
		expect(find('m.a')?.oneline).toBe('one line text');
		expect(find('m.a')?.helptext).toBe('first line\nsecond "quoted" \'single\' \\ backslash-joined\nthird');
		expect(find('m.b')?.oneline).toBe('quoted oneline');
		expect(find('m.b')?.helptext).toBe('multi\nline');
		expect(find('m.k')?.helptext).toBeUndefined();
	});

	it('takes -c paths after the global ones, the empty PCP_DERIVED_CONFIG meaning none', () => {
		const files: Record<string, string> = {'/g/one.conf': 'g.one = 1\n', '/c.conf': 'c.one = 2\n'};
		const fileSystem: ConfigFileSystem = {
			kind: file => (file === '/g' ? 'directory' : (file in files ? 'file' : {code: 'ENOENT'})),
			entries: () => ['one.conf'],
			read: file => files[file]!,
		};
		const names = (env: Record<string, string | undefined>, extra: string[]) =>
			loadDerivedMetrics({env, extra, fileSystem}).metrics.map(metric => metric.name).slice(2);
		expect(names({PCP_DERIVED_CONFIG: '/g'}, ['/c.conf'])).toEqual(['g.one', 'c.one']);
		expect(names({PCP_DERIVED_CONFIG: ''}, ['/c.conf'])).toEqual(['c.one']);
		expect(names({PCP_VAR_DIR: '/nowhere'}, [])).toEqual([]);
		const failed = loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: ''}, extra: ['/missing:/c.conf'], fileSystem});
		expect(failed.diagnostics).toEqual(['pminfo: derived configuration(s) error: No such file or directory\n']);
		expect(failed.metrics).toHaveLength(2);
		// A trailing ':' is nothing; an empty piece before a ':' is a path that does not exist.
		expect(names({PCP_DERIVED_CONFIG: ''}, ['/c.conf:'])).toEqual(['c.one']);
		expect(loadDerivedMetrics({env: {PCP_DERIVED_CONFIG: ''}, extra: [':/c.conf'], fileSystem}).diagnostics).toHaveLength(1);
	});
});

/** A compact rendering of a tree, for the precedence cases. */
function show(node: DerivedNode): string {
	switch (node.kind) {
		case 'constant': {
			return node.text;
		}

		case 'name': {
			return node.name;
		}

		case 'binary': {
			return `(${show(node.left)}${node.op}${show(node.right)})`;
		}

		case 'neg': {
			return `-${show(node.operand)}`;
		}

		case 'not': {
			return `!${show(node.operand)}`;
		}

		case 'ternary': {
			return `(${show(node.guard)}?${show(node.whenTrue)}:${show(node.whenFalse)})`;
		}

		case 'function': {
			return `${node.name}(${node.metric})`;
		}

		case 'filter': {
			return `${show(node.operand)}[${node.filter.kind === 'exact' ? node.filter.name : `/${node.filter.source}/`}]`;
		}

		case 'rescale': {
			return `rescale(${show(node.operand)})`;
		}

		case 'scalar': {
			return `scalar(${show(node.operand)})`;
		}

		case 'anon': {
			return `anon(${node.type})`;
		}
	}
}

describe('precedence (pmRegisterDerived(3) and the yacc declarations)', () => {
	const cases: Array<[string, string]> = [
		['a+b*c', '(a+(b*c))'],
		['a-b>c+d', '((a-b)>(c+d))'],
		['a>b!=c', '((a>b)!=c)'],
		['a>b*c&&d<=e+f', '((a>(b*c))&&(d<=(e+f)))'],
		['a>=b||b>c&&d!=e||f>g', '((((a>=b)||(b>c))&&(d!=e))||(f>g))'],
		// The man page says !((a>b)||(c<d)); the grammar gives ! a higher precedence than || .
		['!a>b||c<d', '(!(a>b)||(c<d))'],
		['!a<b+c', '!(a<(b+c))'],
		['-a*b', '-(a*b)'],
		['-a+b', '(-a+b)'],
		['a?b:c?d:e', '((a?b:c)?d:e)'],
		['a&&b?c:d+e', '((a&&b)?c:(d+e))'],
		['fw.in[eth1] + fw.out[eth1]', '(fw.in[eth1]+fw.out[eth1])'],
		['(a + b)[eth1]', '(a+b)[eth1]'],
		['matchinst(!/^(lo)|(vbir)/, x)', 'x[/^(lo)|(vbir)/]'],
		['delta(disk.dev.total) == 0 ? mkconst(0, type="double", semantics="instant", units="millisec / count") : delta(x) / delta(y)', '((delta(disk.dev.total)==0)?0:(delta(x)/delta(y)))'],
	];
	for (const [expr, tree] of cases) {
		it(expr, () => {
			const parsed = parseDerivedExpression(expr);
			expect(parsed.ok && show(parsed.tree)).toBe(tree);
		});
	}
});

describe('nesting deeper than the stack', () => {
	it('is a diagnostic for that line, not a crash, and the next line still loads', () => {
		const registry = newRegistry();
		const deep = `${'('.repeat(50_000)}a${')'.repeat(50_000)}`;
		const signs = `${'-'.repeat(50_000)}a`;
		loadConfigText(registry, 'deep.conf', `x.deep = ${deep}\nx.signs = ${signs}\nx.ok = a + 1\n`);
		const text = registry.diagnostics.join('');
		expect(text.match(/memory exhausted/g)).toHaveLength(2);
		expect(registry.byName.has('x.ok')).toBe(true);
		expect(registry.byName.has('x.deep')).toBe(false);
	});
});
