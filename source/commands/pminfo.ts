/**
 * The pminfo-compatible one-shot job: what Debian's pminfo 6.0.3 asks pmcd and
 * in which order (docs/pcp.md#what-clients-send), rendered byte-for-byte by source/render/pminfo.ts.
 */
import {
	PM_ERR, PM_ID_NULL, PM_IN_NULL, PM_INDOM_NULL, PM_LABEL, PM_PROFILE, PM_TEXT, PM_TYPE,
} from '../protocols/pcp/constants.js';
import {maxEventParameterPmids, unpackEventRecords} from '../protocols/pcp/events.js';
import {LabelMerger, mergeLabelSets, type MergedLabels} from '../protocols/pcp/labels.js';
import {isPcpError, PcpError, pmErrStr} from '../protocols/pcp/errors.js';
import type {PmnsClient} from '../metrics/derived/pcp-client.js';
import {
	makeLabelSet, type LabelReply, type PcpDesc, type PcpResult,
} from '../protocols/pcp/pdu.js';
import {pmIDStr, pmInDomStr} from '../render/pcp-format.js';
import {toMetricDesc, toMetricValues} from '../protocols/pcp/model.js';
import {
	argumentErrorLine,
	lookupNameErrorLine,
	renderInDomBlock,
	renderMetricBlock,
	renderNameList,
	resolveHelp,
	needsOnelineFallback,
	traverseErrorLine,
	type EventParameterInfo,
	type PminfoMetric,
	type PminfoShow,
} from '../render/pminfo.js';
import type {MetricDesc, MetricValues} from '../metrics/model.js';
import type {Show} from '../plan.js';

/** pminfo batches names per lookup/fetch (pminfo.c: batchsize 128). */
const batchSize = 128;

export type PminfoWriter = {
	stdout: (text: string) => void;
	stderr: (text: string) => void;
	/**
	 * Formats other than pminfo's text (output/format.ts): each metric's values, as soon as they
	 * are known, instead of pminfo's blocks.
	 */
	values?: (metric: {name: string; desc?: MetricDesc; result: MetricValues}, timestamp: Date) => void;
};

function message(error: unknown): string {
	if (isPcpError(error)) {
		return pmErrStr(error.code);
	}

	throw error;
}

async function attempt<T>(run: () => Promise<T>): Promise<{ok: T} | {error: string}> {
	try {
		return {ok: await run()};
	} catch (error) {
		return {error: message(error)};
	}
}

async function onelineOf(client: PmnsClient, ident: number, kind: number): Promise<{oneline?: string; onelineError?: string}> {
	const got = await attempt(async () => client.text(ident, kind | PM_TEXT.ONELINE));
	return 'ok' in got ? {oneline: got.ok} : {onelineError: got.error};
}

/** -T: the help text, or libpcp's fallback to the one-line text when it is empty or missing. */
async function helpOf(client: PmnsClient, ident: number, kind: number): Promise<{help?: string; helpError?: string}> {
	const got = await attempt(async () => client.text(ident, kind | PM_TEXT.HELP));
	const help = 'ok' in got ? {text: got.ok} : {error: got.error};
	if (!needsOnelineFallback(help.text, help.error)) {
		return resolveHelp(help);
	}

	const fallback = await attempt(async () => client.text(ident, kind | PM_TEXT.ONELINE));
	return resolveHelp(help, 'ok' in fallback ? {text: fallback.ok} : {error: fallback.error});
}

const pmidPattern = /^(\d+)\.(\d+)\.(\d+)$/;
const indomPattern = /^(\d+)\.(\d+)$/;

/** -v turns every other flag off (pminfo.c main()); it still looks up descriptors and fetches. */
function effectiveShow(show: Show): Show {
	return show.verify
		? {
			fetch: false, desc: false, pmid: false, pmidLong: false, oneline: false, help: false, verify: true,
		}
		: show;
}

/** Run pminfo's job on one open session; returns pminfo's exit status (1 if any argument failed). */
export async function pminfoOn(client: PmnsClient, metrics: string[], requested: Show, out: PminfoWriter, options: {host?: string} = {}): Promise<number> {
	const show = effectiveShow(requested);
	const pminfoShow: PminfoShow = {
		desc: show.desc,
		fetch: show.fetch,
		pmid: show.pmid,
		pmidLong: show.pmidLong,
		oneline: show.oneline,
		help: show.help,
		labels: show.labels,
		verify: show.verify,
		force: show.force,
		events: show.events,
	};
	const anyShow = Object.values(show).some(Boolean);
	// Report() fetches for -f, -F, -x, -l and -v, and needs the descriptor for those and -d.
	const fetches = Boolean(show.fetch || show.force || show.events || show.labels || show.verify);
	const describes = Boolean(show.desc || fetches);
	const labels = show.labels ? labelLookups(client, options.host) : undefined;
	let status = 0;

	if (metrics.length === 0 && !anyShow && out.values === undefined) {
		const result = await attempt(async () => client.traverse(''));
		if ('error' in result) {
			out.stderr(traverseErrorLine(result.error));
			return 1;
		}

		out.stdout(renderNameList(result.ok));
		return 0;
	}

	// Most arguments are leaf names: look them all up in one request first, and traverse
	// only the ones that do not resolve (non-leaves to expand, unknown names for their
	// error line). That is one round trip for the usual fetch instead of one per argument
	// plus one (core issue part 7); the output is the same, as traversing a leaf gives itself.
	const arguments_ = metrics.length === 0 ? [''] : metrics;
	const plain = arguments_.filter(argument => argument !== '' && !pmidPattern.test(argument) && !indomPattern.test(argument));
	const known = new Map<string, number>();
	if (plain.length > 0) {
		const lookup = await attempt(async () => client.lookupNames(plain));
		if ('ok' in lookup) {
			for (const [index, entry] of lookup.ok.entries()) {
				if (typeof entry === 'number') {
					known.set(plain[index]!, entry);
				}
			}
		}
	}

	const names: string[] = [];
	for (const argument of arguments_) {
		if (known.has(argument)) {
			names.push(argument);
			continue;
		}

		const pmidMatch = pmidPattern.exec(argument);
		if (pmidMatch) {
			const pmid = (Number(pmidMatch[1]) << 22 | Number(pmidMatch[2]) << 10 | Number(pmidMatch[3])) >>> 0;
			const result = await attempt(async () => client.namesOf(pmid));
			if ('error' in result || result.ok.length === 0) {
				out.stderr(argumentErrorLine(argument, 'error' in result ? result.error : pmErrStr(-12_358)));
				status = 1;
			} else {
				names.push(result.ok[0] ?? argument);
			}

			continue;
		}

		const indomMatch = indomPattern.exec(argument);
		if (indomMatch && (show.oneline || show.help || show.labels || show.verify)) {
			const indom = (Number(indomMatch[1]) << 22 | Number(indomMatch[2])) >>> 0;
			if (show.verify) {
				continue; // Doindom() prints nothing in verify mode.
			}

			const oneline = show.oneline ? await onelineOf(client, indom, PM_TEXT.INDOM) : {};
			const merged = labels ? await labels.indom(indom) : undefined;
			const help = show.help ? await helpOf(client, indom, PM_TEXT.INDOM) : {};
			out.stdout(renderInDomBlock({
				indom, show: pminfoShow, ...oneline, ...help, ...(merged !== undefined && 'json' in merged ? {labels: merged.json} : {}),
			}));
			if (merged !== undefined && 'error' in merged) {
				out.stderr(`secmon: indom ${pmInDomStr(indom)} labels merge failed: ${pmErrStr(merged.error)}\n`);
			}

			continue;
		}

		const result = await attempt(async () => client.traverse(argument));
		if ('error' in result) {
			out.stderr(argumentErrorLine(argument, result.error));
			status = 1;
		} else {
			names.push(...result.ok);
		}
	}

	const eventParameters: EventParameters = {parameters: new Map(), capped: false};
	const indomCache = new Map<number, Promise<ReadonlyMap<number, string> | undefined>>();
	const instancesOf = async (indom: number) => {
		let cached = indomCache.get(indom);
		if (!cached) {
			cached = client.instances(indom).then(
				list => new Map(list.map(entry => [entry.inst, entry.name])),
				() => undefined,
			);
			indomCache.set(indom, cached);
		}

		return cached;
	};

	for (let start = 0; start < names.length; start += batchSize) {
		const batch = names.slice(start, start + batchSize);
		const unknown = batch.filter(name => !known.has(name));
		const lookup = unknown.length === 0 ? {ok: []} : await attempt(async () => client.lookupNames(unknown));
		const looked = new Map<string, number | string>('error' in lookup
			? unknown.map(name => [name, lookup.error])
			: lookup.ok.map((entry, index) => [unknown[index]!, typeof entry === 'number' ? entry : message(entry)]));
		const pmids: Array<number | string> = batch.map(name => known.get(name) ?? looked.get(name)!);
		const valid = pmids.filter((p): p is number => typeof p === 'number');
		// Descriptors first (one DESC_IDS where the server has DESCS): the client needs
		// each metric's type to tell U32 from 32-bit INSITU values (docs/pcp.md#fetch-and-result).
		const descs = new Map<number, PcpDesc | string>();
		if ((describes || out.values) && valid.length > 0) {
			const got = await attempt(async () => client.descriptors(valid));
			for (const [index, pmid] of valid.entries()) {
				const entry = 'ok' in got ? got.ok[index]! : got.error;
				descs.set(pmid, typeof entry === 'string' ? entry : (isPcpError(entry) ? pmErrStr(entry.code) : entry));
			}
		}

		let fetched: {ok: PcpResult} | {error: string} | undefined;
		if ((fetches || out.values) && valid.length > 0) {
			fetched = await attempt(async () => client.fetch(valid));
		}

		const timestamp = fetched && 'ok' in fetched ? new Date(fetched.ok.sec * 1000 + Math.floor(fetched.ok.nsec / 1e6)) : new Date();
		for (const [index, name] of batch.entries()) {
			const pmid = pmids[index]!;
			if (typeof pmid === 'string') {
				if (out.values) {
					out.values({name, result: {status: 'error', code: PM_ERR.NAME, message: pmid}}, timestamp);
				} else {
					out.stdout(lookupNameErrorLine(name, pmid));
				}

				continue;
			}

			const metric: PminfoMetric = {name, show: pminfoShow, pmid};
			const desc = descs.get(pmid);
			const pcpDesc = typeof desc === 'object' ? desc : undefined;
			if (pcpDesc) {
				metric.desc = toMetricDesc(name, pcpDesc);
			} else if (typeof desc === 'string') {
				metric.descError = desc;
			}

			if (show.oneline) {
				Object.assign(metric, await onelineOf(client, pmid, PM_TEXT.PMID));
			}

			if (show.help) {
				Object.assign(metric, await helpOf(client, pmid, PM_TEXT.PMID));
			}

			if (fetched) {
				if ('error' in fetched) {
					metric.fetchError = fetched.error;
				} else {
					const vset = fetched.ok.vsets.find(v => v.pmid === pmid);
					let names: ReadonlyMap<number, string> | undefined;
					if (pcpDesc && pcpDesc.indom !== PM_INDOM_NULL) {
						names = await instancesOf(pcpDesc.indom);
					}

					metric.instanceNames = names;
					metric.values = toMetricValues(vset, names);
					if (show.force && pcpDesc && vset?.status === 'error' && vset.code === PM_ERR.PROFILE) {
						Object.assign(metric, await forcedFetch(client, name, pmid, pcpDesc, instancesOf));
					}

					if (show.events && pcpDesc && metric.values.status === 'ok'
						&& (pcpDesc.type === PM_TYPE.EVENT || pcpDesc.type === PM_TYPE.HIGHRES_EVENT)) {
						Object.assign(metric, await eventsOf(client, metric.values, pcpDesc.type === PM_TYPE.HIGHRES_EVENT, eventParameters, out.stderr));
					}
				}
			}

			if (labels && pcpDesc && metric.forceError === undefined && !(fetched && 'error' in fetched)) {
				Object.assign(metric, await labels.metric(pcpDesc, instancesOf));
			}

			if (out.values) {
				const problem = metric.fetchError ?? metric.descError;
				out.values({
					name,
					desc: metric.desc,
					result: problem === undefined ? (metric.values ?? {status: 'novalues'}) : {status: 'error', code: PM_ERR.IPC, message: problem},
				}, timestamp);
				continue;
			}

			const block = renderMetricBlock(metric);
			out.stdout(block.stdout);
			if (block.stderr) {
				out.stderr(block.stderr);
			}
		}
	}

	return status;
}

type InstancesOf = (indom: number) => Promise<ReadonlyMap<number, string> | undefined>;

/**
 * Report() with -F when pmcd answers PM_ERR_PROFILE (an indom it will not enumerate by itself):
 * pmGetInDom, then a fetch of this metric with a profile naming every instance.
 */
async function forcedFetch(
	client: PmnsClient,
	name: string,
	pmid: number,
	desc: PcpDesc,
	instancesOf: InstancesOf,
): Promise<Partial<PminfoMetric>> {
	const got = await attempt(async () => client.instances(desc.indom));
	if ('error' in got) {
		return {forceError: `${name}: pmGetIndom: ${got.error}`};
	}

	if (got.ok.length === 0) {
		return {forceError: `${name}: pmGetIndom: No instances?`};
	}

	const profile = {
		ctxid: 0,
		globalState: PM_PROFILE.INCLUDE,
		profiles: [{indom: desc.indom, state: PM_PROFILE.EXCLUDE, instances: got.ok.map(entry => entry.inst)}],
	};
	const fetched = await attempt(async () => client.fetch([pmid], {profile}));
	if ('error' in fetched) {
		return {forceError: `${name}: pmFetch: ${fetched.error}`};
	}

	const names = await instancesOf(desc.indom);
	return {values: toMetricValues(fetched.ok.vsets[0], names), instanceNames: names};
}

/**
 * -x: each value's records unpacked, and the names and descriptors of their parameters' metrics,
 * each PMID asked once per run and at most maxEventParameterPmids of them (a peer could name a new
 * one in every parameter; the others print by PMID, and stderr says so once). pminfo asks
 * pmNameAll and pmLookupDesc for every parameter of every record; secmon asks the new PMIDs'
 * descriptors in one DESC_IDS, as pmLookupDescs does, and their names one PMNS_IDS each, the only
 * form pmcd answers (docs/pcp.md#pminfo-habits).
 */
async function eventsOf(
	client: PmnsClient,
	values: Extract<MetricValues, {status: 'ok'}>,
	highres: boolean,
	state: EventParameters,
	say: (text: string) => void,
): Promise<Partial<PminfoMetric>> {
	const events = values.values.map(value => {
		if (!(value.value instanceof Uint8Array)) {
			return undefined;
		}

		const unpacked = unpackEventRecords(value.value, highres);
		return 'error' in unpacked ? {error: pmErrStr(unpacked.error)} : unpacked;
	});
	const fresh = new Set<number>();
	for (const unpacked of events) {
		for (const record of unpacked && 'records' in unpacked ? unpacked.records : []) {
			for (const parameter of record.params) {
				if (parameter.kind !== 'value' || state.parameters.has(parameter.pmid) || fresh.has(parameter.pmid)) {
					continue;
				}

				if (state.parameters.size + fresh.size >= maxEventParameterPmids) {
					if (!state.capped) {
						state.capped = true;
						say(`secmon: the event records name more than ${maxEventParameterPmids} parameter metrics; secmon asked pmcd about the first ${maxEventParameterPmids} and prints the others by PMID\n`);
					}

					continue;
				}

				fresh.add(parameter.pmid);
			}
		}
	}

	const pmids = [...fresh];
	const descs = await lookupDescs(client, pmids);
	for (const [index, pmid] of pmids.entries()) {
		const names = await attempt(async () => client.namesOf(pmid));
		const desc = descs[index]!;
		state.parameters.set(pmid, {
			names: 'ok' in names ? names.ok : {error: names.error},
			desc: typeof desc === 'string' ? {error: desc} : toMetricDesc('ok' in names ? names.ok[0] ?? '' : '', desc),
		});
	}

	return {events, eventParameters: state.parameters};
}

type EventParameters = {parameters: Map<number, EventParameterInfo>; capped: boolean};

/**
 * Descriptors of `pmids` in one DESC_IDS (client.descriptors), or, when pmcd refuses the whole
 * request, one each, so each PMID gets its own answer as pminfo's pmLookupDesc would.
 */
async function lookupDescs(client: PmnsClient, pmids: number[]): Promise<Array<PcpDesc | string>> {
	if (pmids.length === 0) {
		return [];
	}

	const batch = await attempt(async () => client.descriptors(pmids));
	if ('ok' in batch) {
		return batch.ok.map(desc => (isPcpError(desc) ? pmErrStr(desc.code) : desc));
	}

	const out: Array<PcpDesc | string> = [];
	for (const pmid of pmids) {
		const one = await attempt(async () => client.descriptors([pmid]));
		const desc = 'ok' in one ? one.ok[0] ?? new PcpError(PM_ERR.PMID) : one.error;
		out.push(isPcpError(desc) ? pmErrStr(desc.code) : desc);
	}

	return out;
}

type LabelSets = LabelReply['sets'];

/**
 * Pminfo -l's label lookups (pminfo.c lookup_*_labels, myindomlabels, mymetriclabels,
 * myinstancelabels), each asked once per session; a failed lookup is no labels, as in pminfo.
 * Context labels fall back to {"hostname": …} (defaultlabels: pmcd.hostname, else the host).
 */
function labelLookups(client: PmnsClient, host: string | undefined) {
	const cache = new Map<string, Promise<LabelSets | undefined>>();
	const lookup = async (ident: number, type: number): Promise<LabelSets | undefined> => {
		const key = `${type}:${ident}`;
		let got = cache.get(key);
		if (!got) {
			got = (client.labels ? client.labels(ident, type) : Promise.reject(new PcpError(PM_ERR.NOLABELS))).then(reply => reply.sets, (error: unknown) => {
				message(error); // Only PCP errors are "no labels"; anything else fails the run.
				return undefined;
			});
			cache.set(key, got);
		}

		return got;
	};

	let context: Promise<LabelSets[number] | undefined> | undefined;
	const contextLabels = async () => {
		context ??= (async () => {
			const sets = await lookup(PM_ID_NULL, PM_LABEL.CONTEXT);
			if (sets !== undefined && sets.length > 0) {
				return sets[0];
			}

			const name = await hostnameOf(client) ?? host;
			return name === undefined ? undefined : makeLabelSet(PM_IN_NULL, {hostname: name}, 0);
		})();
		return context;
	};

	const first = async (ident: number, type: number) => (await lookup(ident, type))?.[0];
	const domainOf = (ident: number) => ident >>> 22 & 0x1_ff;

	return {
		async indom(indom: number): Promise<MergedLabels | undefined> {
			return mergeLabelSets([await contextLabels(), await first(domainOf(indom), PM_LABEL.DOMAIN), await first(indom, PM_LABEL.INDOM)]);
		},
		async metric(desc: PcpDesc, instancesOf: InstancesOf): Promise<Partial<PminfoMetric>> {
			const common = [
				await contextLabels(),
				await first(domainOf(desc.pmid), PM_LABEL.DOMAIN),
				...(desc.indom === PM_INDOM_NULL ? [] : [await first(desc.indom, PM_LABEL.INDOM)]),
				await first(desc.pmid, PM_LABEL.CLUSTER),
				await first(desc.pmid, PM_LABEL.ITEM),
			];
			const result: Partial<PminfoMetric> = {};
			let errors = '';
			const merged = mergeLabelSets(common);
			if (merged !== undefined && 'json' in merged) {
				result.labels = merged.json;
			} else if (merged !== undefined) {
				errors += `secmon: metric ${pmIDStr(desc.pmid)} labels merge failed: ${pmErrStr(merged.error)}\n`;
			}

			if (desc.indom !== PM_INDOM_NULL) {
				// Myinstancelabels(): the instances' label sets, else one entry per instance of pmGetInDom.
				const names = await instancesOf(desc.indom);
				const sets = await lookup(desc.indom, PM_LABEL.INSTANCES);
				const perInstance: Array<{inst: number; set?: LabelSets[number]}> = sets !== undefined && sets.length > 0
					? sets.map(set => ({inst: set.inst, set}))
					: [...(names?.keys() ?? [])].map(inst => ({inst}));
				// The base sets merged once for the metric; each instance adds its own set.
				const base = new LabelMerger([
					common[0],
					await first(domainOf(desc.indom), PM_LABEL.DOMAIN),
					await first(desc.indom, PM_LABEL.INDOM),
					await first(desc.pmid, PM_LABEL.CLUSTER),
					await first(desc.pmid, PM_LABEL.ITEM),
				]);
				result.instanceLabels = [];
				for (const {inst, set} of perInstance) {
					const one = base.with(set);
					if (one !== undefined && 'json' in one) {
						const name = names?.get(inst);
						result.instanceLabels.push({instance: inst, ...(name === undefined ? {} : {name}), labels: one.json});
					} else if (one !== undefined) {
						errors += `secmon: ${pmInDomStr(desc.indom)} instances labels merge failed: ${pmErrStr(one.error)}\n`;
					}
				}
			}

			if (errors !== '') {
				result.labelErrors = errors;
			}

			return result;
		},
	};
}

/** PmGetHostName(): the value of pmcd.hostname, if pmcd has one. */
async function hostnameOf(client: PmnsClient): Promise<string | undefined> {
	try {
		const [pmid] = await client.lookupNames(['pmcd.hostname']);
		if (typeof pmid !== 'number') {
			return undefined;
		}

		const result = await client.fetch([pmid], {typeOf: () => PM_TYPE.STRING});
		const vset = result.vsets[0];
		const value = vset?.status === 'ok' ? vset.values[0]?.value : undefined;
		return typeof value === 'string' ? value : undefined;
	} catch (error) {
		message(error);
		return undefined;
	}
}
