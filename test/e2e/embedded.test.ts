/**
 * The readme's first command on a fresh machine: no --host, no collector installed
 * for secmon to find — the built-in collector starts in-process with TLS and is
 * queried through the same verified path (issue 5).
 */
import {readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {
	afterAll, describe, expect, it,
} from 'vitest';
import {runSecmon, tempHome} from '../helpers/secmon.js';

const home = tempHome();

afterAll(() => {
	home.remove();
});

describe('secmon with no --host', () => {
	it('prints kernel.all.load like pminfo -f, from the embedded collector over TLS', async () => {
		const r = await runSecmon(['-f', 'kernel.all.load', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^\nkernel\.all\.load\n {4}inst \[1 or "1 minute"] value [\d.]+\n {4}inst \[5 or "5 minute"] value [\d.]+\n {4}inst \[15 or "15 minute"] value [\d.]+\n\nhinv\.ncpu\n {4}value \d+\n$/);
	});

	it('reports TLS verified by the collector\'s own CA in --json, and keeps its keys private', async () => {
		const r = await runSecmon(['--json', '-f', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(r.code).toBe(0);
		const line = JSON.parse(r.stdout.trim()) as {metric: string; value: number; tls: {version: string; trust: string}};
		expect(line).toMatchObject({metric: 'hinv.ncpu', tls: {trust: 'ca'}});
		expect(line.tls.version).toMatch(/^TLSv1\.[23]$/);
		const serve = path.join(home.dir, 'serve');
		expect(statSync(serve).mode & 0o777).toBe(0o700);
		for (const file of readdirSync(serve).filter(name => name.endsWith('.key'))) {
			expect(statSync(path.join(serve, file)).mode & 0o777).toBe(0o600);
		}
	});

	it('samples in a pipe with -s, counters as rates', async () => {
		const r = await runSecmon(['-s', '2', '-t', '200msec', 'kernel.all.load', 'disk.dev.read'], {env: {SECMON_HOME: home.dir}});
		expect(r.code).toBe(0);
		expect(r.stdout.match(/TLS TLSv1\.[23], ca/g)).toHaveLength(2);
	});
});
