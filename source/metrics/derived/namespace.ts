/**
 * How derived metrics appear in the namespace and help text (src/libpcp/src/derive_parser.y.in:
 * __dmtraverse, __dmchildren, __dmgetpmid, __dmhelptext); docs/pcp.md#derived-metrics-in-pminfo.
 */
import type {DerivedDefinition, DerivedRegistry} from './config.js';

/** PM_ERR_TEXT: "One-line or help text is not available". */
export const PM_ERR_TEXT = -12_349;

function underPrefix(prefix: string, name: string): boolean {
	return prefix === '' || name === prefix || name.startsWith(`${prefix}.`);
}

/**
 * __dmtraverse(): the derived names at or below `prefix` ("" = all), in registration order,
 * leaving out those that fail to bind. libpcp binds each match here, so `bindFails` may bind
 * on demand; anonymous metrics always stay.
 */
export function derivedTraverse(registry: DerivedRegistry, prefix: string, bindFails: (metric: DerivedDefinition) => boolean): string[] {
	return registry.metrics
		.filter(metric => underPrefix(prefix, metric.name) && (metric.anon || !bindFails(metric)))
		.map(metric => metric.name);
}

/**
 * __dmchildren(): the next-level components below `prefix` with their leaf status, in first-seen
 * order; undefined when `prefix` is itself a derived leaf (libpcp returns 0) or nothing matches.
 * libpcp does not bind here: only metrics already bound without success (`boundAndFailed`) are
 * left out.
 */
export function derivedChildren(registry: DerivedRegistry, prefix: string, boundAndFailed: (metric: DerivedDefinition) => boolean): Array<{name: string; leaf: boolean}> | undefined {
	const children: Array<{name: string; leaf: boolean}> = [];
	for (const metric of registry.metrics) {
		if (!underPrefix(prefix, metric.name) || (!metric.anon && boundAndFailed(metric))) {
			continue;
		}

		if (metric.name === prefix) {
			return undefined;
		}

		const rest = prefix === '' ? metric.name : metric.name.slice(prefix.length + 1);
		const dot = rest.indexOf('.');
		const name = dot === -1 ? rest : rest.slice(0, dot);
		if (!children.some(child => child.name === name)) {
			children.push({name, leaf: dot === -1});
		}
	}

	return children.length > 0 ? children : undefined;
}

/** __dmgetpmid() and __dmgetname(). */
export function derivedByName(registry: DerivedRegistry, name: string): DerivedDefinition | undefined {
	return registry.metrics.find(metric => metric.name === name);
}

export function derivedByPmid(registry: DerivedRegistry, pmid: number): DerivedDefinition | undefined {
	return registry.metrics.find(metric => metric.pmid === pmid);
}

/**
 * __dmhelptext(): the one-line text, or the help text falling back to the one-line text
 * (unless `direct`, PM_TEXT_DIRECT); PM_ERR_TEXT when there is none.
 */
export function derivedHelpText(metric: DerivedDefinition, kind: 'oneline' | 'help', direct = false): {text: string} | {error: number} {
	const text = kind === 'oneline' ? metric.oneline : (metric.helptext ?? (direct ? undefined : metric.oneline));
	return text === undefined ? {error: PM_ERR_TEXT} : {text};
}
