/** PCP as a MetricSource: names → descriptors once, then one HIGHRES_FETCH per sample. */
import type {MetricDesc, Sample} from '../../metrics/model.js';
import {
	boundNames, type MetricSource, type NameError, type NameList, type unknownMetric,
} from '../../metrics/source.js';
import type {TlsFacts} from '../../security/types.js';
import type {PcpClient} from './client.js';
import {PM_ERR, PM_INDOM_NULL, PM_TEXT} from './constants.js';
import {isPcpError, pmErrStr} from './errors.js';
import {toMetricDesc, toMetricValues} from './model.js';

function text(error: unknown): string {
	return isPcpError(error) ? pmErrStr(error.code) : (error instanceof Error ? error.message : String(error));
}

// PCP's code for an unknown name is the protocol-neutral one (metrics/source.ts), so pminfo's text and --json agree.
PM_ERR.NAME satisfies typeof unknownMetric.code;

/** A name describe() could not resolve: pmErrStr's text (pminfo's); a PCP error other than PM_ERR_NAME keeps its code. */
function nameError(name: string, error: unknown): NameError {
	return isPcpError(error) && error.code !== PM_ERR.NAME ? {name, message: text(error), code: error.code} : {name, message: text(error)};
}

export class PcpSource implements MetricSource {
	readonly host: string;
	readonly port: number;
	readonly target: string;
	readonly tls: TlsFacts | undefined;
	private readonly client: PcpClient;
	private descs: MetricDesc[] = [];
	private readonly instanceNames = new Map<number, Map<number, string>>();

	constructor(client: PcpClient, where: {host: string; port: number; display: string}) {
		this.client = client;
		this.host = where.host;
		this.port = where.port;
		this.target = where.display;
		this.tls = client.tls;
	}

	async describe(names: string[]) {
		const errors: NameError[] = [];
		const leaves: string[] = [];
		for (const name of names) {
			try {
				leaves.push(...await this.client.traverse(name));
			} catch (error) {
				errors.push(nameError(name, error));
			}
		}

		const descs: MetricDesc[] = [];
		if (leaves.length > 0) {
			const pmids = await this.client.lookupNames(leaves);
			for (const [index, name] of leaves.entries()) {
				const pmid = pmids[index];
				if (typeof pmid !== 'number') {
					errors.push(nameError(name, pmid));
					continue;
				}

				try {
					const desc = toMetricDesc(name, await this.client.descriptor(pmid));
					descs.push(desc);
					if (desc.indom !== undefined && desc.indom !== PM_INDOM_NULL) {
						await this.refreshInstances(desc.indom);
					}

					desc.oneline = await this.client.text(pmid, PM_TEXT.PMID | PM_TEXT.ONELINE).catch(() => undefined);
				} catch (error) {
					errors.push(nameError(name, error));
				}
			}
		}

		// Each call adds to what fetch() samples: DerivedSource describes its operands in a second call.
		const known = new Set(this.descs.map(desc => desc.name));
		this.descs = [...this.descs, ...descs.filter(desc => !known.has(desc.name))];
		return {descs, errors};
	}

	private async refreshInstances(indom: number): Promise<Map<number, string>> {
		const list = await this.client.instances(indom).catch(() => []);
		const names = new Map(list.map(entry => [entry.inst, entry.name]));
		this.instanceNames.set(indom, names);
		return names;
	}

	/** The fetch PDU carries only these PMIDs from now on (metrics/source.ts). */
	retain(names: string[]): void {
		const keep = new Set(names);
		this.descs = this.descs.filter(desc => keep.has(desc.name));
	}

	async fetch(): Promise<Sample> {
		const result = await this.client.fetch(this.descs.map(d => d.pmid!));
		const metrics: Sample['metrics'] = [];
		for (const desc of this.descs) {
			const vset = result.vsets.find(v => v.pmid === desc.pmid);
			let names = desc.indom === undefined ? undefined : this.instanceNames.get(desc.indom);
			// New instances (a disk hot-plugged, a new network interface): refresh the indom once.
			if (names && vset?.status === 'ok' && vset.values.some(atom => !names!.has(atom.inst))) {
				names = await this.refreshInstances(desc.indom!);
			}

			metrics.push({name: desc.name, result: toMetricValues(vset, names)});
		}

		return {target: this.target, timestamp: new Date(result.sec * 1000 + Math.floor(result.nsec / 1e6)), metrics};
	}

	/** The whole PMNS (PMNS_TRAVERSE of the root, as pminfo with no name lists it). */
	async listNames(): Promise<NameList> {
		const names = await this.client.traverse('');
		return boundNames(names.map(name => ({name, path: name.split('.')})));
	}

	/** The one-line help and the long help text (PM_TEXT_HELP), as `pminfo -tT` shows them. */
	async helpText(name: string): Promise<string | undefined> {
		const [pmid] = await this.client.lookupNames([name]);
		if (typeof pmid !== 'number') {
			return undefined;
		}

		const oneline = await this.client.text(pmid, PM_TEXT.PMID | PM_TEXT.ONELINE).catch(() => undefined);
		const help = await this.client.text(pmid, PM_TEXT.PMID | PM_TEXT.HELP).catch(() => undefined);
		const parts = [...new Set([oneline, help].map(text => text?.trim()).filter(text => text !== undefined && text !== ''))];
		return parts.length === 0 ? undefined : parts.join('\n\n');
	}

	close(): void {
		this.client.close();
	}
}
