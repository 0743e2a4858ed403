import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterEach, beforeAll, beforeEach, describe, expect, it, vi,
} from 'vitest';
import {isSecmonError, type SecmonError} from '../../source/errors.js';
import {describeCertificate, fingerprintArgument, spkiPin} from '../../source/security/certificate.js';
import {
	changedBanner, formatDate, nameMismatchReason, promptLines, untrustedMessage, validityNote,
} from '../../source/security/messages.js';
import {TrustStore} from '../../source/security/store.js';
import {decideTrust, describeChainError, type TrustInput} from '../../source/security/trust.js';
import type {CertificateInfo, TrustQuestion} from '../../source/security/types.js';
import {renewSelfSigned, testPki, type TestCert} from '../helpers/certs.js';

let home: string;
let store: TrustStore;
let self: CertificateInfo;
let rotated: CertificateInfo;
let wrongName: CertificateInfo;
let selfCert: TestCert;
const target = {host: '127.0.0.1', port: 44_321};

beforeAll(async () => {
	const pki = await testPki();
	selfCert = pki.selfSigned;
	self = describeCertificate(pki.selfSigned.cert);
	rotated = describeCertificate(pki.rotated.cert);
	wrongName = describeCertificate(pki.wrongName.cert);
});

beforeEach(() => {
	home = mkdtempSync(path.join(os.tmpdir(), 'secmon-trust-'));
	vi.stubEnv('SECMON_HOME', home);
	store = new TrustStore(home);
});

afterEach(() => {
	vi.unstubAllEnvs();
	rmSync(home, {recursive: true, force: true});
});

function input(overrides: Partial<TrustInput> = {}): TrustInput {
	return {
		target,
		chain: [self],
		chainVerified: {ok: false, reason: 'DEPTH_ZERO_SELF_SIGNED_CERT'},
		hostnameOk: true,
		caFileGiven: false,
		store,
		acceptNew: false,
		...overrides,
	};
}

async function rejection(promise: Promise<unknown>): Promise<SecmonError> {
	try {
		await promise;
	} catch (error) {
		if (isSecmonError(error)) {
			return error;
		}

		throw error;
	}

	throw new Error('expected a refusal');
}

describe('decideTrust', () => {
	it('(a) CA chain + host name → ca, nothing pinned', async () => {
		expect(await decideTrust(input({chainVerified: {ok: true}, hostnameOk: true}))).toEqual({basis: 'ca', warnings: []});
		expect(store.list()).toEqual([]);
	});

	it('(a) --ca-file is strict: unknown CA → CERT_INVALID exit 3, no prompt', async () => {
		const ask = vi.fn();
		const error = await rejection(decideTrust(input({
			caFileGiven: true, chainVerified: {ok: false, reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'}, ask, acceptNew: true,
		})));
		expect(error.code).toBe('CERT_INVALID');
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain('not signed by the given CA: unknown CA');
		expect(ask).not.toHaveBeenCalled();
		expect(store.list()).toEqual([]);
	});

	it('(a) --ca-file is strict: name mismatch → CERT_INVALID exit 3 saying which names it is for', async () => {
		const error = await rejection(decideTrust(input({
			chain: [wrongName], caFileGiven: true, chainVerified: {ok: true}, hostnameOk: false, hostnameReason: nameMismatchReason(wrongName, '127.0.0.1'), acceptNew: true,
		})));
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain('certificate is for DNS:wrong.example, not 127.0.0.1');
		expect(store.list()).toEqual([]);
	});

	it('(b) a pin decides: same → pinned; a later expiry only warns', async () => {
		await decideTrust(input({acceptNew: true}));
		expect(await decideTrust(input())).toEqual({basis: 'pinned', warnings: []});
		const later = new Date(self.validTo.getTime() + 1000);
		const decision = await decideTrust(input({now: later}));
		expect(decision.basis).toBe('pinned');
		expect(decision.warnings[0]).toContain('expired');
	});

	it('(b) the pin read when the connection was prepared decides, without reading the store again', async () => {
		await decideTrust(input({acceptNew: true}));
		const pin = store.get(target)!;
		const get = vi.spyOn(store, 'get');
		expect(await decideTrust(input({pin}))).toEqual({basis: 'pinned', warnings: []});
		const changed = await rejection(decideTrust(input({pin, chain: [rotated]})));
		expect(changed.code).toBe('CERT_CHANGED');
		// None when prepared (the context was built for CA verification): no pin decides now either.
		const none = await rejection(decideTrust(input({pin: null})));
		expect(none.code).toBe('TRUST_REQUIRED');
		expect(get).not.toHaveBeenCalled();
		get.mockRestore();
	});

	it('(b) a changed certificate → CERT_CHANGED exit 4 with the banner; nothing replaced even with --accept-new or a prompt', async () => {
		await decideTrust(input({acceptNew: true}));
		const ask = vi.fn(async () => 'save' as const);
		const error = await rejection(decideTrust(input({chain: [rotated], acceptNew: true, ask})));
		expect(error.code).toBe('CERT_CHANGED');
		expect(error.exitCode).toBe(4);
		const [summary, rule] = error.message.split('\n');
		expect(summary).toBe('the certificate of collector 127.0.0.1:44321 has CHANGED since it was pinned; connection refused (possible interception)');
		expect(rule).toMatch(/^@{72,}$/v);
		expect(error.message).toContain('WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR 127.0.0.1:44321');
		expect(error.message).toContain(self.sha256);
		expect(error.message).toContain(rotated.sha256);
		expect(error.message).toContain(store.pinPath(target));
		expect(error.hint).toContain('secmon certs remove 127.0.0.1:44321');
		expect(error.hint).toContain(`--fingerprint ${fingerprintArgument(rotated.sha256)}`);
		expect(ask).not.toHaveBeenCalled();
		expect(store.get(target)?.sha256).toBe(self.sha256);
	});

	it('(b) a changed certificate + --fingerprint of the new one replaces the pin, with a warning', async () => {
		await decideTrust(input({acceptNew: true}));
		const decision = await decideTrust(input({chain: [rotated], fingerprint: rotated.sha256}));
		expect(decision.basis).toBe('fingerprint');
		expect(decision.warnings[0]).toContain(`was SHA-256 ${self.sha256}`);
		expect(store.get(target)).toMatchObject({sha256: rotated.sha256, pinnedBy: 'fingerprint'});
	});

	it('(b) a changed certificate + --fingerprint of the OLD one is still the changed banner', async () => {
		await decideTrust(input({acceptNew: true}));
		const error = await rejection(decideTrust(input({chain: [rotated], fingerprint: self.sha256})));
		expect(error.exitCode).toBe(4);
		expect(store.get(target)?.sha256).toBe(self.sha256);
	});

	it('(c) --fingerprint sha256//BASE64 (curl --pinnedpubkey) matches the public key: pins; a mismatch shows the presented pin', async () => {
		const refused = await rejection(decideTrust(input({fingerprint: spkiPin(rotated)})));
		expect(refused.code).toBe('CERT_INVALID');
		expect(refused.exitCode).toBe(3);
		expect(refused.message).toContain(`expected  public-key pin ${spkiPin(rotated)}`);
		expect(refused.message).toContain(`presented public-key pin ${spkiPin(self)}`);
		expect(refused.hint).toContain(`--fingerprint ${spkiPin(self)}`);
		expect(store.list()).toEqual([]);
		// Base64 is exact: the same pin in another case is a different pin.
		const swapped = `sha256//${self.spkiSha256.replace(/[a-z]/v, letter => letter.toUpperCase())}`;
		expect((await rejection(decideTrust(input({fingerprint: swapped})))).exitCode).toBe(3);
		expect((await rejection(decideTrust(input({fingerprint: 'sha256//abc='})))).code).toBe('USAGE');

		const decision = await decideTrust(input({fingerprint: spkiPin(self)}));
		expect(decision.basis).toBe('fingerprint');
		expect(store.get(target)).toMatchObject({sha256: self.sha256, pinnedBy: 'fingerprint'});
		// Replacing a pin with a sha256// pin works as with a certificate fingerprint.
		const replaced = await decideTrust(input({chain: [rotated], fingerprint: spkiPin(rotated)}));
		expect(replaced.basis).toBe('fingerprint');
		expect(replaced.warnings[0]).toContain(`was SHA-256 ${self.sha256}`);
		expect(store.get(target)?.sha256).toBe(rotated.sha256);
	});

	it('(c) --fingerprint equal → pinned by fingerprint; any accepted spelling', async () => {
		const decision = await decideTrust(input({fingerprint: `SHA256:${fingerprintArgument(self.sha256)}`}));
		expect(decision.basis).toBe('fingerprint');
		expect(decision.pinFile).toBe(store.pinPath(target));
		expect(store.get(target)?.pinnedBy).toBe('fingerprint');
	});

	it('(c) --fingerprint different → exit 3 showing both; refused even when the CA path would pass', async () => {
		for (const overrides of [{}, {chainVerified: {ok: true}, hostnameOk: true}, {caFileGiven: true, chainVerified: {ok: true}}]) {
			const error = await rejection(decideTrust(input({...overrides, fingerprint: rotated.sha256})));
			expect(error.code).toBe('CERT_INVALID');
			expect(error.exitCode).toBe(3);
			expect(error.message).toContain(`expected  SHA-256 ${rotated.sha256}`);
			expect(error.message).toContain(`presented SHA-256 ${self.sha256}`);
		}

		expect(store.list()).toEqual([]);
	});

	it('(c) a malformed --fingerprint is a usage error before anything else', async () => {
		const error = await rejection(decideTrust(input({fingerprint: 'abc', chainVerified: {ok: true}})));
		expect(error.code).toBe('USAGE');
	});

	it('(d) --accept-new pins without asking', async () => {
		const ask = vi.fn();
		const decision = await decideTrust(input({acceptNew: true, ask}));
		expect(decision).toMatchObject({basis: 'accept-new', pinFile: store.pinPath(target)});
		expect(ask).not.toHaveBeenCalled();
		expect(store.get(target)).toMatchObject({sha256: self.sha256, pinnedBy: 'accept-new', notAfter: self.validTo.toISOString()});
	});

	it('(e) the prompt gets the certificate and the reason; save / once / reject', async () => {
		const questions: TrustQuestion[] = [];
		const decisionOnce = await decideTrust(input({
			async ask(question) {
				questions.push(question);
				return 'once';
			},
		}));
		expect(decisionOnce.basis).toBe('accepted-once');
		expect(store.list()).toEqual([]);
		expect(questions[0]).toEqual({target, certificate: self, reason: 'self-signed certificate'});

		const rejected = await rejection(decideTrust(input({ask: async () => 'reject'})));
		expect(rejected.code).toBe('TRUST_REJECTED');
		expect(rejected.exitCode).toBe(3);
		expect(store.list()).toEqual([]);

		const saved = await decideTrust(input({ask: async () => 'save'}));
		expect(saved.basis).toBe('accepted');
		expect(store.get(target)?.pinnedBy).toBe('prompt');
	});

	it('(e) if another process pins a different certificate while the prompt is open, "save" is refused as a change', async () => {
		const error = await rejection(decideTrust(input({
			async ask() {
				await decideTrust(input({chain: [rotated], acceptNew: true}));
				return 'save';
			},
		})));
		expect(error.code).toBe('CERT_CHANGED');
		expect(store.get(target)?.sha256).toBe(rotated.sha256);
	});

	it('(e) an unexpected prompt answer fails closed', async () => {
		// A misbehaving front end answers something that is not a PromptAnswer.
		const error = await rejection(decideTrust(input({ask: async () => 'yes' as unknown as 'save'})));
		expect(error.exitCode).toBe(3);
		expect(store.list()).toEqual([]);
	});

	it('(f) nobody to ask → TRUST_REQUIRED exit 3 with both fingerprints and the commands that would trust it', async () => {
		const error = await rejection(decideTrust(input()));
		expect(error.code).toBe('TRUST_REQUIRED');
		expect(error.exitCode).toBe(3);
		expect(error.message).toContain('127.0.0.1:44321');
		expect(error.message).toContain('self-signed certificate');
		expect(error.message).toContain(self.sha256);
		expect(error.message).toContain(self.sha1);
		expect(error.hint).toContain(`secmon --host 127.0.0.1:44321 … --fingerprint ${fingerprintArgument(self.sha256)}`);
		expect(error.hint).toContain('secmon --host 127.0.0.1:44321 … --accept-new');
		const custom = await rejection(decideTrust(input({rerunCommand: 'secmon pminfo -h 127.0.0.1:44321 -f kernel.all.load'})));
		expect(custom.hint).toContain('secmon pminfo -h 127.0.0.1:44321 -f kernel.all.load --accept-new');
		expect(store.list()).toEqual([]);
	});

	it('refuses an empty chain', async () => {
		const error = await rejection(decideTrust(input({chain: []})));
		expect(error.code).toBe('TLS_FAILED');
	});
});

describe('decideTrust: a pinned collector renews its certificate', () => {
	const day = 24 * 60 * 60 * 1000;

	async function pinSelf(): Promise<void> {
		await decideTrust(input({acceptNew: true}));
	}

	it('same key, valid now, the same names → accepted as pinned, the pin updated in place, one note', async () => {
		await pinSelf();
		const before = store.get(target)!;
		const renewed = describeCertificate(renewSelfSigned(selfCert, {notAfter: new Date(Date.now() + (400 * day))}));
		expect(renewed.spkiSha256).toBe(self.spkiSha256);
		expect(renewed.sha256).not.toBe(self.sha256);
		const now = new Date();
		const decision = await decideTrust(input({chain: [renewed], now}));
		expect(decision.basis).toBe('pinned');
		expect(decision.warnings).toEqual([
			`secmon: note: 127.0.0.1:44321 renewed its certificate with the same key; pin updated (old SHA-256 ${self.sha256}, expires ${formatDate(self.validTo)}; `
			+ `new SHA-256 ${renewed.sha256}, expires ${formatDate(renewed.validTo)})`,
		]);
		expect(store.get(target)).toEqual({
			...before,
			sha256: renewed.sha256,
			sha1: renewed.sha1,
			notAfter: renewed.validTo.toISOString(),
			pem: renewed.pem,
			renewedAt: now.toISOString(),
		});
		// The pin now holds the renewed certificate: the next run is plainly pinned, with no note.
		expect(await decideTrust(input({chain: [renewed]}))).toEqual({basis: 'pinned', warnings: []});
	});

	it('more names than before is still a renewal', async () => {
		await pinSelf();
		const renewed = describeCertificate(renewSelfSigned(selfCert, {
			altNames: [{type: 2, value: 'collector'}, {type: 2, value: 'localhost'}, {type: 2, value: 'collector.example'}, {type: 7, ip: '127.0.0.1'}, {type: 7, ip: '::1'}],
		}));
		const decision = await decideTrust(input({chain: [renewed]}));
		expect(decision.basis).toBe('pinned');
		expect(decision.warnings).toHaveLength(1);
		expect(store.get(target)?.sha256).toBe(renewed.sha256);
	});

	it('a different key → CERT_CHANGED exit 4, the pin untouched', async () => {
		await pinSelf();
		const error = await rejection(decideTrust(input({chain: [rotated]})));
		expect(error.code).toBe('CERT_CHANGED');
		expect(error.exitCode).toBe(4);
		expect(error.message).not.toContain('same key');
		expect(store.get(target)?.sha256).toBe(self.sha256);
	});

	it.each([
		['expired', () => ({notBefore: new Date(Date.now() - (30 * day)), notAfter: new Date(Date.now() - day)}), /same key, but the new certificate expired on \d{4}-\d\d-\d\d /v],
		['not yet valid', () => ({notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + (30 * day))}), /same key, but the new certificate is not valid before \d{4}-\d\d-\d\d [\d:]+ UTC \(check the clocks\)/v],
		['missing a name', () => ({altNames: [{type: 2, value: 'localhost'} as const, {type: 7, ip: '127.0.0.1'} as const]}), /same key, but the new certificate does not cover DNS:collector, IP Address:[\d:]+: not accepted as a renewal/v],
	])('same key but %s → CERT_CHANGED exit 4 saying which condition failed, the pin untouched', async (_name, options, reason) => {
		await pinSelf();
		const presented = describeCertificate(renewSelfSigned(selfCert, options()));
		expect(presented.spkiSha256).toBe(self.spkiSha256);
		const error = await rejection(decideTrust(input({chain: [presented], acceptNew: true})));
		expect(error.code).toBe('CERT_CHANGED');
		expect(error.exitCode).toBe(4);
		expect(error.message).toMatch(reason);
		expect(error.message).toContain(presented.sha256);
		expect(store.get(target)?.sha256).toBe(self.sha256);
		expect(store.get(target)?.renewedAt).toBeUndefined();
	});

	it('dryRun (secmon verify) accepts a renewal without writing', async () => {
		await pinSelf();
		const renewed = describeCertificate(renewSelfSigned(selfCert));
		const decision = await decideTrust(input({chain: [renewed], dryRun: true}));
		expect(decision.basis).toBe('pinned');
		expect(decision.warnings[0]).toContain('renewed its certificate with the same key; the next connection updates the pin');
		expect(store.get(target)?.sha256).toBe(self.sha256);
	});

	it('a wrong --fingerprint with a renewal is the fingerprint refusal (exit 3), not the changed banner', async () => {
		await pinSelf();
		const renewed = describeCertificate(renewSelfSigned(selfCert));
		const error = await rejection(decideTrust(input({chain: [renewed], fingerprint: rotated.sha256})));
		expect(error.code).toBe('CERT_INVALID');
		expect(store.get(target)?.sha256).toBe(self.sha256);
	});

	it('the changed banner says when the pin was last renewed', async () => {
		await pinSelf();
		await decideTrust(input({chain: [describeCertificate(renewSelfSigned(selfCert))]}));
		const error = await rejection(decideTrust(input({chain: [rotated]})));
		expect(error.message).toMatch(/pinned \d{4}-[\d\- :]+UTC \(by --accept-new\), renewed \d{4}-/v);
	});
});

describe('messages', () => {
	it('the reason says self-signed, unknown CA or name mismatch', async () => {
		const questions: string[] = [];
		const ask = async (question: TrustQuestion) => {
			questions.push(question.reason);
			return 'once' as const;
		};

		await decideTrust(input({ask}));
		await decideTrust(input({chain: [wrongName], chainVerified: {ok: false, reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'}, ask}));
		await decideTrust(input({
			chain: [wrongName], chainVerified: {ok: true}, hostnameOk: false, hostnameReason: nameMismatchReason(wrongName, '127.0.0.1'), ask,
		}));
		expect(questions).toEqual([
			'self-signed certificate',
			'issuer not trusted: unknown CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
			'certificate is for DNS:wrong.example, not 127.0.0.1',
		]);
		expect(describeChainError('CERT_HAS_EXPIRED')).toContain('expired');
	});

	it('validityNote warns under 30 days and when expired', () => {
		const now = new Date('2030-01-01T00:00:00Z');
		const day = 24 * 3600 * 1000;
		expect(validityNote({validFrom: new Date(now.getTime() - day), validTo: new Date(now.getTime() + (100 * day))}, now).level).toBe('ok');
		const soon = validityNote({validFrom: new Date(now.getTime() - day), validTo: new Date(now.getTime() + (10 * day))}, now);
		expect(soon).toMatchObject({level: 'warn'});
		expect(soon.text).toContain('expires in 10 day(s)');
		const expired = validityNote({validFrom: new Date(now.getTime() - (9 * day)), validTo: new Date(now.getTime() - (3 * day))}, now);
		expect(expired).toMatchObject({level: 'error'});
		expect(expired.text).toContain('EXPIRED 3 day(s) ago');
		expect(validityNote({validFrom: new Date(now.getTime() + day), validTo: new Date(now.getTime() + (9 * day))}, now).text).toContain('NOT YET VALID');
	});

	it('changedBanner is OpenSSH-style and says when the old certificate had expired or the key is the same', async () => {
		await decideTrust(input({acceptNew: true}));
		const pin = store.get(target)!;
		const banner = changedBanner({
			target, pin, current: rotated, pinFile: '/x/pin.json', now: new Date(self.validTo.getTime() + 1000),
		});
		const lines = banner.split('\n');
		expect(lines[0]).toMatch(/^@{72,}$/v);
		expect(lines[1]).toMatch(/^@ +WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR 127\.0\.0\.1:44321 +@$/v);
		expect(lines[1]!.length).toBe(lines[0]!.length);
		expect(banner).toContain('IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!');
		expect(banner).toContain('man-in-the-middle');
		expect(banner).toContain('by --accept-new');
		expect(banner).toContain('EXPIRED');
		expect(banner).toContain('Pin file: /x/pin.json');
		expect(banner).not.toContain('same public key');
		const sameKey = changedBanner({
			target, pin, current: {...rotated, spkiSha256: pin.spkiSha256}, pinFile: '/x',
		});
		expect(sameKey).toContain('same public key');
	});

	it('promptLines and untrustedMessage carry both fingerprints', () => {
		const lines = promptLines({target: {host: '::1', port: 1}, certificate: self, reason: 'self-signed certificate'});
		expect(lines[0]).toContain('[::1]:1');
		expect(lines.join('\n')).toContain(self.sha256);
		expect(lines.join('\n')).toContain(self.sha1);
		expect(lines.join('\n')).toContain('(self-signed)');
		const {message} = untrustedMessage({target, certificate: self, reason: 'x'});
		expect(message).toContain(self.sha1);
	});
});
