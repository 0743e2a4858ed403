/**
 * Label sets merged as libpcp's pmMergeLabelSets does (src/libpcp/src/labels.c, 6.0.3), for
 * pminfo -l (docs/pcp.md#labels): sets in order of increasing precedence (context, domain,
 * indom, cluster, item, instance), a later set's label replacing an earlier one of the same
 * name, names in byte order, printed as compact JSON with each value's JSON text as the peer
 * sent it. Pure: no I/O.
 */
import {ERRNO} from './constants.js';
import {labelPairs, type PcpLabelSet} from './pdu.js';

/** PM_MAXLABELJSONLEN (pmapi.h): pminfo's merge buffer, and the largest JSON of one set. */
export const PM_MAXLABELJSONLEN = (1 << 16) - 1;
/** PM_MAXLABELS (pmapi.h): libpcp refuses a set with this many labels or more. */
export const PM_MAXLABELS = (1 << 8) - 1;

export type MergedLabels = {json: string} | {error: number};

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * pmMergeLabelSets(sets, n, buf, PM_MAXLABELJSONLEN, NULL, NULL): undefined when no set was
 * usable (missing, or nlabels < 0: pminfo then prints nothing), `{}` for usable sets without
 * labels, -E2BIG when the merged JSON does not fit pminfo's buffer.
 */
export function mergeLabelSets(sets: ReadonlyArray<PcpLabelSet | undefined>): MergedLabels | undefined {
	return new LabelMerger(sets).with(undefined);
}

/** A usable set's labels, a label without a value as JSON null (stash_label). */
function labelsOf(set: PcpLabelSet): Map<string, string> {
	const labels = new Map<string, string>();
	for (const {name, value} of labelPairs(set)) {
		labels.set(name, value === '' ? 'null' : value);
	}

	return labels;
}

/**
 * pmMergeLabelSets over the same base sets for many instances (pminfo -l: context, domain, indom,
 * cluster and item, then each instance's own set): the base is merged and sorted once, and each
 * instance's set is added to it, so an instance domain of N instances costs N small merges, not
 * N merges of every set. `with(set)` answers exactly what mergeLabelSets([...base, set]) does.
 */
export class LabelMerger {
	/** Label sets decoded so far: each base set once, then one per instance set given. */
	decoded = 0;
	readonly #labels = new Map<string, string>();
	/** The base's names in byte order. */
	readonly #names: string[];
	readonly #any: boolean;
	#alone: MergedLabels | undefined | 'unset' = 'unset';

	constructor(base: ReadonlyArray<PcpLabelSet | undefined>) {
		let any = false;
		for (const set of base) {
			if (set === undefined || set.nlabels < 0) {
				continue;
			}

			any = true;
			this.decoded++;
			for (const [name, value] of labelsOf(set)) {
				this.#labels.set(name, value);
			}
		}

		this.#any = any;
		this.#names = [...this.#labels.keys()].toSorted(byteOrder);
	}

	/** The base merged with `set` (the highest precedence); undefined when no set is usable. */
	with(set: PcpLabelSet | undefined): MergedLabels | undefined {
		if (set === undefined || set.nlabels < 0) {
			if (this.#alone === 'unset') {
				this.#alone = this.#any ? finish(this.#names, name => this.#labels.get(name)!) : undefined;
			}

			return this.#alone;
		}

		this.decoded++;
		const own = labelsOf(set);
		if (own.size === 0) {
			return this.with(undefined) ?? {json: '{}'};
		}

		// Two lists in byte order merged: the base's names the set does not replace, and the set's.
		const ownNames = [...own.keys()].toSorted(byteOrder);
		const names: string[] = [];
		let next = 0;
		for (const name of this.#names) {
			if (own.has(name)) {
				continue;
			}

			while (next < ownNames.length && byteOrder(ownNames[next]!, name) < 0) {
				names.push(ownNames[next++]!);
			}

			names.push(name);
		}

		names.push(...ownNames.slice(next));
		return finish(names, name => own.get(name) ?? this.#labels.get(name)!);
	}
}

function finish(names: readonly string[], value: (name: string) => string): MergedLabels {
	const json = `{${names.map(name => `"${name}":${value(name)}`).join(',')}}`;
	// stash_label and the final "}" need room for a NUL in the PM_MAXLABELJSONLEN buffer.
	if (Buffer.byteLength(json, 'utf8') >= PM_MAXLABELJSONLEN - 1 || names.length > PM_MAXLABELS) {
		return {error: -ERRNO.E2BIG};
	}

	return {json};
}
