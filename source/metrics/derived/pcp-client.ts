/**
 * A PCP session with derived metrics, as libpcp gives them to every client: the PMNS, descriptor,
 * help-text and fetch calls of PcpClient, answering for derived names and PMIDs (domain 511) from
 * the registry and passing everything else to pmcd (docs/pcp.md#derived-metrics-in-pminfo).
 * Binding happens when a derived name is first traversed, looked up or described, as in libpcp;
 * its "Semantic error" line goes to `diagnostic`.
 */
import {PM_ERR, PM_TEXT} from '../../protocols/pcp/constants.js';
import {isPcpError, PcpError} from '../../protocols/pcp/errors.js';
import type {FetchOptions, PcpClient} from '../../protocols/pcp/client.js';
import type {
	LabelReply, PcpDesc, PcpResult, PcpValueSet,
} from '../../protocols/pcp/pdu.js';
import type {DerivedDefinition, DerivedRegistry} from './config.js';
import {Evaluator, type OperandResult} from './evaluate.js';
import {bindDerived, metricNames, type BindResult} from './infer.js';
import {
	derivedByName, derivedByPmid, derivedHelpText, derivedTraverse,
} from './namespace.js';
import {DYNAMIC_PMID_DOMAIN, PM_INDOM_NULL, type PcpDescriptor} from './types.js';

/** The PcpClient calls pminfo's job makes. */
export type PmnsClient = Pick<PcpClient, 'traverse' | 'lookupNames' | 'namesOf' | 'descriptors' | 'fetch' | 'text' | 'instances'>
	& Partial<Pick<PcpClient, 'labels' | 'descriptor' | 'instanceId'>>;

const isDerivedPmid = (pmid: number) => (pmid >>> 22) === DYNAMIC_PMID_DOMAIN;

type Bound = BindResult & {operandPmids?: Map<string, number>};

export class DerivedPcpClient implements PmnsClient {
	readonly #client: PmnsClient;
	readonly #registry: DerivedRegistry;
	readonly #diagnostic: (text: string) => void;
	readonly #bound = new Map<DerivedDefinition, Bound>();
	readonly #evaluators = new Map<DerivedDefinition, Evaluator>();
	readonly #instances = new Map<number, Array<{inst: number; name: string}>>();

	constructor(client: PmnsClient, registry: DerivedRegistry, diagnostic: (text: string) => void) {
		this.#client = client;
		this.#registry = registry;
		this.#diagnostic = diagnostic;
	}

	/** The registry's metrics that bound on this collector, with their descriptors. */
	get registry(): DerivedRegistry {
		return this.#registry;
	}

	/** pmTraversePMNS: pmcd's names, then the derived ones at or below `name` that bind. */
	async traverse(name: string): Promise<string[]> {
		let real: string[] = [];
		let failure: PcpError | undefined;
		try {
			real = await this.#client.traverse(name);
		} catch (error) {
			if (!isPcpError(error) || error.code !== PM_ERR.NAME) {
				throw error;
			}

			failure = error;
		}

		const matching = this.#registry.metrics.filter(metric => name === '' || metric.name === name || metric.name.startsWith(`${name}.`));
		await this.#bind(matching);
		const derived = derivedTraverse(this.#registry, name, metric => !this.#bound.get(metric)?.ok);
		if (derived.length === 0 && failure !== undefined) {
			throw failure;
		}

		return [...real, ...derived];
	}

	/** pmLookupName: pmcd's answer, and a derived PMID where pmcd has no such name. */
	async lookupNames(names: string[]): Promise<Array<number | PcpError>> {
		const real = await this.#client.lookupNames(names);
		const derived = names.map((name, index) => {
			const entry = real[index];
			return entry !== undefined && typeof entry !== 'number' && entry.code === PM_ERR.NAME ? derivedByName(this.#registry, name) : undefined;
		}).filter(metric => metric !== undefined);
		await this.#bind(derived);
		return real.map((entry, index) => {
			if (typeof entry === 'number' || entry.code !== PM_ERR.NAME) {
				return entry;
			}

			const metric = derivedByName(this.#registry, names[index]!);
			return metric && this.#bound.get(metric)?.ok ? metric.pmid : entry;
		});
	}

	async namesOf(pmid: number): Promise<string[]> {
		if (!isDerivedPmid(pmid)) {
			return this.#client.namesOf(pmid);
		}

		const metric = derivedByPmid(this.#registry, pmid);
		if (metric) {
			await this.#bind([metric]);
		}

		if (!metric || !this.#bound.get(metric)?.ok) {
			throw new PcpError(PM_ERR.PMID);
		}

		return [metric.name];
	}

	async descriptors(pmids: number[]): Promise<Array<PcpDesc | PcpError>> {
		const real = pmids.filter(pmid => !isDerivedPmid(pmid));
		const got = real.length > 0 ? await this.#client.descriptors(real) : [];
		const byPmid = new Map(real.map((pmid, index) => [pmid, got[index]!]));
		const metrics = pmids.map(pmid => isDerivedPmid(pmid) ? derivedByPmid(this.#registry, pmid) : undefined);
		await this.#bind(metrics.filter(metric => metric !== undefined));
		return pmids.map((pmid, index) => {
			if (!isDerivedPmid(pmid)) {
				return byPmid.get(pmid)!;
			}

			const bound = metrics[index] && this.#bound.get(metrics[index]);
			return bound?.ok ? bound.desc : new PcpError(PM_ERR.PMID);
		});
	}

	async text(ident: number, kind: number): Promise<string> {
		if ((kind & PM_TEXT.INDOM) !== 0 || !isDerivedPmid(ident)) {
			return this.#client.text(ident, kind);
		}

		const metric = derivedByPmid(this.#registry, ident);
		if (!metric) {
			throw new PcpError(PM_ERR.PMID);
		}

		const got = derivedHelpText(metric, (kind & PM_TEXT.ONELINE) === 0 ? 'help' : 'oneline', (kind & PM_TEXT.DIRECT) !== 0);
		if ('error' in got) {
			throw new PcpError(got.error);
		}

		return got.text;
	}

	async instances(indom: number): Promise<Array<{inst: number; name: string}>> {
		return this.#client.instances(indom);
	}

	/** PmLookupDesc of one metric (pmval): PcpError(PM_ERR_PMID) when unknown or unbound. */
	async descriptor(pmid: number): Promise<PcpDesc> {
		const [desc] = await this.descriptors([pmid]);
		if (desc === undefined || desc instanceof Error) {
			throw desc ?? new PcpError(PM_ERR.PMID);
		}

		return desc;
	}

	/** An instance's number by name (pmval -i): pmcd's answer. */
	async instanceId(indom: number, name: string): Promise<number> {
		if (!this.#client.instanceId) {
			throw new PcpError(PM_ERR.INDOM);
		}

		return this.#client.instanceId(indom, name);
	}

	/** Labels come from pmcd, for derived PMIDs too (libpcp's getlabels asks pmcd for any ident). */
	async labels(ident: number, type: number): Promise<LabelReply> {
		if (!this.#client.labels) {
			throw new PcpError(PM_ERR.NOLABELS); // A session without label requests (pmproxy): no labels, as libpcp's getlabels.
		}

		return this.#client.labels(ident, type);
	}

	/**
	 * pmFetch: the real metrics and every derived metric's operands in one fetch, then each
	 * derived metric's values from its operands' (__dmprefetch, __dmpostfetch).
	 */
	async fetch(pmids: number[], options: FetchOptions = {}): Promise<PcpResult> {
		const wanted = new Set<number>();
		const derived = new Map<number, {metric: DerivedDefinition; bound: Bound}>();
		for (const pmid of pmids) {
			if (!isDerivedPmid(pmid)) {
				wanted.add(pmid);
				continue;
			}

			const metric = derivedByPmid(this.#registry, pmid);
			const bound = metric && this.#bound.get(metric);
			if (metric && bound?.ok) {
				derived.set(pmid, {metric, bound});
				// A derived operand's PMID is not sent: pmcd answers it PM_ERR_NOAGENT (set below, as
				// libpcp gets it), and pmproxy refuses the whole fetch (HTTP 400).
				for (const operand of bound.operandPmids?.values() ?? []) {
					if (!isDerivedPmid(operand)) {
						wanted.add(operand);
					}
				}
			}
		}

		const list = [...wanted];
		// Nothing for the collector to fetch (only derived operands): answered here, as PcpClient
		// answers an empty list; pmproxy refuses an empty fetch.
		const now = Date.now();
		const result = list.length > 0
			? await this.#client.fetch(list, options)
			: {sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000, vsets: []};
		const sets = new Map(result.vsets.map(vset => [vset.pmid, vset]));
		const timestamp = result.sec + (result.nsec / 1e9);
		for (const {metric, bound} of derived.values()) {
			if (/\[|matchinst/v.test(metric.expr)) {
				await this.#loadInstances(bound);
			}
		}

		const vsets = pmids.map((pmid): PcpValueSet => {
			if (!isDerivedPmid(pmid)) {
				return sets.get(pmid)!;
			}

			const entry = derived.get(pmid);
			if (!entry?.bound.ok) {
				return {pmid, status: 'error', code: PM_ERR.PMID};
			}

			const values = new Map<string, OperandResult>();
			for (const [name, operand] of entry.bound.operandPmids ?? []) {
				if (isDerivedPmid(operand)) {
					values.set(name, PM_ERR.NOAGENT);
					continue;
				}

				const vset = sets.get(operand);
				values.set(name, vset === undefined || vset.status === 'novalues'
					? 0
					: (vset.status === 'error' ? vset.code : vset.values.map(atom => ({inst: atom.inst, value: atom.value}))));
			}

			let evaluator = this.#evaluators.get(entry.metric);
			if (!evaluator) {
				evaluator = new Evaluator(entry.bound.expr);
				this.#evaluators.set(entry.metric, evaluator);
			}

			const got = evaluator.evaluate({
				timestamp,
				values,
				// PmLookupInDom: the whole name, or its part up to the first space (docs/pcp.md#derived-evaluation).
				lookupInstance: (indom, name) => this.#instances.get(indom)?.find(instance => instance.name === name || instance.name.split(' ')[0] === name)?.inst,
				instanceName: (indom, inst) => this.#instances.get(indom)?.find(instance => instance.inst === inst)?.name,
			});
			if (typeof got === 'number') {
				return got === 0 ? {pmid, status: 'novalues'} : {pmid, status: 'error', code: got};
			}

			const {type} = entry.bound.desc;
			return {
				pmid, status: 'ok', valfmt: 0, values: got.map(atom => ({inst: atom.inst, type, value: atom.value})),
			};
		});
		return {sec: result.sec, nsec: result.nsec, vsets};
	}

	/**
	 * Binds the metrics not yet bound: their operands' PMIDs and descriptors in two requests. An
	 * operand pmcd does not know may be another derived metric, defined before or after (libpcp's
	 * bind_expr looks it up through pmLookupName and pmLookupDesc, which bind it first); a cycle
	 * does not bind. As in libpcp, such an operand's value is then PM_ERR_NOAGENT, pmcd's answer
	 * for its derived PMID (docs/pcp.md#derived-evaluation).
	 */
	async #bind(metrics: DerivedDefinition[], stack: ReadonlySet<DerivedDefinition> = new Set()): Promise<void> {
		const todo = metrics.filter(metric => !this.#bound.has(metric) && !stack.has(metric));
		if (todo.length === 0) {
			return;
		}

		const names = [...new Set(todo.flatMap(metric => [metric.name, ...metricNames(metric.tree, true)]))];
		const pmidOf = new Map<string, number>();
		const looked = await this.#client.lookupNames(names);
		const derivedOperands = new Set<string>();
		for (const [index, entry] of looked.entries()) {
			const name = names[index]!;
			if (typeof entry === 'number') {
				pmidOf.set(name, entry);
			} else if (entry.code === PM_ERR.NAME && derivedByName(this.#registry, name)) {
				derivedOperands.add(name);
			}
		}

		const descOf = new Map<string, PcpDescriptor>();
		const known = [...pmidOf.entries()];
		if (known.length > 0) {
			const descs = await this.#client.descriptors(known.map(([, pmid]) => pmid));
			for (const [index, [name]] of known.entries()) {
				const desc = descs[index];
				if (desc !== undefined && !(desc instanceof Error)) {
					descOf.set(name, desc);
				}
			}
		}

		for (const metric of todo) {
			if (this.#bound.has(metric)) {
				continue; // Bound meanwhile as another one's operand.
			}

			// Derived operands first, depth first; one on the way to itself is a cycle and does not bind.
			const inner = new Set([...stack, metric]);
			for (const name of metricNames(metric.tree, true)) {
				const operand = derivedOperands.has(name) ? derivedByName(this.#registry, name) : undefined;
				if (operand && operand !== metric) {
					await this.#bind([operand], inner);
				}
			}

			const operandOf = (name: string) => {
				const operand = derivedOperands.has(name) ? derivedByName(this.#registry, name) : undefined;
				const bound = operand && operand !== metric ? this.#bound.get(operand) : undefined;
				return bound?.ok ? {pmid: operand!.pmid, desc: bound.desc} : undefined;
			};

			const result: Bound = bindDerived(metric, name => descOf.get(name) ?? operandOf(name)?.desc, name => pmidOf.has(name) || operandOf(name) !== undefined);
			if (result.ok) {
				result.operandPmids = new Map(result.operands.map(name => [name, pmidOf.get(name) ?? operandOf(name)!.pmid]));
			} else if (result.message !== undefined) {
				this.#diagnostic(result.message);
			}

			this.#bound.set(metric, result);
		}
	}

	async #loadInstances(bound: Bound): Promise<void> {
		if (!bound.ok) {
			return;
		}

		const indoms = new Set<number>();
		const walk = (node: typeof bound.expr) => {
			if (node.desc.indom !== PM_INDOM_NULL) {
				indoms.add(node.desc.indom);
			}

			for (const child of node.children) {
				walk(child);
			}
		};

		walk(bound.expr);
		for (const indom of indoms) {
			if (!this.#instances.has(indom)) {
				this.#instances.set(indom, await this.#client.instances(indom).catch(() => []));
			}
		}
	}
}
