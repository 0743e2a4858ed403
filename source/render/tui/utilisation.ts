/**
 * CPU and other time counters as utilisation, the way a person reads them (docs/design.md#utilisation):
 *
 * - A counter of time (PCP units time, no space or count dimension: kernel.all.cpu.user in
 *   millisec, kernel.percpu.cpu.*, disk.dev.avactive) shown as a rate is seconds of that time per
 *   second: × 100 it is the percentage of one second spent so, per instance (per CPU for percpu).
 * - kernel.all.cpu.* sums every CPU: divided by hinv.ncpu (asked with the metrics, live/runner.ts), 100 % is all
 *   CPUs busy, as the collector's derived kernel.cpu.util.* = 100 * rate(kernel.all.cpu.*) / hinv.ncpu
 *   (/etc/pcp/derived/cpu-util.conf); until the CPU count is known it is said per one CPU.
 * - kernel.cpu.util.* (those derived metrics, units none) are already percentages.
 *
 * Raw counters (r) stay raw. Pure: the panes' selectors (state.ts) call it.
 */
import type {MetricDesc} from '../../metrics/model.js';
import {isTimeCounter, secondsPerTimeUnit} from '../../metrics/time-counter.js';

export type Utilisation = {
	/** Multiplies the value shown (the rate, or the derived value) into a percentage. */
	factor: number;
	/** CPUs the aggregate was divided by (kernel.all.cpu.*); undefined: per instance or per one CPU. */
	cpus?: number;
	/** The unit said in the pane's title: "% of 2 CPUs (millisec/s)". */
	label: string;
};

const aggregateCpu = 'kernel.all.cpu.';
const derivedCpu = 'kernel.cpu.util.';

/** How to show `desc` as a percentage, or undefined when it is not a utilisation. */
export function utilisationOf(desc: MetricDesc, rate: boolean, ncpu: number | undefined): Utilisation | undefined {
	if (desc.name.startsWith(derivedCpu) && desc.semantics !== 'counter' && desc.units.dimTime === 0 && desc.units.dimSpace === 0 && desc.units.dimCount === 0) {
		return {factor: 1, label: '% of all CPUs'};
	}

	if (!rate || !isTimeCounter(desc)) {
		return undefined;
	}

	const perSecond = secondsPerTimeUnit[desc.units.scaleTime]! * 100;
	const time = `${desc.unitsText}/s`;
	if (desc.name.startsWith(aggregateCpu)) {
		return ncpu !== undefined && ncpu > 0
			? {factor: perSecond / ncpu, cpus: ncpu, label: `% of ${ncpu} CPU${ncpu === 1 ? '' : 's'} (${time})`}
			: {factor: perSecond, label: `% of one CPU (${time})`};
	}

	return {factor: perSecond, label: `% of the time (${time})`};
}

/** "12.3 %", "0.0 %", "100.0 %": always one decimal, so a pane's percentages line up. */
export function percentText(value: number): string {
	if (!Number.isFinite(value)) {
		return '?';
	}

	return `${value.toFixed(1)} %`;
}
