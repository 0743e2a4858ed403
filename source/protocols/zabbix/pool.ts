/**
 * The pool for one Zabbix agent (`ZabbixAgent`). Politeness is part of correctness here: the agent
 * answers once and closes, has no TLS session resumption, and a refused connection makes that
 * listener sleep 1 s (docs/zabbix.md#refused-connections). So the pool opens at most `concurrency`
 * connections (default 3 = StartAgents), starts with ONE connection until the agent has answered
 * once, and after a refusal stops launching new connections and backs off instead of retrying.
 * It also maps keys to the common metric model (keys.ts).
 */
import {SecmonError} from '../../errors.js';
import type {MetricDesc, Sample} from '../../metrics/model.js';
import type {AgentFacts} from '../../metrics/source.js';
import {
	defaultConcurrency, where, type ZabbixEndpoint, type ZabbixReply, type ZabbixTlsFacts,
} from './endpoint.js';
import {jsonRefused, ZabbixError} from './errors.js';
import {exchangeOnce, type AgentState} from './exchange.js';
import type {AgentResponse} from './frame.js';
import {describeKey, toMetricValues, zbxRequestFailedCode} from './keys.js';
import {prepareTls} from './tls-context.js';

export type ZabbixResult
	= | {key: string; ok: true; reply: ZabbixReply}
		| {key: string; ok: false; error: SecmonError};

export type ZabbixAgentOptions = ZabbixEndpoint & {
	/** Concurrent connections to this agent (default 3, the agent's StartAgents). */
	concurrency?: number;
	/** First wait after an agent-level failure; doubles up to maxBackoffMs. */
	backoffMs?: number;
	maxBackoffMs?: number;
};

function isFatal(error: unknown): boolean {
	// Trust refusals and configuration errors hold for every key: they end the whole operation.
	return error instanceof SecmonError && (error.code === 'USAGE' || error.code === 'TRUST_REQUIRED' || error.code === 'TRUST_REJECTED'
		|| error.code === 'CERT_CHANGED' || error.code === 'STORE' || (error.code === 'CERT_INVALID' && !(error instanceof ZabbixError)));
}

function isAgentLevel(error: unknown): boolean {
	return error instanceof ZabbixError ? error.agentLevel : !(error instanceof SecmonError && error.code === 'PROTOCOL');
}

function notAttempted(key: string, cause: SecmonError, message = `${key}: not requested because ${cause.message}`): SecmonError {
	const zabbixText = cause instanceof ZabbixError ? cause.zabbixText : `Get value error: ${cause.message}`;
	return new ZabbixError({
		code: cause.code,
		stage: cause instanceof ZabbixError ? cause.stage : 'request',
		message,
		hint: cause.hint ?? '',
		zabbixText,
		agentLevel: true,
		cause,
	});
}

/**
 * A Zabbix agent with a bounded connection pool, slow start and back-off. Also maps keys to the
 * common metric model (`describe`, `fetch`).
 */
export class ZabbixAgent {
	readonly endpoint: ZabbixAgentOptions;
	readonly concurrency: number;
	/** TLS facts of the last successful connection. */
	lastTls?: ZabbixTlsFacts;
	/** How the agent answered the last request: JSON (with its version and variant) or plain text. */
	lastAnswer?: AgentFacts;
	private state?: AgentState;
	private healthy = false;
	private failures = 0;
	private retryAt = 0;
	private lastFailure?: SecmonError;
	private readonly warned = new Set<string>();
	private readonly descs = new Map<string, MetricDesc>();

	constructor(endpoint: ZabbixAgentOptions) {
		this.endpoint = endpoint;
		this.concurrency = Math.max(1, Math.floor(endpoint.concurrency ?? defaultConcurrency));
	}

	/** "host:port" as given. */
	get target(): string {
		return where(this.endpoint);
	}

	/** When the next connection may be attempted after a refusal (epoch ms), 0 when not backing off. */
	get nextAttemptAt(): number {
		return this.retryAt;
	}

	private warn(message: string): void {
		if (!this.warned.has(message)) {
			this.warned.add(message);
			this.endpoint.onWarning?.(message);
		}
	}

	private prepare(): AgentState {
		this.state ??= {
			prepared: prepareTls(this.endpoint, message => {
				this.warn(message);
			}),
		};
		return this.state;
	}

	/**
	 * One passive check in the endpoint's protocol (docs/zabbix.md#zabbix-7-json-checks). `auto`
	 * sends JSON until the agent answers in plain text once, then resends that key plain and sends
	 * plain keys to this agent for the rest of the run (slow start makes the first key the only
	 * one in flight, so a run with many keys pays one extra request, not one per key).
	 */
	private async exchange(state: AgentState, key: string): Promise<ZabbixReply> {
		const onWarning = (message: string) => {
			this.warn(message);
		};

		const mode = this.endpoint.protocol ?? 'plaintext';
		if (mode === 'plaintext' || (mode === 'auto' && state.protocol === 'plaintext')) {
			return exchangeOnce(this.endpoint, state, key, onWarning, 'plaintext');
		}

		const reply = await exchangeOnce(this.endpoint, state, key, onWarning, 'json');
		if (!('plainAnswerToJson' in reply)) {
			state.protocol = 'json';
			return reply;
		}

		if (mode === 'json') {
			throw jsonRefused(this.endpoint);
		}

		state.protocol = 'plaintext';
		return exchangeOnce(this.endpoint, state, key, onWarning, 'plaintext');
	}

	/** The protocol this agent was found to speak in this run (-P auto), if known. */
	get protocol(): 'json' | 'plaintext' | undefined {
		return this.state?.protocol;
	}

	/** One key; throws on failure (ZabbixError, or SecmonError for trust refusals). */
	async get(key: string): Promise<ZabbixReply> {
		const [result] = await this.getMany([key]);
		if (!result) {
			throw new SecmonError('INTERNAL', 'no result');
		}

		if (!result.ok) {
			throw result.error;
		}

		return result.reply;
	}

	/**
	 * Many keys, answers in the order of `keys`. Per-key failures are results; fatal ones
	 * (configuration, trust) throw. After an agent-level failure (refused, unreachable, timeout)
	 * no new connection is started and the remaining keys fail with the same cause.
	 */
	async getMany(keys: readonly string[], onResult?: (result: ZabbixResult, index: number) => void): Promise<ZabbixResult[]> {
		const state = this.prepare();
		const results: Array<ZabbixResult | undefined> = Array.from({length: keys.length});
		const settle = (index: number, result: ZabbixResult) => {
			results[index] = result;
			onResult?.(result, index);
		};

		if (Date.now() < this.retryAt && this.lastFailure) {
			const cause = this.lastFailure;
			const waitS = Math.ceil((this.retryAt - Date.now()) / 1000);
			for (const [index, key] of keys.entries()) {
				settle(index, {key, ok: false, error: notAttempted(key, cause, `${key}: not requested: the agent refused or failed the last connection (${cause.message}); next attempt in ${waitS} s`)});
			}

			return results as ZabbixResult[];
		}

		// Shared by the workers: the first agent-level failure stops new connections; a fatal one ends the call.
		const control: {stop?: SecmonError; fatal?: SecmonError; next: number} = {next: 0};
		const runOne = async (index: number) => {
			const key = keys[index]!;
			try {
				const reply = await this.exchange(state, key);
				this.healthy = true;
				this.failures = 0;
				this.retryAt = 0;
				if (reply.tls) {
					this.lastTls = reply.tls;
				}

				this.lastAnswer = {
					protocol: reply.protocol,
					...(reply.json ? {version: reply.json.version} : {}),
					...(reply.json?.variant === undefined ? {} : {variant: reply.json.variant}),
				};

				settle(index, {key, ok: true, reply});
			} catch (error) {
				if (isFatal(error)) {
					control.fatal ??= error as SecmonError;
					control.stop ??= error as SecmonError;
					return;
				}

				const secmonError = error instanceof SecmonError ? error : new SecmonError('INTERNAL', (error as Error).message, undefined, {cause: error});
				settle(index, {key, ok: false, error: secmonError});
				if (isAgentLevel(error)) {
					control.stop ??= secmonError;
				}
			}
		};

		const worker = async () => {
			while (control.stop === undefined && control.next < keys.length) {
				const index = control.next++;
				await runOne(index);
			}
		};

		// Slow start: one connection until the agent has answered (a refusal then costs it one 1 s sleep, not three;
		// and a certificate prompt is shown once).
		if (!this.healthy && keys.length > 0) {
			control.next = 1;
			await runOne(0);
		}

		await Promise.all(Array.from({length: Math.min(this.concurrency, keys.length)}, async () => worker()));

		const {stop, fatal} = control;
		if (fatal) {
			throw fatal;
		}

		if (stop) {
			this.healthy = false;
			this.failures++;
			this.lastFailure = stop;
			const base = this.endpoint.backoffMs ?? 2000;
			this.retryAt = Date.now() + Math.min(this.endpoint.maxBackoffMs ?? 60_000, base * (2 ** (this.failures - 1)));
			for (const [index, key] of keys.entries()) {
				if (!results[index]) {
					settle(index, {key, ok: false, error: notAttempted(key, stop)});
				}
			}
		}

		return results as ZabbixResult[];
	}

	/**
	 * Metric descriptions for `keys`: known keys from keys.ts, the others typed by a first fetch
	 * (Zabbix has no metadata request). Descriptions are kept, so types stay stable across fetches.
	 */
	async describe(keys: readonly string[]): Promise<MetricDesc[]> {
		const unknown = keys.filter(key => !this.descs.has(key));
		if (unknown.length > 0) {
			const results = await this.getMany(unknown);
			for (const result of results) {
				// A failed key stays undescribed (string) until it answers; describeKey handles undefined.
				this.descs.set(result.key, describeKey(result.key, result.ok ? result.reply.response : undefined));
			}
		}

		return keys.map(key => this.descs.get(key) ?? describeKey(key));
	}

	/** The description of `key`, created from this response if it is new (types stay stable afterwards). */
	remember(key: string, response: AgentResponse): MetricDesc {
		let desc = this.descs.get(key);
		if (!desc) {
			desc = describeKey(key, response);
			this.descs.set(key, desc);
		}

		return desc;
	}

	/** One Sample for `keys` (values converted per their MetricDesc; errors per key). */
	async fetch(keys: readonly string[]): Promise<Sample> {
		const results = await this.getMany(keys);
		const timestamp = new Date();
		return {
			target: this.target,
			timestamp,
			metrics: results.map(result => {
				if (!result.ok) {
					return {name: result.key, result: {status: 'error', code: zbxRequestFailedCode, message: result.error.message}};
				}

				return {name: result.key, result: toMetricValues(this.remember(result.key, result.reply.response), result.reply.response)};
			}),
		};
	}
}

/** One passive check on a new connection (zabbix_get's whole job). */
export async function zabbixGet(options: ZabbixEndpoint & {key: string}): Promise<ZabbixReply> {
	const agent = new ZabbixAgent(options);
	return agent.get(options.key);
}
