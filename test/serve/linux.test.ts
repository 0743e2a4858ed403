/**
 * The built-in collector's Linux metrics against a real pmcd with the linux
 * PMDA on the same machine: names, PMIDs, descriptors and help text must be
 * identical, instance domains must hold the same ids and names, and values
 * must agree within sampling tolerance.
 */
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {linuxMetrics} from '../../source/serve/linux/metrics.js';
import {LinuxSource} from '../../source/serve/linux/source.js';
import {PmcdSource} from '../../source/serve/pmcd-source.js';
import {
	indomNull, indomString, pmidString, type FetchOutcome, type ServedMetric,
} from '../../source/serve/types.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPminfo} from '../helpers/pminfo.js';

const typeNames: Record<number, string> = {
	1: '32-bit unsigned int', 3: '64-bit unsigned int', 4: 'float', 5: 'double', 6: 'string',
};
const semNames: Record<number, string> = {1: 'counter', 3: 'instant', 4: 'discrete'};

/** pmUnitsStr for the few units the table uses. */
function unitsText(metric: ServedMetric): string {
	const {units} = metric;
	if (units.dimSpace === 1 && units.dimTime === 0 && units.dimCount === 0) {
		return ['byte', 'Kbyte', 'Mbyte'][units.scaleSpace] ?? '?';
	}

	if (units.dimTime === 1 && units.dimSpace === 0 && units.dimCount === 0) {
		return ['nanosec', 'microsec', 'millisec', 'sec'][units.scaleTime] ?? '?';
	}

	if (units.dimCount === 1 && units.dimSpace === 0 && units.dimTime === 0 && units.scaleCount === 0) {
		return 'count';
	}

	return units.dimSpace === 0 && units.dimTime === 0 && units.dimCount === 0 ? 'none' : '?';
}

/** What `pminfo -dmtT NAME...` prints for these metrics (docs/pcp.md#pminfo-output). */
function expectedDescribe(metrics: readonly ServedMetric[]): string {
	return metrics.map(metric => {
		const indom = metric.indom === indomNull ? 'PM_INDOM_NULL 0xffffffff' : `${indomString(metric.indom)} 0x${metric.indom.toString(16)}`;
		return [
			'',
			`${metric.name} PMID: ${pmidString(metric.pmid)} [${metric.oneline}]`,
			`    Data Type: ${typeNames[metric.type]}  InDom: ${indom}`,
			`    Semantics: ${semNames[metric.sem]}  Units: ${unitsText(metric)}`,
			'Help:',
			metric.help === '' ? metric.oneline : metric.help,
		].join('\n');
	}).join('\n') + '\n';
}

type Printed = Map<string, Array<{inst?: number; name?: string; value: string}>>;

/** Parse `pminfo -f` output: NAME lines, then `    value V` or `    inst [N or "NAME"] value V`. */
function parseFetch(text: string): Printed {
	const result: Printed = new Map();
	let current: Array<{inst?: number; name?: string; value: string}> | undefined;
	for (const line of text.split('\n')) {
		if (line === '') {
			continue;
		}

		if (!line.startsWith(' ')) {
			current = [];
			result.set(line.trim(), current);
			continue;
		}

		const instMatch = /^ {4}inst \[(\d+) or "([^"]*)"\] value (.*)$/v.exec(line);
		const singleMatch = /^ {4}value (.*)$/v.exec(line);
		if (instMatch) {
			current?.push({inst: Number(instMatch[1]), name: instMatch[2], value: instMatch[3]!});
		} else if (singleMatch) {
			current?.push({value: singleMatch[1]!});
		}
	}

	return result;
}

async function fetchPrinted(address: string, names: string[]): Promise<Printed> {
	const result = await runPminfo(['-h', address, '-f', ...names]);
	return parseFetch(result.stdout);
}

function numeric(value: string): number {
	return Number(value.replaceAll('"', ''));
}

const client = {seq: 0, whoami: ''};

describe('linux metrics match the real linux PMDA', () => {
	let peer: PmcdPeer;
	const source = new LinuxSource();
	const names = linuxMetrics.map(metric => metric.name);

	beforeAll(async () => {
		peer = await startPmcd('plain');
	});

	afterAll(async () => {
		await peer?.stop();
	});

	test('names, PMIDs, descriptors, one-line and long help are identical', async () => {
		const pmcd = await runPminfo(['-h', peer.address, '-dmtT', ...names]);
		expect(pmcd.stderr).toBe('');
		expect(pmcd.stdout).toBe(expectedDescribe(linuxMetrics));
	});

	test('the pmcd.* basics have pmcd\'s descriptors and help', async () => {
		const pmcdSource = new PmcdSource();
		const pmcd = await runPminfo(['-h', peer.address, '-dmtT', ...pmcdSource.metrics.map(metric => metric.name)]);
		expect(pmcd.stdout).toBe(expectedDescribe(pmcdSource.metrics));
	});

	test('instance domains hold the same ids and names', async () => {
		const pmcd = await fetchPrinted(peer.address, names);
		for (const metric of linuxMetrics.filter(m => m.indom !== indomNull)) {
			const theirs = (pmcd.get(metric.name) ?? []).map(v => ({inst: v.inst, name: v.name}));
			const ours = await source.instances(metric.indom, client);
			expect(ours, metric.name).toEqual(theirs);
		}
	});

	test('values agree within sampling tolerance', async () => {
		const before = await fetchPrinted(peer.address, names);
		const mine = await source.fetch(linuxMetrics.map(metric => metric.pmid), client);
		const after = await fetchPrinted(peer.address, names);

		const ourValues = (metric: ServedMetric) => {
			const outcome: FetchOutcome | undefined = mine.get(metric.pmid);
			if (!outcome || 'error' in outcome) {
				throw new Error(`${metric.name}: ${JSON.stringify(outcome)}`);
			}

			return outcome.values;
		};

		for (const metric of linuxMetrics) {
			const values = ourValues(metric);
			const a = before.get(metric.name) ?? [];
			const b = after.get(metric.name) ?? [];
			expect(values.length, metric.name).toBe(a.length);
			for (const [index, value] of values.entries()) {
				const first = a[index]!;
				const second = b.find(v => v.inst === first.inst) ?? first;
				const label = `${metric.name}[${first.name ?? '-'}]`;
				if (metric.type === 6) {
					expect(`"${String(value.value)}"`, label).toBe(first.value);
					continue;
				}

				const ours = Number(value.value);
				const low = Math.min(numeric(first.value), numeric(second.value));
				const high = Math.max(numeric(first.value), numeric(second.value));
				if (metric.sem === 1) {
					// Counters sampled between two pmcd samples lie between them.
					expect(ours, label).toBeGreaterThanOrEqual(low);
					expect(ours, label).toBeLessThanOrEqual(high);
				} else {
					switch (metric.name) {
						case 'kernel.all.load': {
							expect(Math.abs(ours - low), label).toBeLessThanOrEqual(Math.max(0.5, high - low + 0.2));

							break;
						}

						case 'kernel.all.uptime': {
							expect(ours, label).toBeGreaterThanOrEqual(low - 0.01);
							expect(ours, label).toBeLessThanOrEqual(high + 0.01);

							break;
						}

						case 'hinv.ncpu':
						case 'mem.physmem':
						case 'filesys.capacity': {
							expect(ours, label).toBe(low);

							break;
						}

						default: {
							// Memory and filesystem usage: within 64 MiB (in Kbyte) of pmcd's.
							expect(Math.abs(ours - low), label).toBeLessThanOrEqual(65_536 + (high - low));
						}
					}
				}
			}
		}
	});
});
