import {describe, expect, test} from 'vitest';
import {parsePasswordFile} from '../../../source/protocols/shared/password-file.js';

describe('password files', () => {
	test('USER:PASSWORD, the password may hold colons', () => {
		expect(parsePasswordFile('secmon-pw:se:cret\n', 'f')).toEqual({user: 'secmon-pw', password: 'se:cret'});
		expect(() => parsePasswordFile('no-colon\n', 'f')).toThrow(/does not hold USER:PASSWORD/);
		expect(() => parsePasswordFile(':pw', 'f')).toThrow(/does not hold USER:PASSWORD/);
		expect(() => parsePasswordFile('a:b\nc:d\n', 'f')).toThrow(/more than one line/);
	});
});
