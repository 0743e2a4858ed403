/**
 * The collector's PMNS: a tree built from the served metric names, answering
 * the four name operations the way pmcd does (docs/pcp.md#pmns-requests; pmcd
 * dopdus.c and libpcp pmns.c for the edge cases).
 */
import {PM_ERR} from '../protocols/pcp/constants.js';
import {pcpError, PcpCodeError} from './errors.js';

type Node = {
	children: Map<string, Node>;
	/** Set for leaves. */
	pmid?: number;
};

export type ChildEntry = {name: string; leaf: boolean};

export class Namespace {
	private readonly root: Node = {children: new Map()};
	private readonly names = new Map<number, string[]>();

	constructor(metrics: ReadonlyArray<{name: string; pmid: number}>) {
		for (const {name, pmid} of metrics) {
			this.add(name, pmid);
		}
	}

	/** Every leaf name below `name` ("" is the root), depth first; a leaf gives itself. PM_ERR_NAME if unknown. */
	traverse(name: string): string[] {
		const node = this.locate(name);
		if (!node) {
			throw pcpError('NAME');
		}

		const result: string[] = [];
		const walk = (current: Node, prefix: string) => {
			if (current.pmid !== undefined) {
				result.push(prefix);
				return;
			}

			for (const [component, child] of current.children) {
				walk(child, prefix === '' ? component : `${prefix}.${component}`);
			}
		};

		walk(node, name);
		return result;
	}

	/**
	 * pmLookupName: a pmid per name, PM_ID_NULL (0xffffffff) for unknown and
	 * non-leaf names. With exactly one name, those are errors instead
	 * (PM_ERR_NAME, PM_ERR_NONLEAF), as pmcd answers.
	 */
	lookup(names: readonly string[]): {found: number; pmids: number[]} {
		let found = 0;
		const pmids = names.map(name => {
			const node = this.locate(name);
			if (node?.pmid === undefined) {
				if (names.length === 1) {
					throw new PcpCodeError(node ? PM_ERR.NONLEAF : PM_ERR.NAME);
				}

				return 0xFF_FF_FF_FF;
			}

			found++;
			return node.pmid;
		});
		return {found, pmids};
	}

	/** All names of a pmid (pmNameAll); PM_ERR_PMID if none. */
	namesOf(pmid: number): string[] {
		const names = this.names.get(pmid);
		if (!names) {
			throw pcpError('PMID');
		}

		return names;
	}

	/** Immediate children of a name: empty for a leaf, PM_ERR_NAME if unknown. */
	children(name: string): ChildEntry[] {
		const node = this.locate(name);
		if (!node) {
			throw pcpError('NAME');
		}

		return [...node.children].map(([component, child]) => ({name: component, leaf: child.pmid !== undefined}));
	}

	private locate(name: string): Node | undefined {
		if (name === '') {
			return this.root;
		}

		let node: Node | undefined = this.root;
		for (const component of name.split('.')) {
			node = node.children.get(component);
			if (!node) {
				return undefined;
			}
		}

		return node;
	}

	private add(name: string, pmid: number): void {
		let node = this.root;
		const components = name.split('.');
		if (components.includes('')) {
			throw new Error(`internal: bad metric name ${JSON.stringify(name)}`);
		}

		for (const component of components) {
			if (node.pmid !== undefined) {
				throw new Error(`internal: metric name ${name} is below the leaf of another metric`);
			}

			let child = node.children.get(component);
			if (!child) {
				child = {children: new Map()};
				node.children.set(component, child);
			}

			node = child;
		}

		if (node.children.size > 0 || (node.pmid !== undefined && node.pmid !== pmid)) {
			throw new Error(`internal: metric name ${name} clashes with another`);
		}

		node.pmid = pmid;
		this.names.set(pmid, [...(this.names.get(pmid) ?? []), name]);
	}
}
