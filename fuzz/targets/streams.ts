/**
 * Livestatus and mon targets: the real clients (source/protocols/livestatus/client.ts and
 * mon/client.ts over shared/stream-reader.ts) on an in-memory stream that answers the first write
 * with the input in random pieces, one per event-loop turn, and then ends; then the row and
 * opstatus parsers. Their documented refusal is SecmonError; a TIMEOUT means the client kept
 * waiting after the stream had ended, which is a hang.
 */
import {Duplex} from 'node:stream';
import {SecmonError} from '../../source/errors.js';
import {LivestatusClient} from '../../source/protocols/livestatus/client.js';
import {buildQuery, parseFixed16} from '../../source/protocols/livestatus/protocol.js';
import {rowObject, statusObject} from '../../source/protocols/livestatus/source.js';
import {MonClient} from '../../source/protocols/mon/client.js';
import {parseOpstatusLine, parseStatusLine} from '../../source/protocols/mon/protocol.js';
import {parseOpstatus} from '../../source/protocols/mon/source.js';
import {MetricTree, sampleOf} from '../../source/protocols/shared/checks.js';
import {
	livestatusAnswers, livestatusTokens, monReplies, monTokens,
} from '../corpus.js';
import type {Target} from '../runner.js';
import {livestatusFormat, textFormat} from './formats.js';

/** A peer that answers the first request with `pieces` and then closes its side. */
function answering(pieces: readonly Buffer[]): Duplex {
	let answered = false;
	const stream: Duplex = new Duplex({
		read() {
			// Pushed from write().
		},
		write(_chunk, _encoding, callback) {
			callback();
			if (answered) {
				return;
			}

			answered = true;
			let i = 0;
			const next = () => {
				if (stream.destroyed) {
					return;
				}

				if (i < pieces.length) {
					stream.push(pieces[i++]);
					setImmediate(next);
				} else {
					stream.push(null);
				}
			};

			setImmediate(next);
		},
	});
	return stream;
}

/** What the sources do with a tree: every name, its descriptor, one sample. */
export function walkTree(tree: MetricTree): void {
	const {names} = tree.resolve([]);
	for (const name of names) {
		tree.desc(name);
	}

	sampleOf(tree, names, 'fuzz', new Date(0));
}

const target = {host: '127.0.0.1', port: 1};
const isOwn = (error: unknown): boolean => error instanceof SecmonError && error.code !== 'TIMEOUT';
const isHang = (error: unknown): boolean => error instanceof SecmonError && error.code === 'TIMEOUT';

export const livestatusTarget: Target = {
	name: 'livestatus',
	covers: 'source/protocols/livestatus/{client,reader,protocol}.ts (fixed16 answers, rows)',
	corpus: livestatusAnswers,
	format: livestatusFormat(livestatusTokens),
	async run(input, pieces, rng) {
		if (input.length >= 16) {
			try {
				parseFixed16(input.subarray(0, 16));
			} catch (error) {
				if (!isOwn(error)) {
					throw error;
				}
			}
		}

		const client = new LivestatusClient({
			open: async () => answering(pieces), target, where: 'fuzz', tls: false, clientCert: false, requestTimeoutMs: 10_000,
		});
		try {
			const status = rng.oneIn(3);
			const rows = await client.rows(buildQuery(status ? {table: 'status'} : {table: 'services', keepAlive: true}));
			const objects = status ? [statusObject(rows)] : rows.map(row => rowObject(rng.oneIn(2) ? 'service' : 'host', row));
			walkTree(new MetricTree(objects.filter(object => object !== undefined)));
		} finally {
			client.close();
		}
	},
	isOwn,
	isHang,
	slowMs: 100,
};

export const monTarget: Target = {
	name: 'mon',
	covers: 'source/protocols/mon/{client,protocol,source}.ts over shared/stream-reader.ts (lines)',
	corpus: monReplies,
	format: textFormat(monTokens),
	async run(input, pieces) {
		for (const line of input.toString('utf8').split('\n').slice(0, 64)) {
			if (!parseStatusLine(line)) {
				parseOpstatusLine(line);
			}
		}

		const client = new MonClient({
			open: async () => answering(pieces), target, where: 'fuzz', tls: false, clientCert: false, requestTimeoutMs: 10_000,
		});
		try {
			const lines = await client.lines('list opstatus');
			walkTree(new MetricTree(parseOpstatus(lines)));
		} finally {
			client.close();
		}
	},
	isOwn,
	isHang,
	slowMs: 100,
};
