/**
 * Derived metrics over any collector: a MetricSource wrapper that binds the registry's expressions
 * to the wrapped source's metrics by name (a PCP metric, a Zabbix key, an Icinga perfdata metric)
 * and evaluates them on every fetch as libpcp does (docs/pcp.md#derived-evaluation): rate() and
 * delta() use the previous fetch, so the first sample has no values, as with pmval.
 * An operand the collector does not have that is another derived metric is bound and evaluated
 * here too, from the collector's values, once per fetch (docs/pcp.md#nested-derived-metrics);
 * a cycle, or nesting deeper than maxNestedDepth, does not bind.
 */
import type {
	InstanceValue, MetricDesc, MetricValues, Sample, Value,
} from '../model.js';
import {
	boundNames, type MetricSource, type NameError, type NameList,
} from '../source.js';
import {pmErrStr} from '../../protocols/pcp/errors.js';
import {
	metricTypeOf, pcpSemCode, pcpTypeCode, semanticsOf, unitsText,
} from '../../protocols/pcp/model.js';
import type {DerivedDefinition, DerivedRegistry} from './config.js';
import {Evaluator, type AtomValue, type OperandResult} from './evaluate.js';
import {bindDerived, metricNames, type BindResult} from './infer.js';
import {
	PM_IN_NULL, PM_INDOM_NULL, PM_TYPE_32, PM_TYPE_64, PM_TYPE_DOUBLE, PM_TYPE_FLOAT, PM_TYPE_U32,
	PM_TYPE_U64, type PcpDescriptor,
} from './types.js';

/** PM_ERR_VALUE: a value the collector gave that is not of the operand's type. */
const PM_ERR_VALUE = -12_384;

/**
 * How many derived metrics deep an operand may be (a metric whose operand is derived is at depth
 * 1). libpcp 6.0.3 has no limit (a cycle overflows its stack) and PCP 6.2.2 forbids nesting; this
 * keeps binding and evaluation bounded however a configuration is written.
 */
export const maxNestedDepth = 10;

type Bound = Extract<BindResult, {ok: true}> & {
	metric: DerivedDefinition;
	evaluator: Evaluator;
	desc: PcpDescriptor;
	/** Operands that are other derived metrics (the collector does not have them), evaluated first. */
	nested: Map<string, Bound>;
	/** How many derived metrics deep its operands go (0: only the collector's metrics). */
	height: number;
	/** Its deepest chain of derived operands, from itself down. */
	deepest: string[];
};

/** One derived metric's values in one fetch, with the instance names its operands gave. */
type Evaluated = {got: OperandResult; names: Map<number, string>; nullInstance: boolean};

function descriptorOf(desc: MetricDesc): PcpDescriptor {
	return {
		pmid: desc.pmid ?? 0,
		type: pcpTypeCode(desc.type, desc.typeCode),
		sem: pcpSemCode(desc.semantics, desc.semCode),
		indom: (desc.indom ?? PM_INDOM_NULL) >>> 0,
		units: desc.units,
	};
}

/** A collector's value in the representation the evaluator uses for the operand's type. */
function atomOf(type: number, value: Value): AtomValue | undefined {
	const number = typeof value === 'string' ? Number(value.trim()) : value;
	switch (type) {
		case PM_TYPE_64: case PM_TYPE_U64: {
			if (typeof number === 'bigint') {
				return number;
			}

			return typeof number === 'number' && Number.isInteger(number) ? BigInt(number) : undefined;
		}

		case PM_TYPE_32: case PM_TYPE_U32: case PM_TYPE_FLOAT: case PM_TYPE_DOUBLE: {
			if (typeof number === 'bigint') {
				return Number(number);
			}

			return typeof number === 'number' && !Number.isNaN(number) ? number : undefined;
		}

		default: {
			return value;
		}
	}
}

function operandResult(desc: PcpDescriptor, result: MetricValues | undefined): OperandResult {
	if (result === undefined || result.status === 'novalues') {
		return 0;
	}

	if (result.status === 'error') {
		return result.code < 0 ? result.code : PM_ERR_VALUE;
	}

	const atoms = [];
	for (const value of result.values) {
		const atom = atomOf(desc.type, value.value);
		if (atom === undefined) {
			return PM_ERR_VALUE;
		}

		atoms.push({inst: value.instance ?? PM_IN_NULL, value: atom});
	}

	return atoms;
}

function underPrefix(prefix: string, name: string): boolean {
	return name === prefix || name.startsWith(`${prefix}.`);
}

export class DerivedSource implements MetricSource {
	readonly #inner: MetricSource;
	/** The registry, read when first needed (sources.ts: a run whose names are all the collector's never reads it). */
	readonly #registryOf: () => DerivedRegistry;
	readonly #diagnostic: (text: string) => void;
	/** Names the caller described (the operands the wrapper adds are left out of samples). */
	readonly #wanted = new Set<string>();
	/** The derived metrics among them, in the order describe() gave them. */
	#wantedDerived: Bound[] = [];
	readonly #bound: Bound[] = [];
	readonly #operandDescs = new Map<string, PcpDescriptor>();
	/** Metrics on a cycle of derived operands: never bound, said once. */
	readonly #refused = new Set<DerivedDefinition>();
	/** Diagnostics already printed (describe() runs again when the panes change their metrics). */
	readonly #said = new Set<string>();

	constructor(inner: MetricSource, registry: DerivedRegistry | (() => DerivedRegistry), diagnostic: (text: string) => void) {
		this.#inner = inner;
		this.#registryOf = typeof registry === 'function' ? registry : () => registry;
		this.#diagnostic = diagnostic;
	}

	get target(): string {
		return this.#inner.target;
	}

	get host(): string {
		return this.#inner.host;
	}

	get port(): number {
		return this.#inner.port;
	}

	get tls() {
		return this.#inner.tls;
	}

	get answeredWith() {
		return this.#inner.answeredWith;
	}

	get hostspec() {
		return this.#inner.hostspec;
	}

	/**
	 * The collector's own metrics first (a real name wins over a derived one, as in libpcp);
	 * a name it does not know that names or prefixes derived metrics becomes those. Each call
	 * replaces the list the samples hold (the panes add and remove metrics at run time); the inner
	 * source only ever adds (metrics/source.ts), so fetch() leaves out what is no longer named.
	 */
	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: NameError[]}> {
		this.#wanted.clear();
		this.#wantedDerived = [];
		const asked = new Set(names);
		const operandsOnly = (known: Iterable<string>) => [...known].filter(name => !asked.has(name));
		const mine = (name: string) => asked.has(name) || names.some(prefix => underPrefix(prefix, name)) || !this.#operandDescs.has(name);
		const all = await this.#inner.describe([...names, ...operandsOnly(this.#operandDescs.keys())]);
		const real = {descs: all.descs.filter(desc => mine(desc.name)), errors: all.errors.filter(error => asked.has(error.name))};
		for (const desc of real.descs) {
			this.#wanted.add(desc.name);
		}

		const candidates = new Map<string, DerivedDefinition[]>();
		for (const {name} of real.errors) {
			const matching = this.#registryOf().metrics.filter(metric => !metric.anon && underPrefix(name, metric.name) && !this.#wanted.has(metric.name));
			if (matching.length > 0) {
				candidates.set(name, matching);
			}
		}

		const metrics = [...new Set([...candidates.values()].flat())].filter(metric => !this.#bound.some(bound => bound.metric === metric));
		const nested = await this.#describeOperands(names, metrics);
		for (const metric of metrics) {
			this.#bind(metric, nested, []);
		}

		const descs = [...real.descs];
		const errors = [];
		for (const error of real.errors) {
			const bound = (candidates.get(error.name) ?? []).map(metric => this.#bound.find(entry => entry.metric === metric)).filter(entry => entry !== undefined);
			if (bound.length === 0) {
				errors.push(error);
				continue;
			}

			for (const entry of bound) {
				if (!this.#wanted.has(entry.metric.name)) {
					this.#wanted.add(entry.metric.name);
					this.#wantedDerived.push(entry);
				}

				descs.push(this.#descOf(entry));
			}
		}

		return {descs, errors};
	}

	/**
	 * Only these of the names the last describe() answered, and the operands their derived metrics
	 * need, are sampled from now on: the inner source drops the rest (the panes' `d`).
	 */
	retain(names: string[]): void {
		const keep = new Set(names);
		for (const name of this.#wanted) {
			if (!keep.has(name)) {
				this.#wanted.delete(name);
			}
		}

		const derived = this.#bound.filter(entry => this.#wanted.has(entry.metric.name));
		const derivedNames = new Set(derived.map(entry => entry.metric.name));
		const inner = new Set([...this.#wanted].filter(name => !derivedNames.has(name)));
		for (const entry of derived) {
			for (const operand of entry.operands) {
				inner.add(operand);
			}
		}

		this.#inner.retain?.([...inner]);
	}

	async fetch(): Promise<Sample> {
		const sample = await this.#inner.fetch();
		const byName = new Map(sample.metrics.map(metric => [metric.name, metric.result]));
		// What the last describe() named: not the operands the wrapper added (unless asked for too), nor
		// metrics an earlier describe() named (the inner source keeps sampling those: metrics/source.ts).
		const metrics = sample.metrics.filter(metric => this.#wanted.has(metric.name));
		const timestamp = sample.timestamp.getTime() / 1000;
		const evaluated = new Map<Bound, Evaluated>();
		for (const entry of this.#wantedDerived) {
			const {got, names, nullInstance} = this.#evaluate(entry, byName, timestamp, evaluated);
			metrics.push({name: entry.metric.name, result: this.#resultOf(got, names, nullInstance)});
		}

		return {...sample, metrics};
	}

	/** The collector's names, then the derived ones it does not have (as libpcp adds them to the PMNS, event.flags and event.missed too). */
	async listNames(): Promise<NameList> {
		const inner = this.#inner.listNames ? await this.#inner.listNames() : {entries: [], truncated: false};
		const known = new Set(inner.entries.map(entry => entry.name));
		const derived = this.#registryOf().metrics
			.filter(metric => !known.has(metric.name))
			.map(metric => ({name: metric.name, path: metric.name.split('.')}));
		const list = boundNames([...inner.entries, ...derived], inner.note);
		return {...list, truncated: list.truncated || inner.truncated};
	}

	async helpText(name: string): Promise<string | undefined> {
		const inner = this.#inner.helpText ? await this.#inner.helpText(name) : undefined;
		if (inner !== undefined) {
			return inner;
		}

		const metric = this.#registryOf().metrics.find(candidate => candidate.name === name);
		if (!metric) {
			return undefined;
		}

		return [metric.oneline, metric.helptext, `derived: ${metric.expr}`].filter(text => text !== undefined && text !== '').join('\n\n');
	}

	close(): void {
		this.#inner.close();
	}

	/**
	 * The collector's descriptors of the operands of `metrics`, level by level: an operand the
	 * collector does not have that names a derived metric is one more level, whose operands are
	 * asked next (at most maxNestedDepth + 1 levels). Returns the derived metrics found so.
	 */
	async #describeOperands(names: string[], metrics: DerivedDefinition[]): Promise<Map<string, DerivedDefinition>> {
		const nested = new Map<string, DerivedDefinition>();
		const operandsOnly = (known: Iterable<string>) => [...known].filter(name => !names.includes(name));
		let level = metrics;
		for (let depth = 0; depth <= maxNestedDepth && level.length > 0; depth++) {
			const operands = [...new Set(level.flatMap(metric => metricNames(metric.tree, true)))]
				.filter(name => !this.#operandDescs.has(name) && !nested.has(name) && !this.#bound.some(bound => bound.metric.name === name));
			if (operands.length === 0) {
				break;
			}

			const got = await this.#inner.describe([...names, ...operandsOnly(new Set([...this.#operandDescs.keys(), ...operands]))]);
			const wanted = new Set(operands);
			for (const desc of got.descs) {
				if (wanted.has(desc.name)) {
					this.#operandDescs.set(desc.name, descriptorOf(desc));
				}
			}

			level = [];
			for (const name of operands) {
				const metric = this.#operandDescs.has(name) ? undefined : this.#registryOf().metrics.find(candidate => !candidate.anon && candidate.name === name);
				if (metric) {
					nested.set(name, metric);
					level.push(metric);
				}
			}
		}

		return nested;
	}

	/**
	 * Binds `metric` after the derived metrics among its operands (depth first, as libpcp's
	 * bind_expr looks operands up); `path` is the chain of metrics that named it. A metric on its
	 * own path (a cycle) does not bind, nor one whose chain of derived operands, counted from the
	 * metric asked for, goes deeper than maxNestedDepth; each says so once.
	 */
	#bind(metric: DerivedDefinition, nested: ReadonlyMap<string, DerivedDefinition>, path: DerivedDefinition[]): Bound | undefined {
		const done = this.#bound.find(bound => bound.metric === metric);
		if (done || this.#refused.has(metric)) {
			return done;
		}

		const chain = [...path, metric];
		const tooDeep = (below: string[]) => {
			const names = [...chain.map(entry => entry.name), ...below];
			this.#say(`Semantic error: derived metric ${names[0]!}: Derived metrics nested more than ${maxNestedDepth} deep (${names.join(' -> ')}); define one of them from the collector's metrics\n`);
		};

		const inner = new Map<string, Bound>();
		for (const name of new Set(metricNames(metric.tree, true))) {
			const operand = this.#operandDescs.has(name) ? undefined : (nested.get(name) ?? this.#bound.find(bound => bound.metric.name === name)?.metric);
			if (!operand) {
				continue;
			}

			if (chain.includes(operand)) {
				const members = chain.slice(chain.indexOf(operand));
				for (const member of members) {
					this.#refused.add(member);
				}

				const cycle = [...members, operand].map(entry => entry.name).join(' -> ');
				this.#say(`Semantic error: derived metric ${metric.name}: operand ${name}: Derived metrics in a cycle (${cycle}): none of them has a value; change one of their expressions\n`);
				return undefined;
			}

			if (chain.length > maxNestedDepth) {
				tooDeep([name]);
				return undefined;
			}

			const bound = this.#bind(operand, nested, chain);
			if (!bound) {
				return undefined;
			}

			// Bound before, from a shorter chain: its own depth counts from here.
			if (chain.length + bound.height > maxNestedDepth) {
				tooDeep(bound.deepest);
				return undefined;
			}

			inner.set(name, bound);
		}

		const result = bindDerived(metric, name => this.#operandDescs.get(name) ?? inner.get(name)?.desc);
		if (!result.ok) {
			if (result.message !== undefined) {
				this.#say(result.message);
			}

			return undefined;
		}

		const deepest = [...inner.values()].reduce<Bound | undefined>((best, entry) => (best === undefined || entry.height > best.height ? entry : best), undefined);
		const bound: Bound = {
			...result,
			metric,
			evaluator: new Evaluator(result.expr),
			desc: result.desc,
			nested: inner,
			height: deepest === undefined ? 0 : deepest.height + 1,
			deepest: [metric.name, ...(deepest?.deepest ?? [])],
		};
		this.#bound.push(bound);
		return bound;
	}

	/** One fetch's values of `entry`: its nested operands first, each evaluated once per fetch (`done`). */
	#evaluate(entry: Bound, byName: ReadonlyMap<string, MetricValues>, timestamp: number, done: Map<Bound, Evaluated>): Evaluated {
		const already = done.get(entry);
		if (already) {
			return already;
		}

		const values = new Map<string, OperandResult>();
		const names = new Map<number, string>();
		let nullInstance = false;
		for (const operand of entry.operands) {
			const inner = entry.nested.get(operand);
			if (inner) {
				const got = this.#evaluate(inner, byName, timestamp, done);
				values.set(operand, got.got);
				nullInstance ||= got.nullInstance;
				for (const [inst, name] of got.names) {
					names.set(inst, name);
				}

				continue;
			}

			const result = byName.get(operand);
			values.set(operand, operandResult(this.#operandDescs.get(operand)!, result));
			for (const value of result?.status === 'ok' ? result.values : []) {
				nullInstance ||= value.instance === PM_IN_NULL;
				if (value.instance !== undefined && value.name !== undefined) {
					names.set(value.instance, value.name);
				}
			}
		}

		const got = entry.evaluator.evaluate({
			timestamp,
			values,
			lookupInstance: (_indom, name) => [...names].find(([, instance]) => instance === name || instance.split(' ')[0] === name)?.[0],
			instanceName: (_indom, inst) => names.get(inst),
		});
		const evaluated = {got, names, nullInstance};
		done.set(entry, evaluated);
		return evaluated;
	}

	#say(text: string): void {
		if (!this.#said.has(text)) {
			this.#said.add(text);
			this.#diagnostic(text);
		}
	}

	#descOf(entry: Bound): MetricDesc {
		const {desc, metric} = entry;
		return {
			name: metric.name,
			type: metricTypeOf(desc.type),
			semantics: semanticsOf(desc.sem) ?? 'instant',
			units: desc.units,
			unitsText: unitsText(desc.units),
			pmid: metric.pmid,
			indom: desc.indom,
			typeCode: desc.type,
			semCode: desc.sem,
			...(metric.oneline === undefined ? {} : {oneline: metric.oneline}),
		};
	}

	/** `nullInstance`: the collector marks singular values with PM_IN_NULL (PCP) rather than no instance. */
	#resultOf(got: OperandResult, names: ReadonlyMap<number, string>, nullInstance: boolean): MetricValues {
		if (typeof got === 'number') {
			return got === 0 ? {status: 'novalues'} : {status: 'error', code: got, message: pmErrStr(got)};
		}

		const values: InstanceValue[] = got.map(({inst, value}) => {
			const name = names.get(inst);
			return {
				...(inst === PM_IN_NULL && !nullInstance ? {} : {instance: inst}),
				...(name === undefined ? {} : {name}),
				value,
			};
		});
		return {status: 'ok', values};
	}
}
