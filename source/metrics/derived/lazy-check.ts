/**
 * A cheap check for loading a derived-metrics configuration: an expression this module can show
 * to be valid is registered without being parsed, and its tree is parsed when a run first uses
 * it (config.ts ExpressionCheck). Every run that opens a collector loads the global
 * configuration (Debian: /etc/pcp/derived, ~60 expressions), because pminfo prints its
 * diagnostics and numbers its PMIDs from it (docs/pcp.md#derived-configuration); parsing them
 * all cost 10 to 15 ms of a one-shot fetch's start-up (bench/startup.mjs), which a run that
 * asks for no derived metric should not pay.
 *
 * The check is a recogniser for a subset of libpcp's grammar (src/libpcp/src/derive_parser.y.in)
 * made of regular-expression rewrites, which run as native code: each rewrite replaces a valid
 * operand (a name, a number, func(name), anon(PM_TYPE_…), mkconst(…) with quoted values, (e), rescale(e, "units"),
 * -e, !e, e op e, e ? e : e) by '@', and the expression is valid if '@' is all that is left.
 * It only has to be sound: whatever it cannot reduce (instance names, matchinst(), scalar(),
 * a 10-digit number, an unknown character …) is parsed as before, so every diagnostic
 * and the PMID numbering stay libpcp's. Names are only rewritten at a token's start and not
 * before '(', so the lexer's NAME and function tokens are what the rewrites see; the words the
 * lexer takes as keywords (type, semantics, units) are never operands. Units strings are checked
 * with the parser's own parseUnitsStr. The parse state libpcp carries between expressions
 * (ParserSession: an unclosed matchinst) is left alone by every expression this accepts, and the
 * check answers only from the initial state.
 * test/metrics/derived/lazy-check.test.ts: generated expressions of the subset and mutations of
 * them, and every expression the tests use; whatever this accepts, the parser accepts.
 */
import type {ExpressionCheck} from './config.js';
import {parseDerivedExpression} from './parser.js';
import {parseUnitsStr} from './units.js';

/** The characters of the subset outside strings: names, numbers, blanks, operators, parentheses, ',', '"'. */
const plain = /^[\w. \t\n\v\f\r+\-*/()<>=!&|?:,"]*$/;
/** The lexer's blanks (derive_lex: isspace in the C locale). */
const blank = String.raw`[ \t\n\v\f\r]*`;
const name = String.raw`[A-Za-z][\w.]*`;
/** Names the lexer returns as tokens of their own. */
const keywords = new Set(['type', 'semantics', 'units']);

const strings = /"([^"]*)"/g;
const mkconst = new RegExp(String.raw`(?<![\w.])mkconst\(${blank}(\d+(?:\.\d+)?)${blank}((?:,${blank}(?:type|semantics|units)${blank}=${blank}\{\d+\}${blank})+)\)`, 'g');
const mkconstSpec = new RegExp(String.raw`(type|semantics|units)${blank}=${blank}\{(\d+)\}`, 'g');
const call = new RegExp(String.raw`(?<![\w.])(?:avg|count|delta|max|min|sum|rate|instant|defined)\(${blank}(${name})${blank}\)`, 'g');
const anon = new RegExp(String.raw`(?<![\w.])anon\(${blank}PM_TYPE_(?:32|U32|64|U64|FLOAT|DOUBLE)${blank}\)`, 'g');
const operandName = new RegExp(String.raw`(?<![\w.])${name}(?![\w.(])`, 'g');
const number = /(?<![\w.{])(?:\d{1,9}|\d+\.\d+)(?![\w.}])/g;
const unitsString = /{(\d+)}/g;
const rules: Array<[RegExp, string]> = [
	[new RegExp(String.raw`(?<![\w.])\(${blank}@${blank}\)`, 'g'), '@'],
	[new RegExp(String.raw`(?<![\w.])rescale\(${blank}@${blank},${blank}%${blank}\)`, 'g'), '@'],
	[new RegExp(String.raw`(^|[(,?:+\-*/<>=!&|])(${blank})[-!]${blank}@`, 'g'), '$1$2@'],
	[new RegExp(String.raw`@${blank}(?:<=|>=|==|!=|&&|\|\||[-+*/<>])${blank}@`, 'g'), '@'],
	[new RegExp(String.raw`@${blank}\?${blank}@${blank}:${blank}@`, 'g'), '@'],
];
const done = new RegExp(String.raw`^${blank}@${blank}$`);

const typeWords = new Set(['32', 'u32', '64', 'u64', 'float', 'double']);
const semanticsWords = new Set(['counter', 'instant', 'discrete']);

/**
 * True if libpcp's parser accepts `expr` from its initial state (and leaves that state);
 * false if this cannot tell.
 */
export function surelyValid(expr: string, units: (text: string) => boolean = text => !('error' in parseUnitsStr(text)), shapes?: Map<string, boolean>): boolean {
	// Outside '"' strings only the plain characters (a string holds anything up to the next '"').
	const hasStrings = expr.includes('"');
	if (!plain.test(hasStrings ? expr.replaceAll(strings, '""') : expr)) {
		return false;
	}

	const quoted: string[] = [];
	let text = hasStrings ? expr.replaceAll(strings, (_, content: string) => `{${quoted.push(content) - 1}}`) : expr;
	if (text.includes('mkconst(')) {
		text = text.replaceAll(mkconst, (whole, literal: string, specs: string) => {
			const real = literal.includes('.');
			if (!real && literal.length > 9) {
				return whole;
			}

			let type = real ? 'double' : 'u32';
			for (const [, tag, index] of specs.matchAll(mkconstSpec)) {
				const value = quoted[Number(index)]!;
				const word = value.toLowerCase();
				if (tag === 'type' ? !typeWords.has(word) : (tag === 'semantics' ? !semanticsWords.has(word) : !units(value))) {
					return whole;
				}

				if (tag === 'type') {
					type = word;
				}
			}

			return real && type !== 'double' && type !== 'float' ? whole : '@';
		});
	}

	if (text.includes('(')) {
		text = text.replaceAll(call, (whole, argument: string) => (keywords.has(argument) ? whole : '@'));
		text = text.includes('anon(') ? text.replaceAll(anon, '@') : text;
	}

	text = text.replaceAll(operandName, word => (keywords.has(word) ? word : '@'));
	text = text.replaceAll(number, '@');
	if (quoted.length > 0) {
		text = text.replaceAll(unitsString, (_, index: string) => (units(quoted[Number(index)]!) ? '%' : '~'));
	}

	// What is left depends on nothing else, and expressions share it (a dozen in Debian's ~60).
	const shape = text;
	const known = shapes?.get(shape);
	if (known !== undefined) {
		return known;
	}

	for (let before = ''; before !== text;) {
		before = text;
		for (const [pattern, replacement] of rules) {
			text = text.replaceAll(pattern, replacement);
		}
	}

	const valid = done.test(text);
	shapes?.set(shape, valid);
	return valid;
}

/** A check for one loading (config.ts loadDerivedMetrics): parses only what surelyValid cannot vouch for. */
export function lazyCheck(): ExpressionCheck {
	const unitsValid = new Map<string, boolean>();
	const units = (text: string) => {
		let valid = unitsValid.get(text);
		if (valid === undefined) {
			valid = !('error' in parseUnitsStr(text));
			unitsValid.set(text, valid);
		}

		return valid;
	};

	const shapes = new Map<string, boolean>();
	return (expr, session) => (!session.inMatchinst && surelyValid(expr, units, shapes) ? {ok: true} : parseDerivedExpression(expr, session));
}
