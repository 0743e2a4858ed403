/**
 * The collector's own PKI, made on first start the way Checkmk makes a site
 * CA: <secmon home>/serve/ holds ca.pem + ca.key (a local CA) and server.pem +
 * server.key (the collector's certificate, signed by that CA), RSA 2048 with
 * SHA-512, long validity, keys 0600 in a 0700 directory. Built on source/pki.
 *
 * Clients trust ca.pem (secmon --ca-file, PCP's tls-ca-cert-file), so the
 * server certificate can be reissued — when it nears its end or a new listen
 * address needs a SAN — without anyone re-trusting anything. The CA itself is
 * never replaced silently.
 */
import {createPrivateKey, X509Certificate} from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {SecmonError} from '../errors.js';
import type {SubjectAltName} from '../pki/x509.js';
import {checkKeyFileMode, ensurePrivateDir, errnoCode} from '../security/home.js';
import {messageOf} from './errors.js';

/** 10 years for the CA; the server certificate gets the same (capped at the CA's end). */
const caDays = 3660;
const serverDays = 3650;
/** Reissue the server certificate when less than this is left. */
const renewBeforeMs = 30 * 24 * 60 * 60 * 1000;
const lockWaitMs = 60_000;

export type ServePki = {
	dir: string;
	caFile: string;
	certFile: string;
	keyFile: string;
	/** What this call did, for the start-up message. */
	createdCa: boolean;
	issuedServerCert: boolean;
	/** Warnings (e.g. a key file readable by others). */
	warnings: string[];
};

export function servePkiDir(home: string): string {
	return path.join(home, 'serve');
}

/**
 * The names a server certificate must carry: the host name, localhost, the
 * loopback addresses and every listen address (for a wildcard listen address,
 * every address of every interface).
 */
export function requiredSans(listenHosts: readonly string[]): SubjectAltName[] {
	const names: SubjectAltName[] = [{type: 'dns', value: 'localhost'}, {type: 'ip', value: '127.0.0.1'}, {type: 'ip', value: '::1'}];
	const hostname = os.hostname();
	if (hostname && /^[\w.\-]+$/v.test(hostname) && !net.isIP(hostname)) {
		names.unshift({type: 'dns', value: hostname});
	}

	for (const host of listenHosts) {
		if (host === '0.0.0.0' || host === '::') {
			for (const addresses of Object.values(os.networkInterfaces())) {
				for (const address of addresses ?? []) {
					if (host === '::' || address.family === 'IPv4') {
						names.push({type: 'ip', value: address.address.replace(/%.*$/v, '')});
					}
				}
			}
		} else if (net.isIP(host)) {
			names.push({type: 'ip', value: host});
		} else if (/^[\w.\-]+$/v.test(host)) {
			names.push({type: 'dns', value: host});
		}
	}

	return uniqueSans(names);
}

function sanKey(san: SubjectAltName): string {
	if (san.type === 'ip') {
		// Compare IPs in one canonical form (::1 vs 0:0:0:0:0:0:0:1).
		return `ip:${canonicalIp(san.value)}`;
	}

	return `${san.type}:${san.value.toLowerCase()}`;
}

/** IPv4 as is; IPv6 as eight lower-case hex groups without leading zeros (how Node prints SANs). */
export function canonicalIp(ip: string): string {
	if (!net.isIPv6(ip)) {
		return ip;
	}

	const [head = '', tail] = ip.toLowerCase().split('::');
	const left = head === '' ? [] : head.split(':');
	const right = tail === undefined || tail === '' ? [] : tail.split(':');
	const expand = (groups: string[]): string[] => groups.flatMap(group => {
		if (group.includes('.')) {
			// Embedded IPv4 (::ffff:1.2.3.4) is two groups.
			const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
			return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
		}

		return [Number.parseInt(group, 16).toString(16)];
	});
	const l = expand(left);
	const r = expand(right);
	const zeros = tail === undefined ? [] : Array.from({length: 8 - l.length - r.length}, () => '0');
	return [...l, ...zeros, ...r].join(':');
}

function uniqueSans(sans: readonly SubjectAltName[]): SubjectAltName[] {
	const seen = new Set<string>();
	return sans.filter(san => {
		const key = sanKey(san);
		if (seen.has(key)) {
			return false;
		}

		seen.add(key);
		return true;
	});
}

/** The SANs of a certificate as SubjectAltName objects (DNS and IP only). */
function certificateSans(certificate: X509Certificate): SubjectAltName[] {
	const result: SubjectAltName[] = [];
	for (const item of (certificate.subjectAltName ?? '').split(', ')) {
		if (item.startsWith('DNS:')) {
			result.push({type: 'dns', value: item.slice(4)});
		} else if (item.startsWith('IP Address:')) {
			result.push({type: 'ip', value: item.slice(11)});
		}
	}

	return result;
}

/**
 * Make sure <home>/serve has a CA and a server certificate covering `sans`;
 * creates what is missing. Safe when several secmon processes start at once
 * (a lock file serialises them).
 */
export async function ensureServePki(options: {home: string; sans: readonly SubjectAltName[]}): Promise<ServePki> {
	ensurePrivateDir(options.home);
	const dir = servePkiDir(options.home);
	ensurePrivateDir(dir);
	const caFile = path.join(dir, 'ca.pem');
	const certFile = path.join(dir, 'server.pem');
	const keyFile = path.join(dir, 'server.key');
	const done = (createdCa: boolean, issuedServerCert: boolean, warnings: string[]): ServePki => ({
		dir, caFile, certFile, keyFile, createdCa, issuedServerCert, warnings,
	});

	// Fast path, every start after the first: everything is there and good. No lock and no
	// node-forge (source/pki), so `secmon` with no --host starts quickly.
	const caCertificate = await readCertificate(caFile);
	if (caCertificate?.ca && new Date(caCertificate.validTo).getTime() > Date.now()) {
		const current = await currentServerCert(certFile, keyFile, caCertificate);
		if (current?.valid && covers(current.sans, options.sans)) {
			return done(false, false, keyWarnings(dir, keyFile));
		}
	}

	return withLock(dir, async () => {
		const [{initCa, loadCa}, {publicMode, secretMode, writeFileAtomic}, {issueCertificate}] = await Promise.all([
			import('../pki/ca.js'),
			import('../pki/files.js'),
			import('../pki/issue.js'),
		]);
		let createdCa = false;
		let ca;
		if (await exists(caFile) || await exists(path.join(dir, 'ca.key'))) {
			// Never replaced silently: a broken or expired CA is an error with a hint (loadCa's).
			ca = await loadCa(dir);
		} else {
			ca = await initCa({
				dir, algorithm: 'rsa2048', days: caDays, cn: `secmon collector CA ${os.hostname()}`,
			});
			createdCa = true;
		}

		// Another process may have done the work while we waited for the lock.
		const current = await currentServerCert(certFile, keyFile, ca.certificate);
		let issuedServerCert = false;
		if (!current?.valid || !covers(current.sans, options.sans)) {
			const issued = await issueCertificate({
				ca,
				cn: os.hostname() || 'secmon-collector',
				// Old names stay, so clients that used them keep working.
				sans: uniqueSans([...options.sans, ...(current?.sans ?? [])]),
				usage: 'server',
				algorithm: 'rsa2048',
				days: serverDays,
			});
			// Key first: a certificate whose key is missing would stop the collector from starting.
			await writeFileAtomic(keyFile, issued.keyPem, {mode: secretMode, overwrite: true});
			await writeFileAtomic(certFile, issued.certificatePem + ca.certificatePem, {mode: publicMode, overwrite: true});
			issuedServerCert = true;
		}

		return done(createdCa, issuedServerCert, keyWarnings(dir, keyFile));
	});
}

function covers(have: readonly SubjectAltName[], wanted: readonly SubjectAltName[]): boolean {
	return wanted.every(san => have.some(item => sanKey(item) === sanKey(san)));
}

function keyWarnings(dir: string, keyFile: string): string[] {
	return [path.join(dir, 'ca.key'), keyFile].map(file => checkKeyFileMode(file)).filter(warning => warning !== undefined);
}

async function readCertificate(file: string): Promise<X509Certificate | undefined> {
	try {
		return new X509Certificate(await fs.readFile(file));
	} catch {
		return undefined;
	}
}

/** The existing server certificate, if it is ours, matches its key and is not about to expire. */
async function currentServerCert(certFile: string, keyFile: string, ca: X509Certificate): Promise<{sans: SubjectAltName[]; valid: boolean} | undefined> {
	let certificate: X509Certificate;
	let keyPem: string;
	try {
		certificate = new X509Certificate(await fs.readFile(certFile));
		keyPem = await fs.readFile(keyFile, 'utf8');
	} catch {
		return undefined;
	}

	const sans = certificateSans(certificate);
	let valid = false;
	try {
		valid = certificate.checkPrivateKey(createPrivateKey(keyPem))
			&& certificate.verify(ca.publicKey)
			&& new Date(certificate.validTo).getTime() - Date.now() > renewBeforeMs;
	} catch {
		valid = false;
	}

	return {sans, valid};
}

async function exists(file: string): Promise<boolean> {
	return fs.lstat(file).then(() => true, () => false);
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return errnoCode(error) === 'EPERM';
	}
}

/** A lock file (O_EXCL) in `dir`; a lock left by a dead process is taken over. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
	const lock = path.join(dir, '.lock');
	const deadline = Date.now() + lockWaitMs;
	for (;;) {
		try {
			const handle = await fs.open(lock, 'wx', 0o600);
			await handle.writeFile(String(process.pid));
			await handle.close();
			break;
		} catch (error) {
			if (errnoCode(error) !== 'EEXIST') {
				throw new SecmonError(
					'STORE',
					`cannot create the lock file ${lock} (${messageOf(error)})`,
					`check that you own ${dir} and can write to it, or set SECMON_HOME to another directory`,
					{cause: error},
				);
			}

			const holder = Number.parseInt(await fs.readFile(lock, 'utf8').catch(() => ''), 10);
			if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
				await fs.rm(lock, {force: true});
				continue;
			}

			if (Date.now() > deadline) {
				throw new SecmonError(
					'STORE',
					`${lock} has been held by process ${Number.isInteger(holder) ? holder : '?'} for over a minute`,
					`if no other secmon is starting a collector, remove ${lock} and try again`,
				);
			}

			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
		}
	}

	try {
		return await fn();
	} finally {
		await fs.rm(lock, {force: true});
	}
}
