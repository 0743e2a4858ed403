/**
 * The Zabbix 7 JSON passive check (docs/zabbix.md#zabbix-7-json-checks), pure bytes ↔ objects.
 *
 *   request  {"request":"passive checks","data":[{"key":"agent.ping","timeout":3}]}
 *   answer   {"version":"7.0.0","variant":1,"data":[{"value":"1"}]}   or  …"data":[{"error":"…"}]
 *            or a top-level {"version":…,"error":"…"}
 *
 * Both travel in the usual ZBXD frame (frame.ts). An answer that is not a JSON object is what a
 * pre-7 agent sends (it took the JSON as an unknown key): `plaintext`, and the caller may resend
 * the plain key (zabbix_get 7's `-P auto`, src/libs/zbxagentget/agentget.c). Anything else that
 * is not the answer shape above is an error naming the agent: secmon sends one key per request,
 * so exactly one entry must come back.
 */
import {SecmonError} from '../../errors.js';

export const passiveChecksRequest = 'passive checks';
/** Longest `version` string accepted (Zabbix's are like "7.0.13"; agent2 adds nothing longer). */
const maxVersionChars = 64;

/** The request body for one key; `timeoutSeconds` is zabbix_get's -t (zbx_agent_prepare_request()). */
export function encodeJsonRequest(key: string, timeoutSeconds: number): Buffer {
	return Buffer.from(JSON.stringify({request: passiveChecksRequest, data: [{key, timeout: timeoutSeconds}]}), 'utf8');
}

export type JsonAnswer
	= | {kind: 'plaintext'}
		| {kind: 'value'; value: string; version: string; variant?: number}
		/** `"value": null`: zabbix_get 7 prints "ZBX_NODATA: No value was received." */
		| {kind: 'nodata'; version: string; variant?: number}
		/** An entry's or the top-level `error`: zabbix_get 7 prints "ZBX_NOTSUPPORTED: <error>". */
		| {kind: 'error'; message: string; version: string; variant?: number};

function bad(agent: string, what: string): SecmonError {
	return new SecmonError('PROTOCOL', `The Zabbix agent ${agent} sent a malformed JSON passive-check answer: ${what}`, 'Try -P plaintext, and check that the port really is a Zabbix agent');
}

/** JSON scalars as Zabbix's zbx_json_value_by_name_dyn() gives them: strings as they are, numbers and booleans as their text. */
function scalarText(value: unknown): string | undefined {
	if (typeof value === 'string') {
		// Lone surrogates from \uD800-style escapes become U+FFFD through UTF-8, as zbx_replace_invalid_utf8() does for bad bytes.
		return /[\uD800-\uDFFF]/.test(value) ? Buffer.from(value, 'utf8').toString('utf8') : value;
	}

	if (typeof value === 'number' || typeof value === 'boolean') {
		return String(value);
	}

	return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes an answer body. `agent` ("host:port") names the peer in errors. The body size is
 * already bounded by the frame decoder (frame.ts, --max-bytes).
 */
export function decodeJsonAnswer(data: Uint8Array, agent: string): JsonAnswer {
	const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
	if (!/^[\t\n\r ]*{/.test(text)) {
		// zbx_json_open() fails: a pre-7 agent's answer (ZBX_NOTSUPPORTED\0… for the JSON "key").
		return {kind: 'plaintext'};
	}

	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (error) {
		throw bad(agent, `not valid JSON (${(error as Error).message})`);
	}

	if (!isRecord(parsed)) {
		throw bad(agent, 'not a JSON object');
	}

	if (typeof parsed['version'] !== 'string') {
		throw bad(agent, 'no "version" string');
	}

	const {version} = parsed;
	if (version.length > maxVersionChars || !/^[\w.+~-]*$/.test(version)) {
		throw bad(agent, `a "version" that is not a version (${JSON.stringify(version.slice(0, maxVersionChars))}${version.length > maxVersionChars ? '…' : ''})`);
	}

	let variant: number | undefined;
	if (parsed['variant'] !== undefined) {
		if (!Number.isSafeInteger(parsed['variant'])) {
			throw bad(agent, '"variant" is not an integer');
		}

		variant = parsed['variant'] as number;
	}

	const meta = variant === undefined ? {version} : {version, variant};
	if (parsed['error'] !== undefined) {
		const message = scalarText(parsed['error']);
		if (message === undefined) {
			throw bad(agent, '"error" is not a string');
		}

		return {kind: 'error', message, ...meta};
	}

	const entries = parsed['data'];
	if (!Array.isArray(entries)) {
		throw bad(agent, entries === undefined ? 'no "data" array' : '"data" is not an array');
	}

	if (entries.length !== 1) {
		throw bad(agent, `${entries.length} entries in "data" for one key`);
	}

	const entry: unknown = entries[0];
	if (!isRecord(entry)) {
		throw bad(agent, 'the "data" entry is not an object');
	}

	if (entry['error'] !== undefined) {
		const message = scalarText(entry['error']);
		if (message === undefined) {
			throw bad(agent, 'the entry\'s "error" is not a string');
		}

		return {kind: 'error', message, ...meta};
	}

	if (!('value' in entry)) {
		throw bad(agent, 'the entry has neither "value" nor "error"');
	}

	if (entry['value'] === null) {
		return {kind: 'nodata', ...meta};
	}

	const value = scalarText(entry['value']);
	if (value === undefined) {
		throw bad(agent, 'the entry\'s "value" is not a string, number or boolean');
	}

	return {kind: 'value', value, ...meta};
}

/** What zabbix_get 7 prints for a JSON answer (get_value(): C strings end at NUL; trailing CR/LF trimmed). */
export function formatJsonAnswerLikeZabbixGet(answer: Exclude<JsonAnswer, {kind: 'plaintext'}>): string {
	const cString = (text: string) => {
		const nul = text.indexOf('\0');
		return (nul === -1 ? text : text.slice(0, nul)).replace(/[\r\n]+$/, '');
	};

	switch (answer.kind) {
		case 'value': {
			return cString(answer.value);
		}

		case 'nodata': {
			return 'ZBX_NODATA: No value was received.';
		}

		case 'error': {
			return `ZBX_NOTSUPPORTED: ${cString(answer.message)}`;
		}
	}
}
