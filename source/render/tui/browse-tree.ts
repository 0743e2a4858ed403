/**
 * The metric browser's view of a collector's names (pure): the children of a node of the tree
 * (PCP's PMNS, or kind → object → leaf for check results), or, while a search is typed, every
 * name that contains it. Names arrive already bounded (metrics/source.ts maxBrowseNames) and made
 * inert (safe-action.ts).
 */
import type {BrowseEntry} from './state.js';

export type BrowseItem = {
	/** What the list shows: the child's own segment, or the full name in a search. */
	label: string;
	/** The full metric name, for a leaf. */
	name?: string;
	/** Path of this node (to descend into it). */
	path: string[];
	/** Leaves below a non-leaf. */
	leaves: number;
};

/** Search results shown at most (the count says how many more matched). */
export const maxSearchResults = 500;

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
	return prefix.length <= path.length && prefix.every((part, index) => path[index] === part);
}

/** The children of the node at `path`, non-leaves first as the collector listed them. */
export function childrenAt(entries: readonly BrowseEntry[], path: readonly string[]): BrowseItem[] {
	const items = new Map<string, BrowseItem>();
	for (const entry of entries) {
		if (entry.path.length <= path.length || !startsWith(entry.path, path)) {
			continue;
		}

		const segment = entry.path[path.length]!;
		const leaf = entry.path.length === path.length + 1;
		const id = `${leaf ? 'L' : 'N'}${segment}`;
		const item = items.get(id);
		if (item) {
			item.leaves++;
		} else {
			items.set(id, {
				label: segment, path: [...path, segment], leaves: 1, ...(leaf ? {name: entry.name} : {}),
			});
		}
	}

	return [...items.values()];
}

/** Names containing `query` (case-insensitive), in the collector's order, at most maxSearchResults. */
export function search(entries: readonly BrowseEntry[], query: string): {items: BrowseItem[]; matched: number} {
	const needle = query.toLowerCase();
	const items: BrowseItem[] = [];
	let matched = 0;
	for (const entry of entries) {
		if (entry.name.toLowerCase().includes(needle)) {
			matched++;
			if (items.length < maxSearchResults) {
				items.push({
					label: entry.name, name: entry.name, path: entry.path, leaves: 1,
				});
			}
		}
	}

	return {items, matched};
}
