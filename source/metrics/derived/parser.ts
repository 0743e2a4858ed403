/**
 * The expression language of pmRegisterDerived(3) as libpcp 6.0.3 parses it
 * (src/libpcp/src/derive_parser.y.in: the yacc grammar and derive_lex()), as a pure AST.
 * Precedence, lexing quirks, the error messages and the error position (the start of the token
 * where bison stopped) follow upstream; docs/pcp.md#derived-expressions lists them.
 */
import type {Units} from '../model.js';
import {parseUnitsStr} from './units.js';
import {
	PM_SEM_COUNTER, PM_SEM_DISCRETE, PM_SEM_INSTANT, PM_TYPE_32, PM_TYPE_64, PM_TYPE_DOUBLE,
	PM_TYPE_FLOAT, PM_TYPE_U32, PM_TYPE_U64, typeWord,
} from './types.js';

export type BinaryOp = '+' | '-' | '*' | '/' | '<' | '<=' | '==' | '>=' | '>' | '!=' | '&&' | '||';
export type FunctionName = 'avg' | 'count' | 'delta' | 'max' | 'min' | 'sum' | 'rate' | 'instant' | 'defined';

/** A numeric constant: plain (U32 or DOUBLE, discrete, no units) or from mkconst(). */
export type ConstantNode = {
	kind: 'constant';
	/** The literal as written (libpcp converts it with atoi/strtoll/atof at fetch time). */
	text: string;
	/** True for a literal with '.', false for an integer literal. */
	real: boolean;
	type: number;
	sem: number;
	units: Units;
};

export type InstanceFilter = {kind: 'exact'; name: string} | {kind: 'regex'; source: string; invert: boolean};

export type DerivedNode
	= | ConstantNode
		| {kind: 'name'; name: string}
		| {kind: 'binary'; op: BinaryOp; left: DerivedNode; right: DerivedNode}
		| {kind: 'neg'; operand: DerivedNode}
		| {kind: 'not'; operand: DerivedNode}
		| {kind: 'ternary'; guard: DerivedNode; whenTrue: DerivedNode; whenFalse: DerivedNode}
	/** In 6.0.3 these take a metric name only (newer PCP takes an expression). */
		| {kind: 'function'; name: FunctionName; metric: string}
		| {kind: 'anon'; type: number}
		| {kind: 'rescale'; operand: DerivedNode; unitsText: string; units: Units}
		| {kind: 'scalar'; operand: DerivedNode}
		| {kind: 'filter'; filter: InstanceFilter; operand: DerivedNode; regex?: RegExp};

export type ParseResult
	= | {ok: true; tree: DerivedNode}
	/** `offset` is where libpcp's caret points (an index into the expression); message may be absent, as in libpcp. */
		| {ok: false; offset: number; message?: string};

/**
 * Lexer state that libpcp keeps between registrations: `in_matchinst` is a static set by the
 * "matchinst(" token and cleared only when matchinst(...) is reduced, so after a syntax error
 * inside matchinst() the next expression lexes '/' as a pattern. One per loading session.
 */
export type ParserSession = {inMatchinst: boolean};

export function newParserSession(): ParserSession {
	return {inMatchinst: false};
}

type TokenKind
	= | 'EOS' | 'ERROR' | 'INTEGER' | 'DOUBLE' | 'NAME' | 'STRING' | 'INSTNAME' | 'PATTERN'
		| '+' | '-' | '*' | '/' | '?' | ':' | '(' | ')' | '<' | '<=' | '==' | '>=' | '>' | '!=' | '&&' | '||' | '!' | '=' | ','
		| 'type' | 'semantics' | 'units'
		| 'avg' | 'count' | 'delta' | 'max' | 'min' | 'sum' | 'anon' | 'rate' | 'instant' | 'mkconst' | 'rescale' | 'defined' | 'matchinst' | 'scalar';

type Token = {kind: TokenKind; text: string; start: number; error?: string};

const functionNames = new Set(['avg', 'count', 'delta', 'max', 'min', 'sum', 'anon', 'rate', 'instant', 'mkconst', 'rescale', 'defined', 'matchinst', 'scalar']);

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);
const isBlank = (c: string | undefined) => c !== undefined && /^[ \t\n\v\f\r]$/.test(c);

/** derive_lex(): one token from `text` at `pos`. */
function lex(text: string, pos: number, session: ParserSession): {token: Token; next: number} {
	let i = pos;
	while (isBlank(text[i])) {
		i++;
	}

	// At the end, libpcp's lexicon points at the last character of the expression.
	if (i >= text.length) {
		return {token: {kind: 'EOS', text: '', start: Math.max(0, text.length - 1)}, next: i};
	}

	const start = i;
	const c = text[i]!;
	const token = (kind: TokenKind, end: number, value = text.slice(start, end), error?: string) => ({
		token: {
			kind, text: value, start, error,
		}, next: end,
	});
	if (isDigit(c) || c === '.') {
		let j = i + 1;
		let real = c === '.';
		while (j < text.length) {
			if (isDigit(text[j])) {
				j++;
			} else if (!real && text[j] === '.') {
				real = true;
				j++;
			} else {
				break;
			}
		}

		const value = text.slice(start, j);
		if (!real && BigInt(value) > 0xff_ff_ff_ffn) {
			return token('ERROR', j, value, 'Constant value too large');
		}

		return token(real ? 'DOUBLE' : 'INTEGER', j);
	}

	if (isAlpha(c)) {
		let j = i + 1;
		while (j < text.length && (isAlpha(text[j]) || isDigit(text[j]) || text[j] === '_' || text[j] === '.')) {
			j++;
		}

		const value = text.slice(start, j);
		if (text[j] === '(' && functionNames.has(value)) {
			if (value === 'matchinst') {
				session.inMatchinst = true;
			}

			return token(value as TokenKind, j);
		}

		if (value === 'type' || value === 'semantics' || value === 'units') {
			return token(value, j);
		}

		return token('NAME', j);
	}

	const delimited = (kind: TokenKind, close: string, escapes: boolean, unterminated: string) => {
		let value = '';
		let j = i + 1;
		while (j < text.length) {
			const ch = text[j]!;
			if (escapes && ch === '\\' && j + 1 < text.length) {
				value += text[j + 1];
				j += 2;
				continue;
			}

			if (escapes && ch === '\\') {
				// A trailing backslash: the end of input follows, still unterminated.
				j++;
				break;
			}

			if (ch === close) {
				return token(kind, j + 1, value);
			}

			value += ch;
			j++;
		}

		return token('ERROR', j, value, unterminated);
	};

	const two = (second: string, both: TokenKind, one: TokenKind | undefined) => {
		if (text[i + 1] === second) {
			return token(both, i + 2);
		}

		return one === undefined ? token('ERROR', i + 1, c, 'Illegal character') : token(one, i + 1);
	};

	switch (c) {
		case '+': case '-': case '*': case '?': case ':': case '(': case ')': case ',': {
			return token(c, i + 1);
		}

		case '/': {
			return session.inMatchinst ? delimited('PATTERN', '/', true, 'unterminated pattern') : token('/', i + 1);
		}

		case '<': {
			return two('=', '<=', '<');
		}

		case '>': {
			return two('=', '>=', '>');
		}

		case '=': {
			return two('=', '==', '=');
		}

		case '!': {
			return two('=', '!=', '!');
		}

		case '&': {
			return two('&', '&&', undefined);
		}

		case '|': {
			return two('|', '||', undefined);
		}

		case '"': {
			return delimited('STRING', '"', false, 'unterminated STRING');
		}

		case '[': {
			return delimited('INSTNAME', ']', true, 'unterminated instance name');
		}

		case '`': {
			// Secmon's quoted metric name (docs/pcp.md#quoted-names): any text up to the next
			// backquote, `\` escaping the next character, e.g. a Zabbix key with parameters,
			// `system.cpu.load[all,avg1]`. libpcp has no backquote (an Illegal character there).
			const quoted = delimited('NAME', '`', true, 'unterminated quoted name');
			return quoted.token.kind === 'NAME' && quoted.token.text === ''
				? token('ERROR', quoted.next, '', 'empty quoted name')
				: quoted;
		}

		default: {
			return token('ERROR', i + 1, c, 'Illegal character');
		}
	}
}

/** __dmnode_type_str() names used in "… expected to follow X". */
const opNames: Record<string, string> = {
	'+': 'PLUS', '-': 'MINUS', '*': 'STAR', '/': 'SLASH', '<': 'LT', '<=': 'LEQ', '==': 'EQ', '>=': 'GEQ', '>': 'GT', '!=': 'NEQ', '&&': 'AND', '||': 'OR',
};

/** yacc precedence levels (%left lines, lowest first): ?: , && ||, !, relational, + -, * /. */
const binaryLevel: Partial<Record<TokenKind, number>> = {
	'?': 1, '&&': 2, '||': 2, '<': 4, '<=': 4, '==': 4, '>=': 4, '>': 4, '!=': 4, '+': 5, '-': 5, '*': 6, '/': 6,
};

/** What may follow an expression (the LALR look-ahead of the state after a bare metric name). */
const followExpr = new Set<TokenKind>(['EOS', '+', '-', '*', '/', '(', ')', '<', '<=', '==', '>=', '>', '!=', '&&', '||', '?', ':', ',']);

/** The tokens state 0 shifts only to report "Unexpected initial 'X'" (the `defn: L_X error` rules). */
const initialOnly = new Set<TokenKind>(['+', '*', '/', ')', '<', '<=', '==', '>=', '>', '!=', '&&', '||', '?', ':']);

class SyntaxError_ extends Error {
	readonly offset: number;
	readonly detail: string | undefined;
	constructor(offset: number, detail?: string) {
		super(detail ?? 'syntax error');
		this.offset = offset;
		this.detail = detail;
	}
}

const noUnits: Units = {
	dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
};

class Parser {
	private pos = 0;
	private lookahead: Token | undefined;
	/** Start of the most recently lexed token: libpcp's `lexicon`, where a semantic action's error points. */
	private lexicon = 0;
	/**
	 * The error messages of the parser states on the stack that can shift `error`, innermost
	 * last: bison reports the innermost one (gramerr keeps the first message set).
	 */
	private readonly handlers: Array<string | undefined> = [];

	private readonly text: string;
	private readonly session: ParserSession;

	constructor(text: string, session: ParserSession) {
		this.text = text;
		this.session = session;
	}

	parse(): DerivedNode {
		const first = this.peek();
		if (initialOnly.has(first.kind)) {
			this.next();
			const after = this.peek();
			this.fail(after, `Unexpected initial '${first.kind}'`);
		}

		let tree: DerivedNode;
		if (first.kind === '(') {
			// The '(' of state 0 also carries `defn: L_LPAREN error`.
			tree = this.withHandler('Unexpected initial \'(\'', () => this.parenthesised());
			tree = this.continueBinary(tree, 1);
		} else {
			tree = this.expression(1);
		}

		const end = this.peek();
		if (end.kind === '(' || end.kind === ')') {
			this.next();
			this.fail(this.peek(), `Unexpected '${end.kind}'`);
		}

		if (end.kind !== 'EOS') {
			this.fail(end);
		}

		return tree;
	}

	private peek(): Token {
		if (!this.lookahead) {
			const {token, next} = lex(this.text, this.pos, this.session);
			this.lookahead = token;
			this.pos = next;
			this.lexicon = token.start;
			if (token.kind === 'ERROR') {
				// The lexer's own message wins over any grammar message.
				throw new SyntaxError_(token.start, token.error);
			}
		}

		return this.lookahead;
	}

	private next(): Token {
		const token = this.peek();
		this.lookahead = undefined;
		return token;
	}

	private expect(kind: TokenKind): Token {
		const token = this.peek();
		if (token.kind !== kind) {
			this.fail(token);
		}

		return this.next();
	}

	private fail(token: Token, message?: string): never {
		const handler = message ?? this.handlers.findLast(h => h !== undefined);
		throw new SyntaxError_(token.start, handler);
	}

	/** A semantic action's error: at the last lexed token. */
	private failHere(message: string): never {
		throw new SyntaxError_(this.lexicon, message);
	}

	private withHandler<T>(handler: string | undefined, parse: () => T): T {
		this.handlers.push(handler);
		try {
			return parse();
		} finally {
			this.handlers.pop();
		}
	}

	private expression(minLevel: number): DerivedNode {
		return this.continueBinary(this.unary(), minLevel);
	}

	private continueBinary(left: DerivedNode, minLevel: number): DerivedNode {
		let tree = left;
		for (;;) {
			const token = this.peek();
			const level = binaryLevel[token.kind];
			if (level === undefined || level < minLevel) {
				return tree;
			}

			this.next();
			if (token.kind === '?') {
				const whenTrue = this.withHandler('Arithmetic expression expected to follow QUEST', () => {
					const value = this.expression(1);
					this.expect(':');
					return value;
				});
				const whenFalse = this.withHandler('Arithmetic expression expected to follow COLON', () => this.expression(2));
				tree = {
					kind: 'ternary', guard: tree, whenTrue, whenFalse,
				};
				continue;
			}

			const op = token.kind as BinaryOp;
			const kind = op === '&&' || op === '||' ? 'Boolean' : 'Arithmetic';
			const right = this.withHandler(`${kind} expression expected to follow ${opNames[op]!}`, () => this.expression(level + 1));
			tree = {
				kind: 'binary', op, left: tree, right,
			};
		}
	}

	private unary(): DerivedNode {
		const token = this.peek();
		if (token.kind === '-') {
			this.next();
			// %prec L_MINUS: the operand takes * and / but not + or -.
			return {kind: 'neg', operand: this.withHandler('Arithmetic expression expected to follow NEG', () => this.expression(6))};
		}

		if (token.kind === '!') {
			this.next();
			// L_NOT sits between the boolean and the relational operators.
			return {kind: 'not', operand: this.withHandler('Boolean expression expected to follow NOT', () => this.expression(4))};
		}

		return this.primary();
	}

	private parenthesised(): DerivedNode {
		this.expect('(');
		const inner = this.expression(1);
		this.expect(')');
		if (this.peek().kind === 'INSTNAME') {
			// (expr)[name]: 6.0.3's grammar marks it F_REGEX without compiling a pattern (undefined
			// behaviour); the man page documents it as the same as name[inst], which is what this does.
			const name = this.next().text;
			return {kind: 'filter', filter: {kind: 'exact', name}, operand: inner};
		}

		return inner;
	}

	private primary(): DerivedNode {
		const token = this.peek();
		switch (token.kind) {
			case '(': {
				return this.parenthesised();
			}

			case 'INTEGER':
			case 'DOUBLE': {
				this.next();
				const real = token.kind === 'DOUBLE';
				return {
					kind: 'constant', text: token.text, real, type: real ? PM_TYPE_DOUBLE : PM_TYPE_U32, sem: PM_SEM_DISCRETE, units: noUnits,
				};
			}

			case 'NAME': {
				this.next();
				const after = this.peek();
				if (after.kind === 'INSTNAME') {
					this.next();
					return {kind: 'filter', filter: {kind: 'exact', name: after.text}, operand: {kind: 'name', name: token.text}};
				}

				if (!followExpr.has(after.kind)) {
					this.fail(after, 'Arithmetic or relational or boolean operator expected to follow NAME');
				}

				return {kind: 'name', name: token.text};
			}

			case 'mkconst': {
				return this.mkconst();
			}

			case 'avg': case 'count': case 'delta': case 'max': case 'min': case 'sum': case 'rate': case 'instant': case 'defined': case 'anon': {
				this.next();
				// defined( has no error rule upstream.
				const handler = token.kind === 'defined' ? undefined : `Metric name expected to follow ${token.kind}(`;
				return this.withHandler(handler, () => {
					this.expect('(');
					const name = this.expect('NAME').text;
					this.expect(')');
					if (token.kind === 'anon') {
						const type = ['PM_TYPE_32', 'PM_TYPE_U32', 'PM_TYPE_64', 'PM_TYPE_U64', 'PM_TYPE_FLOAT', 'PM_TYPE_DOUBLE'].indexOf(name);
						if (type === -1) {
							// libpcp prints this to stderr (and 6.0.3 then crashes on a double free).
							this.failHere(`Error: type=${name} not allowed for anon()`);
						}

						return {kind: 'anon', type};
					}

					return {kind: 'function', name: token.kind as FunctionName, metric: name};
				});
			}

			case 'rescale': {
				this.next();
				return this.withHandler('Arithmetic or relational or boolean operator expected to follow rescale(', () => {
					this.expect('(');
					const operand = this.expression(1);
					this.expect(',');
					return this.withHandler('Units string expected to follow rescale(<expr>,', () => {
						const unitsText = this.expect('STRING').text;
						this.expect(')');
						const parsed = parseUnitsStr(unitsText);
						if ('error' in parsed) {
							this.failHere(`Illegal units: '${parsed.error}'`);
						}

						return {
							kind: 'rescale', operand, unitsText, units: parsed.units,
						};
					});
				});
			}

			case 'matchinst': {
				this.next();
				return this.withHandler('<filter>, <expr>) expected to follow matchinst(', () => {
					this.expect('(');
					let invert = false;
					if (this.peek().kind === '!') {
						this.next();
						invert = true;
					}

					const source = this.expect('PATTERN').text;
					const regex = compileRegex(source, this);
					return this.withHandler(', <expr>) expected to follow matchinst(<filter>', () => {
						this.expect(',');
						return this.withHandler('<expr>) expected to follow matchinst(<filter>,', () => {
							const operand = this.expression(1);
							this.expect(')');
							this.session.inMatchinst = false;
							return {
								kind: 'filter', filter: {kind: 'regex', source, invert}, operand, regex,
							};
						});
					});
				});
			}

			case 'scalar': {
				this.next();
				return this.withHandler('<expr> expected to follow scalar(', () => {
					this.expect('(');
					const operand = this.expression(1);
					this.expect(')');
					return {kind: 'scalar', operand};
				});
			}

			default: {
				return this.fail(token);
			}
		}
	}

	private mkconst(): ConstantNode {
		this.next();
		this.expect('(');
		const literal = this.peek();
		if (literal.kind !== 'INTEGER' && literal.kind !== 'DOUBLE') {
			this.fail(literal);
		}

		this.next();
		const real = literal.kind === 'DOUBLE';
		const node: ConstantNode = {
			kind: 'constant', text: literal.text, real, type: real ? PM_TYPE_DOUBLE : PM_TYPE_U32, sem: PM_SEM_DISCRETE, units: noUnits,
		};
		this.expect(',');
		for (;;) {
			this.spec(node);
			if (this.peek().kind !== ',') {
				break;
			}

			this.next();
		}

		this.expect(')');
		if (real && node.type !== PM_TYPE_DOUBLE && node.type !== PM_TYPE_FLOAT) {
			this.failHere(`Incompatible floating point constant and type '${typeWord(node.type)}'`);
		}

		return node;
	}

	/** One `tag=value` of mkconst(); the value is a string, a name or an integer, case-insensitive. */
	private spec(node: ConstantNode): void {
		const tag = this.peek();
		if (tag.kind !== 'type' && tag.kind !== 'semantics' && tag.kind !== 'units') {
			this.fail(tag);
		}

		this.next();
		this.expect('=');
		const value = this.peek();
		if (value.kind !== 'STRING' && value.kind !== 'NAME' && value.kind !== 'INTEGER') {
			this.fail(value);
		}

		this.next();
		const word = value.text.toLowerCase();
		if (tag.kind === 'type') {
			// Maps, not object literals: a word such as "constructor" must not find Object's own properties (libpcp refuses it).
			const types = new Map<string, number>([
				['32', PM_TYPE_32], ['u32', PM_TYPE_U32], ['64', PM_TYPE_64], ['u64', PM_TYPE_U64], ['float', PM_TYPE_FLOAT], ['double', PM_TYPE_DOUBLE],
			]);
			const type = types.get(word);
			if (type === undefined) {
				this.failHere(`Unrecognized value for type '${value.text}'`);
			}

			node.type = type;
		} else if (tag.kind === 'semantics') {
			const sems = new Map<string, number>([['counter', PM_SEM_COUNTER], ['instant', PM_SEM_INSTANT], ['discrete', PM_SEM_DISCRETE]]);
			const sem = sems.get(word);
			if (sem === undefined) {
				this.failHere(`Unrecognized value for semantics '${value.text}'`);
			}

			node.sem = sem;
		} else {
			const parsed = parseUnitsStr(value.text);
			if ('error' in parsed) {
				this.failHere(`Illegal units: '${parsed.error}'`);
			}

			node.units = parsed.units;
		}
	}

	failAtLexicon(message: string): never {
		this.failHere(message);
	}
}

/**
 * regcomp(REG_EXTENDED|REG_NOSUB) stand-in: POSIX ERE compiled as a JavaScript RegExp (the
 * common subset behaves the same). Failure texts are glibc's for the cases seen in practice.
 */
function compileRegex(source: string, parser: Parser): RegExp {
	// JavaScript takes a lone "{" literally; regcomp() does not.
	if ((source.match(/(?<!\\){/g) ?? []).length > (source.match(/(?<!\\)}/g) ?? []).length) {
		parser.failAtLexicon('bad regular expression: \'Unmatched \\{\'');
	}

	try {
		return new RegExp(source);
	} catch {
		const opens = (source.match(/(?<!\\)\(/g) ?? []).length;
		const closes = (source.match(/(?<!\\)\)/g) ?? []).length;
		if (opens > closes) {
			parser.failAtLexicon('bad regular expression: \'Unmatched ( or \\(\'');
		}

		parser.failAtLexicon('bad regular expression: \'Invalid regular expression\'');
	}
}

/** Parses one derived-metric expression; `session` carries libpcp's lexer state across calls. */
export function parseDerivedExpression(text: string, session: ParserSession = newParserSession()): ParseResult {
	try {
		return {ok: true, tree: new Parser(text, session).parse()};
	} catch (error) {
		if (error instanceof SyntaxError_) {
			return error.detail === undefined ? {ok: false, offset: error.offset} : {ok: false, offset: error.offset, message: error.detail};
		}

		// Nesting deeper than the stack allows (a configuration line of thousands of '(' or '-'):
		// refused as bison's parser refuses a stack deeper than YYMAXDEPTH, with its message.
		if (error instanceof RangeError) {
			return {ok: false, offset: 0, message: 'memory exhausted'};
		}

		throw error;
	}
}
