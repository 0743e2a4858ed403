/**
 * mon as a MetricSource: every service of `list opstatus` becomes `service:GROUP!SERVICE` with the
 * leaves state (opstatus: 0 FAIL, 1 OK, …), status (FAIL/OK/… as a word), output (the summary)
 * and detail, the timing fields, and perfdata when a monitor put `text|perfdata` in its summary
 * (docs/icinga-livestatus-mon.md#mon-metrics). `status:mon` counts services and failures.
 */
import {noUnits, type MetricDesc, type Sample} from '../../metrics/model.js';
import type {MetricSource, NameError, NameList} from '../../metrics/source.js';
import type {TlsFacts} from '../../security/types.js';
import {
	CheckBrowser, checkLeaves, MetricTree, numberLeaf, sampleOf, textLeaf, type CheckObject,
} from '../shared/checks.js';
import {parsePerfdata, splitPluginOutput} from '../shared/perfdata.js';
import type {MonClient} from './client.js';
import {
	failureStates, opstatusNames, parseOpstatusLine,
} from './protocol.js';

const second = {
	...noUnits, dimTime: 1, scaleTime: 3,
};

function integer(text: string | undefined): number | undefined {
	return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}

/** An epoch field where 0 means "never". */
function epoch(text: string | undefined): number | undefined {
	const value = integer(text);
	return value === undefined || value === 0 ? undefined : value;
}

/** One parsed opstatus line → CheckObject (undefined when group or service is missing). */
export function opstatusObject(fields: Record<string, string>): CheckObject | undefined {
	const {group, service} = fields;
	if (!group || !service) {
		return undefined;
	}

	const what = `mon service ${group}/${service}`;
	const {text, perfdata} = splitPluginOutput(fields['last_summary'] ?? '');
	const opstatus = integer(fields['opstatus']);
	// Before the first run (UNTESTED, no last_check) there is no summary worth showing.
	const untested = opstatus === 7;
	return {
		kind: 'service',
		parts: [group, service],
		leaves: checkLeaves({
			state: opstatus,
			stateNames: opstatusNames,
			output: untested ? undefined : text,
			perfdata: parsePerfdata(perfdata).values,
			what,
			extras: [
				textLeaf('detail', untested ? undefined : (fields['last_detail'] ?? '').trim(), `detail lines of the last run of ${what}`),
				numberLeaf('exitval', integer(fields['exitval']), {type: 'i32', semantics: 'discrete', oneline: `exit code of the last run of ${what}`}),
				numberLeaf('last_check', epoch(fields['last_check']), {semantics: 'discrete', oneline: `time of the last run of ${what} (UNIX time, seconds)`}),
				numberLeaf('last_success', epoch(fields['last_success']), {semantics: 'discrete', oneline: `time of the last success of ${what} (UNIX time)`}),
				numberLeaf('last_failure', epoch(fields['last_failure']), {semantics: 'discrete', oneline: `time of the last failure of ${what} (UNIX time)`}),
				numberLeaf('failure_duration', integer(fields['failure_duration']), {units: second, unitsText: 'sec', oneline: `how long ${what} has been failing`}),
				numberLeaf('monitor_duration', integer(fields['monitor_duration']), {units: second, unitsText: 'sec', oneline: `how long the last run of the monitor of ${what} took`}),
				numberLeaf('alerts_sent', integer(fields['alerts_sent']), {semantics: 'counter', oneline: `alerts sent for ${what}`}),
			],
		}),
	};
}

/** `status:mon`: how many services, how many failing (FAIL, LINKDOWN, TIMEOUT like `list failures`). */
export function monSummary(objects: readonly CheckObject[]): CheckObject {
	let failures = 0;
	for (const object of objects) {
		const state = object.leaves.find(leaf => leaf.leaf === 'state')?.value;
		if (typeof state === 'number' && failureStates.has(state)) {
			failures++;
		}
	}

	return {
		kind: 'status',
		parts: ['mon'],
		leaves: [
			numberLeaf('services', objects.length, {type: 'u32', oneline: 'services mon watches'}),
			numberLeaf('failures', failures, {type: 'u32', oneline: 'services failing now (FAIL, LINKDOWN, TIMEOUT: what "list failures" shows)'}),
		],
	};
}

export function parseOpstatus(lines: readonly string[]): CheckObject[] {
	const objects = lines.map(line => opstatusObject(parseOpstatusLine(line))).filter(object => object !== undefined);
	return [...objects, monSummary(objects)];
}

export type MonSourceOptions = {
	client: MonClient;
	host: string;
	port: number;
	display: string;
	tls: TlsFacts | undefined;
};

export class MonSource implements MetricSource {
	readonly host: string;
	readonly port: number;
	readonly target: string;
	readonly tls: TlsFacts | undefined;
	readonly client: MonClient;
	private names: string[] = [];

	constructor(options: MonSourceOptions) {
		this.client = options.client;
		this.host = options.host;
		this.port = options.port;
		this.target = options.display;
		this.tls = options.tls;
	}

	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: NameError[]}> {
		const tree = new MetricTree(parseOpstatus(await this.client.lines('list opstatus')));
		const resolved = tree.resolve(names);
		// Each call adds to what fetch() samples: DerivedSource describes its operands in a second call.
		this.names = [...new Set([...this.names, ...resolved.names])];
		return {descs: resolved.names.map(name => tree.desc(name)).filter(desc => desc !== undefined), errors: resolved.errors};
	}

	/** Only these names in the samples from now on (metrics/source.ts); mon lists every opstatus anyway. */
	retain(names: string[]): void {
		const keep = new Set(names);
		this.names = this.names.filter(name => keep.has(name));
	}

	async fetch(): Promise<Sample> {
		const tree = new MetricTree(parseOpstatus(await this.client.lines('list opstatus')));
		return sampleOf(tree, this.names, this.target, new Date());
	}

	/** The browser's tree: help texts come from the one it showed last. */
	private readonly browser = new CheckBrowser(async () => parseOpstatus(await this.client.lines('list opstatus')));

	async listNames(): Promise<NameList> {
		return this.browser.listNames();
	}

	async helpText(name: string): Promise<string | undefined> {
		return this.browser.helpText(name);
	}

	close(): void {
		this.client.close();
	}
}
