import {Writable} from 'node:stream';
import {describe, expect, test} from 'vitest';
import {worseExitCode} from '../../source/errors.js';
import {parseHostsFile} from '../../source/argv/hosts-file.js';
import {
	forEachBounded, oneAtATime, OrderedOutput, slots,
} from '../../source/live/fanout.js';

class Sink extends Writable {
	text = '';
	override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
		this.text += chunk.toString();
		callback();
	}
}

describe('forEachBounded', () => {
	test('never more than the limit at once, every item once', async () => {
		let inFlight = 0;
		let most = 0;
		const seen: number[] = [];
		const gates: Array<() => void> = [];
		const run = forEachBounded(Array.from({length: 10}, (_, i) => i), 3, async item => {
			inFlight++;
			most = Math.max(most, inFlight);
			await new Promise<void>(resolve => {
				gates.push(resolve);
			});
			seen.push(item);
			inFlight--;
		});
		// Open the gates one by one, in reverse order of arrival where possible.
		while (seen.length < 10) {
			await new Promise(resolve => {
				setImmediate(resolve);
			});
			gates.pop()?.();
		}

		await run;
		expect(most).toBe(3);
		expect(seen.toSorted((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
	});
});

describe('slots (the panes\' connects)', () => {
	test('never more than the limit at once, in the order asked; a failed task frees its slot', async () => {
		const slot = slots(2);
		let inFlight = 0;
		let most = 0;
		const started: number[] = [];
		const gates = new Map<number, {resolve: () => void; reject: (error: Error) => void}>();
		const tasks = Array.from({length: 6}, async (_, i) => slot(async () => {
			inFlight++;
			most = Math.max(most, inFlight);
			started.push(i);
			try {
				await new Promise<void>((resolve, reject) => {
					gates.set(i, {resolve, reject});
				});
				return i;
			} finally {
				inFlight--;
			}
		}));
		const settled = Promise.allSettled(tasks);
		const tick = async () => new Promise(resolve => {
			setImmediate(resolve);
		});
		await tick();
		expect(started).toEqual([0, 1]);
		gates.get(1)!.reject(new Error('refused'));
		await tick();
		expect(started).toEqual([0, 1, 2]);
		for (const i of [0, 2, 3, 4, 5]) {
			await tick();
			gates.get(i)!.resolve();
		}

		const results = await settled;
		expect(results.map(result => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
		expect(started).toEqual([0, 1, 2, 3, 4, 5]);
		expect(most).toBe(2);
		// All slots free again: two more start at once.
		const again = [slot(async () => 'a'), slot(async () => 'b')];
		expect(await Promise.all(again)).toEqual(['a', 'b']);
	});
});

describe('OrderedOutput', () => {
	test('each collector\'s output together and in argument order, whoever finishes first', () => {
		const stdout = new Sink();
		const stderr = new Sink();
		const out = new OrderedOutput({stdout, stderr}, 3);
		const [a, b, c] = [out.io(0), out.io(1), out.io(2)];
		c.stdout.write('c1 ');
		b.stdout.write('b1 ');
		b.stderr.write('b-err ');
		a.stdout.write('a1 ');
		out.finish(2);
		out.finish(1);
		expect(stdout.text).toBe('a1 ');
		a.stdout.write('a2 ');
		out.finish(0);
		expect(stdout.text).toBe('a1 a2 b1 c1 ');
		expect(stderr.text).toBe('b-err ');
	});
});

describe('oneAtATime', () => {
	test('a second question waits for the first answer', async () => {
		const asked: string[] = [];
		const answers: Array<() => void> = [];
		const ask = oneAtATime(async question => {
			asked.push(question.reason);
			await new Promise<void>(resolve => {
				answers.push(resolve);
			});
			return 'reject';
		});
		const question = (reason: string): Parameters<typeof ask>[0] => ({target: {host: 'h', port: 1}, certificate: undefined as unknown as Parameters<typeof ask>[0]['certificate'], reason});
		const first = ask(question('one'));
		const second = ask(question('two'));
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		expect(asked).toEqual(['one']);
		answers.shift()!();
		await first;
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		expect(asked).toEqual(['one', 'two']);
		answers.shift()!();
		await expect(second).resolves.toBe('reject');
	});
});

test('worseExitCode: changed certificate > TLS required > untrusted > usage > failure > ok', () => {
	const order = [0, 1, 2, 3, 5, 4];
	for (const [i, lower] of order.entries()) {
		for (const higher of order.slice(i)) {
			expect(worseExitCode(lower, higher)).toBe(higher);
			expect(worseExitCode(higher, lower)).toBe(higher);
		}
	}
});

test('parseHostsFile: comments, blank lines, one spec a line', () => {
	expect(parseHostsFile('# fleet\n\na:1\n  pcps://b:2  # web\nc#d\n', 'f')).toEqual(['a:1', 'pcps://b:2', 'c#d']);
	expect(() => parseHostsFile('a b\n', 'f')).toThrow(/line 1: one host spec per line/v);
});
