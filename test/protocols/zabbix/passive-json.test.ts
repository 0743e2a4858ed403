import {describe, expect, it} from 'vitest';
import {
	decodeJsonAnswer, encodeJsonRequest, formatJsonAnswerLikeZabbixGet,
} from '../../../source/protocols/zabbix/passive-json.js';

const agent = '127.0.0.1:10050';
const decode = (text: string) => decodeJsonAnswer(Buffer.from(text, 'utf8'), agent);

describe('encodeJsonRequest', () => {
	it('is zbx_agent_prepare_request()\'s body: one key with the timeout in seconds', () => {
		expect(encodeJsonRequest('agent.ping', 3).toString()).toBe('{"request":"passive checks","data":[{"key":"agent.ping","timeout":3}]}');
	});

	it('escapes keys as JSON', () => {
		const body = encodeJsonRequest('vfs.file.contents["/tmp/a b",\\]', 30).toString();
		expect(JSON.parse(body)).toEqual({request: 'passive checks', data: [{key: 'vfs.file.contents["/tmp/a b",\\]', timeout: 30}]});
	});
});

describe('decodeJsonAnswer', () => {
	it('a value, with version and variant', () => {
		expect(decode('{"version":"7.0.0","variant":1,"data":[{"value":"1"}]}')).toEqual({
			kind: 'value', value: '1', version: '7.0.0', variant: 1,
		});
	});

	it('agent 2 (variant 2), numbers and booleans as their text', () => {
		expect(decode('{"version":"7.0.5","variant":2,"data":[{"value":1.5}]}')).toEqual({
			kind: 'value', value: '1.5', version: '7.0.5', variant: 2,
		});
		expect(decode('{"version":"7.0.5","data":[{"value":true}]}')).toEqual({kind: 'value', value: 'true', version: '7.0.5'});
	});

	it('an entry error and a top-level error', () => {
		expect(decode('{"version":"7.0.0","variant":1,"data":[{"error":"Unsupported item key."}]}')).toEqual({
			kind: 'error', message: 'Unsupported item key.', version: '7.0.0', variant: 1,
		});
		expect(decode('{"version":"7.0.0","variant":1,"error":"Cannot parse request."}')).toEqual({
			kind: 'error', message: 'Cannot parse request.', version: '7.0.0', variant: 1,
		});
	});

	it('"value": null is no data', () => {
		expect(decode('{"version":"7.0.0","data":[{"value":null}]}')).toEqual({kind: 'nodata', version: '7.0.0'});
	});

	it('what a pre-7 agent answers (not a JSON object) is plaintext', () => {
		expect(decodeJsonAnswer(Buffer.from('ZBX_NOTSUPPORTED\0Invalid item key format.'), agent)).toEqual({kind: 'plaintext'});
		expect(decode('1')).toEqual({kind: 'plaintext'});
		expect(decode('')).toEqual({kind: 'plaintext'});
		expect(decode('[1]')).toEqual({kind: 'plaintext'});
	});

	it.each([
		['{"version":"7.0.0","data":[{"value":"1"}]', /not valid JSON/],
		['{"data":[{"value":"1"}]}', /no "version" string/],
		['{"version":7,"data":[{"value":"1"}]}', /no "version" string/],
		['{"version":"7.0.0\\u001b[31m","data":[{"value":"1"}]}', /a "version" that is not a version/],
		[`{"version":"${'7'.repeat(100)}","data":[{"value":"1"}]}`, /a "version" that is not a version .*…\)/],
		['{"version":"7.0.0","variant":"1","data":[{"value":"1"}]}', /"variant" is not an integer/],
		['{"version":"7.0.0"}', /no "data" array/],
		['{"version":"7.0.0","data":{"value":"1"}}', /"data" is not an array/],
		['{"version":"7.0.0","data":[]}', /0 entries in "data" for one key/],
		['{"version":"7.0.0","data":[{"value":"1"},{"value":"2"}]}', /2 entries in "data" for one key/],
		['{"version":"7.0.0","data":["1"]}', /entry is not an object/],
		['{"version":"7.0.0","data":[{}]}', /neither "value" nor "error"/],
		['{"version":"7.0.0","data":[{"value":{"a":1}}]}', /"value" is not a string/],
		['{"version":"7.0.0","data":[{"error":["x"]}]}', /"error" is not a string/],
		['{"version":"7.0.0","error":{}}', /"error" is not a string/],
	])('hostile %s → an error naming the agent', (text, message) => {
		expect(() => decode(text)).toThrow(message);
		expect(() => decode(text)).toThrow(`The Zabbix agent ${agent} sent a malformed JSON passive-check answer`);
	});

	it('a huge value decodes (the frame limit bounds it), lone surrogates are replaced', () => {
		const huge = 'x'.repeat(8 * 1024 * 1024);
		expect(decode(`{"version":"7.0.0","data":[{"value":"${huge}"}]}`)).toMatchObject({kind: 'value', value: huge});
		expect(decode('{"version":"7.0.0","data":[{"value":"a\\ud800b"}]}')).toMatchObject({value: 'a\uFFFDb'});
	});
});

describe('formatJsonAnswerLikeZabbixGet', () => {
	it('prints as zabbix_get 7 does', () => {
		expect(formatJsonAnswerLikeZabbixGet({kind: 'value', value: 'a\nb\r\n', version: '7.0.0'})).toBe('a\nb');
		expect(formatJsonAnswerLikeZabbixGet({kind: 'value', value: 'a\0b', version: '7.0.0'})).toBe('a');
		expect(formatJsonAnswerLikeZabbixGet({kind: 'error', message: 'Unsupported item key.\n', version: '7.0.0'})).toBe('ZBX_NOTSUPPORTED: Unsupported item key.');
		expect(formatJsonAnswerLikeZabbixGet({kind: 'nodata', version: '7.0.0'})).toBe('ZBX_NODATA: No value was received.');
	});
});
