/**
 * A Zabbix agent as the common MetricSource (metrics/source.ts): item keys are the metric names.
 */
import type {MetricDesc, Sample} from '../../metrics/model.js';
import {
	boundNames, type AgentFacts, type MetricSource, type NameError, type NameList,
} from '../../metrics/source.js';
import type {TlsFacts} from '../../security/types.js';
import {isZabbixError} from './errors.js';
import {zbxRequestFailedCode} from './keys.js';
import type {ZabbixAgent} from './pool.js';

/**
 * A Zabbix agent as a MetricSource: item keys are the metric names. `describe` asks the agent once
 * per new key (Zabbix has no metadata request) so that numeric keys get a numeric type; a key the
 * agent does not know ("Unsupported item key.") is an unknown name (metrics/source.ts unknownMetric);
 * a key whose request failed while others were answered carries zbxRequestFailedCode.
 */
export class ZabbixSource implements MetricSource {
	readonly agent: ZabbixAgent;
	readonly host: string;
	readonly port: number;
	readonly target: string;
	private described: string[] = [];

	constructor(agent: ZabbixAgent, display?: string) {
		this.agent = agent;
		this.host = agent.endpoint.host;
		this.port = agent.endpoint.port;
		this.target = display ?? agent.target;
	}

	get tls(): TlsFacts | undefined {
		const facts = this.agent.lastTls;
		if (!facts) {
			return undefined;
		}

		if (facts.kind === 'psk') {
			// The agent proved it holds the pre-arranged key; there is no certificate. The subject line names the identity.
			return {
				version: facts.version, cipher: facts.cipher, basis: 'psk', sha256: '', sha1: '', subject: `PSK identity ${facts.pskIdentity ?? ''}`, validTo: new Date(Number.NaN),
			};
		}

		return {
			version: facts.version,
			cipher: facts.cipher,
			basis: facts.basis === 'ca-file' || facts.basis === undefined ? 'ca' : facts.basis,
			sha256: facts.sha256 ?? '',
			sha1: '',
			subject: facts.subject ?? '',
			validTo: new Date(Number.NaN),
		};
	}

	/** How the agent answered the last request (--json's "agent"). */
	get answeredWith(): AgentFacts | undefined {
		return this.agent.lastAnswer;
	}

	async describe(names: string[]): Promise<{descs: MetricDesc[]; errors: NameError[]}> {
		const results = await this.agent.getMany(names);
		const firstAgentError = results.find(result => !result.ok && isZabbixError(result.error) && result.error.agentLevel);
		if (firstAgentError && !firstAgentError.ok && results.every(result => !result.ok)) {
			// Nothing answered: the connection itself failed (refused, TLS, timeout). That is not a per-name problem.
			throw firstAgentError.error;
		}

		const descs: MetricDesc[] = [];
		const errors: NameError[] = [];
		for (const result of results) {
			if (!result.ok) {
				errors.push({name: result.key, message: result.error.message, code: zbxRequestFailedCode});
				continue;
			}

			if (result.reply.response.kind === 'notsupported' && result.reply.response.reason === 'Unsupported item key.') {
				errors.push({name: result.key, message: `ZBX_NOTSUPPORTED: ${result.reply.response.reason}`});
				continue;
			}

			descs.push(this.agent.remember(result.key, result.reply.response));
		}

		this.described = [...new Set([...this.described, ...descs.map(desc => desc.name)])];
		return {descs, errors};
	}

	/** Only these keys are asked for from now on (metrics/source.ts). */
	retain(names: string[]): void {
		const keep = new Set(names);
		this.described = this.described.filter(name => keep.has(name));
	}

	async fetch(): Promise<Sample> {
		const sample = await this.agent.fetch(this.described);
		return {...sample, target: this.target};
	}

	/**
	 * A Zabbix agent has no request that lists its item keys (docs/zabbix.md#requests-and-responses): only the keys this
	 * run asked for, and the user types others.
	 */
	async listNames(): Promise<NameList> {
		return boundNames(
			this.described.map(name => ({name, path: [name]})),
			'a Zabbix agent cannot list its item keys: type a key (with its [parameters]) and press Enter',
		);
	}

	close(): void {
		// One connection per request: nothing stays open between fetches.
	}
}

