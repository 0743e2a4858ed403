/**
 * Check results as metrics, shared by the Icinga 2, Livestatus and mon sources (pure).
 *
 * Names: `KIND:OBJECT.LEAF`, e.g. `service:web-01!temperature.temp`, `host:secmon-local.rta`,
 * `status:CIB.num_services_ok`. Every object has the leaves `state` (number), `status` (its name:
 * OK, WARNING, FAIL, …) and `output` (the plugin's text), then one leaf per perfdata label; a
 * label that collides with one of those is named `perf.LABEL`.
 *
 * A name given by the user expands like a non-leaf PCP name, but only along the structure (never
 * by string prefix, because host names contain dots): `service` → every service,
 * `service:web-01` → its services, `service:web-01!temperature` → that service's leaves.
 */
import {
	boundNames, unknownMetric, type NameError, type NameList,
} from '../../metrics/source.js';
import type {Thresholds} from '../../metrics/thresholds.js';
import {
	noUnits, type MetricDesc, type MetricType, type MetricValues, type Sample, type Semantics, type Units, type Value,
} from '../../metrics/model.js';
import {
	describeThresholds, perfMetricUnits, type PerfValue,
} from './perfdata.js';

export type Leaf = {
	leaf: string;
	type: MetricType;
	semantics: Semantics;
	units: Units;
	unitsText: string;
	oneline?: string;
	/** The perfdata's warn and crit ranges. */
	thresholds?: Thresholds;
	/** Undefined: no value right now (no check result yet, `U`). */
	value: Value | undefined;
};

export type CheckObject = {
	/** 'host' | 'service' | 'status' … */
	kind: string;
	/** ['web-01', 'temperature'] for a service, ['secmon-local'] for a host. */
	parts: string[];
	leaves: Leaf[];
};

export const reservedLeaves = new Set(['state', 'status', 'output']);

export function objectPath(object: Pick<CheckObject, 'kind' | 'parts'>): string {
	return `${object.kind}:${object.parts.join('!')}`;
}

/** Facts every check result has; `stateNames` maps the state number to its name. */
export type CheckFacts = {
	state: number | undefined;
	stateNames: readonly string[];
	output: string | undefined;
	perfdata: PerfValue[];
	/** What kind of object this is, for help texts ("service web-01!temperature"). */
	what: string;
	/** Protocol-specific numbers (last_check, execution_time, …). */
	extras?: Leaf[];
};

export function stateLeaf(state: number | undefined, stateNames: readonly string[], what: string): Leaf {
	return {
		leaf: 'state',
		type: 'u32',
		semantics: 'discrete',
		units: noUnits,
		unitsText: 'none',
		oneline: `check state of ${what}: ${stateNames.map((name, index) => `${index} ${name}`).filter((_, index) => stateNames[index] !== '').join(', ')}`,
		value: state,
	};
}

export function textLeaf(leaf: string, value: string | undefined, oneline: string): Leaf {
	return {
		leaf, type: 'string', semantics: 'discrete', units: noUnits, unitsText: 'none', oneline, value,
	};
}

export function numberLeaf(leaf: string, value: number | undefined, options: {semantics?: Semantics; units?: Units; unitsText?: string; oneline?: string; type?: MetricType} = {}): Leaf {
	return {
		leaf,
		type: options.type ?? 'double',
		semantics: options.semantics ?? 'instant',
		units: options.units ?? noUnits,
		unitsText: options.unitsText ?? 'none',
		...(options.oneline === undefined ? {} : {oneline: options.oneline}),
		value,
	};
}

/** Perfdata values as leaves (labels that clash with a reserved leaf or an earlier label are renamed). */
export function perfLeaves(perfdata: readonly PerfValue[], what: string, taken = new Set<string>(reservedLeaves)): Leaf[] {
	const leaves: Leaf[] = [];
	const fixed = new Set(taken);
	for (const perf of perfdata) {
		let name = fixed.has(perf.label) ? `perf.${perf.label}` : perf.label;
		if (taken.has(name)) {
			// The same label twice: Icinga keeps both; so do we, numbered.
			let n = 2;
			while (taken.has(`${name}#${n}`)) {
				n++;
			}

			name = `${name}#${n}`;
		}

		taken.add(name);
		const {units, unitsText, semantics} = perfMetricUnits(perf);
		const thresholds = describeThresholds(perf);
		leaves.push({
			leaf: name,
			type: 'double',
			semantics,
			units,
			unitsText,
			oneline: `performance data "${perf.label}" of ${what}${thresholds ? ` (${thresholds})` : ''}`,
			...(perf.warn || perf.crit ? {thresholds: {...(perf.warn ? {warn: perf.warn} : {}), ...(perf.crit ? {crit: perf.crit} : {})}} : {}),
			value: perf.value,
		});
	}

	return leaves;
}

export function checkLeaves(facts: CheckFacts): Leaf[] {
	const stateName = facts.state === undefined ? undefined : facts.stateNames[facts.state] ?? `state ${facts.state}`;
	const leaves: Leaf[] = [
		stateLeaf(facts.state, facts.stateNames, facts.what),
		textLeaf('status', stateName, `check state of ${facts.what} as a word`),
		textLeaf('output', facts.output, `plugin output (summary) of ${facts.what}`),
		...(facts.extras ?? []),
	];
	const taken = new Set(leaves.map(leaf => leaf.leaf));
	leaves.push(...perfLeaves(facts.perfdata, facts.what, taken));
	return leaves;
}

type Entry = {name: string; object: CheckObject; leaf: Leaf; prefixes: string[]};

/** Every leaf by its full name, and the structural prefixes each one answers to. */
export class MetricTree {
	readonly entries: Entry[] = [];
	private readonly byName = new Map<string, Entry>();

	constructor(objects: readonly CheckObject[]) {
		const sorted = objects.toSorted((a, b) => objectPath(a).localeCompare(objectPath(b)));
		for (const object of sorted) {
			const path = objectPath(object);
			const prefixes = [object.kind];
			for (let i = 1; i <= object.parts.length; i++) {
				prefixes.push(`${object.kind}:${object.parts.slice(0, i).join('!')}`);
			}

			for (const leaf of object.leaves) {
				const name = `${path}.${leaf.leaf}`;
				if (this.byName.has(name)) {
					continue;
				}

				const entry = {
					name, object, leaf, prefixes: [...prefixes, name],
				};
				this.entries.push(entry);
				this.byName.set(name, entry);
			}
		}
	}

	get(name: string): Entry | undefined {
		return this.byName.get(name);
	}

	/** Every leaf for the metric browser: kind › object parts › leaf (tree order). */
	browse(): Array<{name: string; path: string[]}> {
		return this.entries.map(entry => ({name: entry.name, path: [entry.object.kind, ...entry.object.parts, entry.leaf.leaf]}));
	}

	/** User names → full leaf names (in tree order per name, no duplicates); no names = every leaf. */
	resolve(names: readonly string[]): {names: string[]; errors: NameError[]} {
		if (names.length === 0) {
			return {names: this.entries.map(entry => entry.name), errors: []};
		}

		const out: string[] = [];
		const seen = new Set<string>();
		const errors: NameError[] = [];
		for (const wanted of names) {
			const matches = this.entries.filter(entry => entry.prefixes.includes(wanted));
			if (matches.length === 0) {
				errors.push({name: wanted, message: unknownMetric.message});
				continue;
			}

			for (const entry of matches) {
				if (!seen.has(entry.name)) {
					seen.add(entry.name);
					out.push(entry.name);
				}
			}
		}

		return {names: out, errors};
	}

	desc(name: string): MetricDesc | undefined {
		const entry = this.byName.get(name);
		if (!entry) {
			return undefined;
		}

		const {leaf} = entry;
		return {
			name,
			type: leaf.type,
			semantics: leaf.semantics,
			units: leaf.units,
			unitsText: leaf.unitsText,
			...(leaf.oneline === undefined ? {} : {oneline: leaf.oneline}),
			...(leaf.thresholds === undefined ? {} : {thresholds: leaf.thresholds}),
		};
	}

	/** The current value of a leaf as MetricValues (novalues when the leaf or its value is missing). */
	values(name: string): MetricValues {
		const value = this.byName.get(name)?.leaf.value;
		return value === undefined ? {status: 'novalues'} : {status: 'ok', values: [{value}]};
	}
}

/**
 * The metric browser over check results (MetricSource listNames and helpText): every object the
 * collector lets the user query, as a tree; help texts come from the tree shown last, loaded once
 * if nothing was shown yet. `loadAll` reads every object (read-only: what fetch() follows stays).
 */
export class CheckBrowser {
	private shown: MetricTree | undefined;
	private readonly loadAll: () => Promise<readonly CheckObject[]>;

	constructor(loadAll: () => Promise<readonly CheckObject[]>) {
		this.loadAll = loadAll;
	}

	async listNames(): Promise<NameList> {
		this.shown = new MetricTree(await this.loadAll());
		return boundNames(this.shown.browse());
	}

	async helpText(name: string): Promise<string | undefined> {
		this.shown ??= new MetricTree(await this.loadAll());
		return this.shown.desc(name)?.oneline;
	}
}

/** What to ask the collector for, from the names the user gave. */
export type Wanted = {
	hosts: 'all' | 'none' | Set<string>;
	services: 'all' | 'none' | Set<string>;
	status: boolean;
};

/**
 * Narrow the queries by the names (Icinga and Livestatus). `host:NAME.LEAF` cannot be split safely (host names hold
 * dots), so every dot-prefix is a candidate host name; `service:HOST!…` names its host exactly.
 */
export function wantedFor(names: readonly string[]): Wanted {
	if (names.length === 0) {
		return {hosts: 'all', services: 'all', status: true};
	}

	let hosts: Wanted['hosts'] = 'none';
	let services: Wanted['services'] = 'none';
	let status = false;
	const add = (current: Wanted['hosts'], candidates: string[]): Wanted['hosts'] => {
		if (current === 'all') {
			return current;
		}

		const set = current === 'none' ? new Set<string>() : current;
		for (const candidate of candidates) {
			set.add(candidate);
		}

		return set;
	};

	for (const name of names) {
		const colon = name.indexOf(':');
		const kind = colon === -1 ? name : name.slice(0, colon);
		const rest = colon === -1 ? '' : name.slice(colon + 1);
		switch (kind) {
			case 'host': {
				if (rest === '') {
					hosts = 'all';
				} else {
					const pieces = rest.split('.');
					hosts = add(hosts, pieces.map((_, index) => pieces.slice(0, index + 1).join('.')));
				}

				break;
			}

			case 'service': {
				if (rest === '') {
					services = 'all';
				} else {
					const bang = rest.indexOf('!');
					services = add(services, [bang === -1 ? rest : rest.slice(0, bang)]);
				}

				break;
			}

			case 'status': {
				status = true;
				break;
			}

			default: {
				break;
			}
		}
	}

	return {hosts, services, status};
}

/** Which objects (by path) the given leaf names belong to. */
export function objectsOf(tree: MetricTree, names: readonly string[]): CheckObject[] {
	const objects = new Map<string, CheckObject>();
	for (const name of names) {
		const entry = tree.get(name);
		if (entry) {
			objects.set(objectPath(entry.object), entry.object);
		}
	}

	return [...objects.values()];
}

/** One sample of `names` from a fresh tree. */
export function sampleOf(tree: MetricTree, names: readonly string[], target: string, timestamp: Date): Sample {
	return {
		target,
		timestamp,
		metrics: names.map(name => ({name, result: tree.values(name)})),
	};
}
