/**
 * Zabbix item keys → the common metric model (docs/design.md#metric-model). A passive
 * check returns text only, so the type comes from the value (integer → i64, decimal → double,
 * anything else → string) unless the key is one of the well-known agent keys below, whose
 * semantics (counter vs instant) and units are known from the Zabbix documentation.
 */
import {
	noUnits, type MetricDesc, type MetricType, type MetricValues, type Semantics, type Units, type Value,
} from '../../metrics/model.js';
import type {AgentResponse} from './frame.js';

export type ParsedKey = {name: string; params: string[]};

/**
 * Splits `name[p1,"p,2",[a,b]]` into its name and top-level parameters (quotes removed, `\"`
 * unescaped as Zabbix does inside quoted parameters). Keys without brackets have no parameters.
 */
export function parseKey(key: string): ParsedKey {
	const open = key.indexOf('[');
	if (open === -1 || !key.endsWith(']')) {
		return {name: key, params: []};
	}

	const name = key.slice(0, open);
	const inner = key.slice(open + 1, -1);
	const params: string[] = [];
	let current = '';
	let quoted = false;
	let depth = 0;
	let wasQuoted = false;
	for (let index = 0; index < inner.length; index++) {
		const char = inner[index]!;
		if (quoted) {
			if (char === '\\' && inner[index + 1] === '"') {
				current += '"';
				index++;
			} else if (char === '"') {
				quoted = false;
			} else {
				current += char;
			}
		} else if (char === '"' && current.trim() === '' && depth === 0) {
			quoted = true;
			wasQuoted = true;
			current = '';
		} else if (char === '[') {
			depth++;
			current += char;
		} else if (char === ']') {
			depth--;
			current += char;
		} else if (wasQuoted && depth === 0 && char !== ',') {
			// Spaces after a closing quote are ignored by Zabbix (anything else would make the key invalid).
			continue;
		} else if (char === ',' && depth === 0) {
			params.push(wasQuoted ? current : current.trim());
			current = '';
			wasQuoted = false;
		} else {
			current += char;
		}
	}

	params.push(wasQuoted ? current : current.trim());
	return {name, params};
}

const bytes: Units = {...noUnits, dimSpace: 1};
const count: Units = {...noUnits, dimCount: 1};
const seconds: Units = {...noUnits, dimTime: 1, scaleTime: 3};

type Known = {type: MetricType; semantics: Semantics; units: Units; unitsText: string; oneline?: string};

const percent = (oneline: string): Known => ({
	type: 'double', semantics: 'instant', units: noUnits, unitsText: '%', oneline,
});

/** What the agent documentation says about a few common keys; undefined for the rest. */
export function knownKey(key: string): Known | undefined {
	const {name, params} = parseKey(key);
	const parameter = (index: number) => (params[index] ?? '').trim().toLowerCase();
	switch (name) {
		case 'net.if.in':
		case 'net.if.out':
		case 'net.if.total': {
			const mode = parameter(1) || 'bytes';
			const direction = name.slice('net.if.'.length);
			if (mode === 'bytes') {
				return {
					type: 'u64', semantics: 'counter', units: bytes, unitsText: 'byte', oneline: `network interface ${direction} bytes (cumulative)`,
				};
			}

			if (['packets', 'errors', 'dropped', 'overruns', 'frame', 'compressed', 'multicast'].includes(mode)) {
				return {
					type: 'u64', semantics: 'counter', units: count, unitsText: 'count', oneline: `network interface ${direction} ${mode} (cumulative)`,
				};
			}

			return undefined;
		}

		case 'system.cpu.switches':
		case 'system.cpu.intr': {
			return {
				type: 'u64', semantics: 'counter', units: count, unitsText: 'count', oneline: name === 'system.cpu.intr' ? 'device interrupts (cumulative)' : 'context switches (cumulative)',
			};
		}

		case 'system.cpu.util': {
			return percent('CPU utilisation in percent');
		}

		case 'system.cpu.load': {
			return {
				type: 'double', semantics: 'instant', units: noUnits, unitsText: '', oneline: 'CPU load average',
			};
		}

		case 'system.cpu.num': {
			return {
				type: 'i64', semantics: 'discrete', units: count, unitsText: 'count', oneline: 'number of CPUs',
			};
		}

		case 'system.uptime': {
			return {
				type: 'u64', semantics: 'instant', units: seconds, unitsText: 'sec', oneline: 'system uptime',
			};
		}

		case 'system.boottime': {
			return {
				type: 'u64', semantics: 'discrete', units: seconds, unitsText: 'sec', oneline: 'system boot time (UNIX time)',
			};
		}

		case 'vm.memory.size': {
			const mode = parameter(0) || 'total';
			if (mode === 'pavailable' || mode === 'pused') {
				return percent(`memory ${mode.slice(1)} in percent`);
			}

			return {
				type: 'u64', semantics: mode === 'total' ? 'discrete' : 'instant', units: bytes, unitsText: 'byte', oneline: `memory ${mode}`,
			};
		}

		case 'vfs.fs.size':
		case 'system.swap.size': {
			const mode = parameter(1) || (name === 'vfs.fs.size' ? 'total' : 'free');
			if (mode === 'pfree' || mode === 'pused') {
				return percent(`${name === 'vfs.fs.size' ? 'file system' : 'swap'} ${mode.slice(1)} in percent`);
			}

			return {
				type: 'u64', semantics: 'instant', units: bytes, unitsText: 'byte', oneline: `${name === 'vfs.fs.size' ? 'file system' : 'swap'} ${mode}`,
			};
		}

		case 'agent.ping': {
			return {
				type: 'i64', semantics: 'instant', units: noUnits, unitsText: '', oneline: 'agent availability (always 1)',
			};
		}

		case 'proc.num': {
			return {
				type: 'i64', semantics: 'instant', units: count, unitsText: 'count', oneline: 'number of processes',
			};
		}

		case 'agent.version':
		case 'agent.hostname':
		case 'system.hostname':
		case 'system.uname': {
			return {
				type: 'string', semantics: 'discrete', units: noUnits, unitsText: '',
			};
		}

		default: {
			return undefined;
		}
	}
}

const integerPattern = /^[-+]?\d+$/;
const decimalPattern = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/** The metric type a value's text suggests. */
export function inferType(text: string): MetricType {
	const trimmed = text.trim();
	if (integerPattern.test(trimmed)) {
		return 'i64';
	}

	if (decimalPattern.test(trimmed)) {
		return 'double';
	}

	return 'string';
}

/**
 * The MetricDesc for a key: from the known-key table, else from the first response (a numeric
 * value → instant number, anything else or no value yet → discrete string).
 */
export function describeKey(key: string, first?: AgentResponse): MetricDesc {
	const known = knownKey(key);
	if (known) {
		return {name: key, ...known};
	}

	const type = first?.kind === 'value' ? inferType(first.value) : 'string';
	return {
		name: key,
		type,
		semantics: type === 'string' ? 'discrete' : 'instant',
		units: noUnits,
		unitsText: '',
	};
}

/** Converts a response to the model according to the key's description. */
export function toMetricValues(desc: MetricDesc, response: AgentResponse): MetricValues {
	if (response.kind === 'notsupported') {
		return {status: 'error', code: zbxNotSupportedCode, message: response.reason ? `ZBX_NOTSUPPORTED: ${response.reason}` : 'ZBX_NOTSUPPORTED'};
	}

	const value = toValue(desc.type, response.value);
	if (value === undefined) {
		return {status: 'error', code: zbxBadValueCode, message: `expected a ${desc.type === 'double' ? 'number' : 'integer'} from ${desc.name}, got ${JSON.stringify(response.value.slice(0, 80))}`};
	}

	return {status: 'ok', values: [{value}]};
}

/** Error codes in MetricValues for Zabbix (PCP codes are negative errno-like numbers; these do not collide). */
export const zbxNotSupportedCode = -100_001;
export const zbxBadValueCode = -100_002;
export const zbxRequestFailedCode = -100_003;

function toValue(type: MetricType, text: string): Value | undefined {
	const trimmed = text.trim();
	switch (type) {
		case 'i64':
		case 'u64':
		case 'i32':
		case 'u32': {
			if (integerPattern.test(trimmed)) {
				return BigInt(trimmed.replace(/^\+/, ''));
			}

			// A key typed as integer that now reports a decimal: keep the number rather than fail.
			return decimalPattern.test(trimmed) ? Number(trimmed) : undefined;
		}

		case 'double':
		case 'float': {
			return decimalPattern.test(trimmed) ? Number(trimmed) : undefined;
		}

		default: {
			return text;
		}
	}
}
