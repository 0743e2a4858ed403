/**
 * pmproxy under pminfo's job (commands/pminfo.ts): the PMNS, descriptor, help-text, instance and
 * fetch calls pminfo makes, answered from pmproxy's REST API in the shapes the PCP codec gives, so
 * that `-f -d -t -T` print what pminfo prints for the same pmcd (docs/pmproxy.md#pminfo).
 * Lives among the commands because it joins two protocols' shapes (the PCP error codes and
 * descriptors, pmproxy's answers); neither protocol imports the other.
 */
import type {SessionHooks} from '../io.js';
import type {PmnsClient} from '../metrics/derived/pcp-client.js';
import type {Plan} from '../plan.js';
import {PM_ERR, PM_IN_NULL, PM_TEXT} from '../protocols/pcp/constants.js';
import {PcpError, pmErrStr} from '../protocols/pcp/errors.js';
import type {PcpDesc, PcpResult, PcpValueSet} from '../protocols/pcp/pdu.js';
import {indomNull, type PmproxyApi, type PmproxyMetric} from '../protocols/pmproxy/api.js';
import {instanceValues} from '../protocols/pmproxy/model.js';
import type {HostSpec} from '../target.js';
import type {TlsFacts} from '../security/types.js';
import {SecmonError} from '../errors.js';

/** pmErrStr's text → its code (pmproxy sends the text of PCP's errors). */
let codeByText: Map<string, number> | undefined;

function errorOf(message: string, fallback: number): PcpError {
	codeByText ??= new Map(Object.values(PM_ERR).map(code => [pmErrStr(code), code]));
	return new PcpError(codeByText.get(message) ?? fallback);
}

export class PmproxyPmns implements PmnsClient {
	readonly #api: PmproxyApi;
	readonly #who: string;
	readonly #byName = new Map<string, PmproxyMetric>();
	readonly #byPmid = new Map<number, PmproxyMetric>();
	readonly #indoms = new Map<number, Promise<{instances: Array<{inst: number; name: string}>; oneline: string; help: string}>>();

	constructor(api: PmproxyApi, who: string) {
		this.#api = api;
		this.#who = who;
	}

	#remember(metric: PmproxyMetric): void {
		this.#byName.set(metric.name, metric);
		if (!this.#byPmid.has(metric.pmid)) {
			this.#byPmid.set(metric.pmid, metric);
		}
	}

	/** pmTraversePMNS: pmproxy's /pmapi/metric traverses each name it is given. */
	async traverse(name: string): Promise<string[]> {
		const entries = await this.#api.metrics([name]);
		const names: string[] = [];
		for (const entry of entries) {
			if ('error' in entry) {
				if (entries.length === 1) {
					throw errorOf(entry.error, PM_ERR.NAME);
				}
			} else {
				this.#remember(entry);
				names.push(entry.name);
			}
		}

		return names;
	}

	/** pmLookupName: a name is a metric when pmproxy's traversal of it gives itself. */
	async lookupNames(names: string[]): Promise<Array<number | PcpError>> {
		const wanted = names.filter(name => !this.#byName.has(name));
		if (wanted.length > 0) {
			for (const entry of await this.#api.metrics(wanted)) {
				if (!('error' in entry)) {
					this.#remember(entry);
				}
			}
		}

		return names.map(name => this.#byName.get(name)?.pmid ?? new PcpError(PM_ERR.NAME));
	}

	/** pmNameID: only for metrics this session has seen (pmproxy looks up names, not PMIDs). */
	async namesOf(pmid: number): Promise<string[]> {
		const metric = this.#byPmid.get(pmid);
		if (metric === undefined) {
			throw new PcpError(PM_ERR.PMID);
		}

		return [metric.name];
	}

	async descriptors(pmids: number[]): Promise<Array<PcpDesc | PcpError>> {
		return pmids.map(pmid => {
			const metric = this.#byPmid.get(pmid);
			return metric === undefined
				? new PcpError(PM_ERR.PMID)
				: {
					pmid, type: metric.type, indom: metric.indom, sem: metric.sem, units: metric.units,
				};
		});
	}

	async #indom(indom: number) {
		let cached = this.#indoms.get(indom);
		if (cached === undefined) {
			cached = this.#api.indom(indom);
			this.#indoms.set(indom, cached);
		}

		return cached;
	}

	/**
	 * pmLookupText. pmproxy sends "" for a missing text and its "text-help" is the one-line text
	 * when the help is empty: an empty text is PM_ERR_TEXT, as pmcd answers for a missing one.
	 */
	async text(ident: number, kind: number): Promise<string> {
		let text: string;
		if ((kind & PM_TEXT.INDOM) === 0) {
			const metric = this.#byPmid.get(ident);
			if (metric === undefined) {
				throw new PcpError(PM_ERR.PMID);
			}

			text = (kind & PM_TEXT.HELP) === 0 ? metric.oneline : metric.help;
		} else {
			let indom;
			try {
				indom = await this.#indom(ident);
			} catch (error) {
				if (error instanceof SecmonError && error.code === 'PEER_ERROR') {
					throw new PcpError(PM_ERR.INDOM);
				}

				throw error;
			}

			text = (kind & PM_TEXT.HELP) === 0 ? indom.oneline : indom.help;
		}

		if (text === '') {
			throw new PcpError(PM_ERR.TEXT);
		}

		return text;
	}

	async instances(indom: number): Promise<Array<{inst: number; name: string}>> {
		try {
			return (await this.#indom(indom)).instances;
		} catch (error) {
			if (error instanceof SecmonError && error.code === 'PEER_ERROR') {
				throw new PcpError(PM_ERR.INDOM);
			}

			throw error;
		}
	}

	/** pmFetch by name: metrics pmproxy sends no value set for have no values (numval 0). */
	async fetch(pmids: number[]): Promise<PcpResult> {
		const metrics = pmids.map(pmid => this.#byPmid.get(pmid));
		const names = metrics.filter(metric => metric !== undefined).map(metric => metric.name);
		const result = await this.#api.fetch(names);
		const byName = new Map(result.values.map(set => [set.name, set]));
		const vsets: PcpValueSet[] = pmids.map((pmid, index) => {
			const metric = metrics[index];
			if (metric === undefined) {
				return {pmid, status: 'error', code: PM_ERR.PMID};
			}

			const set = byName.get(metric.name);
			if (set === undefined) {
				return {pmid, status: 'novalues'};
			}

			let values;
			try {
				values = instanceValues(metric.type, set.instances);
			} catch (error) {
				throw new SecmonError('PROTOCOL', `${this.#who} sent ${(error as Error).message} for ${metric.name}`, 'Check that this port is pmproxy\'s REST API; secmon checks every value against the metric\'s type');
			}

			if (values.length === 0) {
				return {pmid, status: 'novalues'};
			}

			return {
				pmid,
				status: 'ok',
				valfmt: 0,
				values: values.map(({inst, value}) => ({
					inst: metric.indom === indomNull ? PM_IN_NULL : (inst ?? PM_IN_NULL), type: metric.type, value,
				})),
			};
		});
		return {sec: result.sec, nsec: result.nsec, vsets};
	}
}

/** The verified pmproxy session for pminfo's job. */
export async function openPmproxyPmns(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<{client: PmproxyPmns; tls: TlsFacts | undefined; close: () => void}> {
	const {openPmproxySession} = await import('../protocols/pmproxy/open.js');
	const {api, http, tls} = await openPmproxySession(target, plan, hooks);
	return {
		client: new PmproxyPmns(api, `pmproxy at ${target.display}`),
		tls: tls(),
		close() {
			http.close();
		},
	};
}
