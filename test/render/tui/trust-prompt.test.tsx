import {PassThrough} from 'node:stream';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import {
	afterEach, beforeAll, describe, expect, it, vi,
} from 'vitest';
import {isSecmonError} from '../../../source/errors.js';
import {askWithInk} from '../../../source/render/tui/ask.js';
import {TrustPrompt} from '../../../source/render/tui/trust-prompt.js';
import {describeCertificate, fingerprintArgument} from '../../../source/security/certificate.js';
import type {PromptAnswer, TrustQuestion} from '../../../source/security/types.js';
import {testPki} from '../../helpers/certs.js';
import {transpileTree} from '../../helpers/transpile.js';

let question: TrustQuestion;
let expiring: TrustQuestion;

beforeAll(async () => {
	const pki = await testPki();
	question = {target: {host: '127.0.0.1', port: 44_321}, certificate: describeCertificate(pki.selfSigned.cert), reason: 'self-signed certificate'};
	expiring = {...question, certificate: describeCertificate(pki.expiring.cert)};
});

afterEach(() => {
	cleanup();
});

async function settle(): Promise<void> {
	await new Promise(resolve => {
		setTimeout(resolve, 20);
	});
}

async function setup(q: TrustQuestion = question, now?: Date) {
	const answers: PromptAnswer[] = [];
	const onAnswer = (answer: PromptAnswer) => {
		answers.push(answer);
	};

	const instance = render(<TrustPrompt question={q} onAnswer={onAnswer} {...(now ? {now} : {})}/>);
	// Let the first frame render and useInput attach (a passive effect: give it time under load).
	await vi.waitFor(() => {
		expect(instance.lastFrame()).toContain('Trust this collector?');
	});
	await settle();
	await settle();
	const press = async (input: string) => {
		instance.stdin.write(input);
		await settle();
	};

	return {...instance, answers, press};
}

const enter = '\r';
const up = '\u001B[A';
const down = '\u001B[B';
const escape = '\u001B';

describe('<TrustPrompt>', () => {
	it('shows the target, reason, names, validity and both fingerprints, with No selected', async () => {
		const {lastFrame} = await setup();
		const frame = lastFrame() ?? '';
		const cert = question.certificate;
		const bytes = cert.sha256.split(':');
		expect(frame).toContain('The authenticity of collector 127.0.0.1:44321 can\'t be established.');
		expect(frame).toContain('self-signed certificate');
		expect(frame).toContain('CN=collector, O=secmon');
		expect(frame).toContain('(self-signed)');
		expect(frame).toContain('DNS:collector, DNS:localhost, IP Address:127.0.0.1');
		expect(frame).toContain('days left');
		expect(frame).toContain(bytes.slice(0, 16).join(':'));
		expect(frame).toContain(bytes.slice(16).join(':'));
		expect(frame).toContain(cert.sha1);
		expect(frame).toContain('❯ No (n)');
		expect(frame).toContain('  Yes, trust and save (y)');
	});

	it('Enter at the start means No', async () => {
		const {press, answers, lastFrame} = await setup();
		await press(enter);
		await vi.waitFor(() => {
			expect(answers).toEqual(['reject']);
		});
		await vi.waitFor(() => {
			expect(lastFrame()).toContain('Not trusted');
		});
	});

	it.each([
		['y', 'save'],
		['Y', 'save'],
		['o', 'once'],
		['n', 'reject'],
		[escape, 'reject'],
	] as const)('key %j answers %s', async (key, expected) => {
		const {press, answers} = await setup();
		await press(key);
		await vi.waitFor(() => {
			expect(answers).toEqual([expected]);
		});
	});

	it('arrows move the selection; Enter takes it', async () => {
		const first = await setup();
		await first.press(up);
		await vi.waitFor(() => {
			expect(first.lastFrame()).toContain('❯ Accept once');
		});
		await first.press(up);
		await first.press(up);
		await vi.waitFor(() => {
			expect(first.lastFrame()).toContain('❯ Yes, trust and save');
		});
		await first.press(enter);
		await vi.waitFor(() => {
			expect(first.answers).toEqual(['save']);
		});
		cleanup();

		const second = await setup();
		await second.press(up);
		await second.press(up);
		await second.press(down);
		await second.press(enter);
		await vi.waitFor(() => {
			expect(second.answers).toEqual(['once']);
		});
	});

	it('answers only once', async () => {
		const {press, answers} = await setup();
		await press('y');
		await press('n');
		await press(enter);
		await vi.waitFor(() => {
			expect(answers).toEqual(['save']);
		});
	});

	it('pasting the full SHA-256 and pressing Enter counts as yes (OpenSSH style)', async () => {
		const {press, answers, lastFrame} = await setup();
		await press(fingerprintArgument(question.certificate.sha256));
		await vi.waitFor(() => {
			expect(lastFrame()).toContain('matches this certificate: press Enter');
		});
		expect(answers).toEqual([]);
		await press(enter);
		await vi.waitFor(() => {
			expect(answers).toEqual(['save']);
		});
	});

	it('a paste that ends with a newline, in colon form with a SHA256: prefix, also counts', async () => {
		const {press, answers} = await setup();
		await press(`SHA256:${question.certificate.sha256}\r`);
		await vi.waitFor(() => {
			expect(answers).toEqual(['save']);
		});
	});

	it('a wrong fingerprint is not a yes: it says so and asks again', async () => {
		const {press, answers, lastFrame} = await setup();
		const wrong = fingerprintArgument(question.certificate.sha256).replace(/^./v, c => (c === '0' ? '1' : '0'));
		await press(wrong);
		expect(lastFrame()).not.toContain('matches');
		await press(enter);
		expect(answers).toEqual([]);
		await vi.waitFor(() => {
			expect(lastFrame()).toContain('That is not the SHA-256 fingerprint of this certificate');
		});
		await press('n');
		await vi.waitFor(() => {
			expect(answers).toEqual(['reject']);
		});
	});

	it('typed text can be erased; Escape clears it before it means No', async () => {
		const {press, answers, lastFrame} = await setup();
		await press('ab');
		await vi.waitFor(() => {
			expect(lastFrame()).toContain('Fingerprint: ab');
		});
		await press('\u007F');
		await vi.waitFor(() => {
			expect(lastFrame()).toContain('Fingerprint: a');
		});
		await press(escape);
		expect(lastFrame()).not.toContain('Fingerprint:');
		expect(answers).toEqual([]);
		await press(escape);
		await vi.waitFor(() => {
			expect(answers).toEqual(['reject']);
		});
	});

	it('warns when the certificate expires within 30 days, and when it has expired', async () => {
		const soon = await setup(expiring);
		await vi.waitFor(() => {
			expect(soon.lastFrame()).toMatch(/expires in \d day\(s\)/v);
		});
		cleanup();
		const later = new Date(expiring.certificate.validTo.getTime() + (2 * 24 * 3600 * 1000));
		const expired = await setup(expiring, later);
		await vi.waitFor(() => {
			expect(expired.lastFrame()).toContain('EXPIRED 2 day(s) ago');
		});
	});

	it('shows a not-yet-valid certificate in red when colour is on, and Enter still means No', async () => {
		// Ink colours with chalk (its own dependency, the same instance here); the test terminal has
		// no colour, so turn it on for this case.
		// eslint-disable-next-line import-x/no-extraneous-dependencies, n/no-extraneous-import
		const {default: chalk} = await import('chalk');
		const {level} = chalk;
		chalk.level = 1;
		try {
			const before = new Date(question.certificate.validFrom.getTime() - (3 * 24 * 3600 * 1000));
			const {lastFrame, press, answers} = await setup(question, before);
			await vi.waitFor(() => {
				expect(lastFrame()).toMatch(/\u001B\[31m[^\n]*NOT YET VALID: check the clocks/v);
			});
			await press(enter);
			await vi.waitFor(() => {
				expect(answers).toEqual(['reject']);
			});
		} finally {
			chalk.level = level;
		}
	});
});

class FakeTty extends PassThrough {
	isTTY = true;
	isRaw = false;
	columns = 100;
	rows = 40;

	setRawMode(mode: boolean): this {
		this.isRaw = mode;
		return this;
	}

	ref(): this {
		return this;
	}

	unref(): this {
		return this;
	}
}

// A PassThrough stands in for the terminal streams (the parts Ink uses are there).
function isReadStream(stream: unknown): stream is NodeJS.ReadStream {
	return stream instanceof PassThrough;
}

function isWriteStream(stream: unknown): stream is NodeJS.WriteStream {
	return stream instanceof PassThrough;
}

describe('askWithInk', () => {
	it('renders on the given terminal, resolves with the answer and unmounts', async () => {
		const stdin = new FakeTty();
		const output = new FakeTty();
		let drawn = '';
		output.on('data', (chunk: Buffer) => {
			drawn += chunk.toString();
		});

		if (!isReadStream(stdin) || !isWriteStream(output)) {
			throw new Error('unreachable');
		}

		const pending = askWithInk(question, {stdin, output});
		await vi.waitFor(() => {
			expect(drawn).toContain('127.0.0.1:44321');
		});
		await settle();
		stdin.write('o');
		await expect(pending).resolves.toBe('once');
		expect(drawn).toContain('Accepted for this run only');
		expect(stdin.isRaw).toBe(false);
	});

	it('refuses (TRUST_REQUIRED, exit 3, with the commands) when stdin is not a terminal', async () => {
		const stdin = new PassThrough();
		if (!isReadStream(stdin)) {
			throw new Error('unreachable');
		}

		let error: unknown;
		try {
			await askWithInk(question, {stdin});
		} catch (error_) {
			error = error_;
		}

		expect(isSecmonError(error)).toBe(true);
		if (isSecmonError(error)) {
			expect(error.code).toBe('TRUST_REQUIRED');
			expect(error.exitCode).toBe(3);
			expect(error.hint).toContain('--accept-new');
		}
	});

	it('does not load ink or react until a prompt is shown (no static imports)', () => {
		const out = mkdtempSync(path.join(os.tmpdir(), 'secmon-ask-'));
		try {
			const compiled = readFileSync(transpileTree('source/render/tui/ask.ts', out), 'utf8');
			const staticImports = [...compiled.matchAll(/^import\s.*from\s+'([^']+)'/gmv)].map(match => match[1]);
			expect(staticImports.length).toBeGreaterThan(0);
			expect(staticImports.filter(name => /^(?:ink|react)(?:\/|$)/v.test(name ?? ''))).toEqual([]);
			expect(compiled).toContain('import(\'ink\')');
		} finally {
			rmSync(out, {recursive: true, force: true});
		}
	});
});
