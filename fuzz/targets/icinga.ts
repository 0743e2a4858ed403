/**
 * Icinga targets. Perfdata: source/protocols/shared/perfdata.ts in its string, plugin-output
 * and JSON-array forms, then the leaves built from it; parsePerfdata never throws (bad items are
 * reported in `errors`, counted here as own errors). HTTP: IcingaHttp (source/protocols/icinga/
 * http.ts: node:http's parser with secmon's limits, JSON and event-stream bodies) against a
 * loopback server that answers each request with the input in random pieces and closes; then
 * the object and status parsers of source.ts. Its refusal is SecmonError; a TIMEOUT after the
 * server closed is a hang.
 */
import net from 'node:net';
import {SecmonError} from '../../source/errors.js';
import {MetricTree, perfLeaves} from '../../source/protocols/shared/checks.js';
import {IcingaHttp, icingaErrorText} from '../../source/protocols/icinga/http.js';
import {
	describeThresholds, parsePerfdata, perfMetricUnits, splitPluginOutput, type PerfParse,
} from '../../source/protocols/shared/perfdata.js';
import type {TlsConnector} from '../../source/security/tls-connector.js';
import {checkObject, statusObjects} from '../../source/protocols/icinga/source.js';
import {
	httpTokens, icingaResponses, perfdataStrings, perfdataTokens,
} from '../corpus.js';
import type {Target, Verdict} from '../runner.js';
import {httpFormat, textFormat} from './formats.js';
import {walkTree} from './streams.js';

function digestPerf(parsed: PerfParse): number {
	perfLeaves(parsed.values, 'fuzz');
	for (const value of parsed.values) {
		perfMetricUnits(value);
		describeThresholds(value);
	}

	return parsed.errors.length;
}

export const perfdataTarget: Target = {
	name: 'icinga-perfdata',
	covers: 'source/protocols/shared/perfdata.ts (+ perfLeaves)',
	corpus: perfdataStrings,
	format: textFormat(perfdataTokens),
	run(input): Verdict {
		const text = input.toString('utf8');
		let errors = digestPerf(parsePerfdata(text)) + digestPerf(parsePerfdata(splitPluginOutput(text).perfdata));
		if (text.startsWith('[')) {
			let array: unknown;
			try {
				array = JSON.parse(text);
			} catch {
				// Not JSON: the string forms above are all there is.
			}

			if (Array.isArray(array)) {
				errors += digestPerf(parsePerfdata(array));
			}
		}

		return errors > 0 ? 'own' : 'ok';
	},
	// parsePerfdata reports bad items in `errors` and never throws.
	isOwn: () => false,
};

/** The loopback peer: answers every request head with the current pieces, then closes. */
let server: net.Server | undefined;
let port = 0;
let current: readonly Buffer[] = [];
const sockets = new Set<net.Socket>();

function answer(socket: net.Socket, pieces: readonly Buffer[]): void {
	let i = 0;
	const next = () => {
		if (socket.destroyed) {
			return;
		}

		if (i < pieces.length) {
			socket.write(pieces[i++]!);
			setImmediate(next);
		} else {
			socket.end();
		}
	};

	next();
}

const connector = {
	options: {target: {host: '127.0.0.1', port: 0}},
	clientCert: false,
	async open() {
		return new Promise<net.Socket>((resolve, reject) => {
			const socket = net.connect(port, '127.0.0.1', () => {
				resolve(socket);
			});
			socket.once('error', reject);
		});
	},
} as unknown as TlsConnector;

/** Errors node:http or the socket reported are wrapped in SecmonError; a JavaScript error inside is a bug. */
function isOwnHttp(error: unknown): boolean {
	if (!(error instanceof SecmonError) || error.code === 'TIMEOUT') {
		return false;
	}

	const {cause} = error;
	return !(cause instanceof TypeError || cause instanceof RangeError || cause instanceof ReferenceError || cause instanceof SyntaxError);
}

const what = {action: 'list services', permission: 'objects/query/Service'};

function digestObjects(body: unknown): void {
	const objects = statusObjects(body);
	const results = typeof body === 'object' && body !== null && Array.isArray((body as {results?: unknown}).results) ? (body as {results: unknown[]}).results : [];
	for (const row of results) {
		if (typeof row === 'object' && row !== null) {
			const r = row as {name?: unknown; attrs?: Record<string, unknown>};
			if (typeof r.name === 'string') {
				const state = r.attrs?.['state'];
				objects.push(checkObject(r.name.includes('!') ? 'service' : 'host', r.name, typeof state === 'number' ? state : undefined, r.attrs?.['last_check_result']));
			}
		}
	}

	walkTree(new MetricTree(objects));
}

export const icingaHttpTarget: Target = {
	name: 'icinga-http',
	covers: 'source/protocols/icinga/http.ts over loopback TCP (JSON and event stream) + source.ts parsers',
	corpus: icingaResponses,
	format: httpFormat(httpTokens),
	async setup() {
		server = net.createServer(socket => {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => undefined);
			let head = '';
			const onData = (chunk: Buffer) => {
				head += chunk.toString('latin1');
				if (head.includes('\r\n\r\n')) {
					socket.off('data', onData);
					socket.resume();
					answer(socket, current);
				}
			};

			socket.on('data', onData);
		});
		await new Promise<void>(resolve => {
			server!.listen(0, '127.0.0.1', resolve);
		});
		port = (server.address() as net.AddressInfo).port;
	},
	async teardown() {
		for (const socket of sockets) {
			socket.destroy();
		}

		await new Promise<void>(resolve => {
			server?.close(() => {
				resolve();
			});
		});
		server = undefined;
	},
	async run(input, pieces, rng) {
		current = pieces;
		icingaErrorText(input.toString('utf8'));
		const http = new IcingaHttp({
			connector, where: 'fuzz', hostHeader: 'fuzz', auth: {}, requestTimeoutMs: 10_000,
		});
		try {
			if (rng.oneIn(4)) {
				// The event stream: one JSON object per line until the server closes.
				let ended: (error?: SecmonError) => void = () => undefined;
				const end = new Promise<SecmonError | undefined>(resolve => {
					ended = resolve;
				});
				const events: unknown[] = [];
				await http.stream('/v1/events', {types: ['CheckResult']}, what, event => events.push(event), ended);
				const error = await end;
				if (error) {
					throw error;
				}

				for (const event of events) {
					const e = event as {check_result?: unknown; host?: unknown};
					checkObject('host', typeof e.host === 'string' ? e.host : 'x', 0, e.check_result);
				}

				return;
			}

			digestObjects(await http.json('POST', '/v1/objects/services', {attrs: ['name', 'state', 'last_check_result']}, {...what, notFound: rng.oneIn(2) ? 'empty' : 'error'}));
		} finally {
			http.close();
		}
	},
	isOwn: isOwnHttp,
	isHang: error => error instanceof SecmonError && error.code === 'TIMEOUT',
	slowMs: 200,
	budgetShare: 0.1,
};
