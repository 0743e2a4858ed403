/**
 * Certificates below (and just above) secmon's cryptographic floor, made by the tests: RSA with
 * node:crypto keys signed by node-forge (which signs with MD5 and SHA-1, unlike OpenSSL 3 at its
 * default security level), EC with the openssl command line (forge has no EC). Self-signed,
 * CN=collector, SAN IP:127.0.0.1, unless an issuer is given.
 */
import {execFileSync} from 'node:child_process';
import {generateKeyPair} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

export type MadeCert = {cert: string; key: string};

export type RsaOptions = {
	bits?: number;
	digest?: 'md5' | 'sha1' | 'sha256';
	notBefore?: Date;
	notAfter?: Date;
	cn?: string;
	/** Sign with this CA instead of self-signing (the CA gets keyCertSign). */
	issuer?: MadeCert;
	isCa?: boolean;
};

const hour = 60 * 60 * 1000;

export async function rsaCert(options: RsaOptions = {}): Promise<MadeCert> {
	const {privateKey} = await generateKeyPairAsync('rsa', {
		modulusLength: options.bits ?? 2048,
		privateKeyEncoding: {type: 'pkcs1', format: 'pem'},
		publicKeyEncoding: {type: 'spki', format: 'pem'},
	});
	const key = forge.pki.privateKeyFromPem(privateKey);
	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
	cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
	cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - hour);
	cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + (365 * 24 * hour));
	const subject = [{shortName: 'CN', value: options.cn ?? 'collector'}];
	cert.setSubject(subject);
	let signer = key;
	if (options.issuer) {
		const issuer = forge.pki.certificateFromPem(options.issuer.cert);
		cert.setIssuer(issuer.subject.attributes);
		signer = forge.pki.privateKeyFromPem(options.issuer.key);
	} else {
		cert.setIssuer(subject);
	}

	cert.setExtensions(options.isCa
		? [{name: 'basicConstraints', cA: true, critical: true}, {
			name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true,
		}]
		: [{name: 'basicConstraints', cA: false}, {name: 'subjectAltName', altNames: [{type: 7, ip: '127.0.0.1'}]}]);
	cert.sign(signer, forge.md[options.digest ?? 'sha256'].create());
	return {cert: forge.pki.certificateToPem(cert), key: privateKey};
}

/** A self-signed EC certificate on `curve` (an openssl name: P-256, secp224r1, …). */
export function ecCert(curve: string): MadeCert {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-ec-'));
	try {
		const keyFile = path.join(dir, 'key.pem');
		const certFile = path.join(dir, 'cert.pem');
		execFileSync('openssl', [
			'req',
			'-x509',
			'-newkey',
			'ec',
			'-pkeyopt',
			`ec_paramgen_curve:${curve}`,
			'-nodes',
			'-sha256',
			'-days',
			'30',
			'-subj',
			'/CN=collector',
			'-addext',
			'subjectAltName=IP:127.0.0.1',
			'-keyout',
			keyFile,
			'-out',
			certFile,
		], {stdio: 'pipe'});
		return {cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8')};
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
