import {describe, expect, test} from 'vitest';
import {nameErrorResult, unknownMetric} from '../../source/metrics/source.js';
import {PM_ERR} from '../../source/protocols/pcp/constants.js';
import {pmErrStr} from '../../source/protocols/pcp/errors.js';

describe('names describe() could not resolve', () => {
	test('an unknown name is unknownMetric\'s code whatever the protocol, with the collector\'s message', () => {
		expect(nameErrorResult({name: 'no.such.key', message: 'ZBX_NOTSUPPORTED: Unsupported item key.'})).toEqual({status: 'error', code: unknownMetric.code, message: 'ZBX_NOTSUPPORTED: Unsupported item key.'});
	});

	test('another problem keeps its own code', () => {
		expect(nameErrorResult({name: 'x', message: 'Unknown or illegal metric identifier', code: PM_ERR.PMID})).toEqual({status: 'error', code: PM_ERR.PMID, message: 'Unknown or illegal metric identifier'});
	});

	test('PCP\'s PM_ERR_NAME and its pminfo text are the neutral code and message, so --json says the same for pmcd as before', () => {
		expect(unknownMetric.code).toBe(PM_ERR.NAME);
		expect(pmErrStr(PM_ERR.NAME)).toBe(unknownMetric.message);
	});
});
