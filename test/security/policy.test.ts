import {describe, expect, it} from 'vitest';
import {isSecmonError} from '../../source/errors.js';
import {
	describeSecureMode, parseSecureFlag, pcpSecureValue, resolveSecureMode, schemeSecureMode,
} from '../../source/security/policy.js';

describe('pcpSecureValue (PCP_SECURE_SOCKETS semantics, pcp.md §2.3)', () => {
	it.each([
		['enforce', 'enforce'],
		['1', 'enforce'],
		['', 'enforce'],
		['relaxed', 'relaxed'],
		['0', 'off'],
		['off', 'off'],
		['yes', 'off'],
		['ENFORCE', 'enforce'],
		[' relaxed ', 'relaxed'],
	] as const)('%j → %s', (value, mode) => {
		expect(pcpSecureValue(value)).toBe(mode);
	});
});

describe('parseSecureFlag', () => {
	it.each([
		['enforce', 'enforce'],
		['1', 'enforce'],
		['', 'enforce'],
		['relaxed', 'relaxed'],
		['off', 'off'],
		['0', 'off'],
		['Relaxed', 'relaxed'],
	] as const)('%j → %s', (value, mode) => {
		expect(parseSecureFlag(value)).toBe(mode);
	});

	it('rejects unknown values as a usage error (exit 2) that lists the valid ones', () => {
		let caught: unknown;
		try {
			parseSecureFlag('strict');
		} catch (error) {
			caught = error;
		}

		expect(isSecmonError(caught)).toBe(true);
		if (isSecmonError(caught)) {
			expect(caught.code).toBe('USAGE');
			expect(caught.exitCode).toBe(2);
			expect(caught.message).toContain('"strict"');
			expect(caught.hint).toContain('--secure=enforce');
			expect(caught.hint).toContain('--secure=off');
		}
	});
});

describe('schemeSecureMode', () => {
	it.each([
		['pcps', 'enforce'],
		['pcps:', 'enforce'],
		['pcps://collector:44321', 'enforce'],
		['PCPS://collector', 'enforce'],
		['pcps://collector:44321?secure=relaxed', 'relaxed'],
		['pcps://collector?user=a&secure=relaxed', 'relaxed'],
		['pcps://collector?secure=enforce', 'enforce'],
		['pcps://collector?secure', 'enforce'],
		['pcps://collector?secure=0', 'off'],
		['pcp://collector', undefined],
		['pcp', undefined],
		['collector:44321', undefined],
		['127.0.0.1', undefined],
	] as const)('%s → %s', (spec, mode) => {
		expect(schemeSecureMode(spec)).toBe(mode);
	});
});

describe('resolveSecureMode precedence: flag > SECMON_SECURE_SOCKETS > PCP_SECURE_SOCKETS > scheme > off', () => {
	it('defaults to off', () => {
		expect(resolveSecureMode({env: {}})).toEqual({mode: 'off', source: 'default'});
		expect(resolveSecureMode({env: {}, scheme: 'pcp://x'})).toEqual({mode: 'off', source: 'default'});
	});

	it('uses the scheme when nothing else is set', () => {
		expect(resolveSecureMode({env: {}, scheme: 'pcps://x'})).toEqual({mode: 'enforce', source: 'scheme'});
		expect(resolveSecureMode({env: {}, scheme: 'pcps://x?secure=relaxed'})).toEqual({mode: 'relaxed', source: 'scheme'});
	});

	it('PCP_SECURE_SOCKETS beats the scheme, including the empty string (= enforce)', () => {
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: 'relaxed'}, scheme: 'pcps://x'})).toEqual({mode: 'relaxed', source: 'PCP_SECURE_SOCKETS'});
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: ''}})).toEqual({mode: 'enforce', source: 'PCP_SECURE_SOCKETS'});
	});

	it('SECMON_SECURE_SOCKETS beats PCP_SECURE_SOCKETS', () => {
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: 'enforce', SECMON_SECURE_SOCKETS: 'relaxed'}})).toEqual({mode: 'relaxed', source: 'SECMON_SECURE_SOCKETS'});
	});

	it('the flag beats everything', () => {
		expect(resolveSecureMode({flag: 'off', env: {SECMON_SECURE_SOCKETS: 'enforce', PCP_SECURE_SOCKETS: '1'}, scheme: 'pcps://x'}))
			.toEqual({mode: 'off', source: 'flag'});
		expect(() => resolveSecureMode({flag: 'bogus', env: {}})).toThrow(/unknown --secure value/v);
	});

	it('describes where the mode came from', () => {
		expect(describeSecureMode({mode: 'enforce', source: 'PCP_SECURE_SOCKETS'})).toBe('enforce (from PCP_SECURE_SOCKETS)');
		expect(describeSecureMode({mode: 'enforce', source: 'scheme'})).toBe('enforce (from the pcps:// scheme)');
	});
});
