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
	const merged = new Map<string, string>();
	let any = false;
	for (const set of sets) {
		if (set === undefined || set.nlabels < 0) {
			continue;
		}

		any = true;
		for (const {name, value} of labelPairs(set)) {
			// A label without a value is JSON null (stash_label).
			merged.set(name, value === '' ? 'null' : value);
		}
	}

	if (!any) {
		return undefined;
	}

	const names = [...merged.keys()].toSorted(byteOrder);
	const json = `{${names.map(name => `"${name}":${merged.get(name)!}`).join(',')}}`;
	// stash_label and the final "}" need room for a NUL in the PM_MAXLABELJSONLEN buffer.
	if (Buffer.byteLength(json, 'utf8') >= PM_MAXLABELJSONLEN - 1 || names.length > PM_MAXLABELS) {
		return {error: -ERRNO.E2BIG};
	}

	return {json};
}
