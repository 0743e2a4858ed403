/**
 * The built CLI end to end: `secmon serve` as a process (start-up lines,
 * SIGTERM), and secmon's own client querying it through the secure path
 * (pcps://, --ca-file) with the same answers real pminfo gets.
 */
import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {runPminfo} from '../helpers/pminfo.js';
import {cliPath, runSecmon} from '../helpers/secmon.js';
import {clientTlsConf, servePort} from './helpers.js';

const built = existsSync(cliPath);

describe.skipIf(!built)('secmon serve from the built CLI (npm test builds dist/ first)', () => {
	let home: string;
	let port: number;
	let child: ReturnType<typeof spawn>;
	let stdout = '';
	let stderr = '';
	let exited: Promise<number | null>;

	beforeAll(async () => {
		home = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-cli-'));
		port = await servePort();
		child = spawn(process.execPath, [cliPath, 'serve', '--listen', `127.0.0.1:${port}`], {
			env: {PATH: process.env['PATH'] ?? '/usr/bin:/bin', SECMON_HOME: home},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
		});
		child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		exited = new Promise(resolve => {
			child.once('exit', code => {
				resolve(code);
			});
		});
		for (let i = 0; i < 200 && !stdout.includes('CA certificate for clients'); i++) {
			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
		}
	});

	afterAll(async () => {
		if (child.exitCode === null) {
			child.kill('SIGKILL');
		}

		rmSync(home, {recursive: true, force: true});
	});

	test('prints where it listens and the CA to trust', () => {
		expect(stderr).toBe('');
		expect(stdout).toContain(`secmon serve: created a local CA and a server certificate in ${path.join(home, 'serve')}`);
		expect(stdout).toContain(`secmon serve: listening on 127.0.0.1:${port} (TLS required)`);
		expect(stdout).toContain(`secmon serve: CA certificate for clients: ${path.join(home, 'serve', 'ca.pem')}`);
	});

	test('secmon\'s own client gets what pminfo gets, over verified TLS', async () => {
		const caFile = path.join(home, 'serve', 'ca.pem');
		const clientHome = mkdtempSync(path.join(os.tmpdir(), 'secmon-serve-client-'));
		try {
			const ours = await runSecmon(['--host', `pcps://127.0.0.1:${port}`, '--ca-file', caFile, '-d', '-m', '-t', 'hinv.ncpu', 'kernel.all.load', 'disk.dev.read'], {env: {SECMON_HOME: clientHome}});
			const conf = clientTlsConf(clientHome, 'verify.conf', {ca: caFile});
			const theirs = await runPminfo(['-h', `127.0.0.1:${port}`, '-d', '-m', '-t', 'hinv.ncpu', 'kernel.all.load', 'disk.dev.read'], {PCP_SECURE_SOCKETS: 'enforce', PCP_TLSCONF_PATH: conf});
			expect(ours.stderr).toBe('');
			expect(ours.code).toBe(0);
			expect(ours.stdout).toBe(theirs.stdout);
		} finally {
			rmSync(clientHome, {recursive: true, force: true});
		}
	});

	test('SIGTERM stops it cleanly', async () => {
		child.kill('SIGTERM');
		expect(await exited).toBe(0);
		expect(stdout).toContain('secmon serve: stopped');
	});
});
