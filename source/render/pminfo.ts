/**
 * pminfo 6.0.3 output as pure functions from data to the exact text
 * (docs/pcp.md#pminfo-output; pminfo.c report(), mydump(), mydesc(), myhelptext(),
 * myoneline(), doindom()). Error texts arrive already formatted as pmErrStr
 * would print them.
 */
import type {InstanceValue, MetricDesc, MetricValues} from '../metrics/model.js';
import {
	pcpSemCode, pcpType, pcpTypeCode, unitsText,
} from '../protocols/pcp/model.js';
import {PM_INDOM_NULL, PM_IN_NULL} from '../protocols/pcp/constants.js';
import {
	eventFlagsText, maxEventParameterPmids, PM_EVENT_FLAG, type EventRecord,
} from '../protocols/pcp/events.js';
import {
	hex32, pmIDStr, pmInDomStr, pmPrintValue, semText, stampText, typeCodeOfValue, typeText, unknownInstanceText,
} from './pcp-format.js';

/** Which pminfo flags are on. */
export type PminfoShow = {
	/** -d */
	desc?: boolean;
	/** -f */
	fetch?: boolean;
	/** -m */
	pmid?: boolean;
	/** -M (implies -m) */
	pmidLong?: boolean;
	/** -I (implies -d) */
	fullIndom?: boolean;
	/** -t */
	oneline?: boolean;
	/** -T */
	help?: boolean;
	/** -l */
	labels?: boolean;
	/** -v: only report problems (turns every other flag off, as pminfo does) */
	verify?: boolean;
	/** -F: values (an instance missing from the indom prints as DISAPPEARED) */
	force?: boolean;
	/** -x: values, and each value's event records */
	events?: boolean;
};

/** What pminfo -x prints for an event parameter's metric: its names and descriptor, or the errors. */
export type EventParameterInfo = {names: string[] | {error: string}; desc: MetricDesc | {error: string}};

/** Everything pminfo knows about one metric when it prints its block. */
export type PminfoMetric = {
	name: string;
	show: PminfoShow;
	pmid: number;
	desc?: MetricDesc;
	/** pmLookupDesc failed (only looked at for -d, -f, -l, -v). */
	descError?: string;
	oneline?: string;
	onelineError?: string;
	/**
	 * Help text after libpcp's fallback (see resolveHelp): the help, or the
	 * one-line text when the help was empty or failed.
	 */
	help?: string;
	helpError?: string;
	values?: MetricValues;
	/** The whole batch's pmFetch failed: pminfo prints only this line for the metric. */
	fetchError?: string;
	/** The indom's instances (pmGetInDom); a value's own name is used when this is absent. */
	instanceNames?: ReadonlyMap<number, string>;
	/** Merged metric labels JSON (-l), when there were any. */
	labels?: string;
	/** Merged per-instance labels (-l), in indom order. */
	instanceLabels?: Array<{instance: number; name?: string; labels: string}>;
	/** -l: "labels merge failed" lines for stderr. */
	labelErrors?: string;
	/** -F: what stopped the forced fetch (pmGetIndom or pmFetch), printed instead of the block. */
	forceError?: string;
	/** -x: per value (in value order), its unpacked records, or the unpack error (to stderr). */
	events?: ReadonlyArray<{records: EventRecord[]} | {error: string} | undefined>;
	/** -x: names and descriptors of the event parameters' metrics. */
	eventParameters?: ReadonlyMap<number, EventParameterInfo>;
};

export type PminfoOutput = {stdout: string; stderr: string};

const noShow: PminfoShow = {};

function effective(show: PminfoShow): PminfoShow {
	if (show.verify) {
		// pminfo.c main(): -v clears -d -m -M -t -T -f -F -l.
		return {verify: true};
	}

	return {
		...show,
		pmid: Boolean(show.pmid || show.pmidLong),
		desc: Boolean(show.desc || show.fullIndom),
		// -F and -x are -f with more (pminfo.c main(): p_value = 1).
		fetch: Boolean(show.fetch || show.force || show.events),
	};
}

function descTypeCode(desc: MetricDesc): number {
	return pcpTypeCode(desc.type, desc.typeCode);
}

function descIndom(desc: MetricDesc | undefined): number {
	return (desc?.indom ?? PM_INDOM_NULL) >>> 0;
}

/** mydesc(): the two "    Data Type:" / "    Semantics:" lines. */
export function renderDesc(desc: MetricDesc, fullIndom = false): string {
	const indom = descIndom(desc);
	const full = fullIndom ? ` = ${indom} =` : '';
	return `    Data Type: ${typeText(descTypeCode(desc))}  InDom: ${pmInDomStr(indom)}${full} ${hex32(indom)}\n`
		+ `    Semantics: ${semText(pcpSemCode(desc.semantics, desc.semCode))}  Units: ${unitsText(desc.units)}\n`;
}

/** myoneline(): " [text]", "\n    [text]" after -M, or " One-line Help: Error: msg". */
function onelineSuffix(metric: {oneline?: string; onelineError?: string}, long: boolean): string {
	if (metric.onelineError !== undefined) {
		return ` One-line Help: Error: ${metric.onelineError}`;
	}

	return `${long ? '\n    ' : ' '}[${metric.oneline ?? ''}]`;
}

/** myhelptext(): "Help:\n<text>\n" with trailing newlines removed, "Help: <empty entry>", or "Full Help: Error: msg". */
export function renderHelp(help: string | undefined, helpError?: string): string {
	if (helpError !== undefined) {
		return `Full Help: Error: ${helpError}\n`;
	}

	const text = (help ?? '').replace(/\n+$/v, '');
	return text === '' ? 'Help: <empty entry>\n' : `Help:\n${text}\n`;
}

/**
 * libpcp's help lookup (help.c fallbacktext): when the help text request fails
 * or returns an empty text, the one-line text is requested instead and its
 * result (text or error) is what pminfo -T prints. Call with the one-line
 * result only when needsOnelineFallback said so.
 */
export function needsOnelineFallback(help: string | undefined, helpError?: string): boolean {
	return helpError !== undefined || help === undefined || help === '';
}

export function resolveHelp(
	help: {text?: string; error?: string},
	oneline?: {text?: string; error?: string},
): {help?: string; helpError?: string} {
	if (!needsOnelineFallback(help.text, help.error) || oneline === undefined) {
		return help.error === undefined ? {help: help.text ?? ''} : {helpError: help.error};
	}

	return oneline.error === undefined ? {help: oneline.text ?? ''} : {helpError: oneline.error};
}

function instanceOf(value: InstanceValue): number {
	return value.instance ?? PM_IN_NULL;
}

/** mydump(): the value lines of -f (no indent argument, as report() calls it). */
export function renderValues(
	values: MetricValues,
	desc: MetricDesc | undefined,
	instanceNames?: ReadonlyMap<number, string>,
	options: {force?: boolean; afterValue?: (index: number) => string} = {},
): string {
	if (values.status === 'novalues') {
		return 'No value(s) available!\n';
	}

	if (values.status === 'error') {
		return `Error: ${values.message}\n`;
	}

	if (values.values.length === 0) {
		return 'No value(s) available!\n';
	}

	const indom = descIndom(desc);
	let text = '';
	for (const [index, value] of values.values.entries()) {
		const inst = instanceOf(value);
		if (options.force && indom !== PM_INDOM_NULL && instanceNames?.get(inst) === undefined) {
			// Mydump() with -F: the instance disappeared; no value, no event records.
			text += `    inst [${inst} "DISAPPEARED"]\n`;
			continue;
		}

		if (desc?.indom === undefined && inst !== PM_IN_NULL) {
			// Not from PCP (no indom known) but the value has an instance: show it.
			text += value.name === undefined ? `    inst [${inst}]` : `    inst [${inst} or "${value.name}"]`;
		} else if (indom === PM_INDOM_NULL) {
			text += '   ';
		} else {
			const name = instanceNames === undefined ? value.name : instanceNames.get(inst);
			if (name === undefined) {
				text += `pmNameIndom: indom=${pmInDomStr(indom)} inst=${inst}: ${unknownInstanceText}\n`;
				text += `    inst [${inst}]`;
			} else {
				text += `    inst [${inst} or "${name}"]`;
			}
		}

		const type = desc === undefined ? typeCodeOfValue(value.value) : descTypeCode(desc);
		text += ` value ${pmPrintValue(type, value.value)}\n`;
		text += options.afterValue?.(index) ?? '';
	}

	return text;
}

/**
 * Myeventdump() and dump_parameter() in pminfo.c: each record's timestamp, its flags (the
 * anonymous event.flags parameter), "==> N missed event records", and every parameter as
 * "    NAME (PMID)" with its value as mydump() prints it after four spaces.
 */
export function renderEventRecords(
	records: readonly EventRecord[],
	highres: boolean,
	parameters: ReadonlyMap<number, EventParameterInfo>,
): string {
	let out = '';
	for (const [r, record] of records.entries()) {
		const fraction = highres ? String(record.fraction).padStart(9, '0') : String(Math.trunc(record.fraction / 1000)).padStart(3, '0');
		out += `    --- event record [${r}] timestamp ${stampText(record.sec, fraction)}`;
		if (record.params.length === 0) {
			out += ' ---\n\tNo parameters\n';
			continue;
		}

		let flags = 0;
		for (const [p, parameter] of record.params.entries()) {
			if (parameter.kind === 'flags' && p === 0) {
				flags = parameter.flags;
				out += ` flags ${hex32(flags)} (${eventFlagsText(flags)}) ---\n`;
				continue;
			}

			if (p === 0) {
				out += ' ---\n';
			}

			if (parameter.kind === 'missed' && p === 1 && (flags & PM_EVENT_FLAG.MISSED) !== 0) {
				out += `        ==> ${parameter.count} missed event records\n`;
				continue;
			}

			if (parameter.kind !== 'value') {
				continue;
			}

			// Not in `parameters`: past the run's maxEventParameterPmids, not asked (commands/pminfo.ts).
			const info = parameters.get(parameter.pmid);
			const names = info?.names ?? {error: 'not asked'};
			out += Array.isArray(names) ? `    ${names.join(' or ')} (${pmIDStr(parameter.pmid)})\n` : `\tPMID: ${pmIDStr(parameter.pmid)}\n`;
			const desc = info?.desc ?? {error: `not asked (secmon: more than ${maxEventParameterPmids} parameter metrics)`};
			out += 'error' in desc
				? `\tpmLookupDesc: ${desc.error}\n`
				: `    ${renderValues({status: 'ok', values: [{value: parameter.value}]}, desc)}`;
		}
	}

	return out;
}

function renderVerify(metric: PminfoMetric): string {
	if (metric.fetchError !== undefined) {
		return `${metric.name}: pmFetch: ${metric.fetchError}\n`;
	}

	if (metric.descError !== undefined || metric.desc === undefined) {
		return `${metric.name}: pmLookupDesc: ${metric.descError ?? 'Unknown or illegal metric identifier'}\n`;
	}

	if (pcpTypeCode(metric.desc.type, metric.desc.typeCode) === -1) {
		return `${metric.name}: Not Supported\n`;
	}

	const {values} = metric;
	if (values?.status === 'error') {
		return `${metric.name}: ${values.message}\n`;
	}

	if (values === undefined || values.status === 'novalues' || values.values.length === 0) {
		return `${metric.name}: No value(s) available\n`;
	}

	return '';
}

/**
 * One metric's block, as report() prints it. -d/-f/-T/-l start the block with
 * an empty line; -m/-t alone (and no flags) print one line per metric. The
 * order inside a block is name line, desc, labels, help, values, instance labels.
 */
export function renderMetricBlock(metric: PminfoMetric): PminfoOutput {
	const show = effective(metric.show ?? noShow);
	if (show.verify) {
		return {stdout: renderVerify(metric), stderr: ''};
	}

	// report() fetches the batch for -f and -l; a failed fetch is all the metric gets.
	const fetches = Boolean(show.fetch || show.labels);
	if (fetches && metric.fetchError !== undefined) {
		return {stdout: `${metric.name}: pmFetch: ${metric.fetchError}\n`, stderr: ''};
	}

	const needsDesc = Boolean(show.desc || fetches);
	if (needsDesc && (metric.descError !== undefined || metric.desc === undefined)) {
		// pminfo skips the rest of the block, without the separating empty line.
		return {stdout: `${metric.name}: pmLookupDesc: ${metric.descError ?? 'Unknown or illegal metric identifier'}\n`, stderr: ''};
	}

	let out = '';
	if (show.desc || show.help || show.fetch || show.labels) {
		out += '\n';
	}

	if (metric.forceError !== undefined) {
		// Report() with -F: the empty line, then only what stopped the forced fetch.
		return {stdout: `${out}${metric.forceError}\n`, stderr: ''};
	}

	out += metric.name;
	if (show.pmid) {
		out += ` PMID: ${pmIDStr(metric.pmid)}`;
	}

	if (show.pmidLong) {
		out += ` = ${metric.pmid >>> 0} = ${hex32(metric.pmid)}`;
	}

	if (show.oneline) {
		out += onelineSuffix(metric, Boolean(show.pmidLong));
	}

	out += '\n';
	if (show.desc && metric.desc) {
		out += renderDesc(metric.desc, show.fullIndom);
	}

	if (show.labels && metric.labels !== undefined) {
		out += `    labels ${metric.labels}\n`;
	}

	if (show.help) {
		out += renderHelp(metric.help, metric.helpError);
	}

	let stderr = '';
	if (show.fetch) {
		const highres = metric.desc !== undefined && descTypeCode(metric.desc) === pcpType.highresEvent;
		out += renderValues(metric.values ?? {status: 'novalues'}, metric.desc, metric.instanceNames, {
			force: show.force,
			afterValue(index) {
				const unpacked = show.events ? metric.events?.[index] : undefined;
				if (unpacked === undefined) {
					return '';
				}

				if ('error' in unpacked) {
					stderr += `secmon: pmUnpack${highres ? 'HighRes' : ''}EventRecords: ${unpacked.error}\n`;
					return '';
				}

				return renderEventRecords(unpacked.records, highres, metric.eventParameters ?? new Map());
			},
		});
	}

	if (show.labels && descIndom(metric.desc) !== PM_INDOM_NULL) {
		for (const {instance, name, labels} of metric.instanceLabels ?? []) {
			out += `    inst [${instance} or "${name ?? 'DISAPPEARED'}"] labels ${labels}\n`;
		}
	}

	return {stdout: out, stderr: stderr + (metric.labelErrors ?? '')};
}

/** Several blocks, concatenated in order. */
export function renderMetricBlocks(metrics: PminfoMetric[]): PminfoOutput {
	let stdout = '';
	let stderr = '';
	for (const metric of metrics) {
		const block = renderMetricBlock(metric);
		stdout += block.stdout;
		stderr += block.stderr;
	}

	return {stdout, stderr};
}

/** An InDom argument (`pminfo -T 60.2`): doindom(). */
export function renderInDomBlock(input: {
	indom: number;
	show: PminfoShow;
	oneline?: string;
	onelineError?: string;
	help?: string;
	helpError?: string;
	labels?: string;
}): string {
	const show = effective(input.show);
	if (show.verify) {
		return '';
	}

	const indom = input.indom >>> 0;
	let out = `\nInDom: ${pmInDomStr(indom)}`;
	if (show.fullIndom) {
		out += ` = ${indom} =`;
	}

	out += ` ${hex32(indom)}`;
	if (show.oneline) {
		out += onelineSuffix(input, Boolean(show.fullIndom));
	}

	out += '\n';
	if (show.labels && input.labels !== undefined) {
		out += `    labels ${input.labels}\n`;
	}

	if (show.help) {
		out += renderHelp(input.help, input.helpError);
	}

	return out;
}

/** Bare `pminfo`: one name per line ("PMNS appears to be empty!" for an empty name, as dometric() says). */
export function renderNameList(names: Iterable<string>): string {
	let out = '';
	for (const name of names) {
		out += name === '' ? 'PMNS appears to be empty!\n' : `${name}\n`;
	}

	return out;
}

/** stdout line for a name that failed inside a batch lookup. */
export function lookupNameErrorLine(name: string, message: string): string {
	return `${name}: pmLookupName: ${message}\n`;
}

/** stderr line for a command-line argument that failed (unknown name, bad PMID): exit status becomes 1. */
export function argumentErrorLine(argument: string, message: string): string {
	return `Error: ${argument}: ${message}\n`;
}

/** stderr line when the PMNS traversal of "" fails (bare pminfo). */
export function traverseErrorLine(message: string): string {
	return `Error: ${message}\n`;
}

/** stderr line when the context cannot be created (nothing goes to stdout, exit 1). */
export function connectErrorLine(host: string, message: string, program = 'pminfo'): string {
	return `${program}: Cannot connect to PMCD on host "${host}": ${message}\n`;
}
