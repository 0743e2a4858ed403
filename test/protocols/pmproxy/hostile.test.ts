/**
 * A pmproxy that lies, written here: huge and endless bodies, a slow drip, bodies that are not
 * JSON or nest without end, fields of the wrong type or out of range, escape codes in names and
 * help text. Each lie ends in a bounded, named error (or inert text), never a hang or a crash.
 */
import {chmodSync, readFileSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {SecmonError} from '../../../source/errors.js';
import {PmproxyApi} from '../../../source/protocols/pmproxy/api.js';
import {maxPmproxyBodyBytes, PmproxyHttp} from '../../../source/protocols/pmproxy/http.js';
import {parseJson} from '../../../source/protocols/pmproxy/json.js';
import {instanceValues} from '../../../source/protocols/pmproxy/model.js';
import {connectTcp} from '../../../source/security/tls.js';
import {peerPki} from '../../helpers/pmcd.js';
import {runSecmon, tempHome} from '../../helpers/secmon.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

const routes = new Map<string, Handler>();
let server: http.Server;
let port: number;

const json = (body: unknown): Handler => (_request, response) => {
	response.writeHead(200, {'content-type': 'application/json'});
	response.end(typeof body === 'string' ? body : JSON.stringify(body));
};

const context = json({
	context: 42, source: 'x', hostspec: 'h', labels: {},
});

beforeAll(async () => {
	server = http.createServer((request, response) => {
		const url = new URL(request.url ?? '/', 'http://x');
		// The test's name for the lie is the first query parameter's value ("case").
		const lie = url.searchParams.get('names') ?? url.searchParams.get('indom') ?? '';
		const handler = url.pathname === '/pmapi/context' ? context : routes.get(lie);
		if (handler) {
			handler(request, response);
		} else {
			response.writeHead(404);
			response.end();
		}
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise(resolve => {
		server.close(resolve);
	});
});

function api(requestTimeoutMs = 5000): {api: PmproxyApi; http: PmproxyHttp} {
	const who = `pmproxy at 127.0.0.1:${port}`;
	const client = new PmproxyHttp({
		open: async () => connectTcp({host: '127.0.0.1', port}, 5000),
		who,
		hostHeader: `127.0.0.1:${port}`,
		requestTimeoutMs,
		failure: error => (error instanceof SecmonError ? error : new SecmonError('CONNECT_FAILED', String(error))),
	});
	return {api: new PmproxyApi({http: client, who, pollTimeoutSeconds: 60}), http: client};
}

async function failure(run: (api: PmproxyApi) => Promise<unknown>, requestTimeoutMs?: number): Promise<SecmonError> {
	const {api: client, http: connection} = api(requestTimeoutMs);
	try {
		await run(client);
	} catch (error) {
		expect(error).toBeInstanceOf(SecmonError);
		return error as SecmonError;
	} finally {
		connection.close();
	}

	throw new Error('the lie was believed');
}

const metric = (overrides: Record<string, unknown>) => ({
	context: 42,
	metrics: [{
		name: 'm', pmid: '1.2.3', type: 'u32', sem: 'instant', units: 'none', 'text-oneline': 'one', 'text-help': 'help', ...overrides,
	}],
});

describe('a lying pmproxy', () => {
	it('a Content-Length over the cap is refused before the body is read', async () => {
		routes.set('big', (_request, response) => {
			response.writeHead(200, {'content-length': String(maxPmproxyBodyBytes + 1)});
			response.write('{');
		});
		const error = await failure(async client => client.metrics(['big']));
		expect(error.code).toBe('PROTOCOL');
		expect(error.message).toMatch(/Content-Length \d+\) over 64 MiB; secmon stops there/);
	});

	it('an endless chunked body stops at the cap', async () => {
		routes.set('endless', (_request, response) => {
			response.writeHead(200, {'content-type': 'application/json'});
			const chunk = Buffer.alloc(1024 * 1024, 0x20);
			const more = () => {
				while (!response.destroyed && response.write(chunk)) {
					// Keep writing until the socket pushes back or closes.
				}
			};

			response.on('drain', more);
			more();
		});
		const error = await failure(async client => client.metrics(['endless']));
		expect(error.code).toBe('PROTOCOL');
		expect(error.message).toContain('a response body over 64 MiB');
	});

	it('a slow drip hits the request deadline', async () => {
		routes.set('drip', (_request, response) => {
			response.writeHead(200, {'content-type': 'application/json'});
			const timer = setInterval(() => {
				if (response.destroyed) {
					clearInterval(timer);
					return;
				}

				response.write(' ');
			}, 50);
			response.on('close', () => {
				clearInterval(timer);
			});
		});
		const error = await failure(async client => client.metrics(['drip']), 400);
		expect(error.code).toBe('TIMEOUT');
		expect(error.message).toContain('did not answer GET /pmapi/42/metric within 400 ms');
	});

	it('bodies that are not JSON, or nest deeper than the cap, are errors naming the path', async () => {
		routes.set('garbage', json('<html>hello</html>'));
		routes.set('deep', json(`${'['.repeat(100_000)}${']'.repeat(100_000)}`));
		for (const lie of ['garbage', 'deep']) {
			const error = await failure(async client => client.metrics([lie]));
			expect(error.code).toBe('PROTOCOL');
			expect(error.message).toContain('sent a body that is not JSON for /pmapi/42/metric');
		}

		expect(() => parseJson('['.repeat(33) + ']'.repeat(33))).toThrow(/nesting deeper than 32/);
		expect(() => parseJson(`[${'0,'.repeat(100)}0]`, {maxDepth: 4, maxValues: 50})).toThrow(/more than 50 values/);
	});

	it.each([
		['no-list', {context: 42}, 'no "metrics" list'],
		['bad-pmid', metric({pmid: '1.2'}), 'malformed "pmid"'],
		['pmid-number', metric({pmid: 7}), '"pmid" is not a string'],
		['bad-units', metric({units: 'furlongs / fortnight'}), 'units that are not pmUnitsStr\'s'],
		['bad-indom', metric({indom: '600.1'}), 'malformed "indom"'],
		['no-name', {metrics: [{pmid: '1.2.3'}]}, 'a metric without a name'],
	])('a metric answer with %s is refused', async (lie, body, message) => {
		routes.set(lie, json(body));
		const error = await failure(async client => client.metrics([lie]));
		expect(error.code).toBe('PROTOCOL');
		expect(error.message).toContain(message);
	});

	it.each([
		['no-stamp', {values: []}, 'a fetch without a timestamp'],
		['negative-stamp', {timestamp: -1, values: []}, 'a fetch without a timestamp'],
		['far-future-stamp', {timestamp: 999_999_999_999_999, values: []}, 'not a time from 1970 to 9999'],
		['no-values', {timestamp: 1}, 'without a "values" list'],
		['bad-set', {timestamp: 1, values: [{pmid: 'x', name: 'm', instances: []}]}, 'a value set without'],
		['bad-inst', {timestamp: 1, values: [{pmid: '1.2.3', name: 'm', instances: [{instance: -5, value: 1}]}]}, 'without an instance or a value'],
	])('a fetch answer with %s is refused', async (lie, body, message) => {
		routes.set(lie, json(body));
		const error = await failure(async client => client.fetch([lie]));
		expect(error.code).toBe('PROTOCOL');
		expect(error.message).toContain(message);
	});

	it('values must fit their metric\'s type', () => {
		const of = (text: string) => parseJson(text);
		expect(instanceValues(3, [{inst: undefined, value: of('18446744073709551615')}])[0]!.value).toBe(18_446_744_073_709_551_615n);
		expect(() => instanceValues(3, [{inst: undefined, value: of('18446744073709551616')}])).toThrow(/u64 value that is not one/);
		expect(() => instanceValues(1, [{inst: undefined, value: of('-1')}])).toThrow(/u32 value/);
		expect(() => instanceValues(0, [{inst: undefined, value: of('1.5')}])).toThrow(/i32 value/);
		expect(() => instanceValues(0, [{inst: undefined, value: of('"12"')}])).toThrow(/i32 value/);
		expect(() => instanceValues(6, [{inst: undefined, value: of('12')}])).toThrow(/string value/);
		expect(() => instanceValues(5, [{inst: undefined, value: of('"x"')}])).toThrow(/double value/);
		// Event records (and empty values) come as null: no value, not an error.
		expect(instanceValues(9, [{inst: 1, value: of('null')}])).toEqual([]);
	});

	it('reads pmproxy\'s timestamp as SECONDS.NANOSECONDS without zero padding', async () => {
		routes.set('stamp', json('{"context":42,"timestamp":1796289005.6540494,"values":[]}'));
		const {api: client, http: connection} = api();
		try {
			const result = await client.fetch(['stamp']);
			expect(result).toMatchObject({sec: 1_796_289_005, nsec: 6_540_494});
		} finally {
			connection.close();
		}
	});

	it('sends the password file\'s credentials only after a 401, and says what to do when they are missing or wrong', async () => {
		const seen: Array<string | undefined> = [];
		const headerNames = new Set<string>();
		const good = `Basic ${Buffer.from('monitor:s3cr:et').toString('base64')}`;
		routes.set('auth.metric', (request, response) => {
			seen.push(request.headers.authorization);
			for (const name of request.rawHeaders.filter((_, index) => index % 2 === 0)) {
				if (name.toLowerCase() === 'authorization') {
					headerNames.add(name);
				}
			}

			if (request.headers.authorization === good) {
				const fetch = request.url?.includes('/fetch?') ?? false;
				json(fetch
					? {context: 42, timestamp: 7, values: [{pmid: '1.2.3', name: 'auth.metric', instances: [{instance: null, value: 5}]}]}
					: metric({name: 'auth.metric'}))(request, response);
				return;
			}

			response.writeHead(401, {'content-type': 'application/json', 'www-authenticate': 'Basic realm="pmapi/42"'});
			response.end(JSON.stringify({context: 42, message: 'authentication failed', success: false}));
		});
		const home = tempHome();
		// The same routes over HTTPS (the test PKI's server certificate): credentials only go inside TLS.
		const pki = await peerPki();
		const secure = https.createServer({cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey)}, server.listeners('request')[0] as Handler);
		await new Promise<void>(resolve => {
			secure.listen(0, '127.0.0.1', resolve);
		});
		try {
			const securePort = (secure.address() as AddressInfo).port;
			const spec = ['--host', `pmproxys://localhost:${securePort}`, '--ca-file', pki.caFile];
			const without = await runSecmon([...spec, '-f', 'auth.metric'], {env: {SECMON_HOME: home.dir}});
			expect(without.stderr).toContain('HTTP 401');
			expect(without.stderr).toContain('give a password file with one line USER:PASSWORD');
			expect(without.code).toBe(1);
			expect(seen).toEqual([undefined]);

			const file = path.join(home.dir, 'password');
			writeFileSync(file, 'monitor:s3cr:et\n');
			chmodSync(file, 0o600);
			seen.length = 0;
			const withFile = await runSecmon([...spec, '--password-file', file, '-f', 'auth.metric'], {env: {SECMON_HOME: home.dir}});
			expect(withFile.stdout).toBe('\nauth.metric\n    value 5\n');
			expect(withFile.code).toBe(0);
			expect(seen[0]).toBeUndefined();
			expect(seen.slice(1).every(header => header === good)).toBe(true);
			// pmproxy 6.0.3 reads the header only when its name is spelled so (docs/pmproxy.md#authentication).
			expect([...headerNames]).toEqual(['Authorization']);

			writeFileSync(file, 'monitor:wrong\n');
			const wrong = await runSecmon([...spec, '--password-file', file, '-f', 'auth.metric'], {env: {SECMON_HOME: home.dir}});
			expect(wrong.stderr).toContain('Check the user name and password in the password file');
			expect(wrong.code).toBe(1);

			// Plain HTTP (--secure off, or relaxed mode falling back): the password is never sent.
			seen.length = 0;
			for (const plainSpec of [['--host', `pmproxy://127.0.0.1:${port}`, '--secure', 'off'], ['--host', `pmproxy://127.0.0.1:${port}`, '--secure', 'relaxed']]) {
				const refused = await runSecmon([...plainSpec, '--password-file', file, '-f', 'auth.metric'], {env: {SECMON_HOME: home.dir}});
				expect(refused.stderr).toContain('refusing to send the pmproxy password');
				expect(refused.code).toBe(2);
			}

			expect(seen).toEqual([]);
		} finally {
			secure.closeAllConnections();
			await new Promise(resolve => {
				secure.close(resolve);
			});
			home.remove();
		}
	});

	it('a 403 with an HTML page to a request without credentials (pmproxy -S, PCP 7) also asks for them; without a file it is reported, not a protocol error', async () => {
		const good = `Basic ${Buffer.from('monitor:pw').toString('base64')}`;
		const seen: Array<string | undefined> = [];
		const pki = await peerPki();
		// As PCP 7's http.c answers when -S is on and the request has no credentials: 403, http_error's HTML.
		const secure = https.createServer({cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey)}, (request, response) => {
			seen.push(request.headers.authorization);
			if (request.headers.authorization !== good) {
				response.writeHead(403, {'content-type': 'text/html'});
				response.end('<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<h1>403 Forbidden</h1>\r\n</body>\r\n</html>\r\n');
				return;
			}

			const url = request.url ?? '';
			json(url.startsWith('/pmapi/context')
				? {
					context: 42, source: 'x', hostspec: 'h', labels: {},
				}
				: (url.includes('/fetch?')
					? {context: 42, timestamp: 7, values: [{pmid: '1.2.3', name: 'm', instances: [{instance: null, value: 3}]}]}
					: metric({})))(request, response);
		});
		await new Promise<void>(resolve => {
			secure.listen(0, '127.0.0.1', resolve);
		});
		const home = tempHome();
		try {
			const spec = ['--host', `pmproxys://localhost:${(secure.address() as AddressInfo).port}`, '--ca-file', pki.caFile];
			const without = await runSecmon([...spec, '-f', 'm'], {env: {SECMON_HOME: home.dir}});
			expect(without.stderr).toContain('refused /pmapi/context: HTTP 403 (<html> <head><title>403 Forbidden</title>');
			expect(without.stderr).toContain('give a password file with one line USER:PASSWORD');
			expect(without.code).toBe(1);

			const file = path.join(home.dir, 'password');
			writeFileSync(file, 'monitor:pw\n');
			chmodSync(file, 0o600);
			seen.length = 0;
			const withFile = await runSecmon([...spec, '--password-file', file, '-f', 'm'], {env: {SECMON_HOME: home.dir}});
			expect(withFile.stdout).toBe('\nm\n    value 3\n');
			expect(withFile.code).toBe(0);
			expect(seen[0]).toBeUndefined();
			expect(seen.slice(1).every(header => header === good)).toBe(true);
		} finally {
			secure.closeAllConnections();
			await new Promise(resolve => {
				secure.close(resolve);
			});
			home.remove();
		}
	});

	it('a JSON 403 about the context identifier is no request for credentials: the context is made again without them', async () => {
		let fetches = 0;
		const seen: Array<string | undefined> = [];
		routes.set('ctx.metric', (request, response) => {
			seen.push(request.headers.authorization);
			fetches++;
			if (fetches === 1) {
				response.writeHead(403, {'content-type': 'application/json'});
				response.end(JSON.stringify({context: 42, message: 'unknown context identifier: 42', success: false}));
				return;
			}

			json({context: 42, timestamp: 7, values: [{pmid: '1.2.3', name: 'ctx.metric', instances: [{instance: null, value: 1}]}]})(request, response);
		});
		let read = 0;
		const who = `pmproxy at 127.0.0.1:${port}`;
		const client = new PmproxyHttp({
			open: async () => connectTcp({host: '127.0.0.1', port}, 5000),
			who,
			hostHeader: `127.0.0.1:${port}`,
			requestTimeoutMs: 5000,
			failure: error => (error instanceof SecmonError ? error : new SecmonError('CONNECT_FAILED', String(error))),
			async credentials() {
				read++;
				return {user: 'monitor', password: 'pw'};
			},
		});
		const pmapi = new PmproxyApi({http: client, who, pollTimeoutSeconds: 60});
		try {
			const result = await pmapi.fetch(['ctx.metric']);
			expect(result.values[0]?.name).toBe('ctx.metric');
			expect(pmapi.contextsCreated).toBe(2);
			expect(read).toBe(0);
			expect(seen).toEqual([undefined, undefined]);
		} finally {
			client.close();
		}
	});

	it('relaxed mode goes on in plain HTTP when the TLS hello is answered in plain text, said loudly; never with an option that implies TLS', async () => {
		routes.set('plain.metric', (request, response) => {
			const fetch = request.url?.includes('/fetch?') ?? false;
			json(fetch
				? {context: 42, timestamp: 7, values: [{pmid: '1.2.3', name: 'plain.metric', instances: [{instance: null, value: 9}]}]}
				: metric({name: 'plain.metric'}))(request, response);
		});
		const home = tempHome();
		try {
			// Node's HTTP server answers a ClientHello with "HTTP/1.1 400 Bad Request": not TLS.
			const spec = ['--host', `pmproxy://127.0.0.1:${port}`];
			const relaxed = await runSecmon([...spec, '-f', 'plain.metric'], {env: {SECMON_HOME: home.dir}});
			expect(relaxed.stdout).toBe('\nplain.metric\n    value 9\n');
			expect(relaxed.stderr).toBe(`secmon: warning: 127.0.0.1:${port} (pmproxy) does not offer TLS; secmon continues in PLAIN HTTP (not encrypted, not authenticated). Turn TLS on at pmproxy, or refuse plain text with pmproxys:// or --secure enforce.\n`);
			expect(relaxed.code).toBe(0);

			const pki = await peerPki();
			const implied = await runSecmon([...spec, '--ca-file', pki.caFile, '-f', 'plain.metric'], {env: {SECMON_HOME: home.dir}});
			expect(implied.stderr).toContain('--ca-file');
			expect(implied.stdout).toBe('');
			expect(implied.code).toBe(5);
		} finally {
			home.remove();
		}
	});

	it('escape codes in names, help text and values stay inert in --json and in error lines', async () => {
		const name = 'evil.\u001B]0;pwned\u0007name';
		const evil = {
			name, pmid: '1.2.3', type: 'string', sem: 'instant', units: 'none', 'text-oneline': '\u001B[2J wipe', 'text-help': '\u001B[31mred',
		};
		routes.set(name, (request, response) => {
			const fetch = request.url?.includes('/fetch?') ?? false;
			json(fetch
				? {context: 42, timestamp: 1.5, values: [{pmid: '1.2.3', name, instances: [{instance: null, value: '\u001B[5mblink'}]}]}
				: {context: 42, metrics: [evil]})(request, response);
		});
		routes.set('evil.missing', (_request, response) => {
			response.writeHead(400, {'content-type': 'application/json'});
			response.end(JSON.stringify({context: 42, message: 'evil.missing traversal failed - \u001B[31mUnknown\u001B[0m', success: false}));
		});
		const home = tempHome();
		try {
			const spec = `pmproxy://127.0.0.1:${port}`;
			const result = await runSecmon(['--host', spec, '--secure', 'off', '--json', name], {env: {SECMON_HOME: home.dir}});
			expect(result.stdout).toContain('pwned');
			expect(result.stdout).toContain('blink');
			expect(result.stdout).not.toContain('\u001B');
			expect(result.stdout).not.toContain('\u0007');
			const missing = await runSecmon(['--host', spec, '--secure', 'off', '-f', 'evil.missing'], {env: {SECMON_HOME: home.dir}});
			expect(missing.stderr).toContain('evil.missing');
			expect(missing.stderr).not.toContain('\u001B');
			expect(missing.code).toBe(1);
		} finally {
			home.remove();
		}
	});
});
