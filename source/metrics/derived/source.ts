/**
 * Derived metrics over any collector: a MetricSource wrapper that binds the registry's expressions
 * to the wrapped source's metrics by name (a PCP metric, a Zabbix key, an Icinga perfdata metric)
 * and evaluates them on every fetch as libpcp does (docs/pcp.md#derived-evaluation): rate() and
 * delta() use the previous fetch, so the first sample has no values, as with pmval.
 */
import type {
	InstanceValue, MetricDesc, MetricValues, Sample, Value,
} from '../model.js';
import {boundNames, type MetricSource, type NameList} from '../source.js';
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

type Bound = Extract<BindResult, {ok: true}> & {metric: DerivedDefinition; evaluator: Evaluator; desc: PcpDescriptor};

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
	readonly #bound: Bound[] = [];
	readonly #operandDescs = new Map<string, PcpDescriptor>();

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
	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: Array<{name: string; message: string}>}> {
		this.#wanted.clear();
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
		const operands = [...new Set(metrics.flatMap(metric => metricNames(metric.tree)))].filter(name => !this.#operandDescs.has(name));
		if (operands.length > 0) {
			const got = await this.#inner.describe([...names, ...operandsOnly(new Set([...this.#operandDescs.keys(), ...operands]))]);
			const wanted = new Set(operands);
			for (const desc of got.descs) {
				if (wanted.has(desc.name)) {
					this.#operandDescs.set(desc.name, descriptorOf(desc));
				}
			}
		}

		for (const metric of metrics) {
			const result = bindDerived(metric, name => this.#operandDescs.get(name));
			if (result.ok) {
				this.#bound.push({
					...result, metric, evaluator: new Evaluator(result.expr), desc: result.desc,
				});
			} else if (result.message !== undefined) {
				this.#diagnostic(result.message);
			}
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
				this.#wanted.add(entry.metric.name);
				descs.push(this.#descOf(entry));
			}
		}

		return {descs, errors};
	}

	async fetch(): Promise<Sample> {
		const sample = await this.#inner.fetch();
		const byName = new Map(sample.metrics.map(metric => [metric.name, metric.result]));
		// What the last describe() named: not the operands the wrapper added (unless asked for too), nor
		// metrics an earlier describe() named (the inner source keeps sampling those: metrics/source.ts).
		const metrics = sample.metrics.filter(metric => this.#wanted.has(metric.name));
		const timestamp = sample.timestamp.getTime() / 1000;
		for (const entry of this.#bound) {
			if (!this.#wanted.has(entry.metric.name)) {
				continue;
			}

			const values = new Map<string, OperandResult>();
			const names = new Map<number, string>();
			let nullInstance = false;
			for (const operand of entry.operands) {
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
