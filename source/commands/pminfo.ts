/**
 * The pminfo-compatible one-shot job: what Debian's pminfo 6.0.3 asks pmcd and
 * in which order (docs/pcp.md#what-clients-send), rendered byte-for-byte by source/render/pminfo.ts.
 */
import {PM_ERR, PM_INDOM_NULL, PM_TEXT} from '../protocols/pcp/constants.js';
import {isPcpError, pmErrStr} from '../protocols/pcp/errors.js';
import type {PmnsClient} from '../metrics/derived/pcp-client.js';
import type {PcpDesc, PcpResult} from '../protocols/pcp/pdu.js';
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

/** Run pminfo's job on one open session; returns pminfo's exit status (1 if any argument failed). */
export async function pminfoOn(client: PmnsClient, metrics: string[], show: Show, out: PminfoWriter): Promise<number> {
	const pminfoShow: PminfoShow = {
		desc: show.desc,
		fetch: show.fetch,
		pmid: show.pmid,
		pmidLong: show.pmidLong,
		oneline: show.oneline,
		help: show.help,
	};
	const anyShow = Object.values(show).some(Boolean);
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
		if (indomMatch && (show.oneline || show.help)) {
			const indom = (Number(indomMatch[1]) << 22 | Number(indomMatch[2])) >>> 0;
			const oneline = show.oneline ? await onelineOf(client, indom, PM_TEXT.INDOM) : {};
			const help = show.help ? await helpOf(client, indom, PM_TEXT.INDOM) : {};
			out.stdout(renderInDomBlock({
				indom, show: pminfoShow, ...oneline, ...help,
			}));
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
		if ((show.desc || show.fetch || out.values) && valid.length > 0) {
			const got = await attempt(async () => client.descriptors(valid));
			for (const [index, pmid] of valid.entries()) {
				const entry = 'ok' in got ? got.ok[index]! : got.error;
				descs.set(pmid, typeof entry === 'string' ? entry : (isPcpError(entry) ? pmErrStr(entry.code) : entry));
			}
		}

		let fetched: {ok: PcpResult} | {error: string} | undefined;
		if ((show.fetch || out.values) && valid.length > 0) {
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
				}
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
