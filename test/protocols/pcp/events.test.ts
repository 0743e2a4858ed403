import {describe, expect, test} from 'vitest';
import {PM_ERR, PM_TYPE} from '../../../source/protocols/pcp/constants.js';
import {eventFlagsText, PM_EVENT_FLAG, unpackEventRecords} from '../../../source/protocols/pcp/events.js';

/** Builds an event array after its value-block header, network order, as pmcd sends it. */
function eventArray(records: Array<{sec: number; frac: number; flags: number; nparams: number; params?: Buffer[]}>, highres = false): Uint8Array {
	const parts: Buffer[] = [];
	const count = Buffer.alloc(4);
	count.writeInt32BE(records.length);
	parts.push(count);
	for (const record of records) {
		const header = Buffer.alloc(highres ? 24 : 16);
		if (highres) {
			header.writeBigInt64BE(BigInt(record.sec), 0);
			header.writeBigInt64BE(BigInt(record.frac), 8);
		} else {
			header.writeInt32BE(record.sec, 0);
			header.writeInt32BE(record.frac, 4);
		}

		header.writeUInt32BE(record.flags >>> 0, header.length - 8);
		header.writeInt32BE(record.nparams, header.length - 4);
		parts.push(header, ...(record.params ?? []));
	}

	return new Uint8Array(Buffer.concat(parts));
}

function parameter(pmid: number, type: number, payload: Buffer): Buffer {
	const length = 4 + payload.length;
	const out = Buffer.alloc(4 + (Math.ceil(length / 4) * 4));
	out.writeUInt32BE(pmid, 0);
	out.writeUInt32BE(((type << 24) | length) >>> 0, 4);
	payload.copy(out, 8);
	return out;
}

const u32 = (n: number) => {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(n);
	return b;
};

const i64 = (n: bigint) => {
	const b = Buffer.alloc(8);
	b.writeBigInt64BE(n);
	return b;
};

describe('unpackEventRecords (pmUnpackEventRecords)', () => {
	test('parameters of every kind, flags and missed records as libpcp rewrites them', () => {
		const bytes = eventArray([
			{
				sec: 100, frac: 559_000, flags: PM_EVENT_FLAG.POINT, nparams: 3, params: [
					parameter(0x07_40_00_86, PM_TYPE.STRING, Buffer.from('fetch #1\0')),
					parameter(0x07_40_00_82, PM_TYPE.I64, i64(-3n)),
					parameter(0x07_40_00_81, PM_TYPE.U32, u32(15)),
				],
			},
			{
				sec: 101, frac: 0, flags: PM_EVENT_FLAG.MISSED, nparams: 7,
			},
			{
				sec: 102, frac: 0, flags: 0, nparams: 0,
			},
		]);
		const got = unpackEventRecords(bytes, false);
		expect(got).toEqual({
			records: [
				{
					sec: 100, fraction: 559_000, params: [
						{kind: 'flags', flags: 1},
						{
							kind: 'value', pmid: 0x07_40_00_86, type: PM_TYPE.STRING, value: 'fetch #1',
						},
						{
							kind: 'value', pmid: 0x07_40_00_82, type: PM_TYPE.I64, value: -3n,
						},
						{
							kind: 'value', pmid: 0x07_40_00_81, type: PM_TYPE.U32, value: 15,
						},
					],
				},
				{sec: 101, fraction: 0, params: [{kind: 'flags', flags: PM_EVENT_FLAG.MISSED}, {kind: 'missed', count: 7}]},
				{sec: 102, fraction: 0, params: []},
			],
		});
	});

	test('highres records carry 64-bit seconds and nanoseconds', () => {
		const got = unpackEventRecords(eventArray([{
			sec: 1_700_000_000, frac: 559_821_747, flags: 0, nparams: 0,
		}], true), true);
		expect(got).toEqual({records: [{sec: 1_700_000_000, fraction: 559_821_747, params: []}]});
	});

	test('hostile arrays are libpcp\'s errors, never reads past the value', () => {
		expect(unpackEventRecords(new Uint8Array(2), false)).toEqual({error: PM_ERR.TOOSMALL});
		expect(unpackEventRecords(eventArray([]).map((_, i) => (i === 0 ? 0xff : 0xff)), false)).toEqual({error: PM_ERR.TOOSMALL});
		// A count of two billion records with none there.
		const lying = eventArray([]);
		new DataView(lying.buffer).setInt32(0, 2_000_000_000);
		expect(unpackEventRecords(lying, false)).toEqual({error: PM_ERR.TOOBIG});
		// A parameter whose length runs past the end.
		const long = Buffer.from(eventArray([{
			sec: 1, frac: 0, flags: 0, nparams: 1, params: [parameter(1, PM_TYPE.STRING, Buffer.from('abc\0'))],
		}]));
		long.writeUInt32BE(((PM_TYPE.STRING << 24) | 4000) >>> 0, 4 + 16 + 4);
		expect(unpackEventRecords(new Uint8Array(long), false)).toEqual({error: PM_ERR.TOOBIG});
		// More parameters than bytes.
		expect(unpackEventRecords(eventArray([{
			sec: 1, frac: 0, flags: 0, nparams: 1_000_000,
		}]), false)).toEqual({error: PM_ERR.TOOBIG});
		// MISSED with another flag, and an event array nested as a parameter.
		expect(unpackEventRecords(eventArray([{
			sec: 1, frac: 0, flags: PM_EVENT_FLAG.MISSED | PM_EVENT_FLAG.POINT, nparams: 1,
		}]), false)).toEqual({error: PM_ERR.CONV});
		expect(unpackEventRecords(eventArray([{
			sec: 1, frac: 0, flags: 0, nparams: 1, params: [parameter(1, PM_TYPE.EVENT, u32(0))],
		}]), false)).toEqual({error: PM_ERR.TYPE});
	});
});

test('eventFlagsText (pmEventFlagsStr)', () => {
	expect(eventFlagsText(0x1a)).toBe('start,id,parent');
	expect(eventFlagsText(0x1)).toBe('point');
	expect(eventFlagsText(0x80_00_00_00)).toBe('missed');
	expect(eventFlagsText(0)).toBe('');
});
