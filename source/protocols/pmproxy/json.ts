/**
 * A strict, bounded JSON parser for pmproxy's answers (docs/pmproxy.md#fetch). JSON.parse is not
 * enough here: pmproxy writes 64-bit counters as bare integers (`%U`, up to 2^64-1), which a
 * double cannot hold, and its fetch timestamp is `SECONDS.NANOSECONDS` with the nanoseconds not
 * zero-padded, so the number's text is needed, not its value. The parser also caps what a peer
 * can make it build: nesting depth, and the number of values in one document.
 */

/** A JSON number: its text as sent (for exact integers and pmproxy's timestamp) and its double. */
export class JsonNumber {
	readonly text: string;
	readonly value: number;

	constructor(text: string) {
		this.text = text;
		this.value = Number(text);
	}

	/** The exact integer (bigint), or undefined when the text is not an integer. */
	integer(): bigint | undefined {
		return /^-?\d+$/.test(this.text) ? BigInt(this.text) : undefined;
	}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | {[key: string]: JsonValue};

export type JsonLimits = {
	/** Deepest nesting of arrays and objects. pmproxy's deepest answer (labels in a metric) is 4. */
	maxDepth: number;
	/** Values (strings, numbers, …, containers) in one document. */
	maxValues: number;
};

export const defaultJsonLimits: JsonLimits = {maxDepth: 32, maxValues: 4_000_000};

export class JsonError extends Error {
	readonly offset: number;

	constructor(message: string, offset: number) {
		super(`${message} at offset ${offset}`);
		this.name = 'JsonError';
		this.offset = offset;
	}
}

const escapes: Record<string, string> = {
	'"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
};

const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseJson(text: string, limits: JsonLimits = defaultJsonLimits): JsonValue {
	let at = 0;
	let values = 0;

	const fail = (message: string): never => {
		throw new JsonError(message, at);
	};

	const space = () => {
		while (at < text.length) {
			const code = text.charCodeAt(at);
			if (code === 0x20 || code === 0x0A || code === 0x0D || code === 0x09) {
				at++;
			} else {
				break;
			}
		}
	};

	const count = () => {
		values++;
		if (values > limits.maxValues) {
			fail(`more than ${limits.maxValues} values`);
		}
	};

	const string = (): string => {
		// At the opening quote.
		at++;
		let out = '';
		let start = at;
		while (true) {
			if (at >= text.length) {
				fail('unterminated string');
			}

			const code = text.charCodeAt(at);
			if (code === 0x22) {
				out += text.slice(start, at);
				at++;
				return out;
			}

			if (code < 0x20) {
				fail('control character in a string');
			}

			if (code === 0x5C) {
				out += text.slice(start, at);
				const next = text[at + 1];
				if (next === 'u') {
					const hex = text.slice(at + 2, at + 6);
					if (!/^[\da-fA-F]{4}$/.test(hex)) {
						fail('bad \\u escape');
					}

					out += String.fromCharCode(Number.parseInt(hex, 16));
					at += 6;
				} else if (next !== undefined && next in escapes) {
					out += escapes[next];
					at += 2;
				} else {
					fail('bad escape');
				}

				start = at;
				continue;
			}

			at++;
		}
	};

	const value = (depth: number): JsonValue => {
		space();
		count();
		const char = text[at];
		switch (char) {
			case '{': {
				if (depth >= limits.maxDepth) {
					fail(`nesting deeper than ${limits.maxDepth}`);
				}

				at++;
				const object: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
				space();
				if (text[at] === '}') {
					at++;
					return object;
				}

				while (true) {
					space();
					if (text[at] !== '"') {
						fail('expected a member name');
					}

					const key = string();
					space();
					if (text[at] !== ':') {
						fail('expected ":"');
					}

					at++;
					object[key] = value(depth + 1);
					space();
					if (text[at] === ',') {
						at++;
						continue;
					}

					if (text[at] === '}') {
						at++;
						return object;
					}

					fail('expected "," or "}"');
				}
			}

			case '[': {
				if (depth >= limits.maxDepth) {
					fail(`nesting deeper than ${limits.maxDepth}`);
				}

				at++;
				const array: JsonValue[] = [];
				space();
				if (text[at] === ']') {
					at++;
					return array;
				}

				while (true) {
					array.push(value(depth + 1));
					space();
					if (text[at] === ',') {
						at++;
						continue;
					}

					if (text[at] === ']') {
						at++;
						return array;
					}

					fail('expected "," or "]"');
				}
			}

			case '"': {
				return string();
			}

			case 't': {
				if (text.startsWith('true', at)) {
					at += 4;
					return true;
				}

				break;
			}

			case 'f': {
				if (text.startsWith('false', at)) {
					at += 5;
					return false;
				}

				break;
			}

			case 'n': {
				if (text.startsWith('null', at)) {
					at += 4;
					return null;
				}

				break;
			}

			default: {
				numberPattern.lastIndex = at;
				const match = numberPattern.exec(text);
				if (match) {
					at += match[0].length;
					return new JsonNumber(match[0]);
				}
			}
		}

		return fail(at >= text.length ? 'unexpected end' : 'unexpected character');
	};

	const result = value(0);
	space();
	if (at !== text.length) {
		fail('text after the value');
	}

	return result;
}

/** The object's own members, or undefined when the value is not an object. */
export function asObject(value: JsonValue | undefined): Record<string, JsonValue> | undefined {
	return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber) ? value : undefined;
}
