/**
 * Counters of time (docs/design.md#utilisation): a PCP counter in units of time alone (no space or
 * count dimension: kernel.all.cpu.user in millisec, kernel.percpu.cpu.*, disk.dev.avactive), what
 * pmval shows as "time utilization". The live controller asks hinv.ncpu beside kernel.all.cpu.*
 * ones (live/runner.ts); the panes show them as percentages (render/tui/utilisation.ts). Pure.
 */
import type {MetricDesc} from './model.js';

/** Seconds in one unit of PCP's scaleTime: nanosec, microsec, millisec, sec, min, hour. */
export const secondsPerTimeUnit: readonly number[] = [1e-9, 1e-6, 1e-3, 1, 60, 3600];

/** Is this a counter of time (what pmval shows as "time utilization")? */
export function isTimeCounter(desc: MetricDesc): boolean {
	const {units} = desc;
	return desc.semantics === 'counter' && units.dimTime === 1 && units.dimSpace === 0 && units.dimCount === 0
		&& secondsPerTimeUnit[units.scaleTime] !== undefined;
}
