/**
 * `secmon pmval`: Debian pmval 6.0.3's live sampling (src/pmval/pmval.c), its flags and its
 * output byte for byte (docs/pcp.md#pmval-output), over secmon's verified session (connect.ts
 * openPcp: the same secure modes, trust store, prompt and TLS options as the main command).
 * Archives, pmtime and local contexts are not part of it.
 */
import {hostname as localHostname} from 'node:os';
import process from 'node:process';
// Inlined by the bundler (as in args.ts).
import packageJson from '../../package.json' with {type: 'json'};
import {openPcp} from '../protocols/pcp/open.js';
import {parseDurationMs} from '../duration.js';
import {
	exitCodes, formatError, isSecmonError, SecmonError,
} from '../errors.js';
import type {Io} from '../io.js';
import {defaultFlags, type Flags} from '../argv/main-flags.js';
import {makePlan} from '../plan.js';
import {sleep} from '../process-exit.js';
import {PM_INDOM_NULL, PM_SEM} from '../protocols/pcp/constants.js';
import {isPcpError, pmErrStr} from '../protocols/pcp/errors.js';
import type {PcpClient} from '../protocols/pcp/client.js';
import type {PcpDesc, PcpResult} from '../protocols/pcp/pdu.js';
import {pcpType} from '../protocols/pcp/model.js';
import {pmInDomStr, pmTypeStr} from '../render/pcp-format.js';
import {
	columnWidth, fullLabels, labelStyle, pmvalHeader, pmvalLabels, pmvalRates, pmvalValues, timeScale,
	type InstanceValues, type PmvalColumns,
} from '../render/pmval-format.js';
import {stderrWarn, terminalSafe} from '../safe-text.js';
import {reportError} from '../output/report.js';
import {parseArgs, type FlagSpec} from '../argv/args.js';
import {certificateFlags, serverTrustFlags} from '../argv/security-flags.js';
import {sessionHooks} from './hooks.js';

/** What pmval calls itself in its messages (pmGetProgname()). */
const progname = 'secmon pmval';

export const pmvalHelp = `Usage: secmon pmval [options] metricname

Samples one metric from a PCP pmcd and prints it exactly as pmval(1) does (live mode).

pmval options
  -h HOST, --host=HOST     pmcd to ask: host, host:port, [v6]:port, pcp://, pcps:// (TLS
                           required); default $PCP_HOST, else localhost (port $PMCD_PORT or 44321)
  -s N, --samples=N        stop after N samples (default: until interrupted)
  -t DELTA, --interval=DELTA   sampling interval: 2, 0.5, 500msec, 1min (default 1 sec)
  -T [+]DELTA, --finish=[+]DELTA  stop after DELTA (when -s is not given)
  -i INST, --instances=INST    only these instances (names, comma or space separated,
                           quoted with ' or " when they contain either; repeatable)
  -f N, --precision=N      fixed-point output with N digits after the point
  -w N, --width=N          column width
  -r, --raw                counters as raw values (no rate conversion)
  -z, --hostzone           report in the collector's time zone
  -Z TZ, --timezone=TZ     report in time zone TZ
  -v, --verbose  -X, --timestamp   accepted; they change nothing in live mode
  --derived FILE, -c FILE  derived metrics from FILE, after the global ones ($PCP_DERIVED_CONFIG,
                           else /var/lib/pcp/config/derived), as libpcp loads them
  -V, --version  -?, --help
  METRIC may be written HOST:METRIC[INST,...] as in PCPIntro(1).
  Archive, pmtime and local-context options (-a -U -S -O -A -d -g -p -L -K -n
  --container) and -x are not supported.

Security (as in "secmon --help": TLS whenever pmcd offers it, every certificate verified)
  --secure enforce|relaxed|off   --ca-file FILE   --cert FILE --key FILE
  --fingerprint SHA256   --accept-new   --servername NAME   --timeout T

Exit codes: 0 ok, 1 runtime failure (as pmval), 2 usage, 3 not trusted,
4 certificate changed, 5 TLS required but not offered.
`;

const spec: FlagSpec = {
	host: {type: 'string', shortFlag: 'h'},
	samples: {type: 'string', shortFlag: 's'},
	interval: {type: 'string', shortFlag: 't'},
	finish: {type: 'string', shortFlag: 'T'},
	instances: {type: 'string', shortFlag: 'i', isMultiple: true},
	precision: {type: 'string', shortFlag: 'f'},
	width: {type: 'string', shortFlag: 'w'},
	raw: {type: 'boolean', shortFlag: 'r'},
	hostzone: {type: 'boolean', shortFlag: 'z'},
	timezone: {type: 'string', shortFlag: 'Z'},
	verbose: {type: 'boolean', shortFlag: 'v'},
	timestamp: {type: 'boolean', shortFlag: 'X'},
	version: {type: 'boolean', shortFlag: 'V'},
	help: {type: 'boolean'},
	// PCP options that need archives, pmtime or a local context: named, so the refusal is clear.
	start: {type: 'string', shortFlag: 'S'},
	origin: {type: 'string', shortFlag: 'O'},
	align: {type: 'string', shortFlag: 'A'},
	delay: {type: 'boolean', shortFlag: 'd'},
	archive: {type: 'string', shortFlag: 'a'},
	nointerp: {type: 'string', shortFlag: 'U'},
	guimode: {type: 'boolean', shortFlag: 'g'},
	guiport: {type: 'string', shortFlag: 'p'},
	localPmda: {type: 'boolean', shortFlag: 'L'},
	specLocal: {type: 'string', shortFlag: 'K'},
	namespace: {type: 'string', shortFlag: 'n'},
	container: {type: 'string'},
	derived: {type: 'string', shortFlag: 'c'},
	filter: {type: 'string', shortFlag: 'x'},
	// Secmon's security options, as the main command has them.
	secure: {type: 'string'},
	...serverTrustFlags,
	...certificateFlags,
};

function usage(message: string): SecmonError {
	return new SecmonError('USAGE', `${message} (secmon pmval)`, 'see: secmon pmval --help');
}

/** A pmval runtime failure: its message line on stderr and exit 1, as pmval exits. */
class PmvalFailure extends Error {
	override name = 'PmvalFailure';
}

/** pmval.c getinstance(): names separated by commas or white space, quoted with ' or ". */
export function splitInstances(list: string): string[] {
	const names: string[] = [];
	let index = 0;
	const separator = (c: string | undefined) => c === ',' || c === ' ' || c === '\t' || c === '\n';
	while (index < list.length) {
		while (separator(list[index])) {
			index++;
		}

		if (index >= list.length) {
			break;
		}

		const quote = list[index];
		let name: string;
		if (quote === '"' || quote === '\'') {
			const end = list.indexOf(quote, index + 1);
			name = list.slice(index + 1, end === -1 ? undefined : end);
			index = end === -1 ? list.length : end + 1;
		} else {
			const start = index;
			while (index < list.length && !separator(list[index])) {
				index++;
			}

			name = list.slice(start, index);
		}

		index++;
		names.push(name);
	}

	return names;
}

/** PCPIntro(1)'s metric spec, as far as live mode uses it: [HOST:]METRIC[[INST,...]]. */
export function parseMetricSpec(text: string): {host?: string; metric: string; instances?: string[]} {
	let rest = text;
	let instances: string[] | undefined;
	const bracket = rest.indexOf('[');
	if (bracket !== -1 && rest.endsWith(']')) {
		instances = splitInstances(rest.slice(bracket + 1, -1));
		rest = rest.slice(0, bracket);
	}

	const colon = rest.lastIndexOf(':');
	const host = colon === -1 ? undefined : rest.slice(0, colon);
	const metric = colon === -1 ? rest : rest.slice(colon + 1);
	return {...(host ? {host} : {}), metric, ...(instances ? {instances} : {})};
}

function nonNegativeInteger(text: string): number | undefined {
	return /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * -T in live mode: DELTA or +DELTA from now, the same in libpcp's __pmtimespecParse (the + is
 * optional); absolute times need archives' calendar and are not supported.
 */
function finishMs(text: string): number {
	const match = /^\+?\s*(.+)$/.exec(text.trim());
	const ms = match ? parseDurationMs(match[1]!) : undefined;
	if (ms === undefined) {
		throw usage(`-T "${text}": give DELTA or +DELTA, e.g. -T 10sec (absolute times are not supported)`);
	}

	return ms;
}

type Options = {
	hostSpec: string;
	metric: string;
	specInstances?: string[];
	instances?: string[];
	samples?: number;
	intervalMs: number;
	finishMs?: number;
	fixed?: number;
	width?: number;
	raw: boolean;
	hostzone: boolean;
	timezone?: string;
	flags: Flags;
};

function parseOptions(argv: string[], env: NodeJS.ProcessEnv = {}): Options | 'help' | 'version' {
	const {input, flags: f} = parseArgs('pmval', argv.map(argument => (argument === '-?' ? '--help' : argument)), spec);
	if (f['help']) {
		return 'help';
	}

	if (f['version']) {
		return 'version';
	}

	const string = (name: string) => f[name] as string | undefined;
	for (const [name, flag] of [['start', '-S'], ['origin', '-O'], ['align', '-A']] as const) {
		if (string(name) !== undefined) {
			throw usage(`time window options are supported for archives only (${flag})`);
		}
	}

	if (f['delay']) {
		throw usage('delay can only be used with archives (-d)');
	}

	if (string('filter') !== undefined) {
		throw usage('-x is not supported: pmval stores its value into the metric on pmcd (pmStore) before fetching, and secmon pmval only reads');
	}

	for (const [name, flag] of [['archive', '-a'], ['nointerp', '-U'], ['guiport', '-p'], ['specLocal', '-K'], ['namespace', '-n'], ['container', '--container']] as const) {
		if (string(name) !== undefined) {
			throw usage(`${flag} is not supported: secmon pmval samples a live pmcd`);
		}
	}

	for (const [name, flag] of [['guimode', '-g'], ['localPmda', '-L']] as const) {
		if (f[name]) {
			throw usage(`${flag} is not supported: secmon pmval samples a live pmcd`);
		}
	}

	if (input.length === 0) {
		throw usage('no metricname specified');
	}

	if (input.length > 1) {
		throw usage(`too many arguments: one metricname, got ${input.length}`);
	}

	const metricSpec = parseMetricSpec(input[0]!);
	// PCP_HOST is a -h given first, as libpcp's option parsing reads it (docs/pcp.md#pcp_host): with
	// -h too, too many hosts. -h wins over the spec's host and the spec's over PCP_HOST, as in pmval;
	// with none, the local pmcd. A host without a port gets $PMCD_PORT's ports in makePlan (target.ts).
	const pcpHost = env['PCP_HOST'];
	if (pcpHost !== undefined && string('host') !== undefined) {
		throw usage(`too many hosts requested: ${string('host')!} (PCP_HOST names ${JSON.stringify(pcpHost)} already; unset PCP_HOST or drop -h)`);
	}

	if (pcpHost?.trim() === '' && metricSpec.host === undefined) {
		throw usage('PCP_HOST is empty: it names no pmcd (set it to a host, or unset it for the local pmcd)');
	}

	const hostSpec = string('host') ?? metricSpec.host ?? pcpHost ?? 'localhost';
	const raw = Boolean(f['raw']);
	const flags: Flags = {
		...defaultFlags(),
		host: [hostSpec],
		derived: string('derived') === undefined ? [] : [string('derived')!],
		raw,
		acceptNew: Boolean(f['acceptNew']),
		secure: string('secure'),
		caFile: string('caFile'),
		cert: string('cert'),
		key: string('key'),
		fingerprint: string('fingerprint'),
		servername: string('servername'),
		timeout: string('timeout'),
	};
	const options: Options = {
		hostSpec,
		metric: metricSpec.metric,
		intervalMs: 1000,
		raw,
		hostzone: Boolean(f['hostzone']),
		flags,
	};
	if (metricSpec.instances) {
		options.specInstances = metricSpec.instances;
	}

	const samples = string('samples');
	if (samples !== undefined) {
		const n = nonNegativeInteger(samples);
		if (n === undefined) {
			throw usage(`-s requires a positive numeric argument, got "${samples}"`);
		}

		options.samples = n;
	}

	const interval = string('interval');
	if (interval !== undefined) {
		// A zero interval is pmval's default of 1 sec (pmval.c main).
		const zero = /^\s*0+(?:\.0*)?\s*([a-z]*)\s*$/i.exec(interval);
		const ms = zero && parseDurationMs(`1${zero[1]!}`) !== undefined ? 1000 : parseDurationMs(interval);
		if (ms === undefined) {
			throw usage(`-t argument not in pmParseHighResInterval(3) format: "${interval}"`);
		}

		options.intervalMs = ms;
	}

	const finish = string('finish');
	if (finish !== undefined) {
		options.finishMs = finishMs(finish);
	}

	const precision = string('precision');
	if (precision !== undefined) {
		const n = nonNegativeInteger(precision);
		if (n === undefined) {
			throw usage(`-f requires +ve numeric argument, got "${precision}"`);
		}

		options.fixed = n;
	}

	const width = string('width');
	if (width !== undefined) {
		const n = nonNegativeInteger(width);
		if (n === undefined || n < 1) {
			throw usage(`-w requires +ve numeric argument, got "${width}"`);
		}

		options.width = n;
	}

	const timezone = string('timezone');
	if (timezone !== undefined) {
		if (options.hostzone) {
			throw usage('at most one of -Z and -z allowed');
		}

		options.timezone = timezone;
	}

	const instanceLists = (f['instances'] as string[] | undefined) ?? [];
	if (instanceLists.length > 0) {
		options.instances = instanceLists.flatMap(list => splitInstances(list));
	}

	return options;
}

function fail(message: string): PmvalFailure {
	return new PmvalFailure(`${progname}: ${message}`);
}

function errorText(error: unknown): string {
	if (isPcpError(error)) {
		return pmErrStr(error.code);
	}

	throw error;
}

/** pmGetContextHostName: pmcd.hostname's value, else the host as given (this machine's name for localhost). */
async function contextHostname(client: PmvalClient, host: string): Promise<string> {
	try {
		const [pmid] = await client.lookupNames(['pmcd.hostname']);
		if (typeof pmid === 'number') {
			const result = await client.fetch([pmid], {typeOf: () => pcpType.string});
			const vset = result.vsets[0];
			const value = vset?.status === 'ok' ? vset.values[0]?.value : undefined;
			if (typeof value === 'string') {
				return value;
			}
		}
	} catch (error) {
		if (!isPcpError(error)) {
			throw error;
		}
	}

	return host.startsWith('localhost') ? localHostname() : host;
}

type Instances = {ids: number[]; names: string[]};

/** initinsts(): the instances to report, sorted by instance id. */
async function instancesFor(client: PmvalClient, desc: PcpDesc, wanted: string[] | undefined): Promise<Instances> {
	let pairs: Array<{inst: number; name: string}>;
	if (wanted === undefined) {
		try {
			pairs = await client.instances(desc.indom);
		} catch (error) {
			throw fail(`pmGetInDom(${pmInDomStr(desc.indom)}): ${errorText(error)}`);
		}
	} else {
		pairs = [];
		for (const name of wanted) {
			try {
				pairs.push({inst: await client.instanceId(desc.indom, name), name});
			} catch (error) {
				if (!isPcpError(error)) {
					throw error;
				}

				throw fail(`instance ${name} not available`);
			}
		}
	}

	const sorted = pairs.toSorted((a, b) => a.inst - b.inst);
	return {ids: sorted.map(pair => pair.inst), names: sorted.map(pair => pair.name)};
}

function seconds(result: PcpResult): number {
	return result.sec + (result.nsec / 1e9);
}

/** Run pmval's job on an open session. Writes through `out`; returns the exit status. */
/** The session calls pmval's job makes: a PcpClient, or the DerivedPcpClient that wraps it. */
export type PmvalClient = Pick<PcpClient, 'lookupNames' | 'descriptor' | 'fetch' | 'instances' | 'instanceId'>;

export async function pmvalOn(client: PmvalClient, options: Options, out: {stdout: (text: string) => void; stderr: (text: string) => void; env: NodeJS.ProcessEnv; signal?: AbortSignal; host: string}): Promise<number> {
	const host = await contextHostname(client, out.host);
	if (options.hostzone) {
		out.stdout(`Note: timezone set to local timezone of host "${host}"\n\n`);
	} else if (options.timezone !== undefined) {
		out.stdout(`Note: timezone set to "TZ=${options.timezone}"\n\n`);
	}

	// -T without -s: the number of fetches that fit before the end (pmval.c main).
	let {samples} = options;
	const finishAt = options.finishMs === undefined ? undefined : (Date.now() + options.finishMs) / 1000;
	if (samples === undefined && options.finishMs !== undefined) {
		samples = Math.trunc(options.finishMs / options.intervalMs) + 1;
	}

	// InitApi(): name, descriptor, instances.
	const [pmid] = await client.lookupNames([options.metric]);
	if (typeof pmid !== 'number') {
		throw fail(`pmLookupName(${options.metric}): ${errorText(pmid)}`);
	}

	let desc: PcpDesc;
	try {
		desc = await client.descriptor(pmid);
	} catch (error) {
		throw fail(`pmLookupDesc: ${errorText(error)}`);
	}

	const singular = desc.indom === PM_INDOM_NULL;
	if (singular && options.specInstances !== undefined && options.specInstances.length > 0) {
		throw fail(`${options.metric}: singular metrics do not have instances`);
	}

	if (desc.type === pcpType.event || desc.type === pcpType.highresEvent) {
		throw fail(`${options.metric}: event metrics are not supported`);
	}

	const wanted = options.specInstances ?? options.instances;
	const allInstances = wanted === undefined;
	let instances = singular ? undefined : await instancesFor(client, desc, wanted);
	if (options.timezone === undefined && !options.hostzone) {
		out.stdout('\n');
	}

	const cols = options.width ?? columnWidth(desc.type);
	if (cols === undefined) {
		throw fail(`unknown performance metric value type ${pmTypeStr(desc.type)}`);
	}

	const {fixed} = options;
	if (fixed !== undefined && ((fixed === 0 && fixed > cols) || (fixed > 0 && fixed > cols - 2))) {
		throw fail(`-f ${fixed} too large for column width ${cols}`);
	}

	const rate = !options.raw && desc.sem === PM_SEM.COUNTER;
	out.stdout(pmvalHeader({
		metric: options.metric, host, sem: desc.sem, units: desc.units, raw: options.raw, samples, intervalMs: options.intervalMs,
	}));

	const columns: PmvalColumns = {
		typeCode: desc.type, sem: desc.sem, cols, fixed,
	};
	let style: 0 | 1 | 2 | undefined;
	const labels = () => {
		if (instances === undefined) {
			return;
		}

		if (style === undefined) {
			style = labelStyle(instances.names, cols);
			if (style === 2) {
				out.stdout(fullLabels(instances.names));
			}
		}

		out.stdout(pmvalLabels(instances.names, {
			cols, style, rate, fixed,
		}));
	};

	/** getvals(): the sorted values, or undefined after printing what pmval prints. */
	const getvals = async (): Promise<{result: PcpResult; values: InstanceValues} | 'end' | undefined> => {
		let result: PcpResult;
		try {
			result = await client.fetch([pmid]);
		} catch (error) {
			if (out.signal?.aborted) {
				return 'end';
			}

			out.stderr('\n');
			throw fail(`pmFetch: ${errorText(error)}`);
		}

		if (finishAt !== undefined && seconds(result) > finishAt) {
			return 'end';
		}

		const vset = result.vsets[0]!;
		if (vset.status === 'novalues') {
			out.stdout('No values available\n');
			return undefined;
		}

		if (vset.status === 'error') {
			out.stderr(`\n${progname}: pmFetch: ${pmErrStr(vset.code)}\n`);
			return undefined;
		}

		const values = vset.values.map(atom => ({inst: atom.inst, value: atom.value})).toSorted((a, b) => a.inst - b.inst);
		return {result, values};
	};

	const wrap = out.env['PCP_COUNTER_WRAP'] !== undefined;
	const scale = timeScale(desc.units);
	let previous: {result: PcpResult; values: InstanceValues} | undefined;
	let noValues = false;
	let reporting = false;
	// Pmval.c's main loop: each turn counts as a sample, also one that only got "No values".
	const turns = samples ?? Number.POSITIVE_INFINITY;
	for (let turn = 0; turn < turns; turn++) {
		if (out.signal?.aborted) {
			break;
		}

		if (previous === undefined) {
			const got = await getvals();
			if (got === 'end') {
				break;
			}

			if (got === undefined) {
				noValues = true;
			} else {
				previous = got;
				labels();
				if (!rate) {
					out.stdout(pmvalValues(got.values, instances?.ids, columns, allInstances));
					reporting = true;
					continue;
				}

				if (noValues || reporting) {
					out.stdout('No values available\n');
				}

				noValues = false;
			}
		}

		if (!await sleep(options.intervalMs, out.signal)) {
			break;
		}

		if (previous === undefined) {
			continue;
		}

		const got = await getvals();
		if (got === 'end') {
			break;
		}

		if (got === undefined) {
			previous = undefined;
			continue;
		}

		// New instances since the heads were printed: fetch the names again, print new heads.
		const known = instances?.ids;
		if (allInstances && known !== undefined && got.values.some(entry => !known.includes(entry.inst))) {
			instances = await instancesFor(client, desc, undefined);
			labels();
		}

		out.stdout(rate
			? pmvalRates(got.values, previous.values, instances?.ids, columns, {delta: scale * (seconds(got.result) - seconds(previous.result)), wrap}, allInstances)
			: pmvalValues(got.values, instances?.ids, columns, allInstances));
		reporting = true;
		previous = got;
	}

	return exitCodes.ok;
}

export async function pmvalCommand(argv: string[], io: Io): Promise<number> {
	const stderr = terminalSafe(io.stderr);
	let options;
	try {
		options = parseOptions(argv, io.env);
	} catch (error) {
		io.stderr.write(formatError(error) + '\n');
		return isSecmonError(error) ? error.exitCode : exitCodes.usage;
	}

	if (options === 'help') {
		io.stdout.write(pmvalHelp);
		return exitCodes.ok;
	}

	if (options === 'version') {
		io.stdout.write(`secmon pmval version ${packageJson.version} (pmval 6.0.3 output)\n`);
		return exitCodes.ok;
	}

	const hooks = sessionHooks(io, stderrWarn(io.stderr));
	let session;
	let target;
	try {
		const plan = makePlan([options.metric], options.flags, {env: io.env, stdinIsTty: Boolean(process.stdin.isTTY), stdoutIsTty: Boolean(process.stdout.isTTY)});
		for (const notice of plan.notices) {
			io.stderr.write(`${notice}\n`);
		}

		target = plan.targets[0]!;
		if (target.protocol !== 'pcp') {
			throw usage(`--host ${options.hostSpec}: secmon pmval speaks only to PCP's pmcd`);
		}

		session = await openPcp(target, plan, hooks);
	} catch (error) {
		return reportError(io, error, {json: false});
	}

	const signal = io.shutdown?.signal;
	const release = io.shutdown?.hold();
	const close = () => {
		session.client.close();
	};

	signal?.addEventListener('abort', close, {once: true});
	try {
		// Derived metrics as libpcp gives them to every client: the global configuration, then --derived.
		const [{derivedSetup}, {DerivedPcpClient}] = await Promise.all([
			import('../metrics/derived/load.js'),
			import('../metrics/derived/pcp-client.js'),
		]);
		const derived = derivedSetup({env: io.env, derived: options.flags.derived}, stderr);
		derived.connected();
		return await pmvalOn(new DerivedPcpClient(session.client, derived.registry, stderr), options, {
			// The collector's exact bytes in a pipe (the byte-for-byte tests), inert on a terminal.
			stdout: terminalSafe(io.stdout),
			stderr,
			env: io.env,
			host: target.host,
			...(signal === undefined ? {} : {signal}),
		});
	} catch (error) {
		if (signal?.aborted) {
			return exitCodes.ok;
		}

		if (error instanceof PmvalFailure) {
			stderr(`${error.message}\n`);
			return exitCodes.failure;
		}

		return reportError(io, error, {json: false});
	} finally {
		signal?.removeEventListener('abort', close);
		close();
		release?.();
	}
}
