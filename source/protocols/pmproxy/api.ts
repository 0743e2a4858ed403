/**
 * pmproxy's REST API (PMWEBAPI(3), docs/pmproxy.md): a context created with /pmapi/context and
 * kept alive by using it within its polltimeout, re-created once when pmproxy says it expired or
 * does not know it; names, descriptors and help text from /pmapi/metric, instances from
 * /pmapi/indom, values from /pmapi/fetch. Every answer is checked field by field (a peer that
 * lies gets a PROTOCOL error naming the field) and counted against the caps below.
 */
import {SecmonError} from '../../errors.js';
import type {Units} from '../../metrics/model.js';
import type {HttpResponse, PmproxyHttp} from './http.js';
import {
	asObject, JsonNumber, parseJson, type JsonValue,
} from './json.js';

/** 9999-12-31T23:59:59Z: the latest time a Date prints as ISO 8601 (PCP's result PDU has the same bound). */
const maxTimestampSec = 253_402_300_799;

/** PCP's PM_TYPE_* codes (include/pcp/pmapi.h) for the type names pmproxy sends (docs/pmproxy.md#metric). */
export const pmproxyTypeCodes: Readonly<Record<string, number>> = {
	32: 0,
	u32: 1,
	64: 2,
	u64: 3,
	float: 4,
	double: 5,
	string: 6,
	aggregate: 7,
	aggregate_static: 8,
	event: 9,
	highres_event: 10,
	unsupported: -1,
	unknown: 255,
};

/** PM_SEM_* (pmapi.h) for pmSemStr's names; "???" is any other code. */
export const pmproxySemCodes: Readonly<Record<string, number>> = {counter: 1, instant: 3, discrete: 4};

/** PM_INDOM_NULL: pmproxy leaves "indom" out for metrics without instances. */
export const indomNull = 0xFF_FF_FF_FF;

/** Metrics in one /pmapi/metric answer (a whole Linux namespace is ~2500). */
export const maxMetrics = 200_000;
/** Instances in one indom or one metric's fetch values. */
export const maxInstances = 1_000_000;
/** A metric or instance name, a units string. */
export const maxNameBytes = 64 * 1024;

export type PmproxyMetric = {
	name: string;
	pmid: number;
	indom: number;
	/** The PM_TYPE code, and pmproxy's name for it. */
	type: number;
	typeName: string;
	sem: number;
	units: Units;
	/** pmUnitsStr's text as pmproxy sent it ("none" for no units, as pminfo -d prints it). */
	unitsText: string;
	oneline: string;
	help: string;
};

export type PmproxyLookup = PmproxyMetric | {name: string; error: string};

export type PmproxyInstance = {inst: number; name: string};

export type PmproxyValue = {inst: number | undefined; value: JsonValue};

export type PmproxyFetch = {
	sec: number;
	nsec: number;
	values: Array<{pmid: number; name: string; instances: PmproxyValue[]}>;
};

export type PmproxyApiOptions = {
	http: PmproxyHttp;
	who: string;
	/** The pmcd pmproxy should read (its hostspec; default: pmproxy's own local pmcd). */
	hostspec?: string;
	/** Seconds pmproxy keeps an unused context (polltimeout). */
	pollTimeoutSeconds: number;
};

/** "60.0.32" → the PMID; "60.2" → the indom (pmIDStr and pmInDomStr forms). */
export function parseDotted(text: string, parts: 2 | 3): number | undefined {
	const fields = text.split('.');
	if (fields.length !== parts || fields.some(field => !/^\d{1,10}$/.test(field))) {
		return undefined;
	}

	const numbers = fields.map(Number);
	if (parts === 3) {
		const [domain, cluster, item] = numbers as [number, number, number];
		return domain < 512 && cluster < 4096 && item < 1024 ? ((domain << 22 | cluster << 10 | item) >>> 0) : undefined;
	}

	const [domain, serial] = numbers as [number, number];
	return domain < 512 && serial < 4_194_304 ? ((domain << 22 | serial) >>> 0) : undefined;
}

const spaceScales = ['byte', 'Kbyte', 'Mbyte', 'Gbyte', 'Tbyte', 'Pbyte', 'Ebyte', 'Zbyte', 'Ybyte'];
const timeScales = ['nanosec', 'microsec', 'millisec', 'sec', 'min', 'hour'];

/**
 * pmUnitsStr's text back into pmUnits (libpcp units.c writes it; pmproxy sends "none" for no
 * units): "Kbyte / sec", "count x 10^6 / millisec", "byte^2", "x 10^3". Undefined when the text
 * is not in that form.
 */
export function parseUnits(text: string): Units | undefined {
	const units: Units = {
		dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
	};
	if (text === 'none') {
		return units;
	}

	const scaleOnly = /^x 10(?:\^(-?\d+))?$/.exec(text);
	if (scaleOnly) {
		units.scaleCount = Number(scaleOnly[1] ?? 1);
		return units;
	}

	// Only negative dimensions print as "/ sec".
	const halves = text.startsWith('/ ') ? ['', text.slice(2)] : text.split(' / ');
	if (halves.length > 2 || halves.slice(text.startsWith('/ ') ? 1 : 0).includes('')) {
		return undefined;
	}

	const seen = new Set<string>();
	for (const [index, half] of halves.entries()) {
		if (half === '') {
			continue;
		}

		const sign = index === 0 ? 1 : -1;
		const pattern = /(?:^| )(?:(count x 10)(?:\^(-?\d+))?|([A-Za-z]+))(?:\^(\d+))?(?= |$)/gy;
		let consumed = 0;
		for (const match of half.matchAll(pattern)) {
			consumed = (match.index ?? 0) + match[0].length;
			const power = sign * Number(match[4] ?? 1);
			const [, scaled, countScale, word] = match;
			if (scaled !== undefined || word === 'count') {
				if (seen.has('count')) {
					return undefined;
				}

				seen.add('count');
				units.dimCount = power;
				units.scaleCount = scaled === undefined ? 0 : Number(countScale ?? 1);
			} else if (word !== undefined && spaceScales.includes(word)) {
				if (seen.has('space')) {
					return undefined;
				}

				seen.add('space');
				units.dimSpace = power;
				units.scaleSpace = spaceScales.indexOf(word);
			} else if (word !== undefined && timeScales.includes(word)) {
				if (seen.has('time')) {
					return undefined;
				}

				seen.add('time');
				units.dimTime = power;
				units.scaleTime = timeScales.indexOf(word);
			} else {
				return undefined;
			}
		}

		if (consumed !== half.length || consumed === 0) {
			return undefined;
		}
	}

	return units;
}

export class PmproxyApi {
	private context: string | undefined;
	private readonly options: PmproxyApiOptions;
	/** How many contexts this session created (the first, and one per expiry). */
	contextsCreated = 0;

	constructor(options: PmproxyApiOptions) {
		this.options = options;
	}

	private protocolError(what: string, path: string): SecmonError {
		return new SecmonError(
			'PROTOCOL',
			`${this.options.who} sent ${what} for ${path.split('?')[0]}`,
			'Check that this port is pmproxy\'s REST API (default 44322); secmon checks every field pmproxy sends',
		);
	}

	private query(parameters: Record<string, string>): string {
		return new URLSearchParams(parameters).toString();
	}

	/**
	 * The body as JSON; a 401 or 403 may come as pmproxy's HTML error page (http.c http_error:
	 * a pmproxy started with -S, from PCP 7, refuses a request without credentials so), which is
	 * still a refusal to report as one, not a protocol error.
	 */
	private bodyOf(response: HttpResponse, path: string): JsonValue | undefined {
		if (response.status === 401 || response.status === 403) {
			try {
				return parseJson(response.text);
			} catch {
				return undefined;
			}
		}

		return this.options.http.json(response, path);
	}

	/** The message of an error body ({"message":"…","success":false}), else the start of the text. */
	private static messageOf(body: JsonValue | undefined, text: string): string {
		const message = asObject(body)?.['message'];
		// Not JSON (an HTML error page): its start, on one line.
		return typeof message === 'string' ? message : text.slice(0, 200).replaceAll(/\s+/g, ' ').trim();
	}

	/** pmErrStr's text for a SASL failure of pmproxy's connection to pmcd ("Authentication - user not found"). */
	private static pmcdAuthentication(message: string): boolean {
		return /\bAuthentication - /.test(message);
	}

	private peerError(status: number, message: string, path: string): SecmonError {
		if (status === 400 && PmproxyApi.pmcdAuthentication(message)) {
			const pmcd = this.options.hostspec === undefined ? 'the pmcd behind it' : `the pmcd behind it (${this.options.hostspec})`;
			return new SecmonError(
				'PEER_ERROR',
				this.options.http.hasAuthorization
					? `${this.options.who} could not open a context: ${pmcd} refused the user name and password from the password file (${message})`
					: `${this.options.who} could not open a context: ${pmcd} requires a user name and password (${message})`,
				this.options.http.hasAuthorization
					? 'Check the user name and password in the password file (--password-file or SECMON_PASSWORD_FILE): pmproxy passes them to pmcd\'s SASL authentication, where the user must exist (saslpasswd2 -a pmcd USER) and pmcd must ask for it (pmcd -S)'
					: 'Give a password file with one line USER:PASSWORD (--password-file or SECMON_PASSWORD_FILE); secmon sends it to pmproxy only over verified TLS (pmproxys://)',
			);
		}

		if (status === 401 || status === 403) {
			return new SecmonError(
				'PEER_ERROR',
				`${this.options.who} refused ${path.split('?')[0]}: HTTP ${status} (${message})`,
				this.options.http.hasAuthorization
					? 'Check the user name and password in the password file (SECMON_PASSWORD_FILE or --password-file): pmproxy passes them to pmcd\'s SASL authentication.'
					: 'pmproxy asks for a user name and password: give a password file with one line USER:PASSWORD (SECMON_PASSWORD_FILE or --password-file).',
			);
		}

		return new SecmonError(
			'PEER_ERROR',
			`${this.options.who} could not answer ${path.split('?')[0]}: HTTP ${status} (${message})`,
			/cannot connect to pmcd|hostspec/i.test(message)
				? `pmproxy could not reach the pmcd it reads${this.options.hostspec === undefined ? ' (its local pmcd)' : ` (${this.options.hostspec})`}: check that pmcd runs there, or name another with ?hostspec=HOST:PORT in --host`
				: 'pmproxy\'s log says more.',
		);
	}

	/** GET /pmapi/context: a new context, kept for pollTimeoutSeconds after each use. */
	async createContext(): Promise<{context: string; hostspec: string | undefined}> {
		const parameters: Record<string, string> = {polltimeout: String(this.options.pollTimeoutSeconds)};
		if (this.options.hostspec !== undefined) {
			parameters['hostspec'] = this.options.hostspec;
		}

		const path = `/pmapi/context?${this.query(parameters)}`;
		let response = await this.options.http.get(path);
		let body = this.bodyOf(response, path);
		// A pmcd that requires SASL authentication (pmcd -S) refuses pmproxy's connection without
		// credentials, and pmproxy 6.0.3 says so with a 400, not a 401 (docs/pmproxy.md#authentication):
		// that is pmproxy asking for them, so the password file's are sent, once.
		if (response.status === 400 && PmproxyApi.pmcdAuthentication(PmproxyApi.messageOf(body, '')) && await this.options.http.authenticate()) {
			response = await this.options.http.get(path);
			body = this.bodyOf(response, path);
		}

		if (response.status !== 200) {
			throw this.peerError(response.status, PmproxyApi.messageOf(body, response.text), path);
		}

		const context = asObject(body)?.['context'];
		const id = context instanceof JsonNumber ? context.integer() : undefined;
		if (id === undefined || id < 0n || id > 0xFF_FF_FF_FFn) {
			throw this.protocolError('no context number', path);
		}

		this.context = id.toString();
		this.contextsCreated++;
		const hostspec = asObject(body)?.['hostspec'];
		return {context: this.context, hostspec: typeof hostspec === 'string' ? hostspec : undefined};
	}

	get contextId(): string | undefined {
		return this.context;
	}

	/**
	 * GET /pmapi/CONTEXT/ENDPOINT?…; when pmproxy no longer knows the context (expired, or
	 * pmproxy restarted: HTTP 400/403 "expired/unknown context identifier"), a new one is created
	 * and the request sent once more. Returns the status and the parsed body.
	 */
	private async call(endpoint: string, parameters: Record<string, string>): Promise<{status: number; body: JsonValue | undefined; path: string; text: string}> {
		for (let attempt = 0; ; attempt++) {
			this.context ??= (await this.createContext()).context;
			const path = `/pmapi/${this.context}/${endpoint}?${this.query(parameters)}`;
			const response = await this.options.http.get(path);
			const body = this.bodyOf(response, path);
			if (response.status !== 200 && attempt === 0 && /(?:expired|unknown) context identifier/.test(PmproxyApi.messageOf(body, ''))) {
				this.context = undefined;
				continue;
			}

			return {
				status: response.status, body, path, text: response.text,
			};
		}
	}

	private metricOf(entry: JsonValue, path: string): PmproxyLookup {
		const object = asObject(entry);
		const name = object?.['name'];
		if (object === undefined || typeof name !== 'string' || name.length > maxNameBytes) {
			throw this.protocolError('a metric without a name', path);
		}

		if (object['success'] === false) {
			const {message} = object;
			return {name, error: typeof message === 'string' ? message : 'Unknown metric name'};
		}

		const field = (key: string): string => {
			const value = object[key];
			if (typeof value !== 'string' || value.length > maxNameBytes) {
				throw this.protocolError(`a metric whose "${key}" is not a string`, path);
			}

			return value;
		};

		const pmid = parseDotted(field('pmid'), 3);
		if (pmid === undefined) {
			throw this.protocolError('a metric with a malformed "pmid"', path);
		}

		const indom = object['indom'] === undefined ? indomNull : parseDotted(field('indom'), 2);
		if (indom === undefined) {
			throw this.protocolError('a metric with a malformed "indom"', path);
		}

		const typeName = field('type');
		const type = Object.hasOwn(pmproxyTypeCodes, typeName) ? pmproxyTypeCodes[typeName]! : 255;
		const semName = field('sem');
		const sem = Object.hasOwn(pmproxySemCodes, semName) ? pmproxySemCodes[semName]! : 0;
		const unitsText = field('units');
		const units = parseUnits(unitsText);
		if (units === undefined) {
			throw this.protocolError('a metric with units that are not pmUnitsStr\'s', path);
		}

		const text = (key: string) => (object[key] === undefined ? '' : field(key));
		return {
			name, pmid, indom, type, typeName, sem, units, unitsText, oneline: text('text-oneline'), help: text('text-help'),
		};
	}

	/**
	 * /pmapi/metric?names=…: each name traversed (a non-leaf gives every metric below it), with
	 * descriptors and help text. A single name that pmproxy cannot traverse is an error answer
	 * ("NAME traversal failed - MESSAGE"), which comes back as one `{name, error}`.
	 */
	async metrics(names: string[]): Promise<PmproxyLookup[]> {
		const {status, body, path, text} = await this.call('metric', {names: names.join(',')});
		if (status !== 200) {
			const message = PmproxyApi.messageOf(body, text);
			const traversal = /^.* traversal failed - (.*)$/s.exec(message);
			if (status === 400 && names.length === 1 && traversal) {
				return [{name: names[0]!, error: traversal[1]!}];
			}

			throw this.peerError(status, message, path);
		}

		const list = asObject(body)?.['metrics'];
		if (!Array.isArray(list)) {
			throw this.protocolError('no "metrics" list', path);
		}

		if (list.length > maxMetrics) {
			throw this.options.http.tooMuch('a metric list', maxMetrics, 'metrics');
		}

		return list.map(entry => this.metricOf(entry, path));
	}

	/** /pmapi/indom?indom=D.S: the instances (pmproxy's order), and the indom's help texts. */
	async indom(indom: number): Promise<{instances: PmproxyInstance[]; oneline: string; help: string}> {
		const indomText = `${indom >>> 22}.${indom & 0x3F_FF_FF}`;
		const {status, body, path, text} = await this.call('indom', {indom: indomText});
		if (status !== 200) {
			throw this.peerError(status, PmproxyApi.messageOf(body, text), path);
		}

		const object = asObject(body);
		const list = object?.['instances'];
		if (!Array.isArray(list)) {
			throw this.protocolError('no "instances" list', path);
		}

		if (list.length > maxInstances) {
			throw this.options.http.tooMuch('an instance list', maxInstances, 'instances');
		}

		const instances = list.map(entry => {
			const instance = asObject(entry);
			const inst = instance?.['instance'];
			const name = instance?.['name'];
			const number = inst instanceof JsonNumber ? inst.integer() : undefined;
			if (number === undefined || number < 0n || number > 0x7F_FF_FF_FFn || typeof name !== 'string' || name.length > maxNameBytes) {
				throw this.protocolError('an instance without a number or a name', path);
			}

			return {inst: Number(number), name};
		});
		const text_ = (key: string) => (typeof object?.[key] === 'string' ? object[key] : '');
		return {instances, oneline: text_('text-oneline'), help: text_('text-help')};
	}

	/**
	 * /pmapi/fetch?names=…: one sample. pmproxy drops names it cannot look up and metrics without
	 * values; the timestamp is SECONDS.NANOSECONDS with the nanoseconds not zero-padded
	 * (docs/pmproxy.md#fetch).
	 */
	async fetch(names: string[]): Promise<PmproxyFetch> {
		const {status, body, path, text} = await this.call('fetch', {names: names.join(',')});
		if (status !== 200) {
			throw this.peerError(status, PmproxyApi.messageOf(body, text), path);
		}

		const object = asObject(body);
		const timestamp = object?.['timestamp'];
		const stamp = timestamp instanceof JsonNumber ? /^(\d{1,15})(?:\.(\d{1,9}))?$/.exec(timestamp.text) : undefined;
		if (!stamp) {
			throw this.protocolError('a fetch without a timestamp', path);
		}

		// The same bound as PCP's own result PDU (pcp/pdu.ts): a time from 1970 to 9999.
		if (Number(stamp[1]) > maxTimestampSec) {
			throw this.protocolError(`a fetch timestamp of ${stamp[1]} s, not a time from 1970 to 9999`, path);
		}

		const list = object?.['values'];
		if (!Array.isArray(list)) {
			throw this.protocolError('a fetch without a "values" list', path);
		}

		if (list.length > maxMetrics) {
			throw this.options.http.tooMuch('a fetch', maxMetrics, 'metrics');
		}

		const values = list.map(entry => {
			const set = asObject(entry);
			const pmid = typeof set?.['pmid'] === 'string' ? parseDotted(set['pmid'], 3) : undefined;
			const name = set?.['name'];
			const instances = set?.['instances'];
			if (pmid === undefined || typeof name !== 'string' || !Array.isArray(instances)) {
				throw this.protocolError('a value set without "pmid", "name" or "instances"', path);
			}

			if (instances.length > maxInstances) {
				throw this.options.http.tooMuch(`values of ${name}`, maxInstances, 'instances');
			}

			return {
				pmid,
				name,
				instances: instances.map(item => {
					const atom = asObject(item);
					const inst = atom?.['instance'];
					const number = inst instanceof JsonNumber ? inst.integer() : undefined;
					if (atom === undefined || !('value' in atom) || (inst !== null && (number === undefined || number < 0n || number > 0x7F_FF_FF_FFn))) {
						throw this.protocolError(`a value of ${name} without an instance or a value`, path);
					}

					return {inst: number === undefined ? undefined : Number(number), value: atom['value']!};
				}),
			};
		});
		return {sec: Number(stamp[1]), nsec: Number(stamp[2] ?? 0), values};
	}
}
