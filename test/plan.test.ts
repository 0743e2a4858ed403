import {describe, expect, it} from 'vitest';
import type {Flags} from '../source/argv/main-flags.js';
import {makePlan, thresholdFlags} from '../source/plan.js';

const base: Flags = {
	host: [],
	derived: [],
	warn: [],
	crit: [],
	fetch: false,
	desc: false,
	pmid: false,
	pmidLong: false,
	oneline: false,
	helpText: false,
	labels: false,
	verify: false,
	force: false,
	events: false,
	json: false,
	raw: false,
	names: false,
	once: false,
	acceptNew: false,
};

const tty = {env: {}, stdinIsTty: true, stdoutIsTty: true};
const pipe = {env: {}, stdinIsTty: false, stdoutIsTty: false};

describe('makePlan', () => {
	const shape = (plan: {job: string; format: string}) => `${plan.job}/${plan.format}`;

	it('takes PCP_HOST as the collector when no --host names one (libpcp\'s option parsing)', () => {
		const env = {PCP_HOST: 'pcps://collector:4000'};
		expect(makePlan(['hinv.ncpu'], {...base, fetch: true}, {...pipe, env}).targets.map(t => t.display)).toEqual(['collector:4000']);
		// What s saves in a set: PCP_HOST's collector, so --set reopens it, not the embedded one.
		expect(makePlan(['hinv.ncpu'], {...base, fetch: true}, {...pipe, env}).hosts).toEqual(['pcps://collector:4000']);
		expect(makePlan(['hinv.ncpu'], {...base, fetch: true, host: ['other']}, {...pipe, env}).targets.map(t => t.display)).toEqual(['other:44321']);
		expect(makePlan(['hinv.ncpu'], {...base, fetch: true}, {...pipe, env: {PCP_HOST: ' '}}).targets).toEqual([]);
	});

	it('is pminfo mode with a show flag other than -f alone in a terminal, or no metric', () => {
		for (const flag of ['desc', 'pmid', 'pmidLong', 'oneline', 'helpText', 'labels', 'verify', 'force', 'events'] as const) {
			expect(shape(makePlan(['kernel.all.load'], {...base, [flag]: true}, tty))).toBe('pminfo/pminfo');
			expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true, [flag]: true}, tty))).toBe('pminfo/pminfo');
		}

		expect(shape(makePlan([], base, tty))).toBe('pminfo/pminfo');
		expect(shape(makePlan([], {...base, fetch: true}, tty))).toBe('pminfo/pminfo');
	});

	it('opens the panes for the headline command (-f alone in a terminal)', () => {
		expect(shape(makePlan(['kernel.all.load'], {...base, host: ['collector'], fetch: true}, tty))).toBe('live/tui');
		expect(makePlan(['kernel.all.load'], {...base, fetch: true}, tty).samples).toBe(0);
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true, interval: '2'}, tty))).toBe('live/tui');
	});

	it('keeps -f one-shot in a pipe, with stdin not a terminal, with --once, --names, --json or in CI', () => {
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true}, pipe))).toBe('pminfo/pminfo');
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true}, {...tty, stdinIsTty: false}))).toBe('pminfo/pminfo');
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true}, {...tty, stdoutIsTty: false}))).toBe('pminfo/pminfo');
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true, once: true}, tty))).toBe('pminfo/pminfo');
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true, names: true}, tty))).toBe('pminfo/pminfo');
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true, json: true}, tty))).toBe('pminfo/json');
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true}, {...tty, env: {CI: 'true'}}))).toBe('pminfo/pminfo');
		expect(makePlan(['kernel.all.load'], {...base, fetch: true}, tty).samples).toBe(0);
		expect(makePlan(['kernel.all.load'], {...base, fetch: true, once: true}, tty).samples).toBe(1);
	});

	it('--once without -f lists names as pminfo does, and refuses -s/-t INTERVAL', () => {
		expect(shape(makePlan(['kernel.all'], {...base, once: true}, tty))).toBe('pminfo/pminfo');
		expect(() => makePlan(['kernel.all.load'], {...base, once: true, samples: 3}, tty)).toThrow(/--once takes one sample/v);
		expect(() => makePlan(['kernel.all.load'], {...base, once: true, interval: '2'}, tty)).toThrow(/--once takes one sample/v);
	});

	it('writes pminfo mode as NDJSON with --json', () => {
		expect(shape(makePlan(['kernel.all.load'], {...base, fetch: true, json: true}, tty))).toBe('pminfo/json');
		expect(shape(makePlan([], {...base, json: true}, pipe))).toBe('pminfo/json');
	});

	it('samples live otherwise: TUI in a terminal, text in a pipe with -t/-s, NDJSON with --json', () => {
		expect(shape(makePlan(['kernel.all.load'], base, tty))).toBe('live/tui');
		expect(shape(makePlan(['kernel.all.load'], {...base, samples: 2}, pipe))).toBe('live/text');
		expect(shape(makePlan(['kernel.all.load'], {...base, interval: '2'}, pipe))).toBe('live/text');
		expect(shape(makePlan(['kernel.all.load'], {...base, json: true}, tty))).toBe('live/json');
	});

	it('lists names like pminfo in a pipe when no flag asks for sampling, and with --names anywhere', () => {
		expect(shape(makePlan(['kernel.all'], base, pipe))).toBe('pminfo/pminfo');
		expect(shape(makePlan(['kernel.all'], {...base, names: true}, tty))).toBe('pminfo/pminfo');
	});

	it('takes one sample for --json alone, streams with -t', () => {
		expect(makePlan(['kernel.all.load'], {...base, json: true}, pipe).samples).toBe(1);
		expect(makePlan(['kernel.all.load'], {...base, json: true, interval: '1'}, pipe).samples).toBe(0);
		expect(makePlan(['kernel.all.load'], {...base, json: true, samples: 3}, pipe).samples).toBe(3);
	});

	it('never prompts with --json or without a terminal', () => {
		expect(makePlan([], base, tty).security(undefined).interactive).toBe(true);
		expect(makePlan([], {...base, json: true}, tty).security(undefined).interactive).toBe(false);
		expect(makePlan([], base, pipe).security(undefined).interactive).toBe(false);
	});

	it('takes the secure mode from the flag, then SECMON_, then PCP_, then the scheme', () => {
		const env = {PCP_SECURE_SOCKETS: 'relaxed'};
		expect(makePlan([], base, {...pipe, env}).security(undefined).mode).toBe('relaxed');
		expect(makePlan([], {...base, secure: 'off'}, {...pipe, env}).security(undefined).mode).toBe('off');
		expect(makePlan([], base, {...pipe, env: {SECMON_SECURE_SOCKETS: 'enforce', ...env}}).security(undefined).mode).toBe('enforce');
		const plan = makePlan([], {...base, host: ['pcps://c']}, pipe);
		expect(plan.security(plan.targets[0]).mode).toBe('enforce');
		expect(makePlan([], base, {...pipe, env: {PCP_SECURE_SOCKETS: ''}}).security(undefined).mode).toBe('enforce');
	});

	it('never lets the environment lower a pcps:// spec; only --secure can', () => {
		const plan = makePlan([], {...base, host: ['pcps://c']}, {...pipe, env: {PCP_SECURE_SOCKETS: '0'}});
		expect(plan.security(plan.targets[0])).toMatchObject({mode: 'enforce', modeSource: 'scheme'});
		const relaxed = makePlan([], {...base, host: ['pcps://c?secure=relaxed']}, {...pipe, env: {PCP_SECURE_SOCKETS: 'off'}});
		expect(relaxed.security(relaxed.targets[0]).mode).toBe('relaxed');
		const flagged = makePlan([], {...base, host: ['pcps://c'], secure: 'off'}, pipe);
		expect(flagged.security(flagged.targets[0]).mode).toBe('off');
	});

	it('defaults to relaxed: TLS whenever offered (PCP would be plain text)', () => {
		expect(makePlan([], base, pipe).security(undefined)).toMatchObject({mode: 'relaxed', modeSource: 'default'});
	});

	it('options that imply TLS are named for the refusal, and are a usage error with --secure off or an off variable', () => {
		expect(makePlan([], {...base, caFile: 'ca.pem'}, pipe).security(undefined).tlsRequiredBy).toBe('--ca-file');
		expect(makePlan([], {...base, acceptNew: true}, pipe).security(undefined).tlsRequiredBy).toBe('--accept-new');
		expect(makePlan([], {...base, servername: 'collector'}, pipe).security(undefined).tlsRequiredBy).toBe('--servername');
		expect(makePlan([], base, pipe).security(undefined).tlsRequiredBy).toBeUndefined();
		for (const flags of [{fingerprint: 'AB'}, {caFile: 'ca.pem'}, {acceptNew: true}, {cert: 'c', key: 'k'}, {servername: 'n'}, {pskFile: 'k.psk'}]) {
			expect(() => makePlan([], {...base, ...flags, secure: 'off'}, pipe)).toThrow(/needs? TLS, but --secure off turns TLS off/v);
			expect(() => makePlan([], {...base, ...flags}, {...pipe, env: {PCP_SECURE_SOCKETS: 'no'}})).toThrow(/PCP_SECURE_SOCKETS=no turns TLS off/v);
		}
	});

	it('says once that the two variables disagree', () => {
		const plan = makePlan([], {...base, host: ['a', 'b', 'pcp://c']}, {...pipe, env: {PCP_SECURE_SOCKETS: 'enforce', SECMON_SECURE_SOCKETS: 'relaxed'}});
		expect(plan.notices).toHaveLength(1);
		expect(plan.security(plan.targets[0]).mode).toBe('enforce');
		expect(makePlan([], base, {...pipe, env: {PCP_SECURE_SOCKETS: 'enforce'}}).notices).toEqual([]);
	});

	it('a typo in a variable is a usage error, even in a variable a stronger one overrides', () => {
		expect(() => makePlan([], base, {...pipe, env: {PCP_SECURE_SOCKETS: 'yes'}})).toThrow(/PCP_SECURE_SOCKETS="yes" is not a secure mode/v);
		expect(() => makePlan([], base, {...pipe, env: {PCP_SECURE_SOCKETS: 'enforce', SECMON_SECURE_SOCKETS: 'enforced'}})).toThrow(/SECMON_SECURE_SOCKETS/v);
	});

	it('re-run hints carry a mode that came from the environment', () => {
		expect(makePlan([], base, {...pipe, env: {PCP_SECURE_SOCKETS: '1'}}).security(undefined).secureArgument).toBe('enforce');
		expect(makePlan([], {...base, secure: 'enforce'}, {...pipe, env: {PCP_SECURE_SOCKETS: '1'}}).security(undefined).secureArgument).toBeUndefined();
	});

	it('rejects bad input as usage errors', () => {
		const usage = expect.objectContaining({exitCode: 2}) as Error;
		expect(() => makePlan([], {...base, secure: 'maybe'}, pipe)).toThrow(usage);
		expect(() => makePlan([], {...base, interval: 'soon'}, pipe)).toThrow(usage);
		expect(() => makePlan([], {...base, key: 'k.pem'}, pipe)).toThrow(usage);
		expect(() => makePlan([], {...base, cert: 'c.pem'}, pipe)).toThrow(usage);
		expect(() => makePlan([], {...base, samples: -1}, pipe)).toThrow(usage);
		expect(() => makePlan([], {...base, host: ['x:99999']}, pipe)).toThrow(usage);
	});

	it('parses intervals and samples', () => {
		const plan = makePlan(['a.b'], {...base, interval: '500msec', samples: 3}, pipe);
		expect(plan.intervalMs).toBe(500);
		expect(plan.samples).toBe(3);
	});
});

describe('thresholdFlags', () => {
	it('keeps --warn/--crit of metrics named like Object.prototype properties as their own', () => {
		const levels = thresholdFlags({warn: ['constructor=1', '__proto__=2', 'toString=3'], crit: ['constructor=5', '__proto__=6']});
		expect(Object.entries(levels)).toEqual([
			['constructor', {warn: '1', crit: '5'}],
			['__proto__', {warn: '2', crit: '6'}],
			['toString', {warn: '3'}],
		]);
		expect(Object.hasOwn(levels, 'hasOwnProperty')).toBe(false);
	});
});
