/**
 * Where each wire format keeps its lengths, for the engine's length-field rewrites:
 * PCP (len at offset 0, big-endian 32-bit counts after the 12-byte header, libpcp pdu.c),
 * ZBXD (flags at 4, u32le/u64le lengths at 5 and 9/13, Zabbix src/libs/zbxcomms/comms.c),
 * Livestatus fixed16 ("200          34\n", livestatus/src/OutputBuffer.cc) and HTTP/1.1
 * (Content-Length and chunk sizes, RFC 9112 §6.3 and §7.1).
 */
import {formatFixed16} from '../../source/protocols/livestatus/protocol.js';
import {
	rewriteNumber, type Format, type LengthField, type Rng,
} from '../engine.js';

/** len at 0 and the aligned words after the header (counts, string lengths, offsets) of one PDU at `start`. */
function pcpFields(input: Buffer, start: number, out: LengthField[]): void {
	out.push({offset: start, size: 4, endian: 'be'});
	const len = input.length - start >= 4 ? input.readInt32BE(start) : 0;
	const end = Math.min(input.length, start + Math.max(len, 12), start + 12 + (4 * 32));
	for (let at = start + 12; at + 4 <= end; at += 4) {
		out.push({offset: at, size: 4, endian: 'be'});
	}
}

export const pcpFormat: Format = {
	lengthFields(input) {
		const out: LengthField[] = [];
		pcpFields(input, 0, out);
		return out;
	},
};

/** A stream of PDUs: the len field of every PDU the stream walks to, and their counts. */
export const pcpStreamFormat: Format = {
	lengthFields(input) {
		const out: LengthField[] = [];
		for (let at = 0; at + 12 <= input.length && out.length < 512;) {
			pcpFields(input, at, out);
			const len = input.readInt32BE(at);
			if (len < 12) {
				break;
			}

			at += len;
		}

		return out;
	},
};

export const zabbixFormat: Format = {
	lengthFields(input) {
		const flags = input[4] ?? 0;
		const fields: LengthField[] = [{offset: 4, size: 1, endian: 'le'}];
		return (flags & 0x04) === 0
			? [...fields, {offset: 5, size: 4, endian: 'le'}, {offset: 9, size: 4, endian: 'le'}]
			: [...fields, {offset: 5, size: 8, endian: 'le'}, {offset: 13, size: 8, endian: 'le'}];
	},
	rewriteText(input, rng) {
		// Switch between the 13- and 21-byte header forms, keeping the lengths.
		if (input.length < 13 || !rng.oneIn(4)) {
			return undefined;
		}

		const large = (input[4]! & 0x04) !== 0;
		if (large && input.length >= 21) {
			const header = Buffer.alloc(13);
			input.copy(header, 0, 0, 5);
			header[4] = input[4]! & ~0x04;
			header.writeUInt32LE(Number(input.readBigUInt64LE(5) & 0xff_ff_ff_ffn), 5);
			header.writeUInt32LE(Number(input.readBigUInt64LE(13) & 0xff_ff_ff_ffn), 9);
			return Buffer.concat([header, input.subarray(21)]);
		}

		const header = Buffer.alloc(21);
		input.copy(header, 0, 0, 5);
		header[4] = input[4]! | 0x04;
		header.writeBigUInt64LE(BigInt(input.readUInt32LE(5)), 5);
		header.writeBigUInt64LE(BigInt(input.readUInt32LE(9)), 13);
		return Buffer.concat([header, input.subarray(13)]);
	},
	tokens: ['ZBXD', 'ZBX_NOTSUPPORTED', '\0', 'x\u009C'],
};

export function livestatusFormat(tokens: readonly string[]): Format {
	return {
		rewriteText(input: Buffer, rng: Rng) {
			const head = /^(\d{3}) +(\d+)\n/.exec(input.toString('latin1', 0, Math.min(input.length, 40)));
			if (!head) {
				return undefined;
			}

			const body = input.subarray(head[0].length);
			const code = rng.oneIn(3) ? rng.pick([200, 400, 404, 452, 0, 999, 100]) : Number(head[1]);
			const length = rng.pick([body.length, body.length + 1, Math.max(0, body.length - 1), 0, 2 ** 28, 2 ** 28 + 1, 99_999_999_999, rng.int(body.length + 1)]);
			// Mostly a well-formed 16-byte header with another length; sometimes one that is not 16 bytes.
			const header = rng.oneIn(4) ? `${code} ${length}\n` : formatFixed16(code, length).slice(-16);
			return Buffer.concat([Buffer.from(header, 'latin1'), body]);
		},
		tokens,
	};
}

export function httpFormat(tokens: readonly string[]): Format {
	return {
		rewriteText(input: Buffer, rng: Rng) {
			return rng.oneIn(2)
				? rewriteNumber(input, rng, /content-length: *(\d+)/gi) ?? rewriteNumber(input, rng, /\r\n([\da-f]+)\r\n/gi, true)
				: rewriteNumber(input, rng, /\r\n([\da-f]+)\r\n/gi, true) ?? rewriteNumber(input, rng, /content-length: *(\d+)/gi);
		},
		tokens,
	};
}

export function textFormat(tokens: readonly string[]): Format {
	return {tokens};
}
