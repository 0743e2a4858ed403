/**
 * Icinga 2 REST API as a MetricSource (docs/icinga-livestatus-mon.md#icinga-2): hosts, services and their last check
 * results, `/v1/status` component numbers, perfdata in both forms (docs/icinga-livestatus-mon.md#check-results). Live updates come from
 * the event stream (docs/icinga-livestatus-mon.md#event-stream) once a second sample is asked for; without the events/CheckResult
 * permission (Icinga answers 404) it falls back to polling.
 */
import {randomBytes} from 'node:crypto';
import {SecmonError} from '../../errors.js';
import type {MetricDesc, Sample} from '../../metrics/model.js';
import type {MetricSource, NameError, NameList} from '../../metrics/source.js';
import type {TlsFacts} from '../../security/types.js';
import type {HostSpec} from '../../target.js';
import {
	CheckBrowser, checkLeaves, MetricTree, numberLeaf, objectPath, objectsOf, perfLeaves, sampleOf, wantedFor, type CheckObject, type Wanted,
} from '../shared/checks.js';
import {parsePerfdata} from '../shared/perfdata.js';
import type {IcingaHttp} from './http.js';

export const serviceStates = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export const hostStates = ['UP', 'DOWN'] as const;

const second = {
	dimSpace: 0, dimTime: 1, dimCount: 0, scaleSpace: 0, scaleTime: 3, scaleCount: 0,
};

type Row = {name?: unknown; type?: unknown; attrs?: Record<string, unknown>};

function record(value: unknown): Record<string, unknown> | undefined {
	return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function results(body: unknown): Row[] {
	const list = record(body)?.['results'];
	return Array.isArray(list) ? list.filter(row => record(row) !== undefined) as Row[] : [];
}

function finite(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A host or service with its last check result (the CheckResult shape of docs/icinga-livestatus-mon.md#check-results) → CheckObject. */
export function checkObject(kind: 'host' | 'service', name: string, state: number | undefined, checkResult: unknown): CheckObject {
	const result = record(checkResult);
	const parts = kind === 'service' ? splitServiceName(name) : [name];
	const what = `${kind} ${name}`;
	const perf = parsePerfdata(Array.isArray(result?.['performance_data']) ? result['performance_data'] as unknown[] : []);
	const start = finite(result?.['execution_start']);
	const end = finite(result?.['execution_end']);
	const lastCheck = end ?? finite(result?.['schedule_end']);
	return {
		kind,
		parts,
		leaves: checkLeaves({
			// Before the first check there is no result (last_check_result null, docs/icinga-livestatus-mon.md#check-results): no state either.
			state: result ? state : undefined,
			stateNames: kind === 'service' ? serviceStates : hostStates,
			output: typeof result?.['output'] === 'string' ? result['output'] : undefined,
			perfdata: perf.values,
			what,
			extras: [
				numberLeaf('last_check', lastCheck, {semantics: 'discrete', oneline: `time of the last check of ${what} (UNIX time, seconds)`}),
				numberLeaf('execution_time', start !== undefined && end !== undefined ? end - start : undefined, {units: second, unitsText: 'sec', oneline: `how long the last check of ${what} ran`}),
			],
		}),
	};
}

/** "web-01!temperature" → ["web-01", "temperature"] (host names cannot hold "!"). */
export function splitServiceName(name: string): string[] {
	const bang = name.indexOf('!');
	return bang === -1 ? [name] : [name.slice(0, bang), name.slice(bang + 1)];
}

/** `/v1/status` components: their perfdata objects, and the plain numbers of CIB (docs/icinga-livestatus-mon.md#api-requests). */
export function statusObjects(body: unknown): CheckObject[] {
	const objects: CheckObject[] = [];
	for (const row of results(body)) {
		const name = typeof row.name === 'string' ? row.name : undefined;
		if (!name) {
			continue;
		}

		const r = row as Record<string, unknown>;
		const what = `Icinga 2 component ${name}`;
		const taken = new Set<string>();
		const leaves = perfLeaves(parsePerfdata(Array.isArray(r['perfdata']) ? r['perfdata'] as unknown[] : []).values, what, taken);
		const status = record(r['status']);
		if (name === 'CIB' && status) {
			for (const [key, value] of Object.entries(status)) {
				if (typeof value === 'number' && Number.isFinite(value) && !taken.has(key)) {
					taken.add(key);
					leaves.push(numberLeaf(key, value, {oneline: `${key} of the Icinga 2 CIB (configuration and status)`}));
				}
			}
		}

		if (leaves.length > 0) {
			objects.push({kind: 'status', parts: [name], leaves});
		}
	}

	return objects;
}

/** Icinga filter with its variables: `host.name in names` (filter_vars keep quoting out of the expression). */
function byHost(hosts: Set<string> | 'all'): Record<string, unknown> {
	return hosts === 'all' ? {} : {filter: 'host.name in secmon_hosts', filter_vars: {secmon_hosts: [...hosts]}};
}

const objectAttrs = ['name', 'state', 'last_check_result'];

export type IcingaSourceOptions = {
	http: IcingaHttp;
	target: HostSpec;
	/** TLS facts of the session (known once the first connection is made). */
	tls: () => TlsFacts | undefined;
	warn: (message: string) => void;
	/** Use the event stream from the second fetch on (default true). */
	events?: boolean;
};

type Stream = {close: () => void};

export class IcingaSource implements MetricSource {
	readonly host: string;
	readonly port: number;
	readonly target: string;
	readonly http: IcingaHttp;
	private readonly warn: (message: string) => void;
	private readonly useEvents: boolean;
	private names: string[] = [];
	/** Objects the selected names belong to, by path. */
	private readonly selected = new Map<string, CheckObject>();
	private fetches = 0;
	private stream: Stream | undefined;
	private streamState: 'idle' | 'live' | 'unavailable' = 'idle';
	private streamRetryAt = 0;
	private closed = false;

	constructor(options: IcingaSourceOptions) {
		this.http = options.http;
		this.host = options.target.host;
		this.port = options.target.port;
		this.target = options.target.display;
		this.tlsFacts = options.tls;
		this.warn = options.warn;
		this.useEvents = options.events ?? true;
	}

	private readonly tlsFacts: () => TlsFacts | undefined;

	get tls(): TlsFacts | undefined {
		return this.tlsFacts();
	}

	private async load(wanted: Wanted): Promise<CheckObject[]> {
		const objects: CheckObject[] = [];
		if (wanted.hosts !== 'none') {
			const body = await this.http.json('POST', '/v1/objects/hosts', {attrs: objectAttrs, ...byHost(wanted.hosts)}, {action: 'list hosts', permission: 'objects/query/Host', notFound: 'empty'});
			for (const row of results(body)) {
				if (typeof row.name === 'string') {
					objects.push(checkObject('host', row.name, finite(row.attrs?.['state']), row.attrs?.['last_check_result']));
				}
			}
		}

		if (wanted.services !== 'none') {
			const body = await this.http.json('POST', '/v1/objects/services', {attrs: objectAttrs, ...byHost(wanted.services)}, {action: 'list services', permission: 'objects/query/Service', notFound: 'empty'});
			for (const row of results(body)) {
				if (typeof row.name === 'string') {
					objects.push(checkObject('service', row.name, finite(row.attrs?.['state']), row.attrs?.['last_check_result']));
				}
			}
		}

		if (wanted.status) {
			objects.push(...statusObjects(await this.http.json('GET', '/v1/status', undefined, {action: 'read /v1/status', permission: 'status/query'})));
		}

		return objects;
	}

	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: NameError[]}> {
		const tree = new MetricTree(await this.load(wantedFor(names)));
		const resolved = tree.resolve(names);
		if (resolved.errors.length > 0 && tree.entries.length === 0) {
			// Icinga answers 404 "No objects found" for a missing permission too (docs/icinga-livestatus-mon.md#api-authentication).
			for (const error of resolved.errors) {
				error.message = 'Unknown metric name (no such object, or the API user may not query it: objects/query/Host, objects/query/Service)';
			}
		}

		// Each call adds to what fetch() samples: DerivedSource describes its operands in a second call.
		this.names = [...new Set([...this.names, ...resolved.names])];
		for (const object of objectsOf(tree, resolved.names)) {
			this.selected.set(objectPath(object), object);
		}

		const descs = resolved.names.map(name => tree.desc(name)).filter(desc => desc !== undefined);
		return {descs, errors: resolved.errors};
	}

	/**
	 * Only these names, and the objects they belong to, are polled from now on (metrics/source.ts);
	 * an event stream already open keeps its filter until it is opened again.
	 */
	retain(names: string[]): void {
		const keep = new Set(names);
		this.names = this.names.filter(name => keep.has(name));
		const tree = new MetricTree([...this.selected.values()]);
		// A name whose object's latest data lacks it (a perfdata label gone for now) keeps every object.
		if (!this.names.every(name => tree.get(name) !== undefined)) {
			return;
		}

		const still = new Set(objectsOf(tree, this.names).map(object => objectPath(object)));
		for (const path of this.selected.keys()) {
			if (!still.has(path)) {
				this.selected.delete(path);
			}
		}
	}

	/** Fresh data for exactly the selected objects. */
	private async poll(): Promise<CheckObject[]> {
		const hosts: string[] = [];
		const services: string[] = [];
		let status = false;
		for (const object of this.selected.values()) {
			if (object.kind === 'host') {
				hosts.push(object.parts[0]!);
			} else if (object.kind === 'service') {
				services.push(object.parts.join('!'));
			} else {
				status = true;
			}
		}

		const objects: CheckObject[] = [];
		if (hosts.length > 0) {
			const body = await this.http.json('POST', '/v1/objects/hosts', {attrs: objectAttrs, filter: 'host.name in secmon_names', filter_vars: {secmon_names: hosts}}, {action: 'read hosts', permission: 'objects/query/Host', notFound: 'empty'});
			for (const row of results(body)) {
				if (typeof row.name === 'string') {
					objects.push(checkObject('host', row.name, finite(row.attrs?.['state']), row.attrs?.['last_check_result']));
				}
			}
		}

		if (services.length > 0) {
			const body = await this.http.json('POST', '/v1/objects/services', {attrs: objectAttrs, filter: 'service.__name in secmon_names', filter_vars: {secmon_names: services}}, {action: 'read services', permission: 'objects/query/Service', notFound: 'empty'});
			for (const row of results(body)) {
				if (typeof row.name === 'string') {
					objects.push(checkObject('service', row.name, finite(row.attrs?.['state']), row.attrs?.['last_check_result']));
				}
			}
		}

		if (status) {
			objects.push(...statusObjects(await this.http.json('GET', '/v1/status', undefined, {action: 'read /v1/status', permission: 'status/query'})));
		}

		return objects;
	}

	/** One CheckResult event (docs/icinga-livestatus-mon.md#event-stream) → the object it updates, if it is one we follow. */
	private onEvent(event: unknown): void {
		const data = record(event);
		if (data?.['type'] !== 'CheckResult' || typeof data['host'] !== 'string') {
			return;
		}

		const result = record(data['check_result']);
		const state = finite(result?.['state']);
		const service = typeof data['service'] === 'string' ? data['service'] : undefined;
		const object = service === undefined
			// A host check exiting 0 or 1 is UP, 2 or 3 DOWN (docs/icinga-livestatus-mon.md#api-requests).
			? checkObject('host', data['host'], state === undefined ? undefined : (state <= 1 ? 0 : 1), result)
			: checkObject('service', `${data['host']}!${service}`, state, result);
		const path = objectPath(object);
		if (this.selected.has(path)) {
			this.selected.set(path, object);
		}
	}

	private async startStream(): Promise<void> {
		const hosts = new Set<string>();
		for (const object of this.selected.values()) {
			if (object.kind === 'host' || object.kind === 'service') {
				hosts.add(object.parts[0]!);
			}
		}

		if (hosts.size === 0) {
			this.streamState = 'unavailable';
			return;
		}

		// The event filter is an Icinga expression; names go in as JSON strings (valid Icinga string
		// literals for printable text). `event.host in [...]` matches nothing in 2.13 (tested): use ==.
		const filter = [...hosts].map(host => `event.host == ${JSON.stringify(host)}`).join(' || ');
		try {
			this.stream = await this.http.stream(
				'/v1/events',
				{queue: `secmon-${randomBytes(6).toString('hex')}`, types: ['CheckResult'], filter},
				{action: 'open the event stream', permission: 'events/CheckResult'},
				event => {
					this.onEvent(event);
				},
				error => {
					this.stream = undefined;
					if (!this.closed && this.streamState === 'live') {
						this.streamState = 'idle';
						this.streamRetryAt = Date.now() + 10_000;
						if (error) {
							this.warn(`secmon: note: the Icinga 2 event stream of ${this.target} stopped (${error.message}); polling until it is back`);
						}
					}
				},
			);
			this.streamState = 'live';
		} catch (error) {
			if (error instanceof SecmonError && error.code === 'PEER_ERROR' && /HTTP 40[34]/.test(error.message)) {
				this.streamState = 'unavailable';
				this.warn(`secmon: note: no Icinga 2 event stream for ${this.target} (the API user lacks the permission "events/CheckResult"); polling every interval instead`);
				return;
			}

			throw error;
		}
	}

	async fetch(): Promise<Sample> {
		this.fetches++;
		if (this.useEvents && this.fetches >= 2 && this.streamState === 'idle' && Date.now() >= this.streamRetryAt && !this.closed) {
			await this.startStream();
			// Events only come with new check results: this sample still polls.
			return this.pollSample();
		}

		if (this.streamState === 'live') {
			const statusObjectsNeeded = [...this.selected.values()].some(object => object.kind === 'status');
			if (statusObjectsNeeded) {
				for (const object of statusObjects(await this.http.json('GET', '/v1/status', undefined, {action: 'read /v1/status', permission: 'status/query'}))) {
					this.selected.set(objectPath(object), object);
				}
			}

			return sampleOf(new MetricTree([...this.selected.values()]), this.names, this.target, new Date());
		}

		return this.pollSample();
	}

	private async pollSample(): Promise<Sample> {
		const objects = await this.poll();
		for (const object of objects) {
			const path = objectPath(object);
			if (this.selected.has(path)) {
				this.selected.set(path, object);
			}
		}

		return sampleOf(new MetricTree(objects), this.names, this.target, new Date());
	}

	/** The browser's tree: help texts come from the one it showed last. */
	private readonly browser = new CheckBrowser(async () => this.load(wantedFor([])));

	/** Every host, service and status leaf the API user may query (read-only: the followed objects stay). */
	async listNames(): Promise<NameList> {
		return this.browser.listNames();
	}

	async helpText(name: string): Promise<string | undefined> {
		return this.browser.helpText(name);
	}

	/** True while live updates come from the event stream. */
	get streaming(): boolean {
		return this.streamState === 'live';
	}

	close(): void {
		this.closed = true;
		this.stream?.close();
		this.http.close();
	}
}
