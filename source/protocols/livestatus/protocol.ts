/**
 * Livestatus wire format (pure; docs/icinga-livestatus-mon.md#livestatus-protocol). A request is `GET table`, header lines, and an
 * empty line; with `ResponseHeader: fixed16` every answer starts with 16 bytes: a 3-digit code,
 * spaces, the body length right-aligned, and a newline ("200          34\n"), then exactly that
 * many bytes. Error bodies are text (Icinga appends a C++ stack trace: keep the first line).
 */
import {SecmonError} from '../../errors.js';

export const fixed16Length = 16;

export type Fixed16 = {code: number; length: number};

/** Parse the 16-byte header; throws PROTOCOL for anything else (wrong port, TLS mismatch, not Livestatus). */
export function parseFixed16(header: Buffer | string): Fixed16 {
	const text = typeof header === 'string' ? header : header.toString('latin1');
	const match = /^(\d{3}) +(\d+)\n$/.exec(text);
	if (text.length !== fixed16Length || !match) {
		throw new SecmonError(
			'PROTOCOL',
			`the answer does not start with a Livestatus fixed16 header (got ${JSON.stringify(text.slice(0, 16))})`,
			'Check that this port is Livestatus (Checkmk: 6557 with LIVESTATUS_TCP=on), behind TLS when secmon uses TLS',
		);
	}

	return {code: Number(match[1]), length: Number(match[2])};
}

/** The header as a server writes it (for tests and fixtures). */
export function formatFixed16(code: number, length: number): string {
	const head = String(code).padStart(3, '0');
	return `${head}${String(length).padStart(fixed16Length - 1 - head.length)}\n`;
}

export type Query = {
	table: string;
	columns?: readonly string[];
	/** Raw filter lines without the "Filter: " prefix, e.g. "host_name = web-01". */
	filters?: readonly string[];
	/** `Or: n` after the filters, when more than one is given and any one may match. */
	or?: boolean;
	keepAlive?: boolean;
	/** More header lines ("Limit: 10"). */
	headers?: readonly string[];
};

/** Livestatus has no quoting: a newline in a name would end the header line and start a new one. */
export function assertHeaderValue(value: string, what: string): void {
	if (/[\n\r]/.test(value)) {
		throw new SecmonError('USAGE', `${what} contains a line break, which Livestatus cannot quote`, 'Remove the line break from the name');
	}
}

/**
 * Build a GET. Icinga stops parsing headers at the first bad line (docs/icinga-livestatus-mon.md#livestatus-protocol: Icinga quirks), so
 * ResponseHeader, KeepAlive and OutputFormat come first, right after the GET line.
 */
export function buildQuery(query: Query): string {
	assertHeaderValue(query.table, 'the table name');
	if (!/^[a-z_]+$/.test(query.table)) {
		throw new SecmonError('USAGE', `invalid Livestatus table "${query.table}"`, 'Use a table such as hosts, services or status');
	}

	const lines = [`GET ${query.table}`, 'ResponseHeader: fixed16'];
	if (query.keepAlive) {
		lines.push('KeepAlive: on');
	}

	lines.push('OutputFormat: json');
	if (query.columns && query.columns.length > 0) {
		for (const column of query.columns) {
			if (!/^\w+$/.test(column)) {
				throw new SecmonError('USAGE', `invalid Livestatus column "${column}"`, 'Column names are letters, digits and "_"');
			}
		}

		lines.push(`Columns: ${query.columns.join(' ')}`);
	}

	for (const filter of query.filters ?? []) {
		assertHeaderValue(filter, 'a filter');
		lines.push(`Filter: ${filter}`);
	}

	if (query.or && (query.filters?.length ?? 0) > 1) {
		lines.push(`Or: ${query.filters!.length}`);
	}

	for (const header of query.headers ?? []) {
		assertHeaderValue(header, 'a header');
		lines.push(header);
	}

	return `${lines.join('\n')}\n\n`;
}

/**
 * A raw query typed by a user (`--query`): real newlines, or `\n` escapes when it has none (so
 * it fits on a shell line). `ResponseHeader: fixed16` is put right after the GET line and
 * `OutputFormat: json` added when absent. Only GET is sent: secmon reads, it never sends commands.
 */
export function prepareRawQuery(text: string, options: {keepAlive?: boolean} = {}): string {
	const source = text.includes('\n') ? text : text.replaceAll('\\n', '\n');
	const lines = source.split(/\r?\n/).map(line => line.trimEnd());
	while (lines.length > 0 && lines.at(-1) === '') {
		lines.pop();
	}

	if (lines.includes('')) {
		throw new SecmonError('USAGE', 'the query has an empty line in the middle', 'Send one query at a time: GET TABLE, then header lines (Columns:, Filter:, …), no empty line');
	}

	const first = lines[0] ?? '';
	if (!/^GET [a-z_]+$/.test(first)) {
		throw new SecmonError(
			'USAGE',
			/^COMMAND\b/.test(first) ? 'secmon does not send Livestatus commands' : `a Livestatus query starts with "GET TABLE", not ${JSON.stringify(first.slice(0, 40))}`,
			'Write e.g.: GET hosts\\nColumns: name state\\nFilter: state = 1',
		);
	}

	const rest = lines.slice(1).filter(line => !/^(?:responseheader|keepalive):/i.test(line));
	const format = rest.some(line => /^outputformat:/i.test(line)) ? [] : ['OutputFormat: json'];
	const formatLines = rest.filter(line => /^outputformat:/i.test(line));
	const others = rest.filter(line => !/^outputformat:/i.test(line));
	return [first, 'ResponseHeader: fixed16', ...(options.keepAlive ? ['KeepAlive: on'] : []), ...formatLines, ...format, ...others].join('\n') + '\n\n';
}

const codeMeaning: Record<number, {what: string; hint: string}> = {
	400: {what: 'bad request', hint: 'Check the request headers (Livestatus answered 400: invalid header or request line)'},
	403: {what: 'not authorized', hint: 'The AuthUser of the query may not see this data'},
	404: {what: 'table not found', hint: 'Use an existing table: hosts, services, status, hostgroups, servicegroups, …'},
	413: {what: 'request too large', hint: 'Shorten the query (fewer filters or columns)'},
	450: {what: 'unknown column', hint: 'Check the column names of the table (GET columns on Checkmk)'},
	451: {what: 'incomplete request', hint: 'And:/Or:/Negate: refer to more filters than the query has'},
	452: {what: 'invalid request', hint: 'Check the column names, filter operators and values'},
	502: {what: 'bad gateway', hint: 'The Livestatus proxy could not reach the site; check the site and its proxy'},
};

/** An error answer → SecmonError with the first line of the body and what to do. */
export function livestatusError(code: number, body: string, where: string): SecmonError {
	const first = body.split('\n').find(line => line.trim() !== '')?.trim() ?? '';
	const meaning = codeMeaning[code];
	return new SecmonError(
		'PEER_ERROR',
		`Livestatus at ${where} answered ${code}${meaning ? ` (${meaning.what})` : ''}${first ? `: ${first}` : ''}`,
		meaning?.hint ?? 'Check the query; Livestatus codes: 400 bad request, 404 no such table, 451/452 invalid request',
	);
}

/** JSON body → rows; throws PROTOCOL when it is not a list of lists. */
export function parseRows(body: string, where: string): unknown[][] {
	let parsed: unknown;
	try {
		parsed = JSON.parse(body);
	} catch {
		throw new SecmonError('PROTOCOL', `Livestatus at ${where} sent a body that is not JSON`, 'Check that the collector speaks Livestatus with OutputFormat json');
	}

	if (!Array.isArray(parsed) || !parsed.every(row => Array.isArray(row))) {
		throw new SecmonError('PROTOCOL', `Livestatus at ${where} sent JSON that is not a list of rows`, 'Check that the collector speaks Livestatus with OutputFormat json');
	}

	return parsed as unknown[][];
}
