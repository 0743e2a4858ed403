import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {describe, expect, test} from 'vitest';
import {PM_ERR} from '../../../source/protocols/pcp/constants.js';
import {
	PcpError, PduError, fromPcp1Code, isPcpError, pmErrStr, pmErrSymbol, toPcp1Code,
} from '../../../source/protocols/pcp/errors.js';

const pmerr = ['/usr/bin/pmerr', '/usr/local/bin/pmerr'].find(file => existsSync(file));

describe('pmErrStr', () => {
	test('texts pminfo prints (docs/pcp.md#secure-modes, docs/pcp.md#error-codes)', () => {
		expect(pmErrStr(0)).toBe('No error');
		expect(pmErrStr(-111)).toBe('Connection refused');
		expect(pmErrStr(-95)).toBe('Operation not supported');
		expect(pmErrStr(-113)).toBe('No route to host');
		expect(pmErrStr(-110)).toBe('Connection timed out');
		expect(pmErrStr(-104)).toBe('Connection reset by peer');
		expect(pmErrStr(-1)).toBe('Operation not permitted');
		expect(pmErrStr(-2)).toBe('No such file or directory');
		expect(pmErrStr(-134)).toBe('Unknown error 134');
		expect(pmErrStr(PM_ERR.NAME)).toBe('Unknown metric name');
		expect(pmErrStr(PM_ERR.TIMEOUT)).toBe('Timeout waiting for a response from PMCD');
		expect(pmErrStr(PM_ERR.NEEDCLIENTCERT)).toBe('PMCD requires a client certificate');
		expect(pmErrStr(PM_ERR.TLS)).toBe('TLS protocol failure');
		expect(pmErrStr(PM_ERR.NYI)).toBe('Functionality not yet implemented');
		expect(pmErrStr(-12_352)).toBe('No such PMAPI error code (-12352)');
		expect(pmErrStr(7)).toBe('No such PMAPI error code (7)');
		expect(pmErrStr(-21_345)).toBe('Authentication - generic failure');
		expect(pmErrStr(-21_369)).toBe('Authentication - undefined error!');
		expect(pmErrStr(-99_999)).toBe('Unknown secure sockets error -99999 (-78655)');
		expect(pmErrSymbol(PM_ERR.IPC)).toBe('PM_ERR_IPC');
		expect(pmErrSymbol(-111)).toBeUndefined();
	});

	test.skipIf(pmerr === undefined)('matches `pmerr -l` for every PCP code', () => {
		// Pmerr -l exits 1 after listing (PCP 6.0.3), so read stdout whatever the status.
		const lines = spawnSync(pmerr!, ['-l'], {encoding: 'utf8'}).stdout.trim().split('\n').slice(1);
		expect(lines.length).toBeGreaterThan(60);
		for (const line of lines) {
			const match = /^\s*(-\d+)\s+(\S+)\s+(.*)$/v.exec(line);
			expect(match, line).not.toBeNull();
			const code = Number(match![1]);
			expect(pmErrStr(code), line).toBe(match![3]);
			expect(pmErrSymbol(code), line).toBe(match![2]);
			expect(Object.entries(PM_ERR).find(([, value]) => value === code)?.[0], line).toBe(match![2]!.replace('PM_ERR_', ''));
		}
	});

	test.skipIf(pmerr === undefined)('matches `pmerr CODE` for errno, unknown, SASL and TLS ranges', () => {
		const codes: number[] = [0];
		for (let errno = 1; errno <= 140; errno++) {
			codes.push(-errno);
		}

		codes.push(-12_344, -12_352, -12_367, -12_415, -12_446, -21_345, -21_350, -21_376, -21_384, -22_344, -22_345, -30_000, -99_999);
		const out = execFileSync(pmerr!, codes.map(String), {encoding: 'utf8'}).trim().split('\n');
		expect(out).toHaveLength(codes.length);
		for (const [i, code] of codes.entries()) {
			expect(out[i]).toMatch(new RegExp(`^Code: ${code} 0x[0-9a-f]+ Text: `, 'v'));
			expect(out[i]!.replace(/^.*? Text: /v, ''), String(code)).toBe(pmErrStr(code));
		}
	});
});

describe('PCP 1.x numbering in the greeting (docs/pcp.md#greeting)', () => {
	test('-1042 is PM_ERR_PERMISSION, errno values pass through', () => {
		expect(fromPcp1Code(-1042)).toBe(PM_ERR.PERMISSION);
		expect(fromPcp1Code(-1000)).toBe(PM_ERR.GENERIC);
		expect(fromPcp1Code(-111)).toBe(-111);
		expect(fromPcp1Code(0)).toBe(0);
		expect(toPcp1Code(PM_ERR.PERMISSION)).toBe(-1042);
		expect(toPcp1Code(-111)).toBe(-111);
		for (const code of Object.values(PM_ERR)) {
			expect(fromPcp1Code(toPcp1Code(code))).toBe(code);
		}
	});
});

describe('error classes', () => {
	test('PcpError carries the code and pmErrStr as its message', () => {
		const error = new PcpError(PM_ERR.NAME);
		expect(error).toBeInstanceOf(Error);
		expect(error.code).toBe(-12_357);
		expect(error.message).toBe('Unknown metric name');
		expect(error.name).toBe('PcpError');
		expect(isPcpError(error)).toBe(true);
		expect(isPcpError(new Error('x'))).toBe(false);
	});

	test('PduError names the PDU type and the field', () => {
		const error = new PduError('numnames 5 needs 20 bytes', 0x70_0e, 'numnames');
		expect(error.message).toBe('Malformed PMNS_NAMES PDU: numnames 5 needs 20 bytes');
		expect(error.field).toBe('numnames');
		expect(error.pduType).toBe(0x70_0e);
		expect(new PduError('short', undefined).message).toBe('short');
	});
});
