/**
 * A small stand-in for libpcp_pmda's pmdaCache: instance ids are handed out
 * in the order names are first seen (0, 1, 2, …) and stay stable for the
 * life of the process, even when an instance goes away and comes back. On a
 * fresh machine this gives the same ids as the linux PMDA (e.g. lo 0, eth0 1
 * in /proc/net/dev order).
 */
export class InstanceCache {
	private readonly ids = new Map<string, number>();
	private active: Array<{inst: number; name: string}> = [];

	/** Mark exactly these names active (in this order) and return their ids. */
	refresh(names: readonly string[]): Array<{inst: number; name: string}> {
		this.active = names.map(name => ({inst: this.idFor(name), name}));
		return this.active;
	}

	/** The active instances sorted by id (the order pmdaCache walks them). */
	list(): Array<{inst: number; name: string}> {
		return this.active.toSorted((a, b) => a.inst - b.inst);
	}

	private idFor(name: string): number {
		let id = this.ids.get(name);
		if (id === undefined) {
			id = this.ids.size;
			this.ids.set(name, id);
		}

		return id;
	}
}
