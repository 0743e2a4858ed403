/**
 * Terminal safety (issue 14 part 1): the real binary under a real pseudo-terminal (util-linux
 * `script`) against collectors that send escape sequences — a hostile pmcd (values, instance
 * names, help text) and a TLS collector whose certificate names carry a one-byte CSI and a
 * right-to-left override. No raw control sequence from a peer may reach the terminal; in a pipe
 * the pminfo-compatible output keeps the peer's exact bytes, as pminfo does.
 */
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {hostileText, rawSequences, startHostilePmcd} from '../helpers/hostile-pmcd.js';
import {shellQuote} from '../../source/shell.js';
import {cliPath, runSecmon, tempHome} from '../helpers/secmon.js';

let pmcd: Awaited<ReturnType<typeof startHostilePmcd>>;
let home: ReturnType<typeof tempHome>;

beforeAll(async () => {
	pmcd = await startHostilePmcd();
	home = tempHome();
});

afterAll(async () => {
	await pmcd?.close();
	home?.remove();
});

/** The command in a pseudo-terminal of 120×40; everything it wrote to the terminal, as text. */
async function inTerminal(args: string[], env: Record<string, string> = {}): Promise<{output: string; code: number | null}> {
	const command = `stty cols 120 rows 40; exec ${[process.execPath, cliPath, ...args].map(argument => shellQuote(argument)).join(' ')}`;
	return new Promise((resolve, reject) => {
		const child = spawn('script', ['-qec', command, '/dev/null'], {
			env: {
				PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home.dir, SECMON_HOME: home.dir, TERM: 'xterm-256color', TZ: 'UTC', ...env,
			},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const chunks: Buffer[] = [];
		child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
		}, 30_000);
		child.on('error', reject);
		child.on('close', code => {
			clearTimeout(timer);
			resolve({output: Buffer.concat(chunks).toString('utf8'), code});
		});
	});
}

function expectInert(output: string): void {
	for (const sequence of rawSequences) {
		expect(output, `raw ${JSON.stringify(sequence)} reached the terminal`).not.toContain(sequence);
	}
}

describe('a hostile pmcd cannot reach the terminal', () => {
	it('pminfo mode on a terminal: values, instance names and help text are escaped', async () => {
		const {output, code} = await inTerminal(['--secure', 'off', '-h', pmcd.address, '-fT', 'hostile.string', 'hostile.inst']);
		expect(code).toBe(0);
		expectInert(output);
		expect(output).toContain(String.raw`ok\x1b]0;PWNED\x07\x1b[2JZZ`);
		expect(output).toContain(String.raw`one\x9b2Jx`);
		expect(output).toContain(String.raw`evil\u202etxt.exe`);
		expect(output).toContain(String.raw`help\x1b[31mRED`);
	});

	it('pminfo mode in a pipe keeps the collector\'s exact bytes, as pminfo does', async () => {
		const r = await runSecmon(['--secure', 'off', '-h', pmcd.address, '-f', 'hostile.string'], {env: {SECMON_HOME: home.dir}});
		expect(r.code).toBe(0);
		expect(r.stdout).toContain(hostileText.value);
	});

	it('text sampling is escaped, in a terminal and in a pipe', async () => {
		const {output} = await inTerminal(['--secure', 'off', '-h', pmcd.address, '-t', '0.2', '-s', '1', 'hostile.string', 'hostile.inst']);
		expectInert(output);
		expect(output).toContain(String.raw`evil\u202etxt.exe`);
		const piped = await runSecmon(['--secure', 'off', '-h', pmcd.address, '-t', '0.2', '-s', '1', 'hostile.string'], {env: {SECMON_HOME: home.dir}});
		expectInert(piped.stdout);
	});

	it('--json on a terminal: the same JSON values, with nothing a terminal acts on', async () => {
		const {output} = await inTerminal(['--secure', 'off', '-h', pmcd.address, '--json', 'hostile.string', 'hostile.inst']);
		expectInert(output);
		const lines = output.split(/\r?\n/v).filter(line => line.startsWith('{'));
		const [string, inst] = lines.map(line => JSON.parse(line) as {value?: string; instances?: Array<{name: string}>});
		expect(string!.value).toBe(hostileText.value);
		expect(inst!.instances!.map(instance => instance.name)).toEqual(hostileText.instances);
	});

	it('the live panes draw escaped text', async () => {
		const {output} = await inTerminal(['--secure', 'off', '-h', pmcd.address, '-t', '0.3', '-s', '2', 'hostile.string', 'hostile.inst'], {CI: 'false', FORCE_COLOR: '1'});
		expectInert(output);
		expect(output).toContain(String.raw`evil\u202etxt.exe`);
	});
});

describe('certificate names cannot reach the terminal', () => {
	let server: tls.Server;
	const sockets = new Set<tls.TLSSocket>();
	let port: number;
	let dir: string;

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-evil-cert-'));
		const key = path.join(dir, 'key.pem');
		const cert = path.join(dir, 'cert.pem');
		execFileSync('openssl', [
			'req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-keyout',
			key,
			'-out',
			cert,
			'-days',
			'30',
			'-utf8',
			'-subj',
			'/CN=evil\u202Egnp.exe/O=csi\u009B2J',
			'-addext',
			'subjectAltName=IP:127.0.0.1',
		], {stdio: 'ignore'});
		server = tls.createServer({cert: readFileSync(cert), key: readFileSync(key)}, socket => {
			sockets.add(socket);
			socket.on('error', () => undefined);
			socket.end();
		});
		await new Promise<void>(resolve => {
			server.listen(0, '127.0.0.1', resolve);
		});
		port = (server.address() as {port: number}).port;
	});

	afterAll(async () => {
		// On Node 24 a server socket ended here can stay open after the client process has exited,
		// and close() waits for every connection.
		for (const socket of sockets) {
			socket.destroy();
		}

		await new Promise<void>(resolve => {
			server?.close(() => {
				resolve();
			});
		});
		rmSync(dir, {recursive: true, force: true});
	});

	it('the refusal, certs list/show and verify show the names escaped', async () => {
		const target = `livestatus://127.0.0.1:${port}`;
		const refused = await runSecmon(['--host', target, '-f', 'status:core.num_services'], {env: {SECMON_HOME: home.dir}});
		expect(refused.code).toBe(3);
		expect(refused.stderr).toContain(String.raw`CN=evil\u202egnp.exe`);
		expect(refused.stderr).toContain(String.raw`O=csi\x9b2J`);
		expectInert(refused.stderr);
		await runSecmon(['--host', target, '--accept-new', '-f', 'status:core.num_services'], {env: {SECMON_HOME: home.dir}});
		for (const args of [['certs', 'list'], ['certs', 'show', `127.0.0.1:${port}`], ['verify', '--host', target]]) {
			const {output} = await inTerminal(args);
			expectInert(output);
			expect(output, args.join(' ')).toContain(String.raw`evil\u202egnp.exe`);
		}
	});
});
