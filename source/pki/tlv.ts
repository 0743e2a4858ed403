/**
 * A minimal DER TLV walker with no dependencies (so the Zabbix client can read certificate names
 * without loading node-forge). It reads headers only; values are sliced, never re-encoded, so a
 * signature is checked over the bytes as sent.
 */

/** One TLV of a DER buffer: where its header starts, where its content starts and ends. */
export type Tlv = {tag: number; start: number; contentStart: number; end: number};

/** Reads the TLV at `offset`; it must end within `limit` (its container, or the buffer). */
export function readTlv(der: Uint8Array, offset: number, limit: number = der.length): Tlv {
	if (offset + 2 > limit) {
		throw new Error('truncated DER');
	}

	const tag = der[offset]!;
	if ((tag & 0x1F) === 0x1F) {
		throw new Error('multi-byte DER tags are not supported');
	}

	let length = der[offset + 1]!;
	let contentStart = offset + 2;
	if (length & 0x80) {
		const count = length & 0x7F;
		if (count === 0 || count > 4 || contentStart + count > limit) {
			throw new Error('bad DER length');
		}

		length = 0;
		for (let i = 0; i < count; i++) {
			length = (length * 256) + der[contentStart + i]!;
		}

		contentStart += count;
	}

	const end = contentStart + length;
	if (end > limit) {
		throw new Error(limit < der.length ? 'DER element runs past its container' : 'truncated DER');
	}

	return {
		tag, start: offset, contentStart, end,
	};
}

/** The TLVs directly inside a constructed TLV. */
export function readChildren(der: Uint8Array, parent: Tlv): Tlv[] {
	const result: Tlv[] = [];
	let offset = parent.contentStart;
	while (offset < parent.end) {
		const child = readTlv(der, offset, parent.end);
		result.push(child);
		offset = child.end;
	}

	return result;
}

export function slice(der: Uint8Array, tlv: Tlv): Buffer {
	return Buffer.from(der.subarray(tlv.start, tlv.end));
}
