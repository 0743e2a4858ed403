/**
 * Binding a derived metric to a collector: operand descriptors in, the derived descriptor out,
 * with libpcp 6.0.3's rules and messages (bind_expr, check_expr, map_desc, map_units in
 * src/libpcp/src/derive_parser.y.in), including its quirks; docs/pcp.md#derived-descriptors.
 */
import type {Units} from '../model.js';
import {pmUnitsStr} from '../../protocols/pcp/model.js';
import type {DerivedDefinition} from './config.js';
import type {DerivedNode} from './parser.js';
import {scaleFactors} from './units.js';
import {
	isArithmetic, PM_ID_NULL, PM_INDOM_NULL, PM_SEM_COUNTER, PM_SEM_DISCRETE, PM_SEM_INSTANT,
	PM_TYPE_32, PM_TYPE_64, PM_TYPE_DOUBLE, PM_TYPE_FLOAT, PM_TYPE_U32, PM_TYPE_U64, type PcpDescriptor,
} from './types.js';

/** pmLookupName + pmLookupDesc for an operand: its descriptor, or undefined when it is unknown. */
export type OperandLookup = (name: string) => PcpDescriptor | undefined;

/** A node with its descriptor and the scale factors its parent applies to its values. */
export type BoundNode = {
	node: DerivedNode | {kind: 'colon'};
	desc: PcpDescriptor;
	/** map_units() factors: the parent computes value / div * mul when its type is DOUBLE. */
	mul: number;
	div: number;
	children: BoundNode[];
	/** Name nodes: the operand metric. */
	metric?: string;
	/** defined(x): its constant answer. */
	defined?: boolean;
	/** Time-utilisation factor for rate() of a time counter. */
	timeScale?: number;
};

export type BindResult
	= | {ok: true; desc: PcpDescriptor; expr: BoundNode; operands: string[]}
	/**
	 * Not bound: the metric is left out of the namespace. `message` is the "Semantic error: …"
	 * line libpcp prints on stderr (pmprintf); a missing operand prints nothing.
	 */
		| {ok: false; message?: string; missing?: string};

const noUnits: Units = {
	dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
};

const constantDesc = (type: number, sem: number, units: Units): PcpDescriptor => ({
	pmid: PM_ID_NULL, type, sem, indom: PM_INDOM_NULL, units,
});

/** promote[][] of derive_parser.y.in. */
function promote(left: number, right: number): number {
	if (left === PM_TYPE_DOUBLE || right === PM_TYPE_DOUBLE) {
		return PM_TYPE_DOUBLE;
	}

	if (left === PM_TYPE_FLOAT || right === PM_TYPE_FLOAT) {
		return PM_TYPE_FLOAT;
	}

	if (left === PM_TYPE_U64 || right === PM_TYPE_U64) {
		return PM_TYPE_U64;
	}

	if (left === PM_TYPE_64 || right === PM_TYPE_64) {
		return PM_TYPE_64;
	}

	if (left === PM_TYPE_U32 || right === PM_TYPE_U32) {
		return PM_TYPE_U32;
	}

	return PM_TYPE_32;
}

const timeFactor = [1000, 1000, 1000, 60, 60];

const relational = new Set(['<', '<=', '==', '>=', '>', '!=']);

class SemanticError extends Error {
	readonly bound: BoundNode;
	constructor(message: string, bound: BoundNode) {
		super(message);
		this.bound = bound;
	}
}

/** The operand text report_sem_error() prints: the literal or name, else "<expr>". */
function operandText(bound: BoundNode): string {
	const {node} = bound;
	if (node.kind === 'constant') {
		return node.text;
	}

	if (node.kind === 'name') {
		return node.name;
	}

	// anon()'s child is an N_INTEGER whose value is the type name.
	return '<expr>';
}

const functionWord: Record<string, string> = {
	avg: 'AVG', count: 'COUNT', delta: 'DELTA', max: 'MAX', min: 'MIN', sum: 'SUM', rate: 'RATE', instant: 'INSTANT', defined: 'DEFINED', scalar: 'SCALAR', anon: 'ANON',
};

/** report_sem_error()'s middle part for the failing node. */
function describe(bound: BoundNode): string {
	const {node} = bound;
	switch (node.kind) {
		case 'binary': {
			return `${operandText(bound.children[0]!)} ${node.op} ${operandText(bound.children[1]!)}`;
		}

		case 'neg':
		case 'not': {
			return `${node.kind === 'neg' ? '-' : '!'} ${operandText(bound.children[0]!)}`;
		}

		case 'function': {
			return `${functionWord[node.name]!}(${node.metric})`;
		}

		case 'scalar': {
			const child = bound.children[0]!;
			return `SCALAR(${child.node.kind === 'name' ? child.node.name : (child.node.kind === 'constant' ? child.node.text : '(null)')})`;
		}

		case 'ternary': {
			const colon = bound.children[1]!;
			return `${operandText(bound.children[0]!)} ? ${operandText(colon.children[0]!)} : ${operandText(colon.children[1]!)}`;
		}

		case 'colon': {
			return `${operandText(bound.children[0]!)} : ${operandText(bound.children[1]!)}`;
		}

		case 'rescale': {
			return `${operandText(bound.children[0]!)} RESCALE ${pmUnitsStr(node.units) || 'none'}`;
		}

		case 'filter': {
			return 'FILTERINST ';
		}

		default: {
			return '';
		}
	}
}

type Binder = {lookup: OperandLookup; operands: string[]};

function leaf(node: DerivedNode, desc: PcpDescriptor): BoundNode {
	return {
		node, desc, mul: 1, div: 1, children: [],
	};
}

function bindName(name: string, binder: Binder, lookupErrorOk = false): BoundNode | undefined {
	const desc = binder.lookup(name);
	if (!desc) {
		if (lookupErrorOk) {
			return undefined;
		}

		throw new MissingOperand(name);
	}

	if (!binder.operands.includes(name)) {
		binder.operands.push(name);
	}

	const bound = leaf({kind: 'name', name}, {...desc});
	bound.metric = name;
	return bound;
}

class MissingOperand extends Error {
	readonly operand: string;
	constructor(operand: string) {
		super(operand);
		this.operand = operand;
	}
}

function bindNode(node: DerivedNode, binder: Binder): BoundNode {
	switch (node.kind) {
		case 'constant': {
			return leaf(node, constantDesc(node.type, node.sem, node.units));
		}

		case 'name': {
			return bindName(node.name, binder)!;
		}

		case 'anon': {
			const child = leaf({
				kind: 'constant', text: '', real: false, type: node.type, sem: PM_SEM_DISCRETE, units: noUnits,
			}, constantDesc(node.type, PM_SEM_DISCRETE, noUnits));
			return {
				node, desc: {...child.desc}, mul: 1, div: 1, children: [child],
			};
		}

		case 'function': {
			if (node.name === 'defined') {
				// Bind_expr's pmLookupName: whether the name exists; its values are never fetched.
				const found = binder.lookup(node.metric) !== undefined;
				return {
					node, desc: constantDesc(PM_TYPE_U32, PM_SEM_DISCRETE, noUnits), mul: 1, div: 1, children: [], defined: found,
				};
			}

			const child = bindName(node.metric, binder)!;
			const bound: BoundNode = {
				node, desc: {...child.desc, units: {...child.desc.units}}, mul: 1, div: 1, children: [child],
			};
			checkFunction(bound);
			return bound;
		}

		case 'neg':
		case 'not':
		case 'scalar': {
			const child = bindNode(node.operand, binder);
			const bound: BoundNode = {
				node, desc: {...child.desc, units: {...child.desc.units}}, mul: 1, div: 1, children: [child],
			};
			if (node.kind === 'neg') {
				checkFunction(bound);
			} else if (node.kind === 'scalar') {
				bound.desc.indom = PM_INDOM_NULL;
			}

			// N_NOT inherits the operand's descriptor as is (check_expr has no case for it).
			return bound;
		}

		case 'rescale': {
			const child = bindNode(node.operand, binder);
			const scale = leaf(node, constantDesc(PM_TYPE_32, 0, node.units));
			const bound: BoundNode = {
				node, desc: {...child.desc}, mul: 1, div: 1, children: [child, scale],
			};
			if (!isArithmetic(child.desc.type)) {
				throw new SemanticError('Non-arithmetic operand for function', bound);
			}

			if (!scaleFactors(child.desc.units, node.units)) {
				throw new SemanticError('Incompatible dimensions', bound);
			}

			bound.desc.units = {...node.units};
			return bound;
		}

		case 'filter': {
			const child = bindNode(node.operand, binder);
			// The descriptor of the filtered expression.
			return {
				node, desc: {...child.desc}, mul: 1, div: 1, children: [child],
			};
		}

		case 'ternary': {
			const guard = bindNode(node.guard, binder);
			const whenTrue = bindNode(node.whenTrue, binder);
			const whenFalse = bindNode(node.whenFalse, binder);
			const colon: BoundNode = {
				node: {kind: 'colon'}, desc: {...whenTrue.desc}, mul: 1, div: 1, children: [whenTrue, whenFalse],
			};
			checkColon(colon);
			const bound: BoundNode = {
				node, desc: colon.desc, mul: 1, div: 1, children: [guard, colon],
			};
			if (!isArithmetic(guard.desc.type)) {
				throw new SemanticError('Non-arithmetic operand for ternary guard', bound);
			}

			if (whenTrue.desc.indom === PM_INDOM_NULL && whenFalse.desc.indom === PM_INDOM_NULL && guard.desc.indom !== PM_INDOM_NULL) {
				throw new SemanticError('Non-scalar ternary guard with scalar expressions', bound);
			}

			return bound;
		}

		case 'binary': {
			const left = bindNode(node.left, binder);
			const right = bindNode(node.right, binder);
			const bound: BoundNode = {
				node, desc: {...left.desc}, mul: 1, div: 1, children: [left, right],
			};
			mapDesc(bound);
			return bound;
		}
	}
}

function checkColon(colon: BoundNode): void {
	const [left, right] = colon.children as [BoundNode, BoundNode];
	const l = left.desc;
	const r = right.desc;
	if (l.type !== r.type) {
		throw new SemanticError('Different types for ternary operands', colon);
	}

	if (l.indom !== r.indom && l.indom !== PM_INDOM_NULL && r.indom !== PM_INDOM_NULL) {
		throw new SemanticError('Different instance domains for ternary operands', colon);
	}

	colon.desc.indom = l.indom === PM_INDOM_NULL ? r.indom : l.indom;
	if (l.sem !== r.sem) {
		throw new SemanticError('Different semantics for ternary operands', colon);
	}

	if (l.units.dimSpace !== r.units.dimSpace || l.units.scaleSpace !== r.units.scaleSpace) {
		throw new SemanticError('Different units or scale (space) for ternary operands', colon);
	}

	if (l.units.dimTime !== r.units.dimTime || l.units.scaleTime !== r.units.scaleTime) {
		throw new SemanticError('Different units or scale (time) for ternary operands', colon);
	}

	if (l.units.dimCount !== r.units.dimCount || l.units.scaleCount !== r.units.scaleCount) {
		throw new SemanticError('Different units or scale (count) for ternary operands', colon);
	}
}

/** check_expr()'s unary cases: count, instant, the aggregates, delta, rate and negation. */
function checkFunction(bound: BoundNode): void {
	const {node, desc} = bound;
	const child = bound.children[0]!;
	const kind = node.kind === 'function' ? node.name : 'neg';
	if (kind === 'count') {
		desc.type = PM_TYPE_U32;
		desc.units = {...noUnits, dimCount: 1};
		desc.sem = PM_SEM_INSTANT;
		desc.indom = PM_INDOM_NULL;
		return;
	}

	if (kind === 'instant') {
		desc.sem = child.desc.sem === PM_SEM_COUNTER ? PM_SEM_INSTANT : child.desc.sem;
		return;
	}

	if (!isArithmetic(child.desc.type)) {
		throw new SemanticError(kind === 'neg' ? 'Non-arithmetic operand for unary negation' : 'Non-arithmetic operand for function', bound);
	}

	if (kind !== 'sum') {
		desc.sem = PM_SEM_INSTANT;
	}

	if (kind === 'rate' && child.desc.units.dimTime !== 0 && child.desc.units.dimTime !== 1) {
		throw new SemanticError('Incorrect time dimension for operand', bound);
	}

	if (kind !== 'delta' && kind !== 'rate' && kind !== 'neg') {
		desc.indom = PM_INDOM_NULL;
	}

	switch (kind) {
		case 'avg': {
			desc.type = PM_TYPE_FLOAT;
			break;
		}

		case 'rate': {
			desc.type = PM_TYPE_DOUBLE;
			desc.units.dimTime--;
			desc.units.scaleTime = desc.units.dimTime === 0 ? 0 : 3;
			break;
		}

		case 'neg': {
			if (child.desc.type === PM_TYPE_U32) {
				desc.type = PM_TYPE_32;
			} else if (child.desc.type === PM_TYPE_U64) {
				desc.type = PM_TYPE_64;
			}

			break;
		}

		case 'delta': {
			if (child.desc.type === PM_TYPE_U32) {
				desc.type = PM_TYPE_64;
			} else if (child.desc.type === PM_TYPE_U64) {
				desc.type = PM_TYPE_DOUBLE;
			}

			break;
		}

		default: {
			break;
		}
	}
}

const dimensionless = (u: Units) => u.dimCount === 0 && u.dimTime === 0 && u.dimSpace === 0;
const sameDimensions = (a: Units, b: Units) => a.dimCount === b.dimCount && a.dimTime === b.dimTime && a.dimSpace === b.dimSpace;
/** The pmConvScale special case: "none" and "count" are compatible. */
const noneOrCount = (a: Units, b: Units) => a.dimTime === 0 && b.dimTime === 0 && a.dimSpace === 0 && b.dimSpace === 0
	&& ((a.dimCount === 0 && b.dimCount === 1) || (a.dimCount === 1 && b.dimCount === 0));

/** map_desc(): binary operators. */
function mapDesc(bound: BoundNode): void {
	const node = bound.node as Extract<DerivedNode, {kind: 'binary'}>;
	const [leftBound, rightBound] = bound.children as [BoundNode, BoundNode];
	const left = leftBound.desc;
	const right = rightBound.desc;
	const {op} = node;
	const isRelational = relational.has(op);
	const isBoolean = op === '&&' || op === '||';
	if (!isRelational && !isBoolean) {
		if (left.sem === PM_SEM_COUNTER) {
			if (right.sem === PM_SEM_COUNTER) {
				if (op !== '+' && op !== '-') {
					throw new SemanticError('Illegal operator for counters', bound);
				}
			} else if (op !== '*' && op !== '/') {
				throw new SemanticError('Illegal operator for counter and non-counter', bound);
			}
		} else if (right.sem === PM_SEM_COUNTER && op !== '*') {
			throw new SemanticError('Illegal operator for non-counter and counter', bound);
		}
	}

	// Prefer a metric or expression over a constant for the result's descriptor.
	const base = leftBound.node.kind === 'constant' ? right : left;
	bound.desc = {...base, units: {...base.units}};
	if (left.sem !== PM_SEM_COUNTER && right.sem !== PM_SEM_COUNTER) {
		bound.desc.sem = left.sem === PM_SEM_DISCRETE && right.sem === PM_SEM_DISCRETE ? PM_SEM_DISCRETE : PM_SEM_INSTANT;
	}

	if (!isArithmetic(left.type)) {
		throw new SemanticError('Non-arithmetic type for left operand', bound);
	}

	if (!isArithmetic(right.type)) {
		throw new SemanticError('Non-arithmetic type for right operand', bound);
	}

	if (op === '/') {
		bound.desc.type = PM_TYPE_DOUBLE;
	} else if (isRelational || isBoolean) {
		bound.desc.type = PM_TYPE_U32;
	} else {
		bound.desc.type = promote(left.type, right.type);
	}

	if ((op === '+' || op === '-') && !sameDimensions(left.units, right.units) && !noneOrCount(left.units, right.units)) {
		throw new SemanticError('Dimensions are not the same', bound);
	}

	// Upstream compares the operands' *data types* with the node codes N_INTEGER (1) and N_DOUBLE
	// (16): a U32 operand (type 1) exempts the comparison from the dimension check.
	if (isRelational && left.type !== 1 && right.type !== 1 && !sameDimensions(left.units, right.units) && !noneOrCount(left.units, right.units)) {
		throw new SemanticError('Dimensions are not the same', bound);
	}

	if (isBoolean && (!dimensionless(left.units) || !dimensionless(right.units))) {
		throw new SemanticError('Dimensions are not the same', bound);
	}

	if (op === '*' || op === '/' || isRelational) {
		if (left.sem === PM_SEM_COUNTER && right.sem !== PM_SEM_COUNTER && !dimensionless(right.units)) {
			throw new SemanticError('Non-counter and not dimensionless for right operand', bound);
		}

		if (left.sem !== PM_SEM_COUNTER && right.sem === PM_SEM_COUNTER && !dimensionless(left.units)) {
			throw new SemanticError('Non-counter and not dimensionless for left operand', bound);
		}
	}

	if (op === '+' || op === '-' || op === '*' || op === '/') {
		mapUnits(bound);
	} else {
		bound.desc.units = {...noUnits};
	}

	if (left.indom !== PM_INDOM_NULL && right.indom !== PM_INDOM_NULL && left.indom !== right.indom) {
		throw new SemanticError('Operands should have the same instance domain', bound);
	}

	if (left.indom !== PM_INDOM_NULL && right.indom === PM_INDOM_NULL) {
		bound.desc.indom = left.indom;
	} else if (right.indom !== PM_INDOM_NULL && left.indom === PM_INDOM_NULL) {
		bound.desc.indom = right.indom;
	}
}

/**
 * map_units(): the larger scale wins and the other operand is scaled (the result becomes
 * DOUBLE); dimensions add for *, subtract for /. Upstream's time and space branches test the
 * *right* operand's dimension sign when scaling the left one; kept as is.
 */
function mapUnits(bound: BoundNode): void {
	const [leftBound, rightBound] = bound.children as [BoundNode, BoundNode];
	const left = leftBound.desc.units;
	const right = rightBound.desc.units;
	const {units} = bound.desc;
	if (left.dimCount !== 0 && right.dimCount !== 0) {
		const diff = left.scaleCount - right.scaleCount;
		if (diff > 0) {
			for (let i = 0; i < diff; i++) {
				if (right.dimCount > 0) {
					rightBound.div *= 10;
				} else {
					rightBound.mul *= 10;
				}
			}

			bound.desc.type = PM_TYPE_DOUBLE;
		} else if (diff < 0) {
			units.scaleCount = right.scaleCount;
			for (let i = diff; i < 0; i++) {
				if (left.dimCount > 0) {
					leftBound.div *= 10;
				} else {
					leftBound.mul *= 10;
				}
			}

			bound.desc.type = PM_TYPE_DOUBLE;
		}
	}

	if (left.dimTime !== 0 && right.dimTime !== 0) {
		const diff = left.scaleTime - right.scaleTime;
		if (diff > 0) {
			for (let i = right.scaleTime; i < left.scaleTime; i++) {
				if (right.dimTime > 0) {
					rightBound.div *= timeFactor[i]!;
				} else {
					rightBound.mul *= timeFactor[i]!;
				}
			}

			bound.desc.type = PM_TYPE_DOUBLE;
		} else if (diff < 0) {
			units.scaleTime = right.scaleTime;
			for (let i = left.scaleTime; i < right.scaleTime; i++) {
				if (right.dimTime > 0) {
					leftBound.div *= timeFactor[i]!;
				} else {
					leftBound.mul *= timeFactor[i]!;
				}
			}

			bound.desc.type = PM_TYPE_DOUBLE;
		}
	}

	if (left.dimSpace !== 0 && right.dimSpace !== 0) {
		const diff = left.scaleSpace - right.scaleSpace;
		if (diff > 0) {
			for (let i = 0; i < diff; i++) {
				if (right.dimSpace > 0) {
					rightBound.div *= 1024;
				} else {
					rightBound.mul *= 1024;
				}
			}

			bound.desc.type = PM_TYPE_DOUBLE;
		} else if (diff < 0) {
			units.scaleSpace = right.scaleSpace;
			for (let i = diff; i < 0; i++) {
				if (right.dimSpace > 0) {
					leftBound.div *= 1024;
				} else {
					leftBound.mul *= 1024;
				}
			}

			bound.desc.type = PM_TYPE_DOUBLE;
		}
	}

	const {op} = (bound.node as Extract<DerivedNode, {kind: 'binary'}>);
	if (op === '*') {
		units.dimCount = left.dimCount + right.dimCount;
		units.dimTime = left.dimTime + right.dimTime;
		units.dimSpace = left.dimSpace + right.dimSpace;
	} else if (op === '/') {
		units.dimCount = left.dimCount - right.dimCount;
		units.dimTime = left.dimTime - right.dimTime;
		units.dimSpace = left.dimSpace - right.dimSpace;
	}

	if (units.dimCount !== 0 && left.dimCount === 0) {
		units.scaleCount = right.scaleCount;
	}

	if (units.dimTime !== 0 && left.dimTime === 0) {
		units.scaleTime = right.scaleTime;
	}

	if (units.dimSpace !== 0 && left.dimSpace === 0) {
		units.scaleSpace = right.scaleSpace;
	}

	if (units.dimCount === 0) {
		units.scaleCount = 0;
	}

	if (units.dimTime === 0) {
		units.scaleTime = 0;
	}

	if (units.dimSpace === 0) {
		units.scaleSpace = 0;
	}
}

/**
 * Operand names an expression needs (defined(x) needs none); with `lookedUp`, also the names
 * defined(x) asks about, which binding looks up but never fetches.
 */
export function metricNames(node: DerivedNode, lookedUp = false): string[] {
	switch (node.kind) {
		case 'name': {
			return [node.name];
		}

		case 'function': {
			return node.name === 'defined' && !lookedUp ? [] : [node.metric];
		}

		case 'binary': {
			return [...metricNames(node.left, lookedUp), ...metricNames(node.right, lookedUp)];
		}

		case 'ternary': {
			return [...metricNames(node.guard, lookedUp), ...metricNames(node.whenTrue, lookedUp), ...metricNames(node.whenFalse, lookedUp)];
		}

		case 'neg': case 'not': case 'scalar': case 'rescale': case 'filter': {
			return metricNames(node.operand, lookedUp);
		}

		default: {
			return [];
		}
	}
}

/**
 * __dmbind(): binds `metric` against a collector's metrics. A derived name that is also a real
 * metric's name is ignored (the real metric wins): pass `isRealMetric`.
 */
export function bindDerived(metric: DerivedDefinition, lookup: OperandLookup, isRealMetric: (name: string) => boolean = () => false): BindResult {
	if (!metric.anon && isRealMetric(metric.name)) {
		return {ok: false};
	}

	// bind_expr() looks every operand up before check_expr() checks anything: a missing operand
	// wins over any semantic error, silently.
	const missing = metricNames(metric.tree).find(name => !lookup(name));
	if (missing !== undefined) {
		return {ok: false, missing};
	}

	const binder: Binder = {lookup, operands: []};
	try {
		const expr = bindNode(metric.tree, binder);
		const desc = {...expr.desc, units: {...expr.desc.units}, pmid: metric.pmid};
		return {
			ok: true, desc, expr, operands: binder.operands,
		};
	} catch (error) {
		if (error instanceof MissingOperand) {
			return {ok: false, missing: error.operand};
		}

		if (error instanceof SemanticError) {
			return {ok: false, message: `Semantic error: derived metric ${metric.name}: ${describe(error.bound)}: ${error.message}\n`};
		}

		throw error;
	}
}
