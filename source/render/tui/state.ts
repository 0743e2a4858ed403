/**
 * The live monitor's state: a pure reducer (no React, no sockets, no timers), so that every
 * transition the panes show can be tested by feeding actions. The host runners (live/runner.ts)
 * dispatch what happened on the wire; the keys dispatch what the user asked for.
 */
import type {
	InstanceValue, MetricDesc, Sample, Semantics,
} from '../../metrics/model.js';
import {key as instanceKey, toRates} from '../../metrics/rate.js';
import {levelOf, type Level, type Thresholds} from '../../metrics/thresholds.js';
import type {SecureMode, TlsFacts, TrustQuestion} from '../../security/types.js';
import {pmPrintValue} from '../pcp-format.js';
import {pcpTypeCode} from '../../protocols/pcp/model.js';
import {columnScale, joinScaled} from '../units.js';
import {safeAction} from './safe-action.js';
import type {Axis} from './sparkline.js';
import {percentText, utilisationOf, type Utilisation} from './utilisation.js';

/** Samples of history kept per instance (the widest sparkline a 400-column terminal shows). */
export const historyLength = 120;

/** Interval steps for +/- (ms). A starting interval off the ladder moves to its neighbours. */
export const intervalLadder = [100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000];

/** One instance's recent values. NaN marks a gap (no value, disconnected). */
export type Series = {
	name: string;
	raw: number[];
	/** Rates per second (counters only); NaN where no rate exists (first sample, counter reset). */
	rate: number[];
	/** The host's sample number when this instance last had a value (to forget vanished ones). */
	seen: number;
	/** Since the first sample (the zoomed pane's min/avg/max): raw values and rates. */
	total: {raw: Totals; rate: Totals};
};

/** Running min, max, sum and count of the finite values seen. */
export type Totals = {min: number; max: number; sum: number; count: number};

const noTotals: Totals = {
	min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, sum: 0, count: 0,
};

function addTotal(totals: Totals, value: number): Totals {
	if (!Number.isFinite(value)) {
		return totals;
	}

	return {
		min: Math.min(totals.min, value), max: Math.max(totals.max, value), sum: totals.sum + value, count: totals.count + 1,
	};
}

export type HostPhase = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export type HostState = {
	/** "host:port" as shown to the user; also the key. */
	id: string;
	phase: HostPhase;
	secureMode: SecureMode;
	/** TLS facts of the current (or last) session; undefined for a plain connection. */
	tls?: TlsFacts;
	/** Has a session ever been open (so `tls` is meaningful)? */
	everConnected: boolean;
	/** Round-trip time of the last fetch. */
	rttMs?: number;
	lastError?: {message: string; at: number};
	/** When the next connection attempt starts (epoch ms), while disconnected. */
	retryAt?: number;
	/** Consecutive failed connection attempts. */
	attempt: number;
	/** Why this host stopped for good (certificate changed, rejected, TLS required…). */
	stop?: {exitCode: number; message: string; hint?: string};
	descs: MetricDesc[];
	/** Names the collector did not know (describe errors). */
	missing: Array<{name: string; message: string}>;
	/** The names `descs` and `missing` answer (metrics added since wait for the runner's describe). */
	described?: string[];
	previous?: Sample;
	latest?: Sample;
	/** metric name → instance key → series. Survives reconnects. */
	history: Record<string, Record<string, Series>>;
	samples: number;
	lastSampleAt?: number;
	/** Rounds of the interval's grid this collector missed, still answering an earlier one (live/runner.ts). */
	missed?: number;
	/** hinv.ncpu, sampled with the metrics when a kernel.all.cpu.* pane needs it (utilisation.ts). */
	ncpu?: number;
};

export type PendingPrompt = {id: number; host: string; question: TrustQuestion};

export type Notice = {at: number; host?: string; text: string};

/** One name in the metric browser: the full name and its place in the collector's tree. */
export type BrowseEntry = {name: string; path: string[]};

/** The `/` metric browser: the names of one collector, loaded by the controller (live/interact.ts). */
export type BrowserState = {
	/** Which request this is (the controller answers with the same id). */
	id: number;
	host: string;
	status: 'loading' | 'ready' | 'error';
	entries: BrowseEntry[];
	/** More names than secmon keeps (maxBrowseNames in metrics/source.ts). */
	truncated: boolean;
	/** What the collector cannot tell (a Zabbix agent cannot list its keys), or the error. */
	note?: string;
};

/** A metric's help text as the collector gives it, fetched on demand (zoom, browser). */
export type HelpEntry = {status: 'loading' | 'ok' | 'none'; text?: string};

export type MonitorState = {
	hosts: HostState[];
	/** The metric names the user asked for (placeholders until a host describes them). */
	metrics: string[];
	intervalMs: number;
	paused: boolean;
	raw: boolean;
	help: boolean;
	/** Key of the focused pane (survives panes coming and going). */
	focus?: string;
	/** The host whose full stop warning is open (Enter on its pane; Esc or Enter closes). */
	details?: string;
	/** Trust prompts waiting to be answered, shown one at a time (first first). */
	prompts: PendingPrompt[];
	notices: Notice[];
	now: number;
	quitting: boolean;
	/** -s N: samples per host after which the UI ends (0 = until q). */
	samplesWanted: number;
	/** Key of the pane shown on the whole screen (Enter), until Esc. */
	zoom?: string;
	browser?: BrowserState;
	/** `host metric` (paneKey) → its help text. */
	helpTexts: Record<string, HelpEntry>;
	/** A save the user asked for with `s` (written by live/interact.ts, never on exit). */
	saveRequest?: {id: number; name: string};
	/** The `s` dialog (a set name being typed) is open. */
	saving: boolean;
	/** Metric name → warning/critical levels (saved sets, --warn/--crit). */
	thresholds: Record<string, Thresholds>;
};

export type Action
	= | {type: 'connecting'; host: string; at: number}
		| {type: 'connected'; host: string; at: number; tls: TlsFacts | undefined; descs: MetricDesc[]; missing: Array<{name: string; message: string}>; names?: string[]}
		| {type: 'sample'; host: string; at: number; sample: Sample; rttMs: number; missed?: number; ncpu?: number}
		| {type: 'disconnected'; host: string; at: number; reason: string; retryAt: number}
		| {type: 'stopped'; host: string; at: number; exitCode: number; message: string; hint?: string}
		| {type: 'notice'; host?: string; at: number; text: string}
		| {type: 'prompt-open'; id: number; host: string; question: TrustQuestion}
		| {type: 'prompt-close'; id: number}
		| {type: 'toggle-pause'}
		| {type: 'toggle-raw'}
		| {type: 'toggle-help'}
		| {type: 'close-help'}
		| {type: 'interval'; direction: 1 | -1}
		| {type: 'focus-move'; delta: number}
		| {type: 'focus-grid'; delta: number; columns: number}
		| {type: 'zoom'}
		| {type: 'zoom-close'}
		| {type: 'metric-add'; name: string; host?: string}
		/** Without a metric: the zoomed pane's, else the focused one's. */
		| {type: 'metric-remove'; metric?: string}
		| {type: 'described'; host: string; names: string[]; descs: MetricDesc[]; missing: Array<{name: string; message: string}>}
		/** Without a host: the zoomed or focused pane's, else the first connected collector. */
		| {type: 'browse-open'; host?: string; id: number}
		| {type: 'browse-names'; id: number; entries: BrowseEntry[]; truncated: boolean; note?: string}
		| {type: 'browse-failed'; id: number; message: string}
		| {type: 'browse-close'}
		| {type: 'help-request'; host: string; metric: string}
		| {type: 'help-text'; host: string; metric: string; text: string | undefined}
		| {type: 'save-open'}
		| {type: 'save-cancel'}
		| {type: 'save-set'; id: number; name: string}
		| {type: 'save-done'; id: number}
		| {type: 'focus-set'; key: string}
		| {type: 'details'; host?: string}
		| {type: 'clock'; now: number}
		| {type: 'quit'};

export function initialState(input: {hosts: Array<{id: string; secureMode: SecureMode}>; metrics: string[]; intervalMs: number; raw: boolean; samples: number; now: number; thresholds?: Record<string, Thresholds>}): MonitorState {
	return {
		hosts: input.hosts.map(({id, secureMode}) => ({
			id,
			phase: 'connecting',
			secureMode,
			everConnected: false,
			attempt: 0,
			descs: [],
			missing: [],
			history: record(),
			samples: 0,
		})),
		metrics: input.metrics,
		intervalMs: input.intervalMs,
		paused: false,
		raw: input.raw,
		help: false,
		prompts: [],
		notices: [],
		now: input.now,
		quitting: false,
		samplesWanted: input.samples,
		helpTexts: {},
		saving: false,
		thresholds: input.thresholds ?? {},
	};
}

const maxNotices = 20;

function numeric(value: InstanceValue['value']): number {
	if (typeof value === 'number') {
		return value;
	}

	return typeof value === 'bigint' ? Number(value) : Number.NaN;
}

/** A singular value (no instance, or PCP's PM_IN_NULL -1) has no label; others fall back to the id. */
function instanceLabel(value: InstanceValue): string {
	return value.instance === undefined || value.instance === -1 ? '' : String(value.instance);
}

/**
 * Records keyed by metric names and instance ids (collector and user text) have no prototype and
 * are read through `own`: a metric named `__proto__` or `constructor` is looked up as itself,
 * never as Object's.
 */
function record<T>(): Record<string, T> {
	return Object.create(null) as Record<string, T>;
}

function own<T>(entries: Record<string, T> | undefined, key: string): T | undefined {
	return entries !== undefined && Object.hasOwn(entries, key) ? entries[key] : undefined;
}

function push(values: number[], value: number): number[] {
	const next = values.length >= historyLength ? values.slice(values.length - historyLength + 1) : [...values];
	next.push(value);
	return next;
}

/** Append one sample to the history: raw values, and rates for counters. */
function recordHistory(host: HostState, sample: Sample, count: number): Record<string, Record<string, Series>> {
	const descs = new Map(host.descs.map(d => [d.name, d]));
	const rates = new Map(toRates(host.latest, sample, descs, false).map(row => [row.name, row]));
	const history = Object.assign(record<Record<string, Series>>(), host.history);
	for (const {name, result} of sample.metrics) {
		const before = own(history, name) ?? record<Series>();
		const after = record<Series>();
		const rateRow = rates.get(name);
		const rateOf = new Map<number, number>();
		if (rateRow?.rate && rateRow.result.status === 'ok') {
			for (const value of rateRow.result.values) {
				rateOf.set(instanceKey(value), numeric(value.value));
			}
		}

		const present = new Set<string>();
		if (result.status === 'ok') {
			for (const value of result.values) {
				const id = String(instanceKey(value));
				present.add(id);
				const old = own(before, id);
				const raw = numeric(value.value);
				const rate = rateOf.get(instanceKey(value)) ?? Number.NaN;
				after[id] = {
					name: value.name ?? old?.name ?? instanceLabel(value),
					raw: push(old?.raw ?? [], raw),
					rate: push(old?.rate ?? [], rate),
					seen: count,
					total: {raw: addTotal(old?.total.raw ?? noTotals, raw), rate: addTotal(old?.total.rate ?? noTotals, rate)},
				};
			}
		}

		// Instances missing from this sample get a gap; forgotten once their history has scrolled away.
		for (const [id, old] of Object.entries(before)) {
			if (!present.has(id) && count - old.seen < historyLength) {
				after[id] = {...old, raw: push(old.raw, Number.NaN), rate: push(old.rate, Number.NaN)};
			}
		}

		history[name] = after;
	}

	return history;
}

/** A visible break in every sparkline of a host (it went away). */
function gapHistory(history: Record<string, Record<string, Series>>): Record<string, Record<string, Series>> {
	const next = record<Record<string, Series>>();
	for (const [metric, series] of Object.entries(history)) {
		const row = record<Series>();
		for (const [id, old] of Object.entries(series)) {
			row[id] = old.raw.length > 0 && Number.isNaN(old.raw.at(-1)) ? old : {...old, raw: push(old.raw, Number.NaN), rate: push(old.rate, Number.NaN)};
		}

		next[metric] = row;
	}

	return next;
}

function updateHost(state: MonitorState, id: string, change: (host: HostState) => HostState): MonitorState {
	let found = false;
	const hosts = state.hosts.map(host => {
		if (host.id !== id) {
			return host;
		}

		found = true;
		return change(host);
	});
	return found ? {...state, hosts} : state;
}

function addNotice(state: MonitorState, notice: Notice): MonitorState {
	const notices = [...state.notices, notice];
	return {...state, notices: notices.length > maxNotices ? notices.slice(-maxNotices) : notices};
}

/** The next interval on the ladder in a direction (+1 slower, -1 faster). */
export function stepInterval(current: number, direction: 1 | -1): number {
	if (direction > 0) {
		return intervalLadder.find(step => step > current) ?? current;
	}

	return intervalLadder.toReversed().find(step => step < current) ?? current;
}

export function reduce(state: MonitorState, action: Action): MonitorState {
	switch (action.type) {
		case 'connecting': {
			return updateHost(state, action.host, host => host.phase === 'stopped' ? host : {...host, phase: 'connecting', retryAt: undefined});
		}

		case 'connected': {
			return updateHost(state, action.host, host => ({
				...host,
				phase: 'connected',
				tls: action.tls,
				everConnected: true,
				retryAt: undefined,
				descs: action.descs,
				missing: action.missing,
				described: action.names ?? state.metrics,
			}));
		}

		case 'sample': {
			return updateHost(state, action.host, host => {
				const samples = host.samples + 1;
				return {
					...host,
					attempt: 0,
					rttMs: action.rttMs,
					history: recordHistory(host, action.sample, samples),
					previous: host.latest,
					latest: action.sample,
					samples,
					lastSampleAt: action.at,
					...(action.missed ? {missed: (host.missed ?? 0) + action.missed} : {}),
					...(action.ncpu === undefined ? {} : {ncpu: action.ncpu}),
				};
			});
		}

		case 'disconnected': {
			return updateHost(state, action.host, host => host.phase === 'stopped'
				? host
				: {
					...host,
					phase: 'disconnected',
					lastError: {message: action.reason, at: action.at},
					retryAt: action.retryAt,
					attempt: host.attempt + 1,
					history: gapHistory(host.history),
				});
		}

		case 'stopped': {
			return updateHost(state, action.host, host => ({
				...host,
				phase: 'stopped',
				retryAt: undefined,
				lastError: {message: action.message.split('\n')[0]!, at: action.at},
				stop: {exitCode: action.exitCode, message: action.message, ...(action.hint === undefined ? {} : {hint: action.hint})},
			}));
		}

		case 'notice': {
			return addNotice(state, {at: action.at, text: action.text, ...(action.host === undefined ? {} : {host: action.host})});
		}

		case 'prompt-open': {
			return {...state, prompts: [...state.prompts, {id: action.id, host: action.host, question: action.question}]};
		}

		case 'prompt-close': {
			return {...state, prompts: state.prompts.filter(prompt => prompt.id !== action.id)};
		}

		case 'toggle-pause': {
			return {...state, paused: !state.paused};
		}

		case 'toggle-raw': {
			return {...state, raw: !state.raw};
		}

		case 'toggle-help': {
			return {...state, help: !state.help};
		}

		case 'close-help': {
			return state.help ? {...state, help: false} : state;
		}

		case 'interval': {
			const intervalMs = stepInterval(state.intervalMs, action.direction);
			return intervalMs === state.intervalMs ? state : {...state, intervalMs};
		}

		case 'focus-move': {
			const keys = panesOf(state).map(pane => pane.key);
			if (keys.length === 0) {
				return state;
			}

			const index = state.focus === undefined ? -1 : keys.indexOf(state.focus);
			let next: number;
			if (index === -1) {
				next = action.delta >= 0 ? 0 : keys.length - 1;
			} else {
				// Tab wraps; a grid move past the edge wraps too, like most terminal monitors.
				next = (((index + action.delta) % keys.length) + keys.length) % keys.length;
			}

			return {...state, focus: keys[next]};
		}

		case 'focus-set': {
			return {...state, focus: action.key};
		}

		case 'details': {
			if (action.host === undefined) {
				return state.details === undefined ? state : {...state, details: undefined};
			}

			return {...state, details: action.host};
		}

		case 'focus-grid': {
			const keys = panesOf(state).map(pane => pane.key);
			const index = state.focus === undefined ? -1 : keys.indexOf(state.focus);
			if (index === -1) {
				return keys.length === 0 ? state : {...state, focus: keys[0]};
			}

			const next = gridMove(index, action.delta, action.columns, keys.length);
			return next === index ? state : {...state, focus: keys[next]};
		}

		case 'zoom': {
			if (state.zoom !== undefined) {
				return state;
			}

			const panes = panesOf(state);
			const pane = panes.find(candidate => candidate.key === state.focus) ?? panes[0];
			if (pane === undefined) {
				return state;
			}

			// The zoom shows the metric's help text: the controller fetches it (live/interact.ts).
			const helpTexts = state.helpTexts[pane.key] === undefined ? boundedHelp({...state.helpTexts, [pane.key]: {status: 'loading'}}) : state.helpTexts;
			return {
				...state, zoom: pane.key, focus: pane.key, help: false, helpTexts,
			};
		}

		case 'zoom-close': {
			return state.zoom === undefined ? state : {...state, zoom: undefined};
		}

		case 'metric-add': {
			const focus = action.host === undefined ? state.focus : paneKey(action.host, action.name);
			if (state.metrics.includes(action.name)) {
				return {...state, focus};
			}

			return {...state, metrics: [...state.metrics, action.name], focus};
		}

		case 'metric-remove': {
			const metric = action.metric ?? panesOf(state).find(pane => pane.key === (state.zoom ?? state.focus))?.metric;
			return metric === undefined ? state : removeMetric(state, metric);
		}

		case 'described': {
			return updateHost(state, action.host, host => ({
				...host, descs: action.descs, missing: action.missing, described: action.names,
			}));
		}

		case 'browse-open': {
			const pane = panesOf(state).find(candidate => candidate.key === (state.zoom ?? state.focus));
			const host = action.host ?? pane?.host ?? state.hosts.find(candidate => candidate.phase === 'connected')?.id ?? state.hosts[0]?.id;
			if (host === undefined) {
				return state;
			}

			return {
				...state,
				help: false,
				browser: {
					id: action.id, host, status: 'loading', entries: [], truncated: false,
				},
			};
		}

		case 'browse-names': {
			if (state.browser?.id !== action.id) {
				return state;
			}

			return {
				...state,
				browser: {
					...state.browser, status: 'ready', entries: action.entries, truncated: action.truncated, ...(action.note === undefined ? {} : {note: action.note}),
				},
			};
		}

		case 'browse-failed': {
			if (state.browser?.id !== action.id) {
				return state;
			}

			return {...state, browser: {...state.browser, status: 'error', note: action.message}};
		}

		case 'browse-close': {
			return state.browser === undefined ? state : {...state, browser: undefined};
		}

		case 'help-request': {
			const key = paneKey(action.host, action.metric);
			if (state.helpTexts[key] !== undefined) {
				return state;
			}

			return {...state, helpTexts: boundedHelp({...state.helpTexts, [key]: {status: 'loading'}})};
		}

		case 'help-text': {
			const key = paneKey(action.host, action.metric);
			const entry: HelpEntry = action.text === undefined || action.text.trim() === '' ? {status: 'none'} : {status: 'ok', text: action.text};
			return {...state, helpTexts: boundedHelp({...state.helpTexts, [key]: entry})};
		}

		case 'save-open': {
			return {...state, saving: true, help: false};
		}

		case 'save-cancel': {
			return state.saving ? {...state, saving: false} : state;
		}

		case 'save-set': {
			return {...state, saving: false, saveRequest: {id: action.id, name: action.name}};
		}

		case 'save-done': {
			return state.saveRequest?.id === action.id ? {...state, saveRequest: undefined} : state;
		}

		case 'clock': {
			return {...state, now: action.now};
		}

		case 'quit': {
			return state.quitting ? state : {...state, quitting: true};
		}
	}
}

/** Help texts kept at most (the zoom and the browser ask for one at a time). */
const maxHelpTexts = 200;

function boundedHelp(texts: Record<string, HelpEntry>): Record<string, HelpEntry> {
	const keys = Object.keys(texts);
	return keys.length <= maxHelpTexts ? texts : Object.fromEntries(keys.slice(-maxHelpTexts).map(key => [key, texts[key]!]));
}

/**
 * An arrow key in the grid of `count` panes, `columns` wide: Left/Right (±1) stop at the first and
 * last pane, Up/Down (±columns) stop at the top and bottom rows (no wrap); Down into a short last
 * row lands on its last pane.
 */
export function gridMove(index: number, delta: number, columns: number, count: number): number {
	const target = index + delta;
	if (target < 0) {
		return index;
	}

	if (target >= count) {
		const lastRow = Math.floor((count - 1) / Math.max(1, columns));
		return Math.abs(delta) > 1 && Math.floor(target / Math.max(1, columns)) === lastRow && Math.floor(index / Math.max(1, columns)) !== lastRow ? count - 1 : index;
	}

	return target;
}

/**
 * `d` on a pane: its metric goes from every host (names that expanded, such as `kernel.all`, are
 * replaced by the leaves still shown); the runners describe the new list on their next round.
 */
function removeMetric(state: MonitorState, metric: string): MonitorState {
	const panes = panesOf(state);
	const index = panes.findIndex(pane => pane.key === state.focus);
	const names = [...new Set(panes.map(pane => pane.metric))].filter(name => name !== metric);
	const hosts = state.hosts.map(host => ({
		...host,
		descs: host.descs.filter(desc => desc.name !== metric),
		missing: host.missing.filter(entry => entry.name !== metric),
	}));
	const next: MonitorState = {
		...state, metrics: names, hosts, zoom: undefined,
	};
	const left = panesOf(next);
	const focus = left.length === 0 ? undefined : left[Math.min(Math.max(0, index), left.length - 1)]!.key;
	return {...next, focus};
}

// ---- Selectors: what the components draw ----

export type RowModel = {
	/** Instance key (PCP inst, -1 for a singular value). */
	key: string;
	name: string;
	/** Numeric value for ranking (top-N); undefined for strings and missing values. */
	value?: number;
	/** The value for a person: scaled, with units ("1.23 MiB", "12/s"). */
	text: string;
	/** Recent values in the mode shown (rates or raw), oldest first; NaN = gap. */
	history: number[];
	/** The value is past a warning or critical threshold (`text` says so in a word too). */
	level?: Level;
};

export type PaneStatus = 'waiting' | 'ok' | 'novalues' | 'error' | 'missing';

export type PaneModel = {
	key: string;
	host: string;
	metric: string;
	hostPhase: HostPhase;
	semantics?: Semantics;
	/** Units as the collector names them ("Kbyte", "count"). */
	unitsText?: string;
	/** Counter shown as a rate per second? */
	rate: boolean;
	/** Shown as a percentage (CPU and other time counters; utilisation.ts): values and history are in %. */
	percent?: Utilisation;
	/** The sparklines' axis: from zero (gauges, rates; 0–100 for a percentage), or the data's own range (raw counters). */
	axis: Axis;
	status: PaneStatus;
	/** Why there are no rows (error text, "rate after the next sample"…). */
	message?: string;
	rows: RowModel[];
};

const zeroAxis: Axis = {floor: 'zero'};

export function paneKey(host: string, metric: string): string {
	return `${host} ${metric}`;
}

/** A value that is not a number: a string as it is, an aggregate as pminfo prints it. */
function valueText(value: InstanceValue['value'], desc: MetricDesc | undefined): string {
	if (typeof value === 'number' || typeof value === 'bigint') {
		return String(value);
	}

	if (typeof value === 'string') {
		return value;
	}

	return desc ? pmPrintValue(pcpTypeCode(desc.type, desc.typeCode), value) : `${value.length} bytes`;
}

/**
 * The text of the numbers shown together (one pane's values, the zoom's table), all in one unit
 * with one number of decimals, chosen from the largest (render/units.ts columnScale), so they line
 * up; a percentage always has one decimal. `numbers` are as shown: rates, raw values or percent.
 */
function numberFormat(numbers: number[], desc: MetricDesc | undefined, rate: boolean, percent: Utilisation | undefined): (value: number) => string {
	if (percent) {
		return percentText;
	}

	if (!desc) {
		return String;
	}

	const scale = columnScale(numbers, desc.units, {rate});
	return value => joinScaled(scale(value));
}

/** How a level reads without colour (NO_COLOR), after the value. */
export const levelWords: Record<Level, string> = {warning: 'WARN', critical: 'CRIT'};

/** Rows of one column where some carry a level word: the others end in as many spaces, so the numbers line up. */
export function alignLevels<T extends RowModel>(rows: readonly T[]): T[] {
	if (rows.every(row => row.level === undefined)) {
		return [...rows];
	}

	const pad = ' '.repeat(Math.max(...Object.values(levelWords).map(word => word.length)) + 1);
	return rows.map(row => (row.level === undefined ? {...row, text: row.text + pad} : row));
}

function rowsOf(values: InstanceValue[], desc: MetricDesc | undefined, rate: boolean, series: Record<string, Series> | undefined, percent: Utilisation | undefined, thresholds: Thresholds | undefined): RowModel[] {
	const numbers = values.flatMap(value => (typeof value.value === 'number' || typeof value.value === 'bigint' ? [Number(value.value) * (percent?.factor ?? 1)] : []));
	const format = numberFormat(numbers, desc, rate, percent);
	return values.map(value => {
		const id = String(instanceKey(value));
		const history = own(series, id);
		const number = typeof value.value === 'number' || typeof value.value === 'bigint' ? Number(value.value) : undefined;
		const shown = history ? (rate ? history.rate : history.raw) : [];
		// Levels apply to what the pane shows: the percentage for a utilisation pane.
		const showing = percent && number !== undefined ? number * percent.factor : number;
		const level = levelOf(showing, thresholds);
		const named = (text: string) => (level === undefined ? text : `${text} ${levelWords[level]}`);
		if (percent && number !== undefined) {
			return {
				key: id,
				name: value.name ?? history?.name ?? instanceLabel(value),
				value: number * percent.factor,
				text: named(format(number * percent.factor)),
				history: shown.map(point => point * percent.factor),
				...(level === undefined ? {} : {level}),
			};
		}

		return {
			key: id,
			name: value.name ?? history?.name ?? instanceLabel(value),
			...(number === undefined ? {} : {value: number}),
			text: named(number === undefined ? valueText(value.value, desc) : format(number)),
			history: shown,
			...(level === undefined ? {} : {level}),
		};
	});
}

function hostPanes(state: MonitorState, host: HostState): PaneModel[] {
	const base = {host: host.id, hostPhase: host.phase};
	if (host.descs.length === 0 && host.missing.length === 0) {
		// Not described yet: one placeholder per requested name.
		return state.metrics.map(metric => ({
			...base, key: paneKey(host.id, metric), metric, rate: false, axis: zeroAxis, status: 'waiting', rows: [],
		}));
	}

	const descs = new Map(host.descs.map(d => [d.name, d]));
	const rows = host.latest ? toRates(host.previous, host.latest, descs, state.raw) : [];
	const rowOf = new Map(rows.map(row => [row.name, row]));
	const panes: PaneModel[] = host.descs.map(desc => {
		const counter = desc.semantics === 'counter';
		const percent = utilisationOf(desc, counter && !state.raw, host.ncpu);
		const pane = {
			...base,
			key: paneKey(host.id, desc.name),
			metric: desc.name,
			semantics: desc.semantics,
			unitsText: desc.unitsText,
			rate: counter && !state.raw,
			...(percent ? {percent} : {}),
			// Percent of all CPUs (or per CPU) tops at 100; percent of one CPU for an aggregate does not.
			axis: percent && (percent.cpus !== undefined || !desc.name.startsWith('kernel.all.cpu.')) ? {floor: 'zero', max: 100} as const : (counter && state.raw ? {floor: 'data'} as const : zeroAxis),
		};
		const row = rowOf.get(desc.name);
		if (!row) {
			return {...pane, status: 'waiting' as const, rows: []};
		}

		const {result} = row;
		if (result.status === 'error') {
			return {
				...pane, status: 'error' as const, message: result.message, rows: [],
			};
		}

		if (result.status === 'novalues') {
			return {
				...pane,
				status: 'novalues' as const,
				message: row.rate && host.previous === undefined ? 'rate after the next sample' : 'no values',
				rows: [],
			};
		}

		// The user's levels (saved set, --warn/--crit) before the collector's (perfdata).
		const thresholds = own(state.thresholds, desc.name) ?? desc.thresholds;
		return {...pane, status: 'ok' as const, rows: rowsOf(result.values, desc, row.rate, own(host.history, desc.name), percent, thresholds)};
	});
	for (const {name, message} of host.missing) {
		panes.push({
			...base, key: paneKey(host.id, name), metric: name, rate: false, axis: zeroAxis, status: 'missing', message, rows: [],
		});
	}

	// Added from the browser and not described yet by this collector.
	const described = new Set(host.described ?? state.metrics);
	const shown = new Set(panes.map(pane => pane.metric));
	for (const metric of state.metrics) {
		if (!described.has(metric) && !shown.has(metric)) {
			panes.push({
				...base, key: paneKey(host.id, metric), metric, rate: false, axis: zeroAxis, status: 'waiting', rows: [],
			});
		}
	}

	return panes;
}

/** Every pane, host by host in --host order, metrics in the collector's order (a stopped host's keep their last values). */
export function panesOf(state: MonitorState): PaneModel[] {
	return state.hosts.flatMap(host => hostPanes(state, host));
}

/** -s N reached, or stopped: nothing more will come from this host. */
export function hostFinished(host: HostState, samplesWanted: number): boolean {
	return host.phase === 'stopped' || (samplesWanted > 0 && host.samples >= samplesWanted);
}

export function allFinished(state: MonitorState): boolean {
	return state.hosts.every(host => hostFinished(host, state.samplesWanted));
}

/**
 * The process exit code (source/errors.ts): the worst stop reason (3 rejected/untrusted, 4 changed,
 * 5 TLS required…), else 1 if a collector was away at the end or never delivered a sample, else 0.
 */
export function exitCodeOf(state: MonitorState): number {
	let code = 0;
	for (const host of state.hosts) {
		if (host.stop) {
			code = Math.max(code, host.stop.exitCode);
		} else if (host.phase === 'disconnected' || host.samples === 0) {
			code = Math.max(code, 1);
		}
	}

	return code;
}

/** A minimal external store: the runners and the keys dispatch, React subscribes. */
export type Store = {
	getState(): MonitorState;
	dispatch(action: Action): void;
	subscribe(listener: () => void): () => void;
};

export function createStore(initial: MonitorState): Store {
	let state = initial;
	const listeners = new Set<() => void>();
	return {
		getState: () => state,
		dispatch(action) {
			const next = reduce(state, safeAction(action));
			if (next !== state) {
				state = next;
				for (const listener of listeners) {
					listener();
				}
			}
		},
		subscribe(listener) {
			listeners.add(listener);
			return () => {
				listeners.delete(listener);
			};
		},
	};
}

/** A zoomed pane's instance: the value now, min/avg/max since the first sample, the whole history. */
export type ZoomRow = RowModel & {min: string; avg: string; max: string; samples: number};

/** Everything the zoom shows of one pane, in the mode shown (rates or raw), or undefined if it is gone. */
export function zoomOf(state: MonitorState, key: string): {pane: PaneModel; rows: ZoomRow[]; desc?: MetricDesc} | undefined {
	const pane = panesOf(state).find(candidate => candidate.key === key);
	if (!pane) {
		return undefined;
	}

	const host = state.hosts.find(candidate => candidate.id === pane.host);
	const desc = host?.descs.find(candidate => candidate.name === pane.metric);
	const series = own(host?.history, pane.metric);
	// Min/avg/max in what the pane shows (a percentage for a utilisation pane), and the whole table
	// in one unit with one number of decimals, as the pane's column.
	const factor = pane.percent?.factor ?? 1;
	const stats = pane.rows.map(row => {
		const totals = own(series, row.key)?.total[pane.rate ? 'rate' : 'raw'] ?? noTotals;
		return {
			row, min: totals.min * factor, avg: totals.count > 0 ? totals.sum * factor / totals.count : Number.NaN, max: totals.max * factor, samples: totals.count,
		};
	});
	const format = numberFormat(stats.flatMap(({row, min, avg, max}) => [row.value, min, avg, max].filter((value): value is number => value !== undefined && Number.isFinite(value))), desc, pane.rate, pane.percent);
	const text = (value: number) => Number.isFinite(value) ? format(value) : '—';
	const rows = stats.map(({row, min, avg, max, samples}) => ({
		...row,
		...(row.value === undefined ? {} : {text: row.level === undefined ? text(row.value) : `${text(row.value)} ${levelWords[row.level]}`}),
		min: text(min),
		avg: text(avg),
		max: text(max),
		samples,
	}));
	return {pane, rows, ...(desc ? {desc} : {})};
}
