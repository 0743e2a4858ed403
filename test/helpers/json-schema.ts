/**
 * A small JSON Schema (draft 2020-12) validator for the subset docs/schema/*.json uses: type (a
 * name or a list), const, enum, required, properties, additionalProperties (false or a schema),
 * items, oneOf, anyOf, minimum, pattern (ECMAScript, `u` flag), $ref (`#/$defs/NAME`, `FILE.json` and `FILE.json#/$defs/NAME`,
 * files beside the schema) and $defs. Annotations ($schema, $id, title, description, $comment,
 * examples) are ignored; any other keyword is an error, so a schema never silently uses more
 * than this checks. Written for the tests (no runtime dependency, package.json has no validator).
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export type Schema = boolean | Record<string, unknown>;

/** docs/schema/ in this repository. */
export const schemaDir = fileURLToPath(new URL('../../docs/schema/', import.meta.url));

const annotations = new Set(['$schema', '$id', 'title', 'description', '$comment', 'examples', '$defs']);
const checked = new Set(['type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'oneOf', 'anyOf', 'minimum', 'pattern', '$ref']);

type Document = {file: string; root: Schema};

const loaded = new Map<string, Schema>();

function loadFile(file: string): Schema {
	let schema = loaded.get(file);
	if (schema === undefined) {
		schema = JSON.parse(readFileSync(file, 'utf8')) as Schema;
		loaded.set(file, schema);
	}

	return schema;
}

function typeOf(value: unknown): string {
	if (value === null) {
		return 'null';
	}

	if (Array.isArray(value)) {
		return 'array';
	}

	return typeof value;
}

function hasType(value: unknown, type: string): boolean {
	switch (type) {
		case 'integer': {
			return typeof value === 'number' && Number.isInteger(value);
		}

		case 'number': {
			return typeof value === 'number' && Number.isFinite(value);
		}

		case 'null':
		case 'array':
		case 'object':
		case 'string':
		case 'boolean': {
			return typeOf(value) === type;
		}

		default: {
			throw new Error(`unsupported type ${JSON.stringify(type)}`);
		}
	}
}

function deepEqual(a: unknown, b: unknown): boolean {
	return JSON.stringify(a) === JSON.stringify(b);
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeOf(value) === 'object';
}

function resolve(reference: string, document: Document): {schema: Schema; document: Document} {
	const [filePart, pointer = ''] = reference.split('#');
	const next = filePart ? {file: path.join(path.dirname(document.file), filePart), root: loadFile(path.join(path.dirname(document.file), filePart))} : document;
	if (pointer === '') {
		return {schema: next.root, document: next};
	}

	const match = /^\/\$defs\/([\w\-]+)$/v.exec(pointer);
	const defs = isObject(next.root) ? next.root['$defs'] : undefined;
	const schema = match && isObject(defs) ? defs[match[1]!] : undefined;
	if (schema === undefined) {
		throw new Error(`unresolved $ref ${reference} in ${document.file}`);
	}

	return {schema: schema as Schema, document: next};
}

function check(value: unknown, schema: Schema, document: Document, at: string, errors: string[]): void {
	if (schema === true) {
		return;
	}

	if (schema === false) {
		errors.push(`${at}: not allowed`);
		return;
	}

	for (const keyword of Object.keys(schema)) {
		if (!annotations.has(keyword) && !checked.has(keyword)) {
			throw new Error(`${document.file}: unsupported keyword ${keyword} at ${at}`);
		}
	}

	if (typeof schema['$ref'] === 'string') {
		const target = resolve(schema['$ref'], document);
		check(value, target.schema, target.document, at, errors);
	}

	if (schema['type'] !== undefined) {
		const types = Array.isArray(schema['type']) ? schema['type'] as string[] : [schema['type'] as string];
		if (!types.some(type => hasType(value, type))) {
			errors.push(`${at}: ${JSON.stringify(value)} is not of type ${types.join(' | ')}`);
			return;
		}
	}

	if ('const' in schema && !deepEqual(value, schema['const'])) {
		errors.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema['const'])}`);
	}

	if (Array.isArray(schema['enum']) && !schema['enum'].some(option => deepEqual(value, option))) {
		errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
	}

	if (typeof schema['minimum'] === 'number' && typeof value === 'number' && value < schema['minimum']) {
		errors.push(`${at}: ${value} is less than ${schema['minimum']}`);
	}

	if (typeof schema['pattern'] === 'string' && typeof value === 'string' && !new RegExp(schema['pattern'], 'u').test(value)) {
		errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema['pattern']}`);
	}

	if (isObject(value)) {
		for (const name of (schema['required'] as string[] | undefined) ?? []) {
			if (!(name in value)) {
				errors.push(`${at}: "${name}" is required`);
			}
		}

		const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
		for (const [name, item] of Object.entries(value)) {
			if (name in properties) {
				check(item, properties[name]!, document, `${at}.${name}`, errors);
			} else if (schema['additionalProperties'] !== undefined) {
				check(item, schema['additionalProperties'] as Schema, document, `${at}.${name}`, errors);
			}
		}
	}

	if (Array.isArray(value) && schema['items'] !== undefined) {
		for (const [index, item] of value.entries()) {
			check(item, schema['items'] as Schema, document, `${at}[${index}]`, errors);
		}
	}

	if (Array.isArray(schema['oneOf'])) {
		const passing = (schema['oneOf'] as Schema[]).filter(option => validate(value, option, document).length === 0).length;
		if (passing !== 1) {
			errors.push(`${at}: matches ${passing} of the oneOf schemas, not exactly one`);
		}
	}

	if (Array.isArray(schema['anyOf']) && !(schema['anyOf'] as Schema[]).some(option => validate(value, option, document).length === 0)) {
		errors.push(`${at}: matches none of the anyOf schemas`);
	}
}

function validate(value: unknown, schema: Schema, document: Document): string[] {
	const errors: string[] = [];
	check(value, schema, document, '$', errors);
	return errors;
}

/** The problems of `value` against the schema file `name` in docs/schema/ (empty: valid). */
export function validateAgainst(value: unknown, name: string): string[] {
	const file = path.join(schemaDir, name);
	return validate(value, loadFile(file), {file, root: loadFile(file)});
}

/** Validates `value` against an in-memory schema (the validator's own tests); $ref to files resolves in docs/schema/. */
export function validateWith(value: unknown, schema: Schema): string[] {
	const file = path.join(schemaDir, '(inline)');
	return validate(value, schema, {file, root: schema});
}
