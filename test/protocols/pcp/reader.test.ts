import {describe, expect, test} from 'vitest';
import {PduError} from '../../../source/protocols/pcp/errors.js';
import {PduReader} from '../../../source/protocols/pcp/reader.js';
import {captured} from './fixtures/captures.js';

/** Every server PDU of every capture, back to back: includes the unpadded LABELs (159 and 69 bytes). */
const pdus = captured.filter(p => p.dir === 'S>C').map(p => Buffer.from(p.hex, 'hex'));
const stream = Buffer.concat(pdus);

function splitAt(buf: Buffer, sizes: () => number): Buffer[] {
	const out: Buffer[] = [];
	for (let at = 0; at < buf.length;) {
		const n = Math.max(1, sizes());
		out.push(buf.subarray(at, at + n));
		at += n;
	}

	return out;
}

function feed(reader: PduReader, chunks: Buffer[]): Buffer[] {
	const out: Buffer[] = [];
	for (const chunk of chunks) {
		out.push(...reader.push(chunk));
	}

	return out;
}

const hex = (list: Buffer[]) => list.map(b => b.toString('hex'));

describe('PduReader', () => {
	test('the stream really holds unaligned PDUs', () => {
		expect(pdus.some(p => p.length % 4 !== 0)).toBe(true);
	});

	test('one chunk, byte by byte, and random splits give the same PDUs', () => {
		expect(hex(feed(new PduReader(), [stream]))).toEqual(hex(pdus));
		expect(hex(feed(new PduReader(), splitAt(stream, () => 1)))).toEqual(hex(pdus));
		let seed = 7;
		const random = () => {
			seed = ((seed * 1_103_515_245) + 12_345) & 0x7f_ff_ff_ff;
			return seed;
		};

		for (const max of [3, 13, 100, 5000, 70_000]) {
			const reader = new PduReader();
			expect(hex(feed(reader, splitAt(stream, () => random() % max)))).toEqual(hex(pdus));
			expect(reader.buffered).toBe(0);
			expect(reader.partial).toBe(false);
		}
	});

	test('next() returns undefined until a PDU is complete', () => {
		const reader = new PduReader();
		const first = pdus[0]!;
		reader.append(first.subarray(0, 3));
		expect(reader.next()).toBeUndefined();
		reader.append(first.subarray(3, -1));
		expect(reader.next()).toBeUndefined();
		expect(reader.partial).toBe(true);
		reader.append(first.subarray(-1));
		expect(reader.next()?.equals(first)).toBe(true);
		expect(reader.next()).toBeUndefined();
	});

	test('a PDU inside one chunk is a zero-copy slice', () => {
		const reader = new PduReader();
		const big = Buffer.alloc(100_000);
		big.writeInt32BE(50_000, 0);
		big.writeInt32BE(50_000, 50_000);
		const [a, b] = reader.push(big);
		expect(a?.buffer).toBe(big.buffer);
		expect(b?.buffer).toBe(big.buffer);
	});

	test('a header announcing more than the limit, or less than 12, fails at once', () => {
		const reader = new PduReader({maxPduBytes: 1024});
		const header = Buffer.alloc(8);
		header.writeInt32BE(0x7f_ff_ff_ff, 0);
		header.writeInt32BE(0x70_15, 4);
		expect(() => reader.push(header)).toThrow(PduError);
		expect(() => reader.push(header)).toThrow(/HIGHRES_RESULT PDU header announces len 2147483647, more than the 1024-byte limit/v);
		// Only the 4 length bytes are needed to refuse.
		const tiny = new PduReader();
		expect(() => tiny.push(Buffer.from([0x80, 0, 0, 0]))).toThrow(/less than the 12-byte header/v);
		expect(() => new PduReader().push(Buffer.from([0, 0, 0, 11]))).toThrow(PduError);
		expect(() => new PduReader({maxPduBytes: 4})).toThrow(RangeError);
	});

	test('PDUs before a bad header are delivered by next() before it throws', () => {
		const reader = new PduReader();
		const bad = Buffer.alloc(12);
		bad.writeInt32BE(3, 0);
		reader.append(Buffer.concat([pdus[0]!, pdus[1]!, bad]));
		expect(reader.next()?.equals(pdus[0]!)).toBe(true);
		expect(reader.next()?.equals(pdus[1]!)).toBe(true);
		expect(() => reader.next()).toThrow(PduError);
		expect(() => reader.next()).toThrow(PduError);
	});

	test('drain() hands over whatever is buffered', () => {
		const reader = new PduReader();
		reader.append(Buffer.from('abc'));
		reader.append(Buffer.from('def'));
		expect(reader.drain().toString()).toBe('abcdef');
		expect(reader.buffered).toBe(0);
	});

	test('large PDUs in tiny or big chunks stay linear', () => {
		const size = 8 * 1024 * 1024;
		const pdu = Buffer.alloc(size, 0x5a);
		pdu.writeInt32BE(size, 0);
		const two = Buffer.concat([pdu, pdu]);

		let started = performance.now();
		const reader = new PduReader();
		let got: Buffer[] = [];
		for (let at = 0; at < two.length; at += 1460) {
			got.push(...reader.push(two.subarray(at, at + 1460)));
		}

		expect(got.map(b => b.length)).toEqual([size, size]);
		expect(got[1]?.equals(pdu)).toBe(true);
		expect(performance.now() - started).toBeLessThan(3000);

		// 1-byte chunks for 256 KiB: gathered in the staging buffer, not kept as 262144 Buffers.
		const small = pdu.subarray(0, 256 * 1024);
		small.writeInt32BE(small.length, 0);
		started = performance.now();
		const trickle = new PduReader();
		got = [];
		for (let at = 0; at < small.length; at++) {
			got.push(...trickle.push(small.subarray(at, at + 1)));
		}

		expect(got).toHaveLength(1);
		expect(got[0]?.equals(small)).toBe(true);
		expect(performance.now() - started).toBeLessThan(3000);
	});
});
