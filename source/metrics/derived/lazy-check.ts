/**
 * A cheap check for loading a derived-metrics configuration: an expression this module can show
 * to be valid is registered without being parsed, and its tree is parsed when a run first uses
 * it (config.ts ExpressionCheck). Every run that opens a collector loads the global
 * configuration (Debian: /etc/pcp/derived, 62 expressions), because pminfo prints its
 * diagnostics and numbers its PMIDs from it (docs/pcp.md#derived-configuration); a one-shot
 * fetch that asks for no derived metric should pay as little as possible for that.
 *
 * The check is a recogniser of parser.ts's grammar (src/libpcp/src/derive_parser.y.in) that
 * builds no tree and keeps no message. At start-up this code runs in V8's interpreter, where
 * each character looked at in JavaScript costs hundreds of instructions, so the characters are
 * left to native code: the tokens come from one String.match with derive_lex's rules
 * (tokenPattern), and a recursive descent with the parser's precedence walks them. One loading
 * recognises each shape once (lazyCheck, shapeOf: plain metric names replaced by one native
 * replaceAll; Debian's 62 expressions have 16 shapes). Its subset: names, numbers,
 * avg/count/delta/max/min/sum/rate/instant/defined(name), anon(PM_TYPE_…), mkconst(…),
 * rescale(e, "units"), parentheses, unary '-' and '!', the binary operators and `?:`. It only has
 * to be sound: whatever lies outside the subset (instance names, matchinst(), scalar(),
 * backquoted names, an integer of more than 10 digits …) or is invalid is answered "cannot tell"
 * and parsed as before, so every diagnostic and the PMID numbering stay libpcp's. The parse
 * state libpcp carries between expressions (ParserSession: an unclosed matchinst) is only
 * changed by matchinst(, which this refuses, and the check answers only from the initial state.
 * Units strings are checked with the parser's own parseUnitsStr.
 * test/metrics/derived/lazy-check.test.ts: generated expressions of the subset, mutations of
 * them and random token strings, through one lazyCheck() as a loading uses it; whatever this
 * accepts, the parser accepts, and on the token strings this answers as the parser does.
 */
import type {ExpressionCheck} from './config.js';
import {parseDerivedExpression} from './parser.js';
import {parseUnitsStr} from './units.js';

// Token kinds. `bad` is a lexer error or a token outside the subset: no rule accepts it.
const eos = 0;
const bad = 1;
const integer = 2;
const real = 3;
const name = 4;
const string = 5;
/** type, semantics, units: the lexer's keywords (mkconst's tags). */
const keyword = 6;
/** avg( count( delta( max( min( sum( rate( instant( defined(: a metric name in parentheses. */
const call = 7;
const anon = 8;
const mkconst = 9;
const rescale = 10;
const lparen = 11;
const rparen = 12;
const comma = 13;
const quest = 14;
const colon = 15;
const not = 16;
const assign = 17;
// Binary operators, by parser.ts binaryLevel: ? 1, && || 2, relational 4, + - 5, * / 6.
const plus = 20;
const minus = 21;
const star = 22;
const slash = 23;
const less = 24;
const lessEqual = 25;
const equal = 26;
const greaterEqual = 27;
const greater = 28;
const notEqual = 29;
const and = 30;
const or = 31;

function levelOf(kind: number): number {
	if (kind < quest) {
		return 0;
	}

	if (kind === quest) {
		return 1;
	}

	if (kind < plus) {
		return 0;
	}

	if (kind >= and) {
		return 2;
	}

	if (kind >= less) {
		return 4;
	}

	return kind >= star ? 6 : 5;
}

/** What may follow a metric name (parser.ts followExpr): the end, an operator, '(', ')', ':' or ','. */
function follows(kind: number): boolean {
	return kind === eos || kind >= plus || (kind >= lparen && kind <= colon);
}

/** Deeper nesting than this is left to the parser (which then behaves as it always did). */
const maxDepth = 200;

const typeWords = new Set(['32', 'u32', '64', 'u64', 'float', 'double']);
const semanticsWords = new Set(['counter', 'instant', 'discrete']);

/**
 * derive_lex()'s tokens (parser.ts lex, outside matchinst), all found by one native match: a name
 * with the '(' that directly follows it (a function token only then), a number (digits with at
 * most one '.'), a string (to the next '"', no escapes), a two-character operator, or any other
 * single character but a blank. Blanks only separate tokens; a character the lexer refuses
 * (an unterminated '"', a lone '&', '[', '`', a non-ASCII letter …) is a token of its own, which
 * no rule below accepts.
 */
const tokenPattern = /[A-Za-z][\w.]*\(?|\d+\.?\d*|\.\d*|"[^"]*"|<=|>=|==|!=|&&|\|\||[^ \t\n\v\f\r]/g;

// The recogniser's state: one expression at a time (it calls nothing that could re-enter it).
let tokens: string[] = [];
/** The next token's index in `tokens`. */
let index = 0;
/** The look-ahead token and its kind. */
let token = '';
let kind = eos;
let unitsValid: (text: string) => boolean = text => !('error' in parseUnitsStr(text));

/** Makes the next token the look-ahead. */
function advance(): void {
	if (index >= tokens.length) {
		token = '';
		kind = eos;
		return;
	}

	token = tokens[index++]!;
	const c = token.charCodeAt(0);
	if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
		if (token.charCodeAt(token.length - 1) === 40) {
			switch (token) {
				case 'avg(': case 'count(': case 'delta(': case 'max(': case 'min(': case 'sum(': case 'rate(': case 'instant(': case 'defined(': {
					kind = call;
					break;
				}

				case 'anon(': {
					kind = anon;
					break;
				}

				case 'mkconst(': {
					kind = mkconst;
					break;
				}

				case 'rescale(': {
					kind = rescale;
					break;
				}

				default: {
					// matchinst( and scalar( are outside the subset; a name or keyword before '('
					// is refused by the parser too (nothing takes '(' after an operand).
					kind = bad;
				}
			}
		} else {
			kind = token === 'type' || token === 'units' || token === 'semantics' ? keyword : name;
		}
	} else if ((c >= 48 && c <= 57) || c === 46) {
		// An integer above 2^32 - 1 is a lexer error; more than 10 digits are left to the parser (leading zeros).
		kind = token.includes('.') ? real : (token.length < 10 || (token.length === 10 && token <= '4294967295') ? integer : bad);
	} else if (c === 34) {
		kind = token.length > 1 ? string : bad;
	} else if (token.length === 2) {
		switch (token) {
			case '<=': {
				kind = lessEqual;
				break;
			}

			case '>=': {
				kind = greaterEqual;
				break;
			}

			case '==': {
				kind = equal;
				break;
			}

			case '!=': {
				kind = notEqual;
				break;
			}

			case '&&': {
				kind = and;
				break;
			}

			default: {
				kind = or;
			}
		}
	} else {
		const at = singleCharacters.indexOf(token);
		kind = at === -1 ? bad : singleKinds[at]!;
	}
}

/** The one-character tokens: `singleKinds[i]` is the kind of `singleCharacters[i]`. */
const singleCharacters = '+-*/?:(),<>=!';
const singleKinds = [plus, minus, star, slash, quest, colon, lparen, rparen, comma, less, greater, assign, not];

/** The look-ahead's kind (a function, so that TypeScript does not narrow it across advance()). */
function peek(): number {
	return kind;
}

/** The look-ahead token's text (a string's without its quotes). */
function text(): string {
	return kind === string ? token.slice(1, -1) : token;
}

/** Consumes a token of kind `wanted`; false if the look-ahead is another. */
function take(wanted: number): boolean {
	if (kind !== wanted) {
		return false;
	}

	advance();
	return true;
}

/** parser.ts expression(): a unary expression, then binary operators of level `min` or more. */
function expression(min: number, depth: number): boolean {
	if (depth > maxDepth) {
		return false;
	}

	if (kind === minus) {
		// The operand of unary '-' takes * and /, of '!' the relational operators and above.
		advance();
		if (!expression(6, depth + 1)) {
			return false;
		}
	} else if (kind === not) {
		advance();
		if (!expression(4, depth + 1)) {
			return false;
		}
	} else if (!primary(depth)) {
		return false;
	}

	for (;;) {
		const level = levelOf(kind);
		if (level === 0 || level < min) {
			return true;
		}

		const operator = kind;
		advance();
		if (operator === quest) {
			if (!expression(1, depth + 1) || !take(colon) || !expression(2, depth + 1)) {
				return false;
			}
		} else if (!expression(level + 1, depth + 1)) {
			return false;
		}
	}
}

function primary(depth: number): boolean {
	switch (kind) {
		case lparen: {
			advance();
			return expression(1, depth + 1) && take(rparen);
		}

		case integer: case real: {
			advance();
			return true;
		}

		case name: {
			advance();
			return follows(kind);
		}

		case call: {
			advance();
			return take(name) && take(rparen);
		}

		case anon: {
			advance();
			if (peek() !== name) {
				return false;
			}

			switch (token) {
				case 'PM_TYPE_32': case 'PM_TYPE_U32': case 'PM_TYPE_64': case 'PM_TYPE_U64': case 'PM_TYPE_FLOAT': case 'PM_TYPE_DOUBLE': {
					advance();
					return take(rparen);
				}

				default: {
					return false;
				}
			}
		}

		case rescale: {
			advance();
			if (!expression(1, depth + 1) || !take(comma) || peek() !== string || !unitsValid(text())) {
				return false;
			}

			advance();
			return take(rparen);
		}

		case mkconst: {
			advance();
			return constant();
		}

		default: {
			return false;
		}
	}
}

/** mkconst(literal, tag=value, …) after its '(': parser.ts mkconst() and spec(). */
function constant(): boolean {
	if (kind !== integer && kind !== real) {
		return false;
	}

	const isReal = kind === real;
	let type = isReal ? 'double' : 'u32';
	advance();
	if (!take(comma)) {
		return false;
	}

	for (;;) {
		if (peek() !== keyword) {
			return false;
		}

		const tag = text();
		advance();
		if (!take(assign) || (peek() !== string && peek() !== name && peek() !== integer)) {
			return false;
		}

		const value = text();
		if (tag === 'units') {
			if (!unitsValid(value)) {
				return false;
			}
		} else {
			const word = value.toLowerCase();
			if (!(tag === 'type' ? typeWords : semanticsWords).has(word)) {
				return false;
			}

			if (tag === 'type') {
				type = word;
			}
		}

		advance();
		if (!take(comma)) {
			break;
		}
	}

	return take(rparen) && (!isReal || type === 'double' || type === 'float');
}

/**
 * True if libpcp's parser accepts `expr` from its initial state (and leaves that state);
 * false if it refuses it or this cannot tell.
 */
export function surelyValid(expr: string, units?: (text: string) => boolean): boolean {
	const saved = unitsValid;
	tokens = expr.match(tokenPattern) ?? [];
	index = 0;
	if (units) {
		unitsValid = units;
	}

	try {
		advance();
		return expression(1, 0) && kind === eos;
	} finally {
		tokens = [];
		unitsValid = saved;
	}
}

/**
 * A metric name where the lexer sees one, whose text the grammar does not look at: a whole NAME
 * token (not after a name or number character, not before one or '('), outside strings (the
 * pieces between '"' at even indices, shapeOf), not a keyword, not an anon() argument or a mkconst value (after a
 * lone '='). Replacing each by `N` keeps the token sequence and so the parser's answer: the
 * expression's shape, shared by many (Debian's 62 have 16). An expression with '['
 * or '`' (instance and quoted names, which could hold a '"') keeps its names.
 */
const plainName = /(?<![\w.]|(?<![=<>!])=[ \t\n\v\f\r]*|anon\([ \t\n\v\f\r]*)(?!(?:type|units|semantics)(?![\w.(]))[A-Za-z][\w.]*(?![\w.(])/g;

/**
 * The expression with its plain names replaced (plainName); the same for equal answers. Strings
 * are split off first (the pieces between '"' at even indices are outside them), which keeps this
 * linear in the expression's length: a lookahead for "an even number of '"' follows" after every
 * name made a 100 KB line take seconds. None of plainName's look-arounds reaches across a '"'.
 */
export function shapeOf(expr: string): string {
	if (expr.includes('[') || expr.includes('`')) {
		return expr;
	}

	if (!expr.includes('"')) {
		return expr.replaceAll(plainName, 'N');
	}

	const pieces = expr.split('"');
	// An odd number of '"' (an unterminated string: invalid) keeps the expression as its own shape.
	return pieces.length % 2 === 0 ? expr : pieces.map((piece, index) => (index % 2 === 0 ? piece.replaceAll(plainName, 'N') : piece)).join('"');
}

/** A check for one loading (config.ts loadDerivedMetrics): parses only what surelyValid cannot vouch for. */
export function lazyCheck(): ExpressionCheck {
	const known = new Map<string, boolean>();
	const units = (text: string) => {
		let valid = known.get(text);
		if (valid === undefined) {
			valid = !('error' in parseUnitsStr(text));
			known.set(text, valid);
		}

		return valid;
	};

	const shapes = new Map<string, boolean>();
	return (expr, session) => {
		if (session.inMatchinst) {
			return parseDerivedExpression(expr, session);
		}

		const shape = shapeOf(expr);
		let valid = shapes.get(shape);
		if (valid === undefined) {
			valid = surelyValid(shape, units);
			shapes.set(shape, valid);
		}

		return valid ? {ok: true} : parseDerivedExpression(expr, session);
	};
}
