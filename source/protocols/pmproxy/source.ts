/**
 * pmproxy as a MetricSource: names → descriptors (/pmapi/metric, which expands non-leaf names as
 * pmcd's traversal does) and instance names (/pmapi/indom) once, then one /pmapi/fetch per sample.
 */
import {SecmonError} from '../../errors.js';
import type {MetricDesc, MetricValues, Sample} from '../../metrics/model.js';
import type {MetricSource} from '../../metrics/source.js';
import type {TlsFacts} from '../../security/types.js';
import {indomNull, type PmproxyApi, type PmproxyMetric} from './api.js';
import type {PmproxyHttp} from './http.js';
import {instanceValues, metricDescOf} from './model.js';

export class PmproxySource implements MetricSource {
	readonly host: string;
	readonly port: number;
	readonly target: string;
	readonly hostspec: string | undefined;
	readonly api: PmproxyApi;
	private readonly http: PmproxyHttp;
	private readonly tlsFacts: () => TlsFacts | undefined;
	private metrics: PmproxyMetric[] = [];
	private readonly instanceNames = new Map<number, Map<number, string>>();

	constructor(options: {api: PmproxyApi; http: PmproxyHttp; host: string; port: number; display: string; hostspec?: string | undefined; tls: () => TlsFacts | undefined}) {
		this.hostspec = options.hostspec;
		this.api = options.api;
		this.http = options.http;
		this.host = options.host;
		this.port = options.port;
		this.target = options.display;
		this.tlsFacts = options.tls;
	}

	get tls(): TlsFacts | undefined {
		return this.tlsFacts();
	}

	async describe(names: string[]) {
		const errors: Array<{name: string; message: string}> = [];
		// Every name asked is answered (callers rebuild their lists from the answer); each call adds
		// to what fetch() samples, never twice (DerivedSource describes its operands in a second call).
		const answered: PmproxyMetric[] = [];
		const asked = new Set<string>();
		// One request per name, so that a name pmproxy cannot traverse is reported as itself.
		for (const name of names) {
			for (const entry of await this.api.metrics([name])) {
				if ('error' in entry) {
					errors.push({name: entry.name, message: entry.error});
				} else if (!asked.has(entry.name)) {
					asked.add(entry.name);
					answered.push(entry);
				}
			}
		}

		const descs: MetricDesc[] = [];
		for (const metric of answered) {
			descs.push(metricDescOf(metric));
			if (metric.indom !== indomNull && !this.instanceNames.has(metric.indom)) {
				await this.refreshInstances(metric.indom);
			}
		}

		const known = new Set(this.metrics.map(metric => metric.name));
		this.metrics = [...this.metrics, ...answered.filter(metric => !known.has(metric.name))];
		return {descs, errors};
	}

	private async refreshInstances(indom: number): Promise<Map<number, string>> {
		const names = new Map<number, string>();
		try {
			for (const {inst, name} of (await this.api.indom(indom)).instances) {
				names.set(inst, name);
			}
		} catch (error) {
			if (!(error instanceof SecmonError) || error.code !== 'PEER_ERROR') {
				throw error;
			}
		}

		this.instanceNames.set(indom, names);
		return names;
	}

	/** /pmapi/fetch names only these from now on (metrics/source.ts). */
	retain(names: string[]): void {
		const keep = new Set(names);
		this.metrics = this.metrics.filter(metric => keep.has(metric.name));
	}

	async fetch(): Promise<Sample> {
		if (this.metrics.length === 0) {
			return {target: this.target, timestamp: new Date(), metrics: []};
		}

		const result = await this.api.fetch(this.metrics.map(metric => metric.name));
		const byName = new Map(result.values.map(set => [set.name, set]));
		const metrics: Sample['metrics'] = [];
		for (const metric of this.metrics) {
			const set = byName.get(metric.name);
			let values: MetricValues = {status: 'novalues'};
			if (set !== undefined) {
				let converted;
				try {
					converted = instanceValues(metric.type, set.instances);
				} catch (error) {
					throw new SecmonError('PROTOCOL', `pmproxy at ${this.target} sent ${(error as Error).message} for ${metric.name}`, 'Check that this port is pmproxy\'s REST API; secmon checks every value against the metric\'s type');
				}

				let names = metric.indom === indomNull ? undefined : this.instanceNames.get(metric.indom);
				// New instances (a disk hot-plugged): refresh the indom once.
				if (names && converted.some(({inst}) => inst !== undefined && !names!.has(inst))) {
					names = await this.refreshInstances(metric.indom);
				}

				if (converted.length > 0) {
					values = {
						status: 'ok',
						values: converted.map(({inst, value}) => {
							const name = inst === undefined ? undefined : names?.get(inst);
							return {
								...(inst === undefined ? {} : {instance: inst}),
								...(name === undefined ? {} : {name}),
								value,
							};
						}),
					};
				}
			}

			metrics.push({name: metric.name, result: values});
		}

		return {target: this.target, timestamp: new Date(result.sec * 1000 + Math.floor(result.nsec / 1e6)), metrics};
	}

	close(): void {
		this.http.close();
	}
}
