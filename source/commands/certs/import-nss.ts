/**
 * `secmon certs import-nss`: what PCP's pminfo accepted in its NSS era (~/.pki/nssdb), read with
 * certutil: trusted peers (P) become pins, trusted CAs (C) become trusted CAs.
 */
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type {Io} from '../../io.js';
import {exitCodes, isSecmonError, SecmonError} from '../../errors.js';
import {describeCertificate, fingerprintArgument, splitPemBundle} from '../../security/certificate.js';
import {secmonHome} from '../../security/home.js';
import {validityNote} from '../../security/messages.js';
import {formatTarget, normalizeHost, TrustStore} from '../../security/store.js';
import {addTrustedCa, isCaCertificate, listTrustedCas} from '../../security/trusted-cas.js';
import type {CertificateInfo, Pin, Target} from '../../security/types.js';
import {parseArgs} from '../../argv/args.js';
import {stringFlag, usage} from './selector.js';

export type NssEntry = {
	/** As certutil -L prints it (with a token prefix when the nickname holds a colon). */
	nickname: string;
	/** The SSL column: P trusted peer, C trusted CA, c valid CA, p distrusted, u own cert with key… */
	ssl: string;
	trust: string;
};

/** Parse `certutil -L` output: a header, then "nickname<spaces>SSL,S/MIME,JAR/XPI" per line. */
export function parseCertutilList(text: string): NssEntry[] {
	const entries: NssEntry[] = [];
	for (const line of text.split('\n')) {
		const match = /^(.*\S)\s+([A-Za-z]*,[A-Za-z]*,[A-Za-z]*)\s*$/v.exec(line);
		if (!match || /^Certificate Nickname\b/v.test(line)) {
			continue;
		}

		entries.push({nickname: match[1]!, ssl: match[2]!.split(',')[0]!, trust: match[2]!});
	}

	return entries;
}

const tokenPrefix = /^(?:NSS Certificate DB|NSS FIPS 140-2 Certificate DB|Builtin Object Token|NSS Generic Crypto Services):/v;

/** The host:port a nickname names ("collector:44321", "[::1]:44321", token prefix allowed), if any. */
export function targetFromNickname(nickname: string): Target | undefined {
	const bare = nickname.replace(tokenPrefix, '');
	const match = /^(?:\[([^\]]+)\]|([A-Za-z\d.\-]+)):(\d{1,5})$/v.exec(bare);
	if (!match) {
		return undefined;
	}

	const port = Number(match[3]);
	if (port < 1 || port > 65_535) {
		return undefined;
	}

	return {host: match[1] ?? match[2]!, port};
}

/** The names a certificate is valid for (DNS and IP subjectAltNames, else a host-like CN), for pins. */
export function hostNamesOf(info: CertificateInfo): string[] {
	const names: string[] = [];
	for (const san of info.subjectAltNames) {
		const dns = /^DNS:(.+)$/v.exec(san)?.[1];
		if (dns !== undefined && !dns.includes('*') && /^[A-Za-z\d.\-]+$/v.test(dns)) {
			names.push(dns.toLowerCase());
		}

		const ip = /^IP Address:(.+)$/v.exec(san)?.[1];
		if (ip !== undefined && net.isIP(ip) !== 0) {
			names.push(normalizeHost(ip));
		}
	}

	if (info.subjectAltNames.length === 0) {
		const cn = /(?:^|, )CN=([^,]+)/v.exec(info.subject)?.[1]?.trim();
		if (cn !== undefined && (net.isIP(cn) !== 0 || /^[A-Za-z\d](?:[A-Za-z\d\-]*[A-Za-z\d])?(?:\.[A-Za-z\d](?:[A-Za-z\d\-]*[A-Za-z\d])?)*$/v.test(cn))) {
			names.push(cn.toLowerCase());
		}
	}

	return [...new Set(names)];
}

async function certutil(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('certutil', args, {
			env: {...env, LC_ALL: 'C'}, timeout: 20_000, maxBuffer: 16 * 1024 * 1024,
		}, (error, stdout, stderr) => {
			if (error) {
				const {code} = (error as NodeJS.ErrnoException);
				if (code === 'ENOENT') {
					reject(new SecmonError(
						'USAGE',
						'certutil is not installed; it is needed to read an NSS database',
						'Install it: apt-get install libnss3-tools (Debian, Ubuntu), dnf install nss-tools (Fedora, RHEL)',
						{exitCode: exitCodes.failure},
					));
					return;
				}

				reject(new SecmonError(
					'STORE',
					`certutil ${args.join(' ')} failed: ${(stderr.trim() || error.message).split('\n')[0]}`,
					'Check that the directory is an NSS database you can read (certutil -L -d sql:DIR)',
				));
				return;
			}

			resolve(stdout);
		});
	});
}

function nssDatabase(input: string | undefined, env: NodeJS.ProcessEnv): {spec: string; dir: string} {
	const raw = input ?? path.join(env['HOME'] ?? os.homedir(), '.pki', 'nssdb');
	const prefixed = /^(sql|dbm):(.*)$/v.exec(raw);
	const dir = path.resolve(prefixed ? prefixed[2]! : raw);
	if (prefixed) {
		return {spec: `${prefixed[1]!}:${dir}`, dir};
	}

	if (existsSync(path.join(dir, 'cert9.db'))) {
		return {spec: `sql:${dir}`, dir};
	}

	if (existsSync(path.join(dir, 'cert8.db'))) {
		return {spec: `dbm:${dir}`, dir};
	}

	throw new SecmonError(
		'USAGE',
		`no NSS database in ${dir} (neither cert9.db nor cert8.db)`,
		input === undefined
			? 'pminfo keeps accepted certificates in ~/.pki/nssdb; give another directory with: secmon certs import-nss DIR'
			: 'Give the directory that holds cert9.db, e.g. secmon certs import-nss ~/.pki/nssdb',
		{exitCode: exitCodes.failure},
	);
}

type ImportSummary = {pinned: number; already: number; conflicts: number; superseded: number; cas: number; casAlready: number; manual: number; skipped: number};

type NssCertificate = {entry: NssEntry; pem: string; info: CertificateInfo; targets: Target[]; why: string};

export async function runImportNss(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs import-nss', argv, {port: {type: 'string'}, dryRun: {type: 'boolean'}});
	if (input.length > 1) {
		throw usage('secmon certs import-nss takes one NSS database directory', 'e.g. secmon certs import-nss ~/.pki/nssdb');
	}

	const portText = stringFlag(flags, 'port') ?? '44321';
	if (!/^\d{1,5}$/v.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) {
		throw usage(`--port must be a port number, got "${portText}"`, 'e.g. --port 44321 (pmcd)');
	}

	const port = Number(portText);
	const {dryRun} = flags;
	const database = nssDatabase(input[0], io.env);
	const entries = parseCertutilList(await certutil(['-L', '-d', database.spec], io.env));
	const store = new TrustStore(secmonHome(io.env));
	const now = new Date();
	const summary: ImportSummary = {
		pinned: 0, already: 0, conflicts: 0, superseded: 0, cas: 0, casAlready: 0, manual: 0, skipped: 0,
	};
	const out: string[] = [`${dryRun ? 'Would import' : 'Importing'} from the NSS database ${database.spec}:`];

	// 1. Every certificate, once. PCP saved all accepted certificates as "PCP Collector certificate",
	// so one nickname can stand for several, and certutil -L lists that nickname once per certificate.
	const certificates: NssCertificate[] = [];
	const seen = new Set<string>();
	const fetched = new Set<string>();
	for (const entry of entries) {
		const peer = entry.ssl.includes('P');
		const ca = entry.ssl.includes('C');
		if (!peer && !ca) {
			const why = entry.ssl.includes('p')
				? 'explicitly distrusted in NSS (p)'
				: (entry.ssl.includes('u') ? 'your own certificate (u: it has a private key), not a collector\'s' : 'not trusted for TLS servers in NSS (neither P nor C)');
			out.push(`  ${entry.nickname}  [${entry.trust}]: skipped, ${why}`);
			summary.skipped++;
			continue;
		}

		if (fetched.has(`${entry.nickname}\n${entry.trust}`)) {
			continue;
		}

		fetched.add(`${entry.nickname}\n${entry.trust}`);
		for (const pem of splitPemBundle(await certutil(['-L', '-d', database.spec, '-n', entry.nickname, '-a'], io.env))) {
			const info = describeCertificate(pem);
			if (seen.has(`${entry.trust} ${info.sha256}`)) {
				continue;
			}

			seen.add(`${entry.trust} ${info.sha256}`);
			const fromNickname = targetFromNickname(entry.nickname);
			certificates.push({
				entry,
				pem,
				info,
				targets: peer ? (fromNickname ? [fromNickname] : hostNamesOf(info).map(host => ({host, port}))) : [],
				why: fromNickname ? 'from its nickname' : `from its subjectAltName, port ${port}`,
			});
		}
	}

	// 2. Two trusted certificates for one host:port (a renewal accepted twice): NSS trusts both, a pin
	// holds one, so the newest one is pinned.
	const winners = new Map<string, NssCertificate>();
	for (const certificate of certificates) {
		for (const target of certificate.targets) {
			const key = formatTarget(target);
			const current = winners.get(key);
			if (!current || certificate.info.validFrom.getTime() > current.info.validFrom.getTime()) {
				winners.set(key, certificate);
			}
		}
	}

	// 3. Import.
	for (const certificate of certificates) {
		const {entry, info} = certificate;
		const source = `${database.spec}, nickname "${entry.nickname}"`;
		out.push(`  ${entry.nickname}  [${entry.trust}] ${info.subject}, SHA-256 ${info.sha256}`);
		const note = validityNote(info, now);
		if (note.level !== 'ok') {
			out.push(`    note: ${note.text}`);
		}

		if (entry.ssl.includes('C')) {
			importCa(store, certificate, {
				dryRun, source, now, out, summary,
			});
		}

		if (!entry.ssl.includes('P')) {
			continue;
		}

		if (certificate.targets.length === 0) {
			out.push(
				'    NOT pinned: neither its nickname nor its subjectAltName names a host. Pin it for the collector it belongs to with:',
				`      secmon --host pcps://HOST:${port} --fingerprint ${fingerprintArgument(info.sha256)}`,
			);
			summary.manual++;
			continue;
		}

		for (const target of certificate.targets) {
			const winner = winners.get(formatTarget(target));
			if (winner && winner !== certificate) {
				out.push(`    not pinned ${formatTarget(target)}: the newer certificate SHA-256 ${winner.info.sha256} from this database is pinned for it`);
				summary.superseded++;
				continue;
			}

			pinOne(store, target, info, {
				dryRun, why: certificate.why, source, now, out, summary,
			});
		}
	}

	const parts = [
		`${summary.pinned} pin(s)`,
		`${summary.cas} CA(s)`,
		...(summary.already + summary.casAlready > 0 ? [`${summary.already + summary.casAlready} already trusted`] : []),
		...(summary.skipped > 0 ? [`${summary.skipped} skipped`] : []),
	];
	out.push(`${dryRun ? 'Would import' : 'Imported'} ${parts.join(', ')}.`);
	if (summary.manual > 0) {
		out.push(`${summary.manual} certificate(s) need you to pin them by hand (see above).`);
	}

	if (summary.conflicts > 0) {
		out.push(`${summary.conflicts} pin(s) were NOT imported because a different certificate is already pinned there; compare with: secmon certs show HOST:PORT`);
	}

	if (!dryRun && summary.pinned + summary.cas > 0) {
		out.push('See them with: secmon certs list');
	}

	io.stdout.write(out.join('\n') + '\n');
	return summary.conflicts > 0 ? exitCodes.failure : exitCodes.ok;
}

function importCa(store: TrustStore, certificate: NssCertificate, context: {
	dryRun: boolean; source: string; now: Date; out: string[]; summary: ImportSummary;
}): void {
	const {info, pem, entry} = certificate;
	const {out, summary} = context;
	if (!isCaCertificate(pem)) {
		out.push('    skipped as a CA: trusted as one in NSS, but it is not a CA certificate (no basicConstraints CA:TRUE)');
		summary.skipped++;
		return;
	}

	const known = listTrustedCas(store).find(ca => ca.info.sha256 === info.sha256);
	if (known) {
		out.push(`    already a trusted CA ("${known.name}")`);
		summary.casAlready++;
		return;
	}

	if (context.dryRun) {
		out.push('    would become a trusted CA');
		summary.cas++;
		return;
	}

	const {ca} = addTrustedCa(store, pem, {
		name: uniqueCaName(store, entry.nickname.replace(tokenPrefix, ''), info), how: 'import-nss', source: context.source, now: context.now,
	});
	out.push(`    trusted CA "${ca.name}"`);
	summary.cas++;
}

function uniqueCaName(store: TrustStore, nickname: string, info: CertificateInfo): string {
	const taken = new Set(listTrustedCas(store).filter(ca => ca.info.sha256 !== info.sha256).map(ca => ca.name.toLowerCase()));
	if (!taken.has(nickname.toLowerCase())) {
		return nickname;
	}

	return `${nickname} (${info.sha256.slice(0, 11)})`;
}

function pinOne(store: TrustStore, target: Target, info: CertificateInfo, context: {
	dryRun: boolean; why: string; source: string; now: Date; out: string[]; summary: ImportSummary;
}): void {
	const {out, summary} = context;
	const where = formatTarget(target);
	let existing: Pin | undefined;
	try {
		existing = store.get(target);
	} catch (error) {
		out.push(`    NOT pinned ${where}: ${isSecmonError(error) ? error.message : String(error)}`);
		summary.conflicts++;
		return;
	}

	if (existing?.sha256 === info.sha256) {
		out.push(`    already pinned ${where}`);
		summary.already++;
		return;
	}

	if (existing) {
		out.push(`    NOT pinned ${where}: a different certificate is already pinned there (SHA-256 ${existing.sha256}); nothing was replaced`);
		summary.conflicts++;
		return;
	}

	if (context.dryRun) {
		out.push(`    would pin ${where} (${context.why})`);
		summary.pinned++;
		return;
	}

	// pinnedBy is "prompt": the user accepted it at pminfo's prompt (Pin has no "import" value yet);
	// importedFrom (ignored by store.ts, shown by certs list) says where it really came from.
	const pin: Pin & {importedFrom: string} = {
		host: target.host,
		port: target.port,
		sha256: info.sha256,
		sha1: info.sha1,
		spkiSha256: info.spkiSha256,
		subject: info.subject,
		issuer: info.issuer,
		notAfter: info.validTo.toISOString(),
		pinnedAt: context.now.toISOString(),
		pinnedBy: 'import-nss',
		pem: info.pem,
		importedFrom: context.source,
	};
	try {
		store.add(pin);
		out.push(`    pinned ${where} (${context.why})`);
		summary.pinned++;
	} catch (error) {
		if (isSecmonError(error) && error.code === 'CERT_CHANGED') {
			out.push(`    NOT pinned ${where}: a different certificate was pinned there meanwhile; nothing was replaced`);
			summary.conflicts++;
			return;
		}

		throw error;
	}
}
