/**
 * Test PKI made with node-forge (docs/node.md#node-forge): a CA, a second unrelated CA, server leaf
 * certificates (right name, wrong name, other CA, self-signed, self-signed with a rotated key,
 * about to expire) and a client certificate. Keys come from node:crypto (async, threadpool), which
 * is what forge itself would delegate to. The set is generated once per run: memoised per test file
 * and cached for an hour in a private temp dir shared by the vitest workers (RSA key generation
 * costs ~2 s on this VM).
 * `writeTestPki(dir)` puts the PEM files on disk for peers that need paths (pmcd tls.conf, --ca-file).
 */
import {generateKeyPair} from 'node:crypto';
import {
	mkdirSync, readFileSync, renameSync, statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

export type TestCert = {
	/** Certificate PEM */
	cert: string;
	/** Private key PEM (PKCS#1) */
	key: string;
};

export type TestPki = {
	/** "secmon test CA" */
	ca: TestCert;
	/** "other test CA": trusted by nobody */
	otherCa: TestCert;
	/** CN=collector, SAN DNS:collector, DNS:localhost, IP:127.0.0.1, IP:::1; issued by ca */
	server: TestCert;
	/** Same key as server, SAN DNS:wrong.example only; issued by ca */
	wrongName: TestCert;
	/** Right names, issued by otherCa */
	otherCaServer: TestCert;
	/** Self-signed, CN=collector, SAN IP:127.0.0.1, DNS:localhost */
	selfSigned: TestCert;
	/** Self-signed, same subject and names as selfSigned but a new key (a rotated or intercepted collector) */
	rotated: TestCert;
	/** Self-signed, right names, expires in 10 days */
	expiring: TestCert;
	/** CN=secmon client, extKeyUsage clientAuth; issued by ca */
	client: TestCert;
};

type Name = {cn: string; o?: string};

type IssueOptions = {
	subject: Name;
	publicKey: forge.pki.PublicKey;
	issuer?: {name: Name; key: forge.pki.rsa.PrivateKey};
	selfKey?: forge.pki.rsa.PrivateKey;
	isCa?: boolean;
	altNames?: Array<{type: 2; value: string} | {type: 7; ip: string}>;
	usage?: 'server' | 'client';
	days?: number;
	notBefore?: Date;
	notAfter?: Date;
};

function attributes(name: Name): forge.pki.CertificateField[] {
	// Encoded O first, CN last, so RFC 4514 order (reversed) reads "CN=…, O=…".
	return [...(name.o ? [{shortName: 'O', value: name.o}] : []), {shortName: 'CN', value: name.cn}];
}

function randomSerial(): string {
	// Positive serial: a leading 01 byte keeps the DER INTEGER non-negative (docs/node.md#node-forge).
	return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15));
}

function issue(options: IssueOptions): string {
	const cert = forge.pki.createCertificate();
	cert.publicKey = options.publicKey;
	cert.serialNumber = randomSerial();
	const now = Date.now();
	cert.validity.notBefore = options.notBefore ?? new Date(now - (60 * 60 * 1000));
	cert.validity.notAfter = options.notAfter ?? new Date(now + ((options.days ?? 3650) * 24 * 60 * 60 * 1000));
	cert.setSubject(attributes(options.subject));
	cert.setIssuer(attributes(options.issuer?.name ?? options.subject));
	const extensions: any[] = [];
	if (options.isCa) {
		extensions.push(
			{name: 'basicConstraints', cA: true, critical: true},
			{
				name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true,
			},
		);
	} else {
		extensions.push(
			{name: 'basicConstraints', cA: false},
			{
				name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true,
			},
			options.usage === 'client' ? {name: 'extKeyUsage', clientAuth: true} : {name: 'extKeyUsage', serverAuth: true},
		);
	}

	if (options.altNames) {
		extensions.push({name: 'subjectAltName', altNames: options.altNames});
	}

	extensions.push({name: 'subjectKeyIdentifier'});
	cert.setExtensions(extensions);
	const signingKey = options.issuer?.key ?? options.selfKey;
	if (!signingKey) {
		throw new Error('issue(): need an issuer key or a self key');
	}

	cert.sign(signingKey, forge.md.sha256.create());
	return forge.pki.certificateToPem(cert);
}

type KeyPair = {pem: string; privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey};

async function newKey(): Promise<KeyPair> {
	const {privateKey} = await generateKeyPairAsync('rsa', {
		modulusLength: 2048,
		privateKeyEncoding: {type: 'pkcs1', format: 'pem'},
		publicKeyEncoding: {type: 'spki', format: 'pem'},
	});
	const forgeKey = forge.pki.privateKeyFromPem(privateKey);
	return {pem: privateKey, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)};
}

const collectorNames: IssueOptions['altNames'] = [
	{type: 2, value: 'collector'},
	{type: 2, value: 'localhost'},
	{type: 7, ip: '127.0.0.1'},
	{type: 7, ip: '::1'},
];

async function makePki(): Promise<TestPki> {
	const [caKey, otherCaKey, serverKey, selfKey, rotatedKey, clientKey] = await Promise.all(Array.from({length: 6}, async () => newKey()));
	// Non-null: Promise.all over 6 elements.
	const ca = caKey!;
	const otherCa = otherCaKey!;
	const caName = {cn: 'secmon test CA', o: 'secmon'};
	const otherCaName = {cn: 'other test CA', o: 'elsewhere'};
	const caCert = issue({
		subject: caName, publicKey: ca.publicKey, selfKey: ca.privateKey, isCa: true, days: 7300,
	});
	const otherCaCert = issue({
		subject: otherCaName, publicKey: otherCa.publicKey, selfKey: otherCa.privateKey, isCa: true, days: 7300,
	});
	const byCa = {name: caName, key: ca.privateKey};
	const collector = {cn: 'collector', o: 'secmon'};
	return {
		ca: {cert: caCert, key: ca.pem},
		otherCa: {cert: otherCaCert, key: otherCa.pem},
		server: {
			cert: issue({
				subject: collector, publicKey: serverKey!.publicKey, issuer: byCa, altNames: collectorNames,
			}), key: serverKey!.pem,
		},
		wrongName: {
			cert: issue({
				subject: {cn: 'wrong.example', o: 'secmon'}, publicKey: serverKey!.publicKey, issuer: byCa, altNames: [{type: 2, value: 'wrong.example'}],
			}),
			key: serverKey!.pem,
		},
		otherCaServer: {
			cert: issue({
				subject: collector, publicKey: serverKey!.publicKey, issuer: {name: otherCaName, key: otherCa.privateKey}, altNames: collectorNames,
			}),
			key: serverKey!.pem,
		},
		selfSigned: {
			cert: issue({
				subject: collector, publicKey: selfKey!.publicKey, selfKey: selfKey!.privateKey, altNames: collectorNames,
			}), key: selfKey!.pem,
		},
		rotated: {
			cert: issue({
				subject: collector, publicKey: rotatedKey!.publicKey, selfKey: rotatedKey!.privateKey, altNames: collectorNames,
			}), key: rotatedKey!.pem,
		},
		expiring: {
			cert: issue({
				subject: collector, publicKey: selfKey!.publicKey, selfKey: selfKey!.privateKey, altNames: collectorNames, days: 10,
			}), key: selfKey!.pem,
		},
		client: {
			cert: issue({
				subject: {cn: 'secmon client', o: 'secmon'}, publicKey: clientKey!.publicKey, issuer: byCa, usage: 'client',
			}),
			key: clientKey!.pem,
		},
	};
}

export type AltName = {type: 2; value: string} | {type: 7; ip: string};

/**
 * A renewal of a self-signed collector certificate: the key of `base`, CN=collector, a new serial
 * and validity (default: from an hour ago, ten years), `altNames` (default: the selfSigned names).
 */
export function renewSelfSigned(base: TestCert, options: {notBefore?: Date; notAfter?: Date; altNames?: AltName[]} = {}): string {
	const privateKey = forge.pki.privateKeyFromPem(base.key);
	return issue({
		subject: {cn: 'collector', o: 'secmon'},
		publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e),
		selfKey: privateKey,
		altNames: options.altNames ?? collectorNames,
		...(options.notBefore ? {notBefore: options.notBefore} : {}),
		...(options.notAfter ? {notAfter: options.notAfter} : {}),
	});
}

const cacheVersion = 1;
const cacheMaxAgeMs = 60 * 60 * 1000;

function cacheFile(): string {
	return path.join(os.tmpdir(), `secmon-test-pki-${process.getuid?.() ?? 'user'}`, `pki-v${cacheVersion}.json`);
}

function isTestPki(value: unknown): value is TestPki {
	return typeof value === 'object' && value !== null && 'client' in value && typeof value.client === 'object';
}

function readCache(): TestPki | undefined {
	try {
		const file = cacheFile();
		if (Date.now() - statSync(file).mtimeMs > cacheMaxAgeMs) {
			return undefined;
		}

		const pki: unknown = JSON.parse(readFileSync(file, 'utf8'));
		return isTestPki(pki) ? pki : undefined;
	} catch {
		return undefined;
	}
}

function writeCache(pki: TestPki): void {
	const file = cacheFile();
	mkdirSync(path.dirname(file), {recursive: true, mode: 0o700});
	const temporary = `${file}.${process.pid}.tmp`;
	writeFileSync(temporary, JSON.stringify(pki), {mode: 0o600});
	renameSync(temporary, file);
}

let pending: Promise<TestPki> | undefined;

/** The test PKI, generated on first use in a run and shared by every test file. */
export async function testPki(): Promise<TestPki> {
	pending ??= (async () => {
		const cached = readCache();
		if (cached) {
			return cached;
		}

		const pki = await makePki();
		writeCache(pki);
		return pki;
	})();
	return pending;
}

/**
 * Write every certificate and key as `<dir>/<name>.pem` and `<dir>/<name>.key` (keys 0600).
 * Returns the paths by name.
 */
export async function writeTestPki(dir: string): Promise<Record<keyof TestPki, {cert: string; key: string}>> {
	const pki = await testPki();
	mkdirSync(dir, {recursive: true, mode: 0o700});
	const write = (name: keyof TestPki) => {
		const cert = path.join(dir, `${name}.pem`);
		const key = path.join(dir, `${name}.key`);
		writeFileSync(cert, pki[name].cert, {mode: 0o644});
		writeFileSync(key, pki[name].key, {mode: 0o600});
		return {cert, key};
	};

	return {
		ca: write('ca'),
		otherCa: write('otherCa'),
		server: write('server'),
		wrongName: write('wrongName'),
		otherCaServer: write('otherCaServer'),
		selfSigned: write('selfSigned'),
		rotated: write('rotated'),
		expiring: write('expiring'),
		client: write('client'),
	};
}
