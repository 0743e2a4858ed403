/**
 * The pmcd.* basics that real clients touch (docs/pcp.md#what-clients-send): pmval fetches
 * pmcd.hostname for its "host:" line and stores pmcd.client.whoami at start.
 * Names, PMIDs (domain 2), descriptors and help text are those of pmcd's own
 * PMDA in PCP 6.0.3.
 *
 * Unlike pmcd, a client sees only its own pmcd.client instance: whoami
 * strings often hold another user's command line, which is none of this
 * client's business.
 */
import os from 'node:os';
import {noUnits} from '../metrics/model.js';
import {pcpError} from './errors.js';
import {
	indom, indomNull, instNull, pcpSem, pcpType, pmid,
	type ClientContext, type FetchOutcome, type Instance, type MetricSource, type ServedIndom, type ServedMetric,
} from './types.js';

export const pmcdDomain = 2;
export const clientIndom = indom(pmcdDomain, 6);
export const hostnamePmid = pmid(pmcdDomain, 0, 21);
export const whoamiPmid = pmid(pmcdDomain, 6, 0);

const metrics: readonly ServedMetric[] = [
	{
		name: 'pmcd.hostname', pmid: hostnamePmid, type: pcpType.string, indom: indomNull, sem: pcpSem.discrete, units: noUnits,
		oneline: 'local hostname',
		help: [
			'A reasonably unique identifier of the PMCD installation, for use',
			'by pmlogger or other tools to identify the source principal of',
			'the data (as distinct from identifying the connection/protocol',
			'used to reach it).',
		].join('\n'),
	},
	{
		name: 'pmcd.client.whoami', pmid: whoamiPmid, type: pcpType.string, indom: clientIndom, sem: pcpSem.discrete, units: noUnits,
		oneline: 'optional identification information for clients of pmcd',
		help: [
			'This metric is defined over an instance domain containing one entry',
			'per active client of pmcd.  The instance number is a sequence number',
			'for each client (restarts at 0 each time pmcd is restarted).  The value',
			'of the metric by default is the IP address of the client.',
			'',
			'Clients can optionally use pmStore to modify their own "whoami" string',
			'to provide more useful information about the client.',
		].join('\n'),
	},
];

const indoms: readonly ServedIndom[] = [
	{indom: clientIndom, oneline: 'client Instance Domain', help: 'One instance per identified, connected PMAPI client application.'},
];

export class PmcdSource implements MetricSource {
	readonly domain = pmcdDomain;
	readonly agent = 'pmcd';
	readonly metrics = metrics;
	readonly indoms = indoms;
	private readonly hostname: () => string;

	constructor(options: {hostname?: () => string} = {}) {
		this.hostname = options.hostname ?? (() => os.hostname());
	}

	async instances(id: number, client: ClientContext): Promise<Instance[]> {
		if (id !== clientIndom) {
			throw pcpError('INDOM');
		}

		return [{inst: client.seq, name: String(client.seq)}];
	}

	async fetch(pmids: readonly number[], client: ClientContext): Promise<Map<number, FetchOutcome>> {
		const result = new Map<number, FetchOutcome>();
		for (const id of pmids) {
			switch (id) {
				case hostnamePmid: {
					result.set(id, {values: [{inst: instNull, value: this.hostname()}]});
					break;
				}

				case whoamiPmid: {
					result.set(id, {values: [{inst: client.seq, value: client.whoami}]});
					break;
				}

				default: {
					result.set(id, {error: pcpError('PMID').code});
				}
			}
		}

		return result;
	}
}
