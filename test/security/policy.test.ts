import {describe, expect, it} from 'vitest';
import {isSecmonError, type SecmonError} from '../../source/errors.js';
import {
	describeSecureMode, parseSecureFlag, parseSecureValue, resolveSecureMode, schemeSecureMode, secureArgument,
} from '../../source/security/policy.js';

function usageError(run: () => unknown): SecmonError {
	try {
		run();
	} catch (error) {
		if (isSecmonError(error)) {
			return error;
		}

		throw error;
	}

	throw new Error('no error thrown');
}

describe('parseSecureValue: strict values (issue 13 part 2)', () => {
	it.each([
		['enforce', 'enforce'],
		['1', 'enforce'],
		['', 'enforce'],
		['relaxed', 'relaxed'],
		['0', 'off'],
		['off', 'off'],
		['no', 'off'],
		['false', 'off'],
		['ENFORCE', 'enforce'],
		[' relaxed ', 'relaxed'],
		['Off', 'off'],
	] as const)('%j → %s', (value, mode) => {
		expect(parseSecureValue(value, 'PCP_SECURE_SOCKETS')).toBe(mode);
	});

	it.each(['yes', 'enforced', 'true', 'strict', '2', 'tls'])('%j is a usage error naming the variable, the value and the valid values', value => {
		const error = usageError(() => parseSecureValue(value, 'PCP_SECURE_SOCKETS'));
		expect(error.code).toBe('USAGE');
		expect(error.exitCode).toBe(2);
		expect(error.message).toBe(`PCP_SECURE_SOCKETS=${JSON.stringify(value)} is not a secure mode`);
		expect(error.hint).toContain('enforce, 1 or empty');
		expect(error.hint).toContain('relaxed');
		expect(error.hint).toContain('0, off, no or false');
		expect(error.hint).toContain('export PCP_SECURE_SOCKETS=enforce');
	});
});

describe('parseSecureFlag', () => {
	it.each([
		['enforce', 'enforce'],
		['1', 'enforce'],
		['relaxed', 'relaxed'],
		['off', 'off'],
		['0', 'off'],
		['Relaxed', 'relaxed'],
	] as const)('%j → %s', (value, mode) => {
		expect(parseSecureFlag(value)).toBe(mode);
	});

	it('rejects unknown values as a usage error (exit 2) that lists the valid ones', () => {
		const error = usageError(() => parseSecureFlag('strict'));
		expect(error.code).toBe('USAGE');
		expect(error.exitCode).toBe(2);
		expect(error.message).toContain('"strict"');
		expect(error.hint).toContain('--secure enforce');
		expect(error.hint).toContain('--secure off');
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

	it('a ?secure= typo is a usage error', () => {
		expect(usageError(() => schemeSecureMode('pcps://collector?secure=yes')).code).toBe('USAGE');
	});
});

describe('resolveSecureMode: flag > the stricter variable > scheme floor > default', () => {
	it('defaults to relaxed: TLS whenever the collector offers it (a deliberate difference from PCP)', () => {
		expect(resolveSecureMode({env: {}})).toEqual({mode: 'relaxed', source: 'default'});
		expect(resolveSecureMode({env: {}, scheme: 'pcp://x'})).toEqual({mode: 'relaxed', source: 'default'});
	});

	it('uses the scheme when nothing else is set', () => {
		expect(resolveSecureMode({env: {}, scheme: 'pcps://x'})).toEqual({mode: 'enforce', source: 'scheme'});
		expect(resolveSecureMode({env: {}, scheme: 'pcps://x?secure=relaxed'})).toEqual({mode: 'relaxed', source: 'scheme'});
	});

	it('pcps:// is a floor the environment cannot lower, only raise', () => {
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: 'relaxed'}, scheme: 'pcps://x'})).toEqual({mode: 'enforce', source: 'scheme'});
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: '0'}, scheme: 'pcps://x'})).toEqual({mode: 'enforce', source: 'scheme'});
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: 'enforce'}, scheme: 'pcps://x?secure=relaxed'})).toEqual({mode: 'enforce', source: 'PCP_SECURE_SOCKETS'});
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: ''}})).toEqual({mode: 'enforce', source: 'PCP_SECURE_SOCKETS'});
	});

	it('when both variables are set and disagree, the stricter wins and a notice says so', () => {
		const relaxedFirst = resolveSecureMode({env: {PCP_SECURE_SOCKETS: 'enforce', SECMON_SECURE_SOCKETS: 'relaxed'}});
		expect(relaxedFirst.mode).toBe('enforce');
		expect(relaxedFirst.source).toBe('PCP_SECURE_SOCKETS');
		expect(relaxedFirst.notice).toMatch(/PCP_SECURE_SOCKETS=enforce and SECMON_SECURE_SOCKETS=relaxed disagree; the stricter, enforce, applies/v);
		const off = resolveSecureMode({env: {PCP_SECURE_SOCKETS: 'off', SECMON_SECURE_SOCKETS: 'relaxed'}});
		expect(off).toMatchObject({mode: 'relaxed', source: 'SECMON_SECURE_SOCKETS'});
		expect(off.notice).toBeDefined();
		expect(resolveSecureMode({env: {PCP_SECURE_SOCKETS: '1', SECMON_SECURE_SOCKETS: 'enforce'}})).toEqual({mode: 'enforce', source: 'SECMON_SECURE_SOCKETS'});
	});

	it('a typo in one variable is a usage error even when the other is correct', () => {
		const error = usageError(() => resolveSecureMode({env: {SECMON_SECURE_SOCKETS: 'enforced', PCP_SECURE_SOCKETS: 'enforce'}}));
		expect(error.message).toContain('SECMON_SECURE_SOCKETS="enforced"');
		expect(usageError(() => resolveSecureMode({flag: 'enforce', env: {PCP_SECURE_SOCKETS: 'yes'}})).message).toContain('PCP_SECURE_SOCKETS="yes"');
	});

	it('the flag beats everything', () => {
		expect(resolveSecureMode({flag: 'off', env: {SECMON_SECURE_SOCKETS: 'enforce', PCP_SECURE_SOCKETS: '1'}, scheme: 'pcps://x'}))
			.toEqual({mode: 'off', source: 'flag'});
		expect(() => resolveSecureMode({flag: 'bogus', env: {}})).toThrow(/--secure="bogus" is not a secure mode/v);
	});

	it('re-run hints carry the mode only when it came from the environment', () => {
		expect(secureArgument({mode: 'enforce', source: 'PCP_SECURE_SOCKETS'})).toBe('enforce');
		expect(secureArgument({mode: 'relaxed', source: 'SECMON_SECURE_SOCKETS'})).toBe('relaxed');
		expect(secureArgument({mode: 'enforce', source: 'flag'})).toBeUndefined();
		expect(secureArgument({mode: 'enforce', source: 'scheme'})).toBeUndefined();
		expect(secureArgument({mode: 'relaxed', source: 'default'})).toBeUndefined();
	});

	it('describes where the mode came from', () => {
		expect(describeSecureMode({mode: 'enforce', source: 'PCP_SECURE_SOCKETS'})).toBe('enforce (from PCP_SECURE_SOCKETS)');
		expect(describeSecureMode({mode: 'enforce', source: 'scheme'})).toBe('enforce (from the pcps:// scheme)');
		expect(describeSecureMode({mode: 'relaxed', source: 'default'})).toContain('TLS whenever the collector offers it');
	});
});
