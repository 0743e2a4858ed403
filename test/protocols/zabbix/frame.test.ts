import {deflateSync} from 'node:zlib';
import {describe, expect, it} from 'vitest';
import {
	decodeFrame, encodeFrame, encodeRequest, FrameDecoder, formatLikeZabbixGet, parseResponse,
} from '../../../source/protocols/zabbix/frame.js';
import {SecmonError} from '../../../source/errors.js';

const hex = (text: string) => Buffer.from(text.replaceAll(/\s+/g, ''), 'hex');

// docs/zabbix.md#requests-and-responses: real exchanges with Debian zabbix_agentd 6.0.14.
const pingRequest = hex('5a 42 58 44 01 0a 00 00 00 00 00 00 00 61 67 65 6e 74 2e 70 69 6e 67');
const pingResponse = hex('5a 42 58 44 01 01 00 00 00 00 00 00 00 31');
const compressedVersionRequest = hex('5a 42 58 44 03 15 00 00 00 0d 00 00 00 78 9c 4b 4c 4f cd 2b d1 2b 4b 2d 2a ce cc cf 03 00 24 1a 05 44');
const versionResponse = hex('5a 42 58 44 01 06 00 00 00 00 00 00 00 36 2e 30 2e 31 34');
const unknownKeyResponse = hex(`5a 42 58 44 01 26 00 00 00 00 00 00 00 5a 42 58 5f 4e 4f 54 53 55 50 50 4f 52 54 45 44 00
	55 6e 73 75 70 70 6f 72 74 65 64 20 69 74 65 6d 20 6b 65 79 2e`);

function errorOf(action: () => unknown): SecmonError {
	try {
		action();
	} catch (error) {
		expect(error).toBeInstanceOf(SecmonError);
		return error as SecmonError;
	}

	throw new Error('expected an error');
}

describe('encodeRequest', () => {
	it('produces exactly the bytes zabbix_get sends', () => {
		expect(encodeRequest('agent.ping')).toEqual(pingRequest);
	});

	it('compresses with the uncompressed length in reserved, and the agent-accepted bytes decode back', () => {
		const frame = encodeRequest('agent.version', {compress: true});
		expect(frame.subarray(0, 13)).toEqual(compressedVersionRequest.subarray(0, 13));
		expect(decodeFrame(frame).data.toString()).toBe('agent.version');
		expect(decodeFrame(compressedVersionRequest).data.toString()).toBe('agent.version');
	});

	it('encodes UTF-8 keys by byte length', () => {
		const frame = encodeRequest('vfs.file.exists[/tmp/é]');
		expect(frame.readUInt32LE(5)).toBe(Buffer.byteLength('vfs.file.exists[/tmp/é]'));
	});
});

describe('FrameDecoder', () => {
	it('decodes the real agent responses', () => {
		expect(decodeFrame(pingResponse).data.toString()).toBe('1');
		expect(decodeFrame(versionResponse).data.toString()).toBe('6.0.14');
		expect(parseResponse(decodeFrame(unknownKeyResponse).data)).toEqual({kind: 'notsupported', reason: 'Unsupported item key.'});
	});

	it('accepts the response one byte at a time', () => {
		const decoder = new FrameDecoder();
		let frame;
		for (const byte of versionResponse) {
			expect(frame).toBeUndefined();
			frame = decoder.push(Buffer.from([byte]));
		}

		expect(frame?.data.toString()).toBe('6.0.14');
		expect(frame?.wireBytes).toBe(versionResponse.length);
	});

	it('inflates compressed (0x02) responses', () => {
		const value = 'x'.repeat(100_000);
		const frame = encodeFrame(Buffer.from(value), {compress: true});
		expect(frame[4]).toBe(0x03);
		expect(frame.length).toBeLessThan(1000);
		expect(decodeFrame(frame).data.toString()).toBe(value);
	});

	it('ignores reserved when 0x02 is not set (zabbix_agent2 puts the length there)', () => {
		// docs/zabbix.md#frame: agent2 answers "1" as 01 01000000 01000000 31
		expect(decodeFrame(hex('5a42584401 01000000 01000000 31')).data.toString()).toBe('1');
	});

	it('decodes large (0x04) frames with 64-bit lengths, plain and compressed', () => {
		const value = Buffer.alloc(300_000, 'v');
		const large = encodeFrame(value, {large: true});
		expect(large[4]).toBe(0x05);
		expect(large.readBigUInt64LE(5)).toBe(300_000n);
		expect(decodeFrame(large).data).toEqual(value);

		const both = encodeFrame(value, {large: true, compress: true});
		expect(both[4]).toBe(0x07);
		expect(both.readBigUInt64LE(13)).toBe(300_000n);
		const decoder = new FrameDecoder();
		expect(decoder.push(both.subarray(0, 10))).toBeUndefined();
		expect(decoder.push(both.subarray(10))?.data).toEqual(value);
	});

	it('rejects a bad magic as soon as it arrives', () => {
		const decoder = new FrameDecoder();
		const error = errorOf(() => decoder.push(Buffer.from('HTTP/1.1 400')));
		expect(error.code).toBe('PROTOCOL');
		expect(error.message).toContain('does not start with "ZBXD"');
		expect(errorOf(() => new FrameDecoder().push(Buffer.from('ZX'))).message).toContain('"ZX"');
		expect(errorOf(() => new FrameDecoder().push(Buffer.from('ZBXX'))).message).toContain('ZBXX');
	});

	it('waits for more when only a prefix of the magic has arrived', () => {
		expect(new FrameDecoder().push(Buffer.from('ZB'))).toBeUndefined();
	});

	it.each([0x00, 0x02, 0x08, 0x11, 0x81])('rejects flags 0x%s', flags => {
		const frame = Buffer.from(pingResponse);
		frame[4] = flags;
		expect(errorOf(() => decodeFrame(frame)).message).toMatch(/Unsupported ZBXD flags/);
	});

	it('rejects a declared length over the limit before reading the body', () => {
		const header = hex('5a42584401 01000040 00000000'); // 0x40000001
		const error = errorOf(() => new FrameDecoder().push(header));
		expect(error.message).toContain('1073741825 bytes');
		const small = errorOf(() => new FrameDecoder({maxBytes: 5}).push(versionResponse));
		expect(small.message).toContain('over 5 bytes; secmon stops there');
		const large = Buffer.alloc(21);
		large.write('ZBXD');
		large[4] = 0x05;
		large.writeBigUInt64LE(2n ** 40n, 5);
		expect(errorOf(() => new FrameDecoder().push(large)).message).toContain(`${2 ** 40} bytes`);
	});

	it('rejects a compressed frame whose uncompressed size is over the limit (zip bomb)', () => {
		const frame = encodeFrame(Buffer.alloc(1_000_000), {compress: true});
		expect(errorOf(() => decodeFrame(frame, {maxBytes: 100_000})).message).toContain('uncompressed length of 1000000');
		// A lying header (small declared size, big content) is stopped by maxOutputLength.
		const liar = Buffer.from(frame);
		liar.writeUInt32LE(10, 9);
		expect(errorOf(() => decodeFrame(liar, {maxBytes: 100_000})).message).toMatch(/could not be inflated|inflated to/);
	});

	it('rejects a compressed body that does not inflate to the declared length', () => {
		const body = deflateSync(Buffer.from('hello'));
		const frame = Buffer.concat([hex('5a42584403'), Buffer.alloc(8), body]);
		frame.writeUInt32LE(body.length, 5);
		frame.writeUInt32LE(6, 9);
		expect(errorOf(() => decodeFrame(frame)).message).toContain('inflated to 5 bytes, but its header declared 6');
		const garbage = Buffer.concat([hex('5a42584403 03000000 05000000'), Buffer.from('abc')]);
		expect(errorOf(() => decodeFrame(garbage)).message).toContain('could not be inflated');
	});

	it('rejects extra bytes after the declared length, in the same chunk or later', () => {
		expect(errorOf(() => decodeFrame(Buffer.concat([pingResponse, Buffer.from('2')]))).message).toContain('1 bytes more');
		const decoder = new FrameDecoder();
		expect(decoder.push(pingResponse)).toBeDefined();
		expect(errorOf(() => decoder.push(Buffer.from('xx'))).message).toContain('after its complete response');
	});

	it('reports truncation in the header, in the body, and a silent close', () => {
		const inHeader = new FrameDecoder();
		inHeader.push(versionResponse.subarray(0, 7));
		expect(errorOf(() => inHeader.end()).message).toContain('in the middle of the ZBXD header');

		const inBody = new FrameDecoder();
		inBody.push(versionResponse.subarray(0, 15));
		expect(errorOf(() => inBody.end()).message).toContain('after 2 of 6 data bytes');

		const silent = errorOf(() => new FrameDecoder().end());
		expect(silent.code).toBe('PEER_ERROR');
		expect(silent.message).toContain('without answering');
	});
});

describe('parseResponse and formatLikeZabbixGet', () => {
	it('splits ZBX_NOTSUPPORTED\\0reason', () => {
		const body = Buffer.from('ZBX_NOTSUPPORTED\0Invalid first parameter.');
		expect(parseResponse(body)).toEqual({kind: 'notsupported', reason: 'Invalid first parameter.'});
		expect(formatLikeZabbixGet(body)).toBe('ZBX_NOTSUPPORTED: Invalid first parameter.');
	});

	it('treats a bare ZBX_NOTSUPPORTED as unsupported without reason, printed as is', () => {
		for (const text of ['ZBX_NOTSUPPORTED', 'ZBX_NOTSUPPORTED\0']) {
			expect(parseResponse(Buffer.from(text))).toEqual({kind: 'notsupported', reason: ''});
			expect(formatLikeZabbixGet(Buffer.from(text))).toBe('ZBX_NOTSUPPORTED');
		}
	});

	it('does not mistake a value that merely starts with the marker', () => {
		expect(parseResponse(Buffer.from('ZBX_NOTSUPPORTEDX'))).toEqual({kind: 'value', value: 'ZBX_NOTSUPPORTEDX'});
	});

	it('prints values like zabbix_get: up to the first NUL, trailing CR/LF trimmed', () => {
		expect(formatLikeZabbixGet(Buffer.from('0.98\r\n'))).toBe('0.98');
		expect(formatLikeZabbixGet(Buffer.from('a\0b'))).toBe('a');
		expect(formatLikeZabbixGet(Buffer.from('line1\nline2\n'))).toBe('line1\nline2');
		expect(formatLikeZabbixGet(Buffer.from(''))).toBe('');
	});
});
