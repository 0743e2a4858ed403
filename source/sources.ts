/**
 * Which protocol serves a --host, by its scheme (protocols/registry.ts). Each descriptor opens a
 * verified session (through source/security) and returns the common MetricSource; its code is
 * imported lazily, so that a PCP run never loads the Zabbix or Icinga code and vice versa.
 */
import type {SessionHooks} from './io.js';
import type {MetricSource} from './metrics/source.js';
import type {Plan} from './plan.js';
import {descriptorFor} from './protocols/registry.js';
import type {HostSpec} from './target.js';

/**
 * The protocol's source, with the run's derived metrics over its metrics (metrics/derived/source.ts).
 * The derived configuration is read when first needed: a name the collector does not have, or
 * the metric browser's list (docs/pcp.md#derived-configuration). A run whose names are all the
 * collector's own, the common case, never reads it (~8 ms of start-up, bench/startup.mjs).
 * With -c/--derived it is read at once, so that the given files' diagnostics come first, as
 * pminfo prints them while parsing its options.
 */
export async function openSource(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<MetricSource> {
	const [{derivedSetup}, {DerivedSource}] = await Promise.all([
		import('./metrics/derived/load.js'),
		import('./metrics/derived/source.js'),
	]);
	let derived = plan.derived.length > 0 ? derivedSetup(plan, hooks.warn) : undefined;
	const source = await descriptorFor(target.protocol).open(target, plan, hooks);
	derived?.connected();
	return new DerivedSource(source, () => {
		derived ??= derivedSetup(plan, hooks.warn);
		derived.connected();
		return derived.registry;
	}, hooks.warn);
}
