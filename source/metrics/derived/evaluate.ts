/**
 * Fetch-time evaluation of a bound derived metric, as libpcp 6.0.3's eval_expr() does it
 * (src/libpcp/src/derive_fetch.c): values per instance in operand order, delta()/rate() from the
 * previous fetch (none on the first), type promotion with C's wrap-around, scale factors for
 * DOUBLE results, x/y = 0 when x is 0, instance matching; docs/pcp.md#derived-evaluation.
 * An Evaluator keeps the history of one derived metric on one collector.
 */
import type {BoundNode} from './infer.js';
import {convScale} from './units.js';
import {
	PM_IN_NULL, PM_INDOM_NULL, PM_TYPE_32, PM_TYPE_64, PM_TYPE_DOUBLE, PM_TYPE_FLOAT, PM_TYPE_U32,
	PM_TYPE_U64,
} from './types.js';

/** One instance's value: numbers for 32-bit and floating types, bigint for 64-bit, strings as is. */
export type AtomValue = number | bigint | string | Uint8Array;
export type InstanceAtom = {inst: number; value: AtomValue};

/** An operand's fetch result: values, "no values" (numval 0) or a PCP error code (numval < 0). */
export type OperandResult = InstanceAtom[] | number;

export type FetchInput = {
	/** The collector's timestamp of this fetch, in seconds. */
	timestamp: number;
	/** Operand name → its values in this fetch (absent: not in the result, PM_ERR_PMID). */
	values: ReadonlyMap<string, OperandResult>;
	/** Instance name → id in an operand's indom, for name[inst] (pmLookupInDom); undefined if unknown. */
	lookupInstance?: (indom: number, name: string) => number | undefined;
	/** Id → external name, for matchinst (pmNameInDom). */
	instanceName?: (indom: number, inst: number) => string | undefined;
};

/** The derived metric's result: values, or numval ≤ 0 (0 = no values, < 0 = that error code). */
export type DerivedResult = InstanceAtom[] | number;

const PM_ERR_PMID = -12_358;

type State = {
	last?: OperandResult;
	lastStamp?: number;
	stamp?: number;
	/** F_EXACT: the instance id once looked up. */
	inst?: number;
	/** F_REGEX: instance → match, cached as upstream's hash (minus its garbage collection). */
	matches?: Map<number, boolean>;
};

/** C's conversions into a type (two's complement wrap, float rounding). */
function toType(type: number, value: AtomValue): AtomValue {
	if (typeof value === 'string' || value instanceof Uint8Array) {
		return value;
	}

	switch (type) {
		case PM_TYPE_32: {
			return Number(BigInt.asIntN(32, typeof value === 'bigint' ? value : BigInt(Math.trunc(value))));
		}

		case PM_TYPE_U32: {
			return Number(BigInt.asUintN(32, typeof value === 'bigint' ? value : BigInt(Math.trunc(value))));
		}

		case PM_TYPE_64: {
			return BigInt.asIntN(64, typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
		}

		case PM_TYPE_U64: {
			return BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
		}

		case PM_TYPE_FLOAT: {
			return Math.fround(Number(value));
		}

		default: {
			return Number(value);
		}
	}
}

const truthy = (value: AtomValue) => (typeof value === 'bigint' ? value !== 0n : Number(value) !== 0);

/** bin_op(): both operands promoted to `type`, scaled when DOUBLE, then the operator. */
function binOp(type: number, op: string, a: AtomValue, left: BoundNode, b: AtomValue, right: BoundNode): AtomValue {
	let l = toType(type, a);
	let r = toType(type, b);
	if (type === PM_TYPE_DOUBLE) {
		l = (Number(l) / left.div) * left.mul;
		r = (Number(r) / right.div) * right.mul;
	}

	const compare = (result: boolean) => toType(type, result ? 1 : 0);
	if (typeof l === 'bigint' && typeof r === 'bigint') {
		switch (op) {
			case '+': {
				return toType(type, l + r);
			}

			case '-': {
				return toType(type, l - r);
			}

			case '*': {
				return toType(type, l * r);
			}

			default: {
				break;
			}
		}
	}

	const x = Number(l);
	const y = Number(r);
	switch (op) {
		case '+': {
			return toType(type, type === PM_TYPE_32 || type === PM_TYPE_U32 ? BigInt(x) + BigInt(y) : x + y);
		}

		case '-': {
			return toType(type, type === PM_TYPE_32 || type === PM_TYPE_U32 ? BigInt(x) - BigInt(y) : x - y);
		}

		case '*': {
			return toType(type, type === PM_TYPE_32 || type === PM_TYPE_U32 ? BigInt(x) * BigInt(y) : x * y);
		}

		case '/': {
			// Division is always DOUBLE; upstream returns 0 for 0/y, including 0/0.
			return x === 0 ? 0 : x / y;
		}

		case '<': {
			return compare(typeof l === 'bigint' ? l < (r as bigint) : x < y);
		}

		case '<=': {
			return compare(typeof l === 'bigint' ? l <= (r as bigint) : x <= y);
		}

		case '==': {
			return compare(typeof l === 'bigint' ? l === r : x === y);
		}

		case '>=': {
			return compare(typeof l === 'bigint' ? l >= (r as bigint) : x >= y);
		}

		case '>': {
			return compare(typeof l === 'bigint' ? l > (r as bigint) : x > y);
		}

		case '!=': {
			return compare(typeof l === 'bigint' ? l !== r : x !== y);
		}

		case '&&': {
			return compare(truthy(l) && truthy(r));
		}

		default: {
			return compare(truthy(l) || truthy(r));
		}
	}
}

/** The "promote[][]" result type used by relational operators. */
function promoted(left: number, right: number): number {
	for (const type of [PM_TYPE_DOUBLE, PM_TYPE_FLOAT, PM_TYPE_U64, PM_TYPE_64, PM_TYPE_U32]) {
		if (left === type || right === type) {
			return type;
		}
	}

	return PM_TYPE_32;
}

export class Evaluator {
	private readonly states = new Map<BoundNode, State>();
	private readonly root: BoundNode;

	constructor(root: BoundNode) {
		this.root = root;
	}

	/** One fetch: the derived values for this sample (delta and rate need the previous one). */
	evaluate(input: FetchInput): DerivedResult {
		return this.eval(this.root, input);
	}

	private state(node: BoundNode): State {
		let state = this.states.get(node);
		if (!state) {
			state = {};
			this.states.set(node, state);
		}

		return state;
	}

	private eval(bound: BoundNode, input: FetchInput): DerivedResult {
		const {node} = bound;
		switch (node.kind) {
			case 'constant': {
				return [{inst: PM_IN_NULL, value: this.constant(node.text, bound.desc.type)}];
			}

			case 'name': {
				return input.values.get(node.name) ?? PM_ERR_PMID;
			}

			case 'anon': {
				return 0;
			}

			case 'colon': {
				return 0;
			}

			case 'function': {
				if (node.name === 'defined') {
					return [{inst: PM_IN_NULL, value: bound.defined ? 1 : 0}];
				}

				const child = bound.children[0]!;
				const values = this.eval(child, input);
				if (node.name === 'delta' || node.name === 'rate') {
					return this.delta(bound, child, values, input.timestamp);
				}

				if (typeof values === 'number' && values < 0) {
					// An operand error is the result's error, except that count() makes it 0.
					return node.name === 'count' ? [{inst: PM_IN_NULL, value: 0}] : values;
				}

				if (typeof values === 'number' && node.name === 'instant') {
					return values;
				}

				return this.aggregate(node.name, bound, child, typeof values === 'number' ? [] : values);
			}

			case 'neg':
			case 'not': {
				const child = bound.children[0]!;
				const values = this.eval(child, input);
				if (typeof values === 'number') {
					return values;
				}

				return values.map(({inst, value}) => {
					if (node.kind === 'not') {
						return {inst, value: truthy(value) ? 0 : 1};
					}

					const negated = typeof value === 'bigint' ? -value : -Number(value);
					return {inst, value: toType(bound.desc.type, negated)};
				});
			}

			case 'scalar': {
				const values = this.eval(bound.children[0]!, input);
				if (typeof values === 'number') {
					return values;
				}

				return values.length === 0 ? 0 : [{inst: PM_IN_NULL, value: values[0]!.value}];
			}

			case 'rescale': {
				const child = bound.children[0]!;
				const values = this.eval(child, input);
				if (typeof values === 'number') {
					return values;
				}

				const out: InstanceAtom[] = [];
				for (const {inst, value} of values) {
					const scaled = convScale(bound.desc.type, value as number | bigint, child.desc.units, bound.desc.units);
					if (scaled !== undefined) {
						out.push({inst, value: scaled});
					}
				}

				return out;
			}

			case 'filter': {
				return this.filterInstances(bound, input);
			}

			case 'ternary': {
				return this.ternary(bound, input);
			}

			case 'binary': {
				return this.binary(bound, input);
			}
		}
	}

	private constant(text: string, type: number): AtomValue {
		switch (type) {
			case PM_TYPE_32:
			case PM_TYPE_U32: {
				// atoi() of the literal (a "1.5" stops at the '.').
				return toType(type, BigInt(/^\d+/.exec(text)?.[0] ?? '0'));
			}

			case PM_TYPE_64:
			case PM_TYPE_U64: {
				return toType(type, BigInt(/^\d+/.exec(text)?.[0] ?? '0'));
			}

			case PM_TYPE_FLOAT: {
				return Math.fround(Number.parseFloat(text) || 0);
			}

			default: {
				return Number.parseFloat(text) || 0;
			}
		}
	}

	/** delta()/rate(): instances present in both samples; none on the first fetch. */
	private delta(bound: BoundNode, child: BoundNode, values: OperandResult, timestamp: number): DerivedResult {
		const state = this.state(bound);
		const last = state.last ?? 0;
		state.lastStamp = state.stamp;
		state.stamp = timestamp;
		state.last = values;
		const numval = Math.min(typeof values === 'number' ? values : values.length, typeof last === 'number' ? last : last.length);
		if (numval <= 0 || typeof values === 'number' || typeof last === 'number') {
			return numval;
		}

		const out: InstanceAtom[] = [];
		const seconds = timestamp - (state.lastStamp ?? timestamp);
		for (const [i, current] of values.entries()) {
			if (out.length >= numval) {
				break;
			}

			let previous = last[i < last.length ? i : 0];
			if (previous?.inst !== current.inst) {
				previous = last.find(item => item.inst === current.inst);
				if (!previous) {
					continue;
				}
			}

			const {type} = child.desc;
			if ((bound.node as {name: string}).name === 'delta') {
				let value: AtomValue;
				switch (type) {
					case PM_TYPE_U32: {
						value = BigInt(current.value as number) - BigInt(previous.value as number);

						break;
					}

					case PM_TYPE_U64: {
						value = Number(current.value) - Number(previous.value);

						break;
					}

					case PM_TYPE_32: {
						value = toType(PM_TYPE_32, BigInt(current.value as number) - BigInt(previous.value as number));

						break;
					}

					case PM_TYPE_64: {
						value = BigInt.asIntN(64, (current.value as bigint) - (previous.value as bigint));

						break;
					}

					default: {
						value = toType(type, Number(current.value) - Number(previous.value));
					}
				}

				out.push({inst: current.inst, value});
				continue;
			}

			// rate(): the difference in the operand's own type (so a wrapped counter wraps), as a double.
			let difference: number;
			if (type === PM_TYPE_32 || type === PM_TYPE_U32 || type === PM_TYPE_64 || type === PM_TYPE_U64) {
				difference = Number(toType(type, BigInt(current.value as number | bigint) - BigInt(previous.value as number | bigint)));
			} else if (type === PM_TYPE_FLOAT) {
				difference = Math.fround(Number(current.value) - Number(previous.value));
			} else {
				difference = Number(current.value) - Number(previous.value);
			}

			let value = difference / seconds;
			if (child.desc.units.dimTime === 1) {
				// rate(time counter) → time utilisation: the counter's time units in seconds.
				const scale = child.desc.units.scaleTime;
				let factor = 1;
				if (scale > 3) {
					for (let n = 3; n < scale; n++) {
						factor *= 60;
					}
				} else {
					for (let n = scale; n < 3; n++) {
						factor /= 1000;
					}
				}

				value *= factor;
			}

			out.push({inst: current.inst, value});
		}

		return out;
	}

	private aggregate(name: string, bound: BoundNode, child: BoundNode, values: InstanceAtom[]): DerivedResult {
		const {type} = bound.desc;
		if (name === 'instant') {
			return values;
		}

		if (name === 'count') {
			return [{inst: PM_IN_NULL, value: values.length}];
		}

		if (name === 'avg') {
			let sum = 0;
			for (const {value} of values) {
				sum = Math.fround(sum + Math.fround(Math.fround(Number(value)) / values.length));
			}

			return [{inst: PM_IN_NULL, value: sum}];
		}

		if (name === 'sum') {
			let sum: AtomValue = type === PM_TYPE_64 || type === PM_TYPE_U64 ? 0n : 0;
			for (const {value} of values) {
				if (typeof sum === 'bigint') {
					sum = toType(type, sum + BigInt(value as number | bigint));
				} else {
					const total = Number(sum);
					sum = toType(type, type === PM_TYPE_32 || type === PM_TYPE_U32 ? BigInt(total) + BigInt(value as number) : total + Number(value));
				}
			}

			return [{inst: PM_IN_NULL, value: sum}];
		}

		// max, min
		let best: AtomValue | undefined;
		for (const {value} of values) {
			if (best === undefined || (name === 'max' ? value > best : value < best)) {
				best = value;
			}
		}

		// Upstream's ivlist starts at 0 when there are no instances.
		return [{inst: PM_IN_NULL, value: best ?? toType(child.desc.type, 0)}];
	}

	private filterInstances(bound: BoundNode, input: FetchInput): DerivedResult {
		const child = bound.children[0]!;
		const values = this.eval(child, input);
		const node = bound.node as Extract<BoundNode['node'], {kind: 'filter'}>;
		const state = this.state(bound);
		if (typeof values === 'number') {
			return Math.min(values, 0);
		}

		if (node.filter.kind === 'exact') {
			if (state.inst === undefined) {
				state.inst = input.lookupInstance?.(child.desc.indom, node.filter.name);
				if (state.inst === undefined) {
					return 0;
				}
			}

			const match = values.find(item => item.inst === state.inst);
			return match ? [match] : 0;
		}

		state.matches ??= new Map();
		const out: InstanceAtom[] = [];
		for (const item of values) {
			let match = state.matches.get(item.inst);
			if (match === undefined) {
				// Classic external-name matching: the name up to its first space.
				const name = input.instanceName?.(child.desc.indom, item.inst);
				match = name === undefined ? false : (node.regex?.test(name.split(' ')[0]!) ?? false) !== node.filter.invert;
				state.matches.set(item.inst, match);
			}

			if (match) {
				out.push(item);
			}
		}

		return out;
	}

	private ternary(bound: BoundNode, input: FetchInput): DerivedResult {
		const [guardNode, colon] = bound.children as [BoundNode, BoundNode];
		const [trueNode, falseNode] = colon.children as [BoundNode, BoundNode];
		// An error stops the evaluation where it occurs (the later operands keep their history).
		const guard = this.eval(guardNode, input);
		if (typeof guard === 'number' && guard < 0) {
			return guard;
		}

		const whenTrue = this.eval(trueNode, input);
		if (typeof whenTrue === 'number' && whenTrue < 0) {
			return whenTrue;
		}

		const whenFalse = this.eval(falseNode, input);
		if (typeof guard === 'number' || guard.length === 0) {
			return typeof guard === 'number' ? guard : 0;
		}

		if (typeof whenTrue === 'number' || whenTrue.length === 0) {
			return typeof whenTrue === 'number' ? whenTrue : 0;
		}

		if (typeof whenFalse === 'number' || whenFalse.length === 0) {
			return typeof whenFalse === 'number' ? whenFalse : 0;
		}

		const numval = Math.max(whenTrue.length, whenFalse.length);
		const instances = trueNode.desc.indom === PM_INDOM_NULL && falseNode.desc.indom !== PM_INDOM_NULL ? whenFalse : whenTrue;
		const out: InstanceAtom[] = [];
		let pick = whenTrue;
		for (let i = 0; i < numval; i++) {
			if (i < guard.length) {
				pick = truthy(guard[i]!.value) ? whenTrue : whenFalse;
			}

			const {value} = pick[i] ?? pick[0]!;
			// Upstream reads past the instance list of a singular operand here; the instance is
			// taken from the operand with an indom.
			out.push({inst: instances[i]?.inst ?? PM_IN_NULL, value});
		}

		return out;
	}

	private binary(bound: BoundNode, input: FetchInput): DerivedResult {
		const [leftNode, rightNode] = bound.children as [BoundNode, BoundNode];
		const left = this.eval(leftNode, input);
		if (typeof left === 'number' && left < 0) {
			return left;
		}

		const right = this.eval(rightNode, input);
		if (typeof right === 'number' && right < 0) {
			return right;
		}

		if (typeof left === 'number' || typeof right === 'number' || left.length === 0 || right.length === 0) {
			return 0;
		}

		const {op} = (bound.node as Extract<BoundNode['node'], {kind: 'binary'}>);
		const leftIndom = leftNode.desc.indom !== PM_INDOM_NULL;
		const rightIndom = rightNode.desc.indom !== PM_INDOM_NULL;
		let numval: number;
		if (!leftIndom) {
			numval = right.length;
		} else if (rightIndom) {
			numval = Math.min(left.length, right.length);
		} else {
			numval = left.length;
		}

		const relationalOrBoolean = ['<', '<=', '==', '>=', '>', '!=', '&&', '||'].includes(op);
		const out: InstanceAtom[] = [];
		let i = 0;
		let j = 0;
		while (out.length < numval) {
			if (i >= left.length || j >= right.length) {
				break;
			}

			if (leftIndom && rightIndom && left[i]!.inst !== right[j]!.inst) {
				const wanted = left[i]!.inst;
				j = right.findIndex(item => item.inst === wanted);
				if (j === -1) {
					i++;
					j = 0;
					continue;
				}
			}

			const a = left[i]!;
			const b = right[j]!;
			let value: AtomValue;
			if (relationalOrBoolean) {
				const resultType = promoted(leftNode.desc.type, rightNode.desc.type);
				value = toType(PM_TYPE_U32, binOp(resultType, op, a.value, leftNode, b.value, rightNode));
			} else {
				value = binOp(bound.desc.type, op, a.value, leftNode, b.value, rightNode);
			}

			out.push({inst: leftIndom ? a.inst : b.inst, value});
			if (leftIndom) {
				i++;
				if (rightIndom) {
					j++;
					if (j >= right.length) {
						j = 0;
					}
				}
			} else if (rightIndom) {
				j++;
			}
		}

		return out;
	}
}
