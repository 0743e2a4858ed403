/**
 * `secmon pmval`'s command line: pmval's instance lists and metric specs, and the usage errors
 * (secmon's form and exit 2) for what live sampling cannot do. Whole runs against the real pmval
 * are in test/e2e/pmval-compat.test.ts.
 */
import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {parseMetricSpec, pmvalCommand, splitInstances} from '../../source/commands/pmval.js';

function sink(): {stream: Writable; text: () => string} {
	let text = '';
	const stream = new Writable({
		write(chunk: Uint8Array, _encoding, done) {
			text += Buffer.from(chunk).toString('utf8');
			done();
		},
	});
	return {stream, text: () => text};
}

async function run(argv: string[]): Promise<{code: number; stdout: string; stderr: string}> {
	const stdout = sink();
	const stderr = sink();
	const code = await pmvalCommand(argv, {stdout: stdout.stream, stderr: stderr.stream, env: {}});
	return {code, stdout: stdout.text(), stderr: stderr.text()};
}

describe('instance lists (pmval.c getinstance)', () => {
	it.each([
		['bin-100,bin-200', ['bin-100', 'bin-200']],
		['\'1 minute\',\'5 minute\'', ['1 minute', '5 minute']],
		['"1 minute" "5 minute"', ['1 minute', '5 minute']],
		['  a ,, b\tc ', ['a', 'b', 'c']],
		['"a,b"', ['a,b']],
	])('%s', (list, names) => {
		expect(splitInstances(list)).toEqual(names);
	});
});

describe('metric specs (PCPIntro(1))', () => {
	it('METRIC, HOST:METRIC, METRIC[INST,...]', () => {
		expect(parseMetricSpec('kernel.all.load')).toEqual({metric: 'kernel.all.load'});
		expect(parseMetricSpec('collector:kernel.all.load')).toEqual({host: 'collector', metric: 'kernel.all.load'});
		expect(parseMetricSpec('127.0.0.1:44321:kernel.all.load["1 minute",5]')).toEqual({host: '127.0.0.1:44321', metric: 'kernel.all.load', instances: ['1 minute', '5']});
	});
});

describe('usage', () => {
	it.each([
		[['-d', 'x'], 'delay can only be used with archives (-d)'],
		[['-A', '1min', 'x'], 'time window options are supported for archives only (-A)'],
		[['-S', '+1', 'x'], 'time window options are supported for archives only (-S)'],
		[['-a', 'archive', 'x'], '-a is not supported: secmon pmval samples a live pmcd'],
		[['-x', '.', 'x'], '-x is not supported: pmval stores its value into the metric on pmcd (pmStore) before fetching, and secmon pmval only reads'],
		[['-z', '-Z', 'UTC', 'x'], 'at most one of -Z and -z allowed'],
		[['-f', 'x', 'x'], '-f requires +ve numeric argument, got "x"'],
		[['-w', '0', 'x'], '-w requires +ve numeric argument, got "0"'],
		[['-s', 'abc', 'x'], '-s requires a positive numeric argument, got "abc"'],
		[['-t', 'abc', 'x'], '-t argument not in pmParseHighResInterval(3) format: "abc"'],
		[['-T', '12:00', 'x'], '-T "12:00": give DELTA or +DELTA, e.g. -T 10sec (absolute times are not supported)'],
		[[], 'no metricname specified'],
		[['a', 'b'], 'too many arguments: one metricname, got 2'],
		[['-q', 'x'], 'unknown option -q for secmon pmval'],
	])('%j', async (argv, message) => {
		const result = await run(argv);
		expect(result.code).toBe(2);
		expect(result.stdout).toBe('');
		expect(result.stderr).toBe(`secmon: ${message}${message.startsWith('unknown option') ? '' : ' (secmon pmval)'}\nsee: secmon pmval --help\n`);
	});

	it('-? and --help print the help, -V the version', async () => {
		for (const flag of ['-?', '--help']) {
			const help = await run([flag]);
			expect(help.code).toBe(0);
			expect(help.stdout).toMatch(/^Usage: secmon pmval \[options] metricname\n/);
		}

		const version = await run(['-V']);
		expect(version.code).toBe(0);
		expect(version.stdout).toMatch(/^secmon pmval version \d+\.\d+\.\d+ \(pmval 6\.0\.3 output\)\n$/);
	});
});
