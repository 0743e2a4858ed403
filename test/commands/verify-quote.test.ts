import {execFileSync} from 'node:child_process';
import {
	existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
	afterAll, describe, expect, it,
} from 'vitest';
import {testPki} from '../helpers/certs.js';
import {runSecmon} from '../helpers/secmon.js';

const temporary: string[] = [];
const servers: net.Server[] = [];

afterAll(async () => {
	await Promise.all(servers.map(async server => new Promise<void>(resolve => {
		server.close(() => {
			resolve();
		});
	})));
	for (const dir of temporary) {
		rmSync(dir, {recursive: true, force: true});
	}
});

async function listen(server: net.Server): Promise<number> {
	servers.push(server);
	return new Promise(resolve => {
		server.listen(0, '127.0.0.1', () => {
			resolve((server.address() as net.AddressInfo).port);
		});
	});
}

describe('secmon verify: the command it prints to pin a collector', () => {
	it('quotes every argument, so pasted into a shell it runs exactly that (a ? in the host spec, $( ) in a file name)', async () => {
		const pki = await testPki();
		const port = await listen(tls.createServer({
			key: pki.server.key, cert: pki.server.cert, requestCert: true, rejectUnauthorized: false,
		}, socket => {
			socket.on('error', () => undefined);
		}));
		const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-verify-quote-'));
		temporary.push(dir);
		const home = path.join(dir, 'home');
		const odd = path.join(dir, 'a b $(touch PWNED) \'q\'');
		mkdirSync(odd);
		const cert = path.join(odd, 'client.pem');
		const key = path.join(odd, 'client.key');
		writeFileSync(cert, pki.client.cert);
		writeFileSync(key, pki.client.key, {mode: 0o600});
		const host = `pmproxy://127.0.0.1:${port}?hostspec=pmcd1:44321`;
		// A file the unquoted host spec would glob to (its ? matches the _), where the shell runs.
		mkdirSync(path.join(dir, 'pmproxys:'));
		writeFileSync(path.join(dir, 'pmproxys:', `127.0.0.1:${port}_hostspec=pmcd1:44321`), '');
		const result = await runSecmon(['verify', '--host', host, '--cert', cert, '--key', key], {env: {SECMON_HOME: home}});
		expect(result.code, result.stdout + result.stderr).toBe(3);
		const line = result.stdout.split('\n').map(text => text.trim()).find(text => text.includes('secmon --host') && text.includes('--fingerprint'));
		expect(line, result.stdout).toBeDefined();
		const command = line!.slice(line!.indexOf('secmon --host'));
		// The shell's own reading of the printed command: one argument a line.
		const words = execFileSync('sh', ['-c', `printf '%s\\n' ${command.slice('secmon '.length)}`], {cwd: dir, encoding: 'utf8'}).split('\n').slice(0, -1);
		expect(words.slice(0, 8)).toEqual(['--host', `pmproxys://127.0.0.1:${port}?hostspec=pmcd1:44321`, '--cert', cert, '--key', key, '-f', 'hinv.ncpu']);
		expect(words[8]).toBe('--fingerprint');
		expect(existsSync(path.join(dir, 'PWNED'))).toBe(false);
	});
});
