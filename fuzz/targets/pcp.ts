/**
 * PCP targets: every PDU decoder of source/protocols/pcp/pdu.ts (through decodePdu and each
 * decodeX called directly), and the stream framer of reader.ts, checked against a reference
 * framer over the whole input. Their documented refusal is PduError.
 */
import {PDU, PM_TYPE, pduTypeName} from '../../source/protocols/pcp/constants.js';
import {PduError} from '../../source/protocols/pcp/errors.js';
import * as pdu from '../../source/protocols/pcp/pdu.js';
import {DEFAULT_MAX_PDU_BYTES, PduReader} from '../../source/protocols/pcp/reader.js';
import {pcpPdus, pcpStreams} from '../corpus.js';
import type {Rng} from '../engine.js';
import type {Target, Verdict} from '../runner.js';
import {pcpFormat, pcpStreamFormat} from './formats.js';

type Options = pdu.DecodeResultOptions;

/** Each decoder by the PDU type it reads. */
const decoders = new Map<number, (buf: Buffer, options: Options) => unknown>([
	[PDU.ERROR, buf => buf.length === 20 ? pdu.decodeGreeting(buf) : pdu.decodeError(buf)],
	[PDU.CREDS, pdu.decodeCreds],
	[PDU.PMNS_TRAVERSE, pdu.decodeNameRequest],
	[PDU.PMNS_CHILD, pdu.decodeNameRequest],
	[PDU.PMNS_NAMES, pdu.decodeNames],
	[PDU.PMNS_IDS, pdu.decodeIds],
	[PDU.DESC_IDS, pdu.decodeDescIds],
	[PDU.DESC_REQ, pdu.decodeDescReq],
	[PDU.DESC, pdu.decodeDesc],
	[PDU.DESCS, pdu.decodeDescs],
	[PDU.INSTANCE_REQ, pdu.decodeInstanceReq],
	[PDU.INSTANCE, pdu.decodeInstance],
	[PDU.PROFILE, pdu.decodeProfile],
	[PDU.FETCH, pdu.decodeFetch],
	[PDU.HIGHRES_FETCH, pdu.decodeFetch],
	[PDU.RESULT, (buf, options) => pdu.decodeResult(buf, options)],
	[PDU.HIGHRES_RESULT, (buf, options) => pdu.decodeHighresResult(buf, options)],
	[PDU.TEXT_REQ, pdu.decodeTextReq],
	[PDU.TEXT, pdu.decodeText],
	[PDU.LABEL_REQ, pdu.decodeLabelReq],
	[PDU.LABEL, pdu.decodeLabel],
]);
const allDecoders = [...decoders.values()];

const typeChoices = [undefined, PM_TYPE.U32, PM_TYPE.FLOAT, PM_TYPE.I32, PM_TYPE.UNKNOWN];

function resultOptions(rng: Rng): Options {
	const type = rng.pick(typeChoices);
	return type === undefined ? {} : {typeOf: () => type};
}

/** Decode one PDU the way the client does, and use what the decoder returned. */
function decodeOne(buf: Buffer, rng: Rng): void {
	const options = resultOptions(rng);
	if (rng.oneIn(4)) {
		// The decoder of the header's type (or any decoder, for a type it does not expect).
		const type = buf.length >= 8 ? buf.readInt32BE(4) : -1;
		(decoders.get(type) ?? rng.pick(allDecoders))(buf, options);
		return;
	}

	const decoded = pdu.decodePdu(buf, options);
	if (decoded.kind === 'label') {
		for (const set of decoded.reply.sets) {
			pdu.labelPairs(set);
		}
	}

	pduTypeName(buf.length >= 8 ? buf.readInt32BE(4) : 0);
}

const isOwn = (error: unknown): boolean => error instanceof PduError;

export const pcpPduTarget: Target = {
	name: 'pcp-pdu',
	covers: 'source/protocols/pcp/pdu.ts (decodePdu and every decodeX)',
	corpus: pcpPdus,
	format: pcpFormat,
	run(input, _pieces, rng) {
		decodeOne(input, rng);
	},
	isOwn,
};

/** What a correct framer yields for the whole stream: PDUs by their len, the refusal, the rest. */
function referenceFrames(input: Buffer, max: number): {pdus: Buffer[]; refused: boolean; rest: number} {
	const pdus: Buffer[] = [];
	let at = 0;
	while (input.length - at >= 4) {
		const len = input.readInt32BE(at);
		if (len < 12 || len > max) {
			return {pdus, refused: true, rest: input.length - at};
		}

		if (input.length - at < len) {
			break;
		}

		pdus.push(input.subarray(at, at + len));
		at += len;
	}

	return {pdus, refused: false, rest: input.length - at};
}

/** Thrown when the framer's answer differs from the reference: a framing bug, not a refusal. */
class FramerMismatch extends Error {
	override name = 'FramerMismatch';
}

export const pcpReaderTarget: Target = {
	name: 'pcp-reader',
	covers: 'source/protocols/pcp/reader.ts (PduReader, chunked) + decodePdu',
	corpus: pcpStreams,
	format: pcpStreamFormat,
	run(input, pieces, rng): Verdict {
		const max = rng.pick([DEFAULT_MAX_PDU_BYTES, 65_536, 256, 12]);
		const reader = new PduReader({maxPduBytes: max});
		const got: Buffer[] = [];
		let refused = false;
		try {
			for (const piece of pieces) {
				reader.append(piece);
				for (let next = reader.next(); next !== undefined; next = reader.next()) {
					got.push(next);
				}
			}
		} catch (error) {
			if (!isOwn(error)) {
				throw error;
			}

			refused = true;
		}

		const reference = referenceFrames(input, max);
		if (refused !== reference.refused || got.length !== reference.pdus.length || got.some((b, i) => !b.equals(reference.pdus[i]!))) {
			throw new FramerMismatch(`reader gave ${got.length} PDUs${refused ? ' and refused' : ''}, reference ${reference.pdus.length}${reference.refused ? ' and refused' : ''}`);
		}

		if (!refused) {
			if (reader.buffered !== reference.rest || reader.partial !== (reference.rest > 0)) {
				throw new FramerMismatch(`reader holds ${reader.buffered} bytes, reference ${reference.rest}`);
			}

			const rest = reader.drain();
			if (!rest.equals(input.subarray(input.length - reference.rest))) {
				throw new FramerMismatch('drain() returned other bytes than the unread rest');
			}
		}

		let own = refused;
		for (const one of got) {
			try {
				decodeOne(one, rng);
			} catch (error) {
				if (!isOwn(error)) {
					throw error;
				}

				own = true;
			}
		}

		return own ? 'own' : 'ok';
	},
	isOwn,
};
