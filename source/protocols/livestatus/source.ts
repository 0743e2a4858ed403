/**
 * Livestatus as a MetricSource: hosts and services with their state, plugin output and
 * `perf_data` (one perfdata string, docs/icinga-livestatus-mon.md#livestatus-metrics), plus the numeric columns of `GET status`.
 * Names and expansion are the Icinga ones (../shared/checks.ts): `service:HOST!DESCRIPTION.LABEL`,
 * `host:NAME.state`, `status:core.num_hosts`.
 */
import type {MetricDesc, Sample} from '../../metrics/model.js';
import type {MetricSource, NameError, NameList} from '../../metrics/source.js';
import type {TlsFacts} from '../../security/types.js';
import {
	CheckBrowser, checkLeaves, MetricTree, numberLeaf, objectPath, objectsOf, sampleOf, wantedFor, type CheckObject, type Wanted,
} from '../shared/checks.js';
import {parsePerfdata} from '../shared/perfdata.js';
import type {LivestatusClient} from './client.js';
import {buildQuery} from './protocol.js';

export const serviceStates = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export const hostStates = ['UP', 'DOWN', 'UNREACHABLE'] as const;

const second = {
	dimSpace: 0, dimTime: 1, dimCount: 0, scaleSpace: 0, scaleTime: 3, scaleCount: 0,
};

const hostColumns = ['name', 'state', 'has_been_checked', 'plugin_output', 'perf_data', 'last_check', 'execution_time'] as const;
const serviceColumns = ['host_name', 'description', 'state', 'has_been_checked', 'plugin_output', 'perf_data', 'last_check', 'execution_time'] as const;

function text(value: unknown): string | undefined {
	return typeof value === 'string' ? value : undefined;
}

function number(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** One row of `hosts` or `services` (columns as above) → CheckObject. */
export function rowObject(kind: 'host' | 'service', row: readonly unknown[]): CheckObject | undefined {
	const offset = kind === 'service' ? 1 : 0;
	const host = text(row[0]);
	const service = kind === 'service' ? text(row[1]) : undefined;
	if (host === undefined || (kind === 'service' && service === undefined)) {
		return undefined;
	}

	const parts = service === undefined ? [host] : [host, service];
	const what = `${kind} ${parts.join('!')}`;
	const checked = row[offset + 2] !== 0;
	const lastCheck = number(row[offset + 5]);
	return {
		kind,
		parts,
		leaves: checkLeaves({
			state: checked ? number(row[offset + 1]) : undefined,
			stateNames: kind === 'service' ? serviceStates : hostStates,
			output: checked ? text(row[offset + 3]) : undefined,
			perfdata: parsePerfdata(text(row[offset + 4]) ?? '').values,
			what,
			extras: [
				numberLeaf('last_check', checked && lastCheck !== undefined && lastCheck > 0 ? lastCheck : undefined, {semantics: 'discrete', oneline: `time of the last check of ${what} (UNIX time, seconds)`}),
				numberLeaf('execution_time', checked ? number(row[offset + 6]) : undefined, {units: second, unitsText: 'sec', oneline: `how long the last check of ${what} ran`}),
			],
		}),
	};
}

/** `GET status` without Columns: a header row and one row of values; numbers become leaves. */
export function statusObject(rows: readonly unknown[][]): CheckObject | undefined {
	const [header, values] = rows;
	if (!header || !values) {
		return undefined;
	}

	const columns = new Set(header.filter(column => typeof column === 'string'));
	const leaves = header.flatMap((column, index) => {
		const value = number(values[index]);
		if (typeof column !== 'string' || value === undefined) {
			return [];
		}

		// Livestatus pairs cumulative counters with a `<name>_rate` column (requests / requests_rate).
		const semantics = columns.has(`${column}_rate`) ? 'counter' : (/^(?:program_start|last_|nagios_pid|livestatus_version)/.test(column) ? 'discrete' : 'instant');
		return [numberLeaf(column, value, {semantics, oneline: `${column} from the Livestatus status table`})];
	});
	return leaves.length > 0 ? {kind: 'status', parts: ['core'], leaves} : undefined;
}

function hostFilters(hosts: Set<string> | 'all', column: string): {filters?: string[]; or?: boolean} {
	return hosts === 'all' ? {} : {filters: [...hosts].map(host => `${column} = ${host}`), or: true};
}

export type LivestatusSourceOptions = {
	client: LivestatusClient;
	host: string;
	port: number;
	display: string;
	tls: TlsFacts | undefined;
};

export class LivestatusSource implements MetricSource {
	readonly host: string;
	readonly port: number;
	readonly target: string;
	readonly tls: TlsFacts | undefined;
	readonly client: LivestatusClient;
	private names: string[] = [];
	private readonly selected: CheckObject[] = [];

	constructor(options: LivestatusSourceOptions) {
		this.client = options.client;
		this.host = options.host;
		this.port = options.port;
		this.target = options.display;
		this.tls = options.tls;
	}

	private async load(wanted: Wanted): Promise<CheckObject[]> {
		const objects: CheckObject[] = [];
		if (wanted.hosts !== 'none') {
			const rows = await this.client.rows(buildQuery({
				table: 'hosts', columns: hostColumns, keepAlive: true, ...hostFilters(wanted.hosts, 'name'),
			}));
			objects.push(...rows.map(row => rowObject('host', row)).filter(object => object !== undefined));
		}

		if (wanted.services !== 'none') {
			const rows = await this.client.rows(buildQuery({
				table: 'services', columns: serviceColumns, keepAlive: true, ...hostFilters(wanted.services, 'host_name'),
			}));
			objects.push(...rows.map(row => rowObject('service', row)).filter(object => object !== undefined));
		}

		if (wanted.status) {
			const status = statusObject(await this.client.rows(buildQuery({table: 'status', keepAlive: true})));
			if (status) {
				objects.push(status);
			}
		}

		return objects;
	}

	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: NameError[]}> {
		const tree = new MetricTree(await this.load(wantedFor(names)));
		const resolved = tree.resolve(names);
		// Each call adds to what fetch() samples: DerivedSource describes its operands in a second call.
		this.names = [...new Set([...this.names, ...resolved.names])];
		const selected = new Set(this.selected.map(object => objectPath(object)));
		this.selected.push(...objectsOf(tree, resolved.names).filter(object => !selected.has(objectPath(object))));
		return {descs: resolved.names.map(name => tree.desc(name)).filter(desc => desc !== undefined), errors: resolved.errors};
	}

	/** Only these names, and the hosts and services they belong to, are queried from now on (metrics/source.ts). */
	retain(names: string[]): void {
		const keep = new Set(names);
		this.names = this.names.filter(name => keep.has(name));
		const tree = new MetricTree(this.selected);
		// A name whose object's latest data lacks it (a perfdata label gone for now) keeps every object.
		if (this.names.every(name => tree.get(name) !== undefined)) {
			const still = new Set(objectsOf(tree, this.names).map(object => objectPath(object)));
			this.selected.splice(0, this.selected.length, ...this.selected.filter(object => still.has(objectPath(object))));
		}
	}

	async fetch(): Promise<Sample> {
		const hosts = new Set<string>();
		const services = new Set<string>();
		let status = false;
		for (const object of this.selected) {
			if (object.kind === 'host') {
				hosts.add(object.parts[0]!);
			} else if (object.kind === 'service') {
				services.add(object.parts[0]!);
			} else {
				status = true;
			}
		}

		const objects = await this.load({
			hosts: hosts.size > 0 ? hosts : 'none',
			services: services.size > 0 ? services : 'none',
			status,
		});
		const wanted = new Set(this.selected.map(object => objectPath(object)));
		return sampleOf(new MetricTree(objects.filter(object => wanted.has(objectPath(object)))), this.names, this.target, new Date());
	}

	/** The browser's tree: help texts come from the one it showed last. */
	private readonly browser = new CheckBrowser(async () => this.load(wantedFor([])));

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
