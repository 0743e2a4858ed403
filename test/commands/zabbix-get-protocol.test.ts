/**
 * Zabbix 7 passive checks in `secmon zabbix-get` (docs/zabbix.md#zabbix-7-json-checks):
 * -P auto|json|plaintext against the real Debian zabbix_agentd 6.0, side by side with its
 * zabbix_get 6.0 where that applies, with a counting relay for the remembered fallback; and
 * against a fake Zabbix 7 agent in this process (honest, lying, hostile), since no 7.0 agent or
 * zabbix_get 7 is installed here. What zabbix_get 7 prints comes from its source
 * (src/zabbix_get/zabbix_get.c get_value(), src/libs/zbxagentget/agentget.c).
 */
import {mkdtempSync, rmSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {zabbixGetCommand} from '../../source/commands/zabbix-get.js';
import {unknownMetric} from '../../source/metrics/source.js';
import {encodeFrame, FrameDecoder} from '../../source/protocols/zabbix/frame.js';
import {zbxRequestFailedCode} from '../../source/protocols/zabbix/keys.js';
import {
	runZabbixGet, startAgent, zabbixPeersInstalled, zabbixPort, type Agent,
} from '../helpers/zabbix.js';
import {checkJsonOutput} from '../helpers/json-lines.js';
import {runSecmon} from '../helpers/secmon.js';

type Run = {stdout: string; stderr: string; code: number};

function sink(): {stream: Writable; text: () => string} {
	let text = '';
	return {
		stream: new Writable({
			write(chunk: Buffer | string, _encoding, callback) {
				text += chunk.toString();
				callback();
			},
		}),
		text: () => text,
	};
}

let home: string;

async function secmon(args: string[]): Promise<Run> {
	const stdout = sink();
	const stderr = sink();
	const code = await zabbixGetCommand(args, {stdout: stdout.stream, stderr: stderr.stream, env: {SECMON_HOME: home}});
	checkJsonOutput(['zabbix-get', ...args], stdout.text());
	return {stdout: stdout.text(), stderr: stderr.text(), code};
}

function firstLine(stderr: string): string {
	return (stderr.split('\n')[0] ?? '').replace(/^secmon zabbix-get: /, '');
}

function jsonLines(stdout: string): unknown[] {
	return stdout.trimEnd().split('\n').map(line => JSON.parse(line) as unknown);
}

async function listen(server: net.Server): Promise<number> {
	const port = await zabbixPort();
	await new Promise<void>(resolve => {
		server.listen(port, '127.0.0.1', resolve);
	});
	return port;
}

/** A TCP relay to `target` that counts connections and records each request body. */
async function relay(target: number): Promise<{port: number; requests: string[]; close: () => void}> {
	const requests: string[] = [];
	const server = net.createServer(client => {
		const decoder = new FrameDecoder();
		const upstream = net.connect(target, '127.0.0.1');
		client.on('error', () => undefined);
		upstream.on('error', () => undefined);
		client.on('data', chunk => {
			const frame = decoder.push(chunk);
			if (frame) {
				requests.push(frame.data.toString());
			}

			upstream.write(chunk);
		});
		upstream.pipe(client);
		client.on('end', () => upstream.end());
	});
	const port = await listen(server);
	return {
		port,
		requests,
		close() {
			server.close();
		},
	};
}

type Answer = Buffer | string | ((request: {key: string; timeout: number}) => Buffer | string);

/** A fake Zabbix 7 agent: parses the JSON request and sends `answer` (a JSON text, or raw bytes). */
async function fakeAgent7(answer: Answer): Promise<{port: number; requests: string[]; close: () => void}> {
	const requests: string[] = [];
	const server = net.createServer(socket => {
		socket.on('error', () => undefined);
		const decoder = new FrameDecoder();
		socket.on('data', chunk => {
			const frame = decoder.push(chunk);
			if (!frame) {
				return;
			}

			const body = frame.data.toString();
			requests.push(body);
			let request = {key: body, timeout: 0};
			try {
				const parsed = JSON.parse(body) as {data: Array<{key: string; timeout: number}>};
				request = parsed.data[0]!;
			} catch {
				// A plain key: answered like any other.
			}

			const reply = typeof answer === 'function' ? answer(request) : answer;
			socket.end(encodeFrame(Buffer.isBuffer(reply) ? reply : Buffer.from(reply)));
		});
	});
	const port = await listen(server);
	return {
		port,
		requests,
		close() {
			server.close();
		},
	};
}

const v7 = (entry: Record<string, unknown>) => JSON.stringify({version: '7.0.13', variant: 1, data: [entry]});

beforeAll(() => {
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-zg7-home-'));
});

afterAll(() => {
	rmSync(home, {recursive: true, force: true});
});

describe.runIf(zabbixPeersInstalled())('-P against the real zabbix_agentd 6.0', () => {
	let agent: Agent;
	const base = () => ['-s', agent.host, '-p', String(agent.port)];
	beforeAll(async () => {
		agent = await startAgent('plain');
	});
	afterAll(async () => agent?.stop());

	it.each([
		['auto (default)', []],
		['-P auto', ['-P', 'auto']],
		['--protocol plaintext', ['--protocol', 'plaintext']],
	])('%s: the same stdout and exit code as zabbix_get 6.0', async (_name, flags) => {
		for (const key of ['agent.ping', 'no.such.key', 'agent.version', 'system.cpu.load[bogus]']) {
			const [ours, theirs] = [await secmon([...base(), ...flags, '-k', key]), await runZabbixGet([...base(), '-k', key])];
			expect(ours).toEqual({stdout: theirs.stdout, stderr: '', code: theirs.code});
			expect(theirs.code).toBe(0);
		}
	});

	it('-P json: zabbix_get 7\'s "JSON protocol requested but received plaintext response", exit 1', async () => {
		const ours = await secmon([...base(), '-P', 'json', '-k', 'agent.ping']);
		expect(ours.stdout).toBe('');
		expect(ours.code).toBe(1);
		expect(firstLine(ours.stderr)).toBe('Get value error: JSON protocol requested but received plaintext response');
		expect(ours.stderr).toContain('Use -P auto or -P plaintext');
	});

	it('auto remembers the fallback: 5 keys cost 6 requests (one JSON), plaintext 5', async () => {
		const counting = await relay(agent.port);
		try {
			const keys = ['agent.ping', 'agent.version', 'no.such.key', 'agent.hostname', 'agent.ping'];
			const args = ['-s', '127.0.0.1', '-p', String(counting.port), ...keys.flatMap(key => ['-k', key])];
			const auto = await secmon(args);
			expect(auto.code).toBe(0);
			expect(counting.requests).toHaveLength(6);
			expect(JSON.parse(counting.requests[0]!)).toEqual({request: 'passive checks', data: [{key: 'agent.ping', timeout: 30}]});
			expect(counting.requests.slice(1)).toEqual(keys);
			const plain = await secmon([...args, '-P', 'plaintext']);
			expect(plain.stdout).toBe(auto.stdout);
			expect(counting.requests).toHaveLength(11);
		} finally {
			counting.close();
		}
	});

	it('--json: one object per key, protocol plaintext, no version', async () => {
		const ours = await secmon([...base(), '--json', '-k', 'agent.ping', '-k', 'no.such.key']);
		expect(ours.code).toBe(0);
		expect(jsonLines(ours.stdout)).toEqual([
			{key: 'agent.ping', value: '1', protocol: 'plaintext'},
			{key: 'no.such.key', error: 'Unsupported item key.', protocol: 'plaintext'},
		]);
	});

	it('the main command\'s zabbix:// --json samples say the agent answered in plain text (no version)', async () => {
		const ours = await runSecmon(['--host', `zabbix://${agent.host}:${agent.port}`, '--secure', 'off', '--json', '-t', '1', '-s', '2', 'agent.ping'], {env: {SECMON_HOME: home}});
		expect(ours.code, ours.stderr).toBe(0);
		expect(jsonLines(ours.stdout)).toMatchObject([
			{metric: 'agent.ping', value: 1, agent: {protocol: 'plaintext'}},
			{metric: 'agent.ping', value: 1, agent: {protocol: 'plaintext'}},
		]);
		expect(ours.stdout).not.toContain('version');
		// An unknown key among good ones, in one shot (-f) and sampling: a per-metric error in the sample.
		for (const mode of [['-f'], ['-t', '1', '-s', '1']]) {
			const unknown = await runSecmon(['--host', `zabbix://${agent.host}:${agent.port}`, '--secure', 'off', '--json', ...mode, 'agent.ping', 'no.such.key'], {env: {SECMON_HOME: home}});
			expect(unknown.code).toBe(1);
			expect(jsonLines(unknown.stdout)).toMatchObject([
				{type: 'sample', metric: 'agent.ping', value: 1},
				{type: 'sample', metric: 'no.such.key', error: {code: -12_357, message: 'ZBX_NOTSUPPORTED: Unsupported item key.'}},
			]);
		}
	});

	it('--tls-cipher13 is accepted and applied (psk agent; Debian\'s agentd speaks TLS 1.2, so its value is unchanged)', async () => {
		const pskAgent = await startAgent('psk');
		try {
			const args = ['-s', pskAgent.host, '-p', String(pskAgent.port), '--tls-connect', 'psk', '--tls-psk-identity', pskAgent.pskIdentity, '--tls-psk-file', pskAgent.pskFile, '-k', 'agent.ping'];
			expect(await secmon([...args, '--tls-cipher13', 'TLS_AES_256_GCM_SHA384'])).toEqual({stdout: '1\n', stderr: '', code: 0});
			const odd = await secmon([...args, '--tls-cipher13', 'NORMAL:+VERS-TLS1.3']);
			expect(odd.stdout).toBe('1\n');
			expect(odd.stderr).toContain('--tls-cipher13 "NORMAL:+VERS-TLS1.3" is not a list of OpenSSL TLS 1.3 suite names');
		} finally {
			await pskAgent.stop();
		}
	});
});

describe('-P usage', () => {
	it('an unknown protocol: zabbix_get 7\'s "Invalid protocol", exit 2 (usage)', async () => {
		const ours = await secmon(['-s', '127.0.0.1', '-P', 'xml', '-k', 'agent.ping']);
		expect(ours.code).toBe(2);
		expect(firstLine(ours.stderr)).toBe('Invalid protocol "xml"');
	});

	it('-P twice is refused by name', async () => {
		const ours = await secmon(['-s', '127.0.0.1', '-P', 'json', '-P', 'auto', '-k', 'agent.ping']);
		expect(ours.code).toBe(2);
		expect(firstLine(ours.stderr)).toBe('option "-P" or "--protocol" specified multiple times');
	});

	it('--tls-cipher13 is a known option (never "invalid option --tlsCipher13")', async () => {
		const port = String(await zabbixPort());
		const ours = await secmon(['-s', '127.0.0.1', '-p', port, '--tls-cipher13', 'TLS_AES_128_GCM_SHA256', '-k', 'agent.ping']);
		expect(ours.stderr).not.toContain('invalid option');
		expect(ours.code).toBe(1);
	});
});

describe('a fake Zabbix 7 agent', () => {
	it('sends the documented request with -t as the timeout, prints the value, --json carries version and variant', async () => {
		const agent = await fakeAgent7(request => v7({value: request.key === 'agent.ping' ? '1' : 'line 1\nline 2\n'}));
		try {
			const base = ['-s', '127.0.0.1', '-p', String(agent.port)];
			expect(await secmon([...base, '-t', '5', '-k', 'agent.ping'])).toEqual({stdout: '1\n', stderr: '', code: 0});
			expect(agent.requests).toEqual(['{"request":"passive checks","data":[{"key":"agent.ping","timeout":5}]}']);
			const json = await secmon([...base, '--json', '-k', 'agent.ping', '-k', 'multi']);
			expect(jsonLines(json.stdout)).toEqual([
				{
					key: 'agent.ping', value: '1', protocol: 'json', version: '7.0.13', variant: 1,
				},
				{
					key: 'multi', value: 'line 1\nline 2\n', protocol: 'json', version: '7.0.13', variant: 1,
				},
			]);
		} finally {
			agent.close();
		}
	});

	it('the main command\'s zabbix:// --json samples carry the agent\'s protocol, version and variant', async () => {
		const agent = await fakeAgent7(request => v7({value: request.key === 'agent.ping' ? '1' : '7.0.13'}));
		try {
			const ours = await runSecmon(['--host', `zabbix://127.0.0.1:${agent.port}`, '--secure', 'off', '--json', '-t', '1', '-s', '2', 'agent.ping', 'agent.version'], {env: {SECMON_HOME: home}});
			expect(ours.code, ours.stderr).toBe(0);
			const agentFacts = {protocol: 'json', version: '7.0.13', variant: 1};
			expect(jsonLines(ours.stdout)).toMatchObject([
				{metric: 'agent.ping', value: 1, agent: agentFacts},
				{metric: 'agent.version', value: '7.0.13', agent: agentFacts},
				{metric: 'agent.ping', value: 1, agent: agentFacts},
				{metric: 'agent.version', value: '7.0.13', agent: agentFacts},
			]);
		} finally {
			agent.close();
		}
	});

	it('the main command\'s --json: a key whose answer was malformed is that failure (secmon\'s code), not an unknown name', async () => {
		const agent = await fakeAgent7(request => (request.key === 'agent.ping' ? v7({value: '1'}) : (request.key === 'broken' ? '{"version":"7.0.13","data":[' : v7({error: 'Unsupported item key.'}))));
		try {
			for (const mode of [['-f'], ['-t', '1', '-s', '1']]) {
				const ours = await runSecmon(['--host', `zabbix://127.0.0.1:${agent.port}`, '--secure', 'off', '--json', ...mode, 'agent.ping', 'broken', 'no.such.key'], {env: {SECMON_HOME: home}});
				expect(ours.code).toBe(1);
				const lines = jsonLines(ours.stdout);
				expect(lines).toMatchObject([
					{type: 'sample', metric: 'agent.ping', value: 1},
					{type: 'sample', metric: 'broken', error: {code: zbxRequestFailedCode}},
					{type: 'sample', metric: 'no.such.key', error: {code: unknownMetric.code, message: 'ZBX_NOTSUPPORTED: Unsupported item key.'}},
				]);
				expect(String((lines[1] as {error: {message: string}}).error.message)).toContain('malformed JSON passive-check answer');
			}
		} finally {
			agent.close();
		}
	});

	it('errors and no data print as zabbix_get 7 prints them', async () => {
		const agent = await fakeAgent7(request => (request.key === 'nodata' ? v7({value: null}) : (request.key === 'top' ? JSON.stringify({version: '7.0.0', variant: 2, error: 'Cannot parse.'}) : v7({error: 'Unsupported item key.'}))));
		try {
			const ours = await secmon(['-s', '127.0.0.1', '-p', String(agent.port), '-k', 'no.such.key', '-k', 'nodata', '-k', 'top']);
			expect(ours).toEqual({stdout: 'ZBX_NOTSUPPORTED: Unsupported item key.\nZBX_NODATA: No value was received.\nZBX_NOTSUPPORTED: Cannot parse.\n', stderr: '', code: 0});
			const json = await secmon(['-s', '127.0.0.1', '-p', String(agent.port), '--json', '-k', 'nodata', '-k', 'top']);
			expect(jsonLines(json.stdout)).toEqual([
				{
					key: 'nodata', value: null, protocol: 'json', version: '7.0.13', variant: 1,
				},
				{
					key: 'top', error: 'Cannot parse.', protocol: 'json', version: '7.0.0', variant: 2,
				},
			]);
		} finally {
			agent.close();
		}
	});

	it('auto stays on JSON with a 7 agent: one request per key', async () => {
		const agent = await fakeAgent7(v7({value: '1'}));
		try {
			const keys = Array.from({length: 20}, (_, index) => `k${index}`);
			const ours = await secmon(['-s', '127.0.0.1', '-p', String(agent.port), ...keys.flatMap(key => ['-k', key])]);
			expect(ours.stdout).toBe('1\n'.repeat(20));
			expect(agent.requests).toHaveLength(20);
			expect(agent.requests.every(request => request.startsWith('{"request":"passive checks"'))).toBe(true);
		} finally {
			agent.close();
		}
	});

	it.each([
		['two entries for one key', JSON.stringify({version: '7.0.0', data: [{value: '1'}, {value: '2'}]}), '2 entries in "data" for one key'],
		['bad JSON', '{"version":"7.0.0","data":[{"value":"1"}', 'not valid JSON'],
		['no data', '{"version":"7.0.0"}', 'no "data" array'],
		['a lying version', JSON.stringify({version: '\u001B]0;pwned\u0007', data: [{value: '1'}]}), 'a "version" that is not a version'],
	])('a hostile agent (%s): an error naming the agent on stderr, exit 1, nothing on stdout', async (_name, answer, message) => {
		const agent = await fakeAgent7(answer);
		try {
			const ours = await secmon(['-s', '127.0.0.1', '-p', String(agent.port), '-k', 'agent.ping']);
			expect(ours.code).toBe(1);
			expect(ours.stdout).toBe('');
			expect(firstLine(ours.stderr)).toContain(`Get value error: The Zabbix agent 127.0.0.1:${agent.port} sent a malformed JSON passive-check answer: ${message}`);
			expect(ours.stderr).not.toContain('\u001B]0;');
			// Not taken for an old agent: no plain-text retry.
			expect(agent.requests).toHaveLength(1);
		} finally {
			agent.close();
		}
	});

	it('a huge value arrives whole; one over the frame limit is refused from the header', async () => {
		const big = 'x'.repeat(4 * 1024 * 1024);
		const agent = await fakeAgent7(v7({value: big}));
		try {
			const ours = await secmon(['-s', '127.0.0.1', '-p', String(agent.port), '-k', 'big']);
			expect(ours.code).toBe(0);
			expect(ours.stdout).toBe(`${big}\n`);
		} finally {
			agent.close();
		}

		const header = Buffer.alloc(13);
		header.write('ZBXD', 0, 'latin1');
		header[4] = 1;
		header.writeUInt32LE(0xFF_FF_FF_F0, 5);
		// Raw bytes, not framed by the fake: a header that declares almost 4 GiB.
		const liar = net.createServer(socket => {
			socket.on('error', () => undefined);
			socket.once('data', () => socket.end(header));
		});
		const port = await listen(liar);
		try {
			const ours = await secmon(['-s', '127.0.0.1', '-p', String(port), '-k', 'big']);
			expect(ours.code).toBe(1);
			expect(ours.stdout).toBe('');
			expect(ours.stderr).toContain('secmon stops there');
		} finally {
			liar.close();
		}
	});
});
