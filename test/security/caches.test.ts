/**
 * What a run computes once for many collectors (issue 18): one TLS context per distinct set of
 * credentials (a changed file gets a new one), certificate facts once per certificate, a pin
 * parsed again only when its file changed.
 */
import {
	copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	afterAll, beforeAll, expect, test,
} from 'vitest';
import {describeCertificate} from '../../source/security/certificate.js';
import {TrustStore} from '../../source/security/store.js';
import {prepareTls, type TlsOptions} from '../../source/security/tls.js';
import {peerPki, type PeerPki} from '../helpers/pmcd.js';

let pki: PeerPki;
let dir: string;

beforeAll(async () => {
	pki = await peerPki();
	dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-caches-'));
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

function options(port: number, extra: Partial<TlsOptions> = {}): TlsOptions {
	return {
		target: {host: '127.0.0.1', port}, acceptNew: false, store: TrustStore.for(path.join(dir, 'home')), ...extra,
	};
}

function contextOf(prepared: ReturnType<typeof prepareTls>) {
	if ('error' in prepared) {
		throw prepared.error as Error;
	}

	return prepared.context;
}

test('collectors with the same credentials share one TLS context; a changed file gets a new one', () => {
	const cert = path.join(dir, 'client.pem');
	const key = path.join(dir, 'client.key');
	copyFileSync(pki.clientCert, cert);
	copyFileSync(pki.clientKey, key);
	const a = contextOf(prepareTls(options(1, {caFile: pki.caFile, cert, key})));
	const b = contextOf(prepareTls(options(2, {caFile: pki.caFile, cert, key})));
	expect(b).toBe(a);
	// Another --ca-file: another context.
	expect(contextOf(prepareTls(options(3, {caFile: pki.otherCaFile, cert, key})))).not.toBe(a);
	// The client certificate renewed in place (same path, new contents and time).
	copyFileSync(pki.otherClientCert, cert);
	copyFileSync(pki.otherClientKey, key);
	const later = new Date(Date.now() + 5000);
	utimesSync(cert, later, later);
	utimesSync(key, later, later);
	expect(contextOf(prepareTls(options(4, {caFile: pki.caFile, cert, key})))).not.toBe(a);
	// A missing file is still its own error, never a cached context.
	const missing = prepareTls(options(5, {caFile: path.join(dir, 'nope.pem')}));
	expect('error' in missing && String(missing.error)).toContain('nope.pem');
});

test('certificate facts are computed once per certificate', () => {
	const pem = readFileSync(pki.serverCert, 'utf8');
	const first = describeCertificate(pem);
	expect(describeCertificate(Buffer.from(pem))).toBe(first);
	expect(describeCertificate(readFileSync(pki.rotatedCert, 'utf8'))).not.toBe(first);
	expect(first.subject).toContain('collector');
});
