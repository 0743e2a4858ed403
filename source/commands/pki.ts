/**
 * `secmon pki …`: build the PKI a set of collectors needs (Checkmk's site CA, `icinga2 pki`, the
 * Zabbix openssl recipe) in one command each. argv is what follows "pki" on the command line.
 */
import {X509Certificate} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type {Io} from '../io.js';
import {exitCodes, SecmonError} from '../errors.js';
import {reportError} from '../output/report.js';
import {
	defaultCaAlgorithm, defaultCaDays, defaultCaDir, describeCa, initCa, loadCa, type Ca,
} from '../pki/ca.js';
import {signCsr} from '../pki/csr.js';
import {
	exists, publicMode, readText, safeBaseName, writeFileAtomic,
} from '../pki/files.js';
import {
	defaultIssueDir, defaultLeafAlgorithm, defaultLeafDays, describeCertificate, issueCertificate, writeIssued,
} from '../pki/issue.js';
import {isKeyAlgorithm, keyAlgorithms, type KeyAlgorithm} from '../pki/keys.js';
import {
	formatSnippet, isSnippetKind, makeSnippet, snippetKinds, type CertificateFiles, type SnippetInput,
} from '../pki/snippets.js';
import {icingaTicket, readSaltFile} from '../pki/ticket.js';
import {parseSan, type CertificateUsage} from '../pki/x509.js';
import {parseArgs, type FlagSpec} from '../argv/args.js';
import {kebab} from '../argv/simple-argv.js';

export const pkiHelp = `
Usage
  $ secmon pki init [DIR] [--algorithm ALG] [--days N] [--cn NAME] [--force]
  $ secmon pki issue --cn NAME [--san NAME]... [--server] [--client] [--days N] [--ca DIR] [--out DIR]
  $ secmon pki sign CSR [--server] [--client] [--days N] [--ca DIR] [--out FILE] [--chain]
  $ secmon pki ticket --cn NAME --salt-file FILE       (or --salt SALT)
  $ secmon pki snippet pmcd|zabbix-agent|stunnel|icinga2|pmproxy --server NAME [--client NAME] [--ca DIR]

  init      make a CA: ca.pem and ca.key (0600) in DIR (default ~/.pki/secmon/pki,
            SECMON_HOME moves it). SHA-512, ${defaultCaDays} days, ${defaultCaAlgorithm}. An existing CA is never
            replaced without --force.
  issue     a key and certificate signed by the CA, in <CA>/issued/NAME/ (or --out DIR):
            NAME.key (0600), NAME.pem, NAME.combined.pem (key + certificate + CA, the Checkmk
            site pem / stunnel layout, 0600) and ca.pem. The CN is added as a DNS or IP name.
  sign      certify someone else's request (PKCS#10, PEM or DER) after checking its signature;
            the names it asks for (subjectAltName) are copied, its other extensions are not.
  ticket    the Icinga 2 auto-signing ticket for a CN (same as "icinga2 pki ticket"). The salt is
            a secret: command lines are visible to every local user (ps), so prefer --salt-file,
            which also reads the TicketSalt line of an Icinga 2 constants.conf.
  snippet   the configuration lines that put issued files to use on a collector.

Options
  --algorithm ALG    ${keyAlgorithms.join(' | ')} (init default ${defaultCaAlgorithm}, issue default ${defaultLeafAlgorithm})
  --days N           validity in days (init ${defaultCaDays}, issue/sign ${defaultLeafDays}); never beyond the CA's
  --cn NAME          common name (init: the CA's name)
  --san NAME         DNS:name, IP:address, email:x or URI:x; a bare value is an IP or DNS name
  --server/--client  extended key usage: serverAuth (default), clientAuth, or both flags for both
  --org NAME         issue: add O=NAME to the subject
  --ca DIR           the CA directory (default ~/.pki/secmon/pki); ca.crt is read if ca.pem is absent
  --out DIR|FILE     issue: output directory; sign: certificate file (default: stdout)
  --chain            sign: append the CA certificate to the output
  --force            replace existing files (init: the CA itself)
  --not-before T, --not-after T   exact validity (ISO 8601), e.g. to test expiry warnings

Snippet options
  --server NAME|FILE the collector certificate: a name issued by "pki issue" or a .pem file
                     (its key is the .key file next to it)
  --client NAME|FILE the monitoring side's client certificate (turns on client-cert checks)
  --dest DIR         where the collector's files will live (default: where they are now)
  --host H --port P  how the monitoring host reaches the collector (for the example commands)
  --accept ADDR --connect ADDR --service NAME   stunnel: TLS listen address, plain target, section

Examples
  $ secmon pki init
  $ secmon pki issue --cn collector1.example.org --san IP:192.0.2.10
  $ secmon pki issue --client --cn "secmon client"
  $ secmon pki snippet pmcd --server collector1.example.org --client "secmon client" --dest /etc/pcp/tls
  $ secmon pki ticket --cn agent1.example.org --salt-file /etc/icinga2/constants.conf

Exit codes: 0 ok, 1 failure (files, CA, invalid request), 2 usage.
`;

const subcommandFlags: Record<string, FlagSpec> = {
	init: {
		algorithm: {type: 'string'},
		days: {type: 'string'},
		cn: {type: 'string'},
		force: {type: 'boolean'},
		notBefore: {type: 'string'},
		notAfter: {type: 'string'},
		help: {type: 'boolean'},
	},
	issue: {
		cn: {type: 'string'},
		san: {type: 'string', isMultiple: true},
		server: {type: 'boolean'},
		client: {type: 'boolean'},
		days: {type: 'string'},
		algorithm: {type: 'string'},
		org: {type: 'string'},
		ca: {type: 'string'},
		out: {type: 'string'},
		force: {type: 'boolean'},
		notBefore: {type: 'string'},
		notAfter: {type: 'string'},
		help: {type: 'boolean'},
	},
	sign: {
		server: {type: 'boolean'},
		client: {type: 'boolean'},
		days: {type: 'string'},
		ca: {type: 'string'},
		out: {type: 'string'},
		chain: {type: 'boolean'},
		force: {type: 'boolean'},
		notBefore: {type: 'string'},
		notAfter: {type: 'string'},
		help: {type: 'boolean'},
	},
	ticket: {
		cn: {type: 'string'},
		salt: {type: 'string'},
		saltFile: {type: 'string'},
		help: {type: 'boolean'},
	},
	snippet: {
		server: {type: 'string'},
		client: {type: 'string'},
		ca: {type: 'string'},
		dest: {type: 'string'},
		host: {type: 'string'},
		port: {type: 'string'},
		accept: {type: 'string'},
		connect: {type: 'string'},
		service: {type: 'string'},
		help: {type: 'boolean'},
	},
};

function usage(message: string, hint = 'see: secmon pki --help'): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

type Parsed = {input: string[]; flags: Record<string, unknown>};

function parse(subcommand: string, argv: string[], spec: FlagSpec): Parsed {
	return parseArgs(`pki ${subcommand}`, argv, spec);
}

function stringFlag(flags: Record<string, unknown>, name: string): string | undefined {
	const value = flags[name];
	if (value === undefined) {
		return undefined;
	}

	if (typeof value !== 'string' || value === '') {
		throw usage(`--${kebab(name)} needs a value`);
	}

	return value;
}

function listFlag(flags: Record<string, unknown>, name: string): string[] {
	const value = flags[name];
	return Array.isArray(value) ? value.map(String) : [];
}

function daysFlag(flags: Record<string, unknown>): number | undefined {
	const text = stringFlag(flags, 'days');
	if (text === undefined) {
		return undefined;
	}

	if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 36_500) {
		throw usage(`--days must be a whole number of days from 1 to 36500, got "${text}"`, 'e.g. --days 397');
	}

	return Number(text);
}

function dateFlag(flags: Record<string, unknown>, name: string): Date | undefined {
	const text = stringFlag(flags, name);
	if (text === undefined) {
		return undefined;
	}

	const time = Date.parse(text);
	if (Number.isNaN(time)) {
		throw usage(`--${kebab(name)} "${text}" is not a date`, 'use ISO 8601, e.g. 2030-01-31T00:00:00Z');
	}

	return new Date(time);
}

function algorithmFlag(flags: Record<string, unknown>): KeyAlgorithm | undefined {
	const text = stringFlag(flags, 'algorithm');
	if (text === undefined) {
		return undefined;
	}

	if (!isKeyAlgorithm(text)) {
		throw usage(`unknown --algorithm "${text}"`, `choose one of: ${keyAlgorithms.join(', ')}`);
	}

	return text;
}

function usageFlag(flags: Record<string, unknown>): CertificateUsage {
	const server = flags['server'] === true;
	const client = flags['client'] === true;
	if (server && client) {
		return 'both';
	}

	return client ? 'client' : 'server';
}

function validityFlags(flags: Record<string, unknown>): {days?: number; notBefore?: Date; notAfter?: Date} {
	const days = daysFlag(flags);
	const notBefore = dateFlag(flags, 'notBefore');
	const notAfter = dateFlag(flags, 'notAfter');
	if (days !== undefined && notAfter !== undefined) {
		throw usage('give --days or --not-after, not both');
	}

	return {
		...(days === undefined ? {} : {days}),
		...(notBefore === undefined ? {} : {notBefore}),
		...(notAfter === undefined ? {} : {notAfter}),
	};
}

function caDir(flags: Record<string, unknown>, io: Io): string {
	return path.resolve(stringFlag(flags, 'ca') ?? defaultCaDir(io.env));
}

function warn(io: Io, lines: string[]): void {
	for (const line of lines) {
		io.stderr.write(`secmon: ${line}\n`);
	}
}

function indent(lines: string[]): string {
	return lines.map(line => `  ${line}\n`).join('');
}

async function runInit(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parse('init', argv, subcommandFlags['init']!);
	if (input.length > 1) {
		throw usage(`secmon pki init takes one directory, got ${input.length}: ${input.join(' ')}`, 'e.g. secmon pki init /srv/monitoring-ca');
	}

	const dir = path.resolve(input[0] ?? defaultCaDir(io.env));
	const algorithm = algorithmFlag(flags);
	const days = daysFlag(flags);
	const cn = stringFlag(flags, 'cn');
	const notBefore = dateFlag(flags, 'notBefore');
	const notAfter = dateFlag(flags, 'notAfter');
	const ca = await initCa({
		dir,
		force: flags['force'] === true,
		...(algorithm ? {algorithm} : {}),
		...(days === undefined ? {} : {days}),
		...(cn === undefined ? {} : {cn}),
		...(notBefore ? {notBefore} : {}),
		...(notAfter ? {notAfter} : {}),
	});
	const caOption = input[0] === undefined ? '' : ` --ca ${ca.dir}`;
	if (flags['force'] === true && await exists(path.join(ca.dir, 'issued'))) {
		warn(io, [`the certificates in ${path.join(ca.dir, 'issued')} were issued by the replaced CA: peers that get the new ca.pem reject them; re-issue each with: secmon pki issue --cn NAME --force${caOption}`]);
	}

	io.stdout.write(`secmon: made a CA in ${ca.dir}\n`
		+ `  certificate: ${ca.certificatePath}  (give this to every peer that must trust it)\n`
		+ `  key:         ${ca.keyPath}  (0600; whoever has it can impersonate every collector: keep it here, back it up offline)\n`
		+ indent(describeCa(ca))
		+ `Next: secmon pki issue --cn COLLECTOR-NAME${caOption}   (and --client --cn "secmon client" for a client certificate)\n`);
	return exitCodes.ok;
}

async function loadCaWithWarnings(dir: string, io: Io): Promise<Ca> {
	const ca = await loadCa(dir);
	warn(io, ca.warnings);
	return ca;
}

async function runIssue(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parse('issue', argv, subcommandFlags['issue']!);
	if (input.length > 0) {
		throw usage(`secmon pki issue takes no arguments, got: ${input.join(' ')}`, 'give the name with --cn, e.g. secmon pki issue --cn collector1.example.org');
	}

	const cn = stringFlag(flags, 'cn');
	if (cn === undefined) {
		throw usage('secmon pki issue needs --cn NAME', 'e.g. secmon pki issue --cn collector1.example.org --san IP:192.0.2.10');
	}

	const sans = listFlag(flags, 'san').flatMap(item => item.split(',')).filter(item => item.trim() !== '').map(item => parseSan(item));
	const usageKind = usageFlag(flags);
	const algorithm = algorithmFlag(flags);
	const organization = stringFlag(flags, 'org');
	const validity = validityFlags(flags);
	const out = stringFlag(flags, 'out');
	const ca = await loadCaWithWarnings(caDir(flags, io), io);
	const issued = await issueCertificate({
		ca,
		cn,
		sans,
		usage: usageKind,
		...(algorithm ? {algorithm} : {}),
		...(organization ? {organization} : {}),
		...validity,
	});
	const base = safeBaseName(cn);
	const files = await writeIssued(issued, out ? path.resolve(out) : defaultIssueDir(ca, cn), base, flags['force'] === true);
	warn(io, issued.notes);
	const kind = {server: 'server', client: 'client', both: 'server and client'}[usageKind];
	const nameForSnippet = JSON.stringify(out ? files.certificatePath : cn);
	const snippetArguments = usageKind === 'client' ? `--server COLLECTOR --client ${nameForSnippet}` : `--server ${nameForSnippet}`;
	io.stdout.write(`secmon: issued a ${kind} certificate for "${cn}" in ${files.dir}\n`
		+ `  key:         ${files.keyPath}  (0600, keep it secret)\n`
		+ `  certificate: ${files.certificatePath}\n`
		+ `  combined:    ${files.combinedPath}  (key + certificate + CA in one file, 0600)\n`
		+ `  CA:          ${files.caPath}\n`
		+ indent(describeCertificate(issued.certificate))
		+ 'Next: copy the files to where they are used, then see the config lines with:\n'
		+ `  secmon pki snippet pmcd|zabbix-agent|stunnel|icinga2|pmproxy ${snippetArguments}${flags['ca'] === undefined ? '' : ` --ca ${ca.dir}`}\n`);
	return exitCodes.ok;
}

async function runSign(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parse('sign', argv, subcommandFlags['sign']!);
	if (input.length !== 1) {
		throw usage(
			input.length === 0 ? 'secmon pki sign needs the request file (CSR)' : `secmon pki sign takes one request file, got ${input.length}`,
			'e.g. secmon pki sign agent1.csr --out agent1.pem',
		);
	}

	const csrPath = path.resolve(input[0]!);
	const usageKind = usageFlag(flags);
	const validity = validityFlags(flags);
	const out = stringFlag(flags, 'out');
	let csr: Buffer;
	try {
		csr = await fs.readFile(csrPath);
	} catch (error) {
		throw new SecmonError(
			'USAGE',
			`cannot read the request ${csrPath} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
			'give the path of a PKCS#10 request, e.g. made with: openssl req -new -key KEY -out REQUEST.csr -subj /CN=NAME',
		);
	}

	const ca = await loadCaWithWarnings(caDir(flags, io), io);
	const signed = await signCsr({
		ca, csrPem: csr, usage: usageKind, ...validity,
	});
	const pem = flags['chain'] === true ? signed.certificatePem + signed.chainPem : signed.certificatePem;
	const summary = `secmon: signed the request ${csrPath}\n${indent(describeCertificate(signed.certificate))}`;
	if (out) {
		const target = path.resolve(out);
		await writeFileAtomic(target, pem, {mode: publicMode, overwrite: flags['force'] === true});
		io.stdout.write(`${summary}  written to:  ${target}\nNext: send it back with the CA certificate ${ca.certificatePath}; the requester installs both next to its key\n`);
	} else {
		io.stdout.write(pem);
		io.stderr.write(summary);
	}

	warn(io, signed.notes);
	return exitCodes.ok;
}

async function runTicket(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parse('ticket', argv, subcommandFlags['ticket']!);
	if (input.length > 0) {
		throw usage(`secmon pki ticket takes no arguments, got: ${input.join(' ')}`, 'e.g. secmon pki ticket --cn agent1.example.org --salt-file /etc/icinga2/constants.conf');
	}

	const cn = stringFlag(flags, 'cn');
	if (cn === undefined) {
		throw usage('secmon pki ticket needs --cn NAME (the agent\'s certificate CN)', 'e.g. secmon pki ticket --cn agent1.example.org --salt-file /etc/icinga2/constants.conf');
	}

	const {salt} = flags;
	const saltFile = stringFlag(flags, 'saltFile');
	if ((salt === undefined) === (saltFile === undefined)) {
		throw usage(
			salt === undefined ? 'secmon pki ticket needs the master\'s TicketSalt: --salt-file FILE (or --salt SALT)' : 'give --salt or --salt-file, not both',
			'--salt-file reads a file holding only the salt, or the TicketSalt line of /etc/icinga2/constants.conf; prefer it, since --salt is visible to other users in ps',
		);
	}

	let saltValue: string;
	if (saltFile === undefined) {
		if (typeof salt !== 'string' || salt === '') {
			throw usage('--salt needs a value', 'prefer --salt-file FILE: command lines are visible to other users in ps');
		}

		saltValue = salt;
	} else {
		const read = await readSaltFile(path.resolve(saltFile));
		if (read.warning) {
			io.stderr.write(`secmon: ${read.warning}\n`);
		}

		saltValue = read.salt;
	}

	io.stdout.write(`${await icingaTicket(cn, saltValue)}\n`);
	return exitCodes.ok;
}

/** Resolves --server/--client NAME|FILE to the certificate, key and combined files. */
async function certificateFiles(value: string, ca: string, role: 'server' | 'client'): Promise<CertificateFiles> {
	let certificatePath: string;
	const asFile = path.resolve(value);
	if ((value.includes('/') || /\.(pem|crt)$/.test(value)) && await exists(asFile)) {
		certificatePath = asFile;
	} else {
		const base = safeBaseName(value);
		certificatePath = path.join(ca, 'issued', base, `${base}.pem`);
		if (!(await exists(certificatePath))) {
			throw usage(
				`no issued certificate "${value}" (looked for ${certificatePath})`,
				`issue it first: secmon pki issue ${role === 'client' ? '--client ' : ''}--cn ${JSON.stringify(value)}, or give the path of its .pem file`,
			);
		}
	}

	const stem = certificatePath.replace(/\.(pem|crt)$/, '');
	const keyPath = `${stem}.key`;
	if (!(await exists(keyPath))) {
		throw usage(`the key for ${certificatePath} is not at ${keyPath}`, 'keep the key next to the certificate with the same name and a .key extension');
	}

	const combinedPath = `${stem}.combined.pem`;
	const text = await readText(certificatePath, 'the certificate', 'give the path of a PEM certificate');
	let certificate: X509Certificate;
	try {
		certificate = new X509Certificate(text);
	} catch {
		throw new SecmonError('CERT_INVALID', `${certificatePath} is not a PEM certificate`, 'give the .pem file written by secmon pki issue');
	}

	return {
		certificatePath, keyPath, certificate, ...(await exists(combinedPath) ? {combinedPath} : {}),
	};
}

function moveTo(dest: string | undefined, file: string): string {
	return dest === undefined ? file : path.posix.join(dest, path.basename(file));
}

async function runSnippet(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parse('snippet', argv, subcommandFlags['snippet']!);
	const kind = input[0];
	if (kind === undefined || input.length > 1) {
		throw usage(`secmon pki snippet needs one of: ${snippetKinds.join(', ')}`, 'e.g. secmon pki snippet pmcd --server collector1.example.org --client "secmon client"');
	}

	if (!isSnippetKind(kind)) {
		throw usage(`unknown snippet "${kind}"`, `choose one of: ${snippetKinds.join(', ')}`);
	}

	const serverName = stringFlag(flags, 'server');
	if (serverName === undefined) {
		throw usage('secmon pki snippet needs --server NAME|FILE (the collector\'s certificate)', 'issue one with: secmon pki issue --cn COLLECTOR-NAME, then pass --server COLLECTOR-NAME');
	}

	const ca = caDir(flags, io);
	const server = await certificateFiles(serverName, ca, 'server');
	const clientName = stringFlag(flags, 'client');
	const client = clientName === undefined ? undefined : await certificateFiles(clientName, ca, 'client');
	// The CA file: the one next to the server certificate (an issued bundle), else the CA's.
	const besideServer = path.join(path.dirname(server.certificatePath), 'ca.pem');
	const caPath = await exists(besideServer) ? besideServer : path.join(ca, 'ca.pem');
	const caText = await readText(caPath, 'the CA certificate', 'point --ca at the CA directory, or make one with: secmon pki init');
	const caCertificate = new X509Certificate(caText);
	const dest = stringFlag(flags, 'dest');
	const portText = stringFlag(flags, 'port');
	if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535)) {
		throw usage(`--port must be 1-65535, got "${portText}"`);
	}

	const host = stringFlag(flags, 'host');
	const accept = stringFlag(flags, 'accept');
	const connect = stringFlag(flags, 'connect');
	const service = stringFlag(flags, 'service');
	const snippetInput: SnippetInput = {
		caPath: moveTo(dest, caPath),
		localCaPath: caPath,
		caCertificate,
		server: {
			...server,
			certificatePath: moveTo(dest, server.certificatePath),
			keyPath: moveTo(dest, server.keyPath),
			...(server.combinedPath ? {combinedPath: moveTo(dest, server.combinedPath)} : {}),
		},
		...(client ? {client} : {}),
		...(host === undefined ? {} : {host}),
		...(portText === undefined ? {} : {port: Number(portText)}),
		...(accept === undefined ? {} : {accept}),
		...(connect === undefined ? {} : {connect}),
		...(service === undefined ? {} : {service}),
	};
	const snippet = makeSnippet(kind, snippetInput);
	// The bundle's own ca.pem may be a replaced CA's: compare with the CA directory's current one.
	const currentCaPath = path.join(ca, 'ca.pem');
	if (caPath !== currentCaPath && await exists(currentCaPath)) {
		const current = new X509Certificate(await readText(currentCaPath, 'the CA certificate', 'point --ca at the CA directory'));
		for (const [role, files] of [['server', server], ['client', client]] as const) {
			if (files && !files.certificate.checkIssued(current)) {
				snippet.warnings.push(`${files.certificatePath} was not issued by the current CA in ${currentCaPath} (replaced since?); re-issue it: secmon pki issue ${role === 'client' ? '--client ' : ''}--cn NAME --force`);
			}
		}
	}

	warn(io, snippet.warnings.map(item => `warning: ${item}`));
	io.stdout.write(formatSnippet({...snippet, warnings: []}));
	return exitCodes.ok;
}

const runners: Record<string, (argv: string[], io: Io) => Promise<number>> = {
	init: runInit,
	issue: runIssue,
	sign: runSign,
	ticket: runTicket,
	snippet: runSnippet,
};

export async function pkiCommand(argv: string[], io: Io): Promise<number> {
	const [subcommand, ...rest] = argv;
	if (subcommand === undefined || subcommand === '--help' || subcommand === 'help') {
		(subcommand === undefined ? io.stderr : io.stdout).write(pkiHelp.replace(/^\n/, ''));
		return subcommand === undefined ? exitCodes.usage : exitCodes.ok;
	}

	const runner = runners[subcommand];
	if (!runner) {
		io.stderr.write(`secmon: unknown pki command "${subcommand}"\nchoose one of: ${Object.keys(runners).join(', ')} (see: secmon pki --help)\n`);
		return exitCodes.usage;
	}

	if (rest.includes('--help')) {
		io.stdout.write(pkiHelp.replace(/^\n/, ''));
		return exitCodes.ok;
	}

	try {
		return await runner(rest, io);
	} catch (error) {
		return reportError(io, error, {json: false});
	}
}
