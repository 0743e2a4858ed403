/**
 * argv + environment → Plan (pure; docs/design.md#data-flow). Nothing here touches
 * sockets, files or the terminal: the CLI passes in argv, env and TTY facts.
 */
import {SecmonError} from './errors.js';
import {isCi} from './terminal.js';
import {requireDurationMs} from './duration.js';
import {parseRange} from './metrics/thresholds.js';
import {parseHostSpec, type HostSpec} from './target.js';
import {resolveSecureMode, secureArgument} from './security/policy.js';
import type {SecureMode, SecureModeSource} from './security/types.js';
import type {Flags} from './argv/main-flags.js';
import type {Format} from './output/format.js';

/**
 * --parallel's default: sessions in flight at once. Enough to hide the round trips of a fleet
 * (a TLS session costs a few round trips and ~1 ms of CPU here), few enough to stay far below
 * a collector's or a proxy's client table (pmcd and `secmon serve` allow 64 per address).
 */
export const defaultParallel = 32;

/** What pminfo would show for each metric. */
export type Show = {
	fetch: boolean; // -f
	desc: boolean; // -d
	pmid: boolean; // -m
	pmidLong: boolean; // -M
	oneline: boolean; // -t (without a duration after it)
	help: boolean; // -T
	labels?: boolean; // -l
	verify?: boolean; // -v
	force?: boolean; // -F
	events?: boolean; // -x
};

/** pminfo: the one-shot listing or values (pminfo's job); live: a sample every interval (pmval's, the panes). */
export type Job = 'pminfo' | 'live';

export type SecurityPlan = {
	mode: SecureMode;
	modeSource: SecureModeSource;
	caFile?: string;
	cert?: string;
	key?: string;
	fingerprint?: string;
	/** Zabbix pre-shared key: identity (not secret) and the file holding the key (never the key itself). */
	pskIdentity?: string;
	pskFile?: string;
	/** Icinga 2 API / mon: a file holding USER:PASSWORD (never the password on argv). */
	passwordFile?: string;
	/** Name to verify in the certificate instead of --host (Icinga node names, Checkmk site names). */
	servername?: string;
	acceptNew: boolean;
	/** May the user be asked (a terminal on both ends, not --json)? */
	interactive: boolean;
	/**
	 * The first TLS-only option given (`--ca-file`, `--fingerprint`…): it implies TLS, so a
	 * collector that offers none is refused (exit 5) naming it, whatever the mode.
	 */
	tlsRequiredBy?: string;
	/** `--secure VALUE` that a re-run hint must carry (the mode came from the environment). */
	secureArgument?: string;
	/** Default true: record a CA-verified collector in the downgrade memory (false: the embedded collector). */
	rememberTls?: boolean;
};

export type Plan = {
	/** Empty: use the embedded collector (issue 5) / local default. */
	targets: HostSpec[];
	/** The --host specs as typed (what `s` in the panes saves). */
	hosts: string[];
	/** --warn/--crit NAME=RANGE (and a saved set's): the panes' levels per metric, as typed and checked. */
	thresholds: Record<string, {warn?: string; crit?: string}>;
	metrics: string[];
	show: Show;
	job: Job;
	/** How everything is written (output/format.ts): pminfo and json for the pminfo job; text, json and tui for live. */
	format: Format;
	/** Livestatus: a raw GET query for scripts (--query). */
	query?: string;
	intervalMs: number;
	/** 0 = until quit. */
	samples: number;
	raw: boolean;
	connectTimeoutMs: number;
	requestTimeoutMs: number;
	/** Per host, because each may come with its own scheme (pcps:// = enforce). */
	security: (target: HostSpec | undefined) => SecurityPlan;
	/** Said once on stderr before anything runs (the two secure-mode variables disagree). */
	notices: string[];
	/** -c/--derived files, loaded after the global derived configuration (docs/pcp.md#derived-configuration). */
	derived: string[];
	/** The environment the derived configuration is looked up in (PCP_DERIVED_CONFIG, PCP_VAR_DIR). */
	env: NodeJS.ProcessEnv;
	/** --parallel: collectors with a session being opened or asked at once (commands/fanout.ts). */
	parallel: number;
};

export type Environment = {
	env: NodeJS.ProcessEnv;
	stdinIsTty: boolean;
	stdoutIsTty: boolean;
};

/** --warn/--crit NAME=RANGE → levels per metric; a bad one is a usage error naming it. */
export function thresholdFlags(flags: Pick<Flags, 'warn' | 'crit'>): Plan['thresholds'] {
	// No prototype: a metric named "__proto__" or "constructor" is a key like any other.
	const levels = Object.create(null) as Plan['thresholds'];
	for (const level of ['warn', 'crit'] as const) {
		for (const item of flags[level]) {
			const equals = item.lastIndexOf('=');
			const name = item.slice(0, Math.max(0, equals));
			const range = item.slice(equals + 1);
			if (equals <= 0 || parseRange(range) === undefined) {
				throw new SecmonError(
					'USAGE',
					`--${level} ${item}: not METRIC=RANGE`,
					`For example --${level} kernel.all.load=4 (above 4 or below 0), --${level} mem.util.free=1000000: (below 1000000), ~:90 (above 90), @5:10 (inside 5..10); see: secmon --help`,
				);
			}

			levels[name] = {...levels[name], [level]: range.trim()};
		}
	}

	return levels;
}

export function makePlan(metrics: string[], flags: Flags, environment: Environment): Plan {
	// PCP_HOST names the collector when no --host does, as libpcp's option parsing reads it
	// (docs/pcp.md#pcp_host); a --host wins.
	const pcpHost = environment.env['PCP_HOST'];
	const hosts = flags.host.length === 0 && pcpHost !== undefined && pcpHost.trim() !== '' ? [pcpHost] : flags.host;
	const targets = hosts.map(h => parseHostSpec(h, environment.env));
	const show: Show = {
		fetch: flags.fetch,
		desc: flags.desc,
		pmid: flags.pmid,
		pmidLong: flags.pmidLong,
		oneline: flags.oneline,
		help: flags.helpText,
		labels: flags.labels,
		verify: flags.verify,
		force: flags.force,
		events: flags.events,
	};
	const anyShow = Object.values(show).some(Boolean);
	// Sampling is asked for by -t INTERVAL or -s N, by --json, or by a terminal (the panes).
	// Otherwise (a pipe, no flags) names are listed as pminfo lists them, so scripts keep working.
	const sampling = flags.interval !== undefined || flags.samples !== undefined;
	if (flags.once && sampling) {
		throw new SecmonError('USAGE', '--once takes one sample: it cannot go with -s N or -t INTERVAL', 'Drop --once to sample every interval, or drop -s/-t for one shot; see: secmon --help');
	}

	// The headline command, `secmon --host H -f METRIC` in a terminal (stdin and stdout, not CI), opens
	// the panes: -f alone asks for values, and in a terminal values are live. The other pminfo flags,
	// --names, --once, --json, a pipe or CI keep pminfo's one-shot text.
	const onlyFetch = show.fetch && Object.entries(show).every(([flag, on]) => flag === 'fetch' || !on);
	const headline = onlyFetch && !flags.once && !flags.json && !flags.names && metrics.length > 0
		&& environment.stdinIsTty && environment.stdoutIsTty && !isCi(environment.env);
	const live = headline || (!anyShow && !flags.names && !flags.once && metrics.length > 0 && (sampling || flags.json || environment.stdoutIsTty));
	const job: Job = live ? 'live' : 'pminfo';
	let format: Format;
	if (flags.json) {
		format = 'json';
	} else if (!live) {
		format = 'pminfo';
	} else if (environment.stdoutIsTty) {
		format = 'tui';
	} else {
		format = 'text';
	}

	if (flags.samples !== undefined && (!Number.isInteger(flags.samples) || flags.samples < 0)) {
		// Meow turns `-s many` into NaN (docs/node.md#meow): say what was expected, not "NaN".
		throw new SecmonError('USAGE', '-s/--samples needs a whole number of samples', 'For example -s 5 (0 = until you quit); see: secmon --help');
	}

	const parallel = flags.parallel === undefined ? defaultParallel : Number(flags.parallel);
	if (!/^\d+$/v.test(flags.parallel ?? '1') || !Number.isSafeInteger(parallel) || parallel < 1) {
		throw new SecmonError('USAGE', `--parallel ${flags.parallel ?? ''}: expected a whole number of collectors, 1 or more`, `For example --parallel 8 (default ${defaultParallel}); see: secmon --help`);
	}

	const timeoutMs = flags.timeout === undefined ? undefined : requireDurationMs(flags.timeout, '--timeout');
	const interactive = !flags.json && environment.stdinIsTty && environment.stdoutIsTty;
	if (flags.key !== undefined && flags.cert === undefined) {
		throw new SecmonError('USAGE', '--key needs --cert', 'Give the client certificate with --cert FILE and its private key with --key FILE.');
	}

	if (flags.cert !== undefined && flags.key === undefined) {
		throw new SecmonError('USAGE', '--cert needs --key', 'Give the private key of the client certificate with --key FILE (a file, never the key itself).');
	}

	const tlsOnly = ([
		['--ca-file', flags.caFile],
		['--fingerprint', flags.fingerprint],
		['--accept-new', flags.acceptNew ? true : undefined],
		['--cert', flags.cert],
		['--key', flags.key],
		['--servername', flags.servername],
		['--psk-file', flags.pskFile],
	] as const).filter(([, value]) => value !== undefined).map(([name]) => name);
	const notices = new Set<string>();
	const security = (target: HostSpec | undefined): SecurityPlan => {
		const scheme = target?.scheme === 'pcps'
			? `pcps://${target.display}${target.secureParameter === undefined ? '' : `?secure=${target.secureParameter}`}`
			: target?.scheme;
		const resolution = resolveSecureMode({flag: flags.secure, env: environment.env, scheme});
		if (resolution.notice) {
			notices.add(resolution.notice);
		}

		const {mode, source} = resolution;
		if (mode === 'off' && tlsOnly.length > 0) {
			const why = source === 'flag' ? '--secure off' : (source === 'scheme' ? 'the ?secure= attribute of the host spec' : `${source}=${environment.env[source] ?? ''}`);
			throw new SecmonError(
				'USAGE',
				`${tlsOnly.join(', ')} ${tlsOnly.length === 1 ? 'needs' : 'need'} TLS, but ${why} turns TLS off`,
				source === 'flag'
					? `Drop --secure off to use ${tlsOnly.join(', ')}, or drop ${tlsOnly.join(' and ')} to read the collector in plain text.`
					: `Drop ${tlsOnly.join(' and ')}, or add --secure enforce (TLS required) to this command.`,
			);
		}

		const argument = secureArgument(resolution);
		return {
			mode,
			modeSource: source,
			caFile: flags.caFile,
			cert: flags.cert,
			key: flags.key,
			fingerprint: flags.fingerprint,
			pskIdentity: flags.pskIdentity,
			pskFile: flags.pskFile,
			passwordFile: flags.passwordFile,
			servername: flags.servername,
			acceptNew: flags.acceptNew,
			interactive,
			...(tlsOnly[0] === undefined ? {} : {tlsRequiredBy: tlsOnly[0]}),
			...(argument === undefined ? {} : {secureArgument: argument}),
		};
	};

	// Resolve for every target now, so that a bad value or combination fails before any connection.
	security(undefined);
	for (const target of targets) {
		security(target);
	}

	return {
		targets,
		// What a saved set keeps: the hosts as given, or PCP_HOST's when none was (the targets' source).
		hosts: [...hosts],
		thresholds: thresholdFlags(flags),
		metrics,
		show,
		job,
		format,
		query: flags.query,
		intervalMs: flags.interval === undefined ? 1000 : requireDurationMs(flags.interval, '--interval'),
		// --json alone is one sample, like -f; with -t it streams until stopped.
		samples: flags.samples ?? (job === 'pminfo' || (format === 'json' && flags.interval === undefined) ? 1 : 0),
		raw: flags.raw,
		connectTimeoutMs: timeoutMs ?? 5000,
		requestTimeoutMs: timeoutMs ?? 10_000,
		security,
		notices: [...notices],
		derived: flags.derived,
		env: environment.env,
		parallel,
	};
}
