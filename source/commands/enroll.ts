/**
 * `secmon enroll --host icinga://MASTER --cn NAME [--ticket-file FILE]`: get a client certificate
 * signed by the Icinga 2 CA with the ticket protocol (pki::RequestCertificate, docs/icinga-livestatus-mon.md#ticket-enrollment),
 * without the icinga2 binary. Key and certificate go to the secmon home
 * (`<home>/icinga/<host>_<port>/`, directory 0700, key 0600), where `secmon --host icinga://…`
 * finds them. The master's certificate goes through the usual trust decision (CA file, pin,
 * --fingerprint, prompt), like every other connection.
 */
import {X509Certificate} from 'node:crypto';
import {existsSync, readFileSync, unlinkSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import process from 'node:process';
import {parseArgs, type FlagSpec} from '../argv/args.js';
import {serverTrustFlags} from '../argv/security-flags.js';
import {rerunCommand} from '../shell.js';
import {requireDurationMs} from '../duration.js';
import {
	exitCodes, SecmonError,
} from '../errors.js';
import {
	checkSigned, makeRequestCertificate, requestCertificate, type RequestKey,
} from '../protocols/icinga/enroll.js';
import {enrolledPaths} from '../protocols/icinga/credentials.js';
import {
	checkKeyFileMode, ensurePrivateDir, errnoCode, secmonHome,
} from '../security/home.js';
import {TrustStore, writeFileAtomic} from '../security/store.js';
import {connectTls} from '../security/tls.js';
import type {Ask} from '../security/types.js';
import {parseHostSpec, type HostSpec} from '../target.js';
import type {Io} from '../io.js';
import {safeJson} from '../safe-text.js';
import {reportError} from '../output/report.js';
import {inkAsk} from './hooks.js';

export type EnrollIo = Io & {ask?: Ask};

export const enrollHelp = `
Usage
  $ secmon enroll --host icinga://MASTER[:5665] --cn NAME [--ticket-file FILE | --ticket T]

Get a client certificate signed by an Icinga 2 master's CA (the ticket protocol of
"icinga2 pki request" / "icinga2 node setup --ticket"), without the icinga2 binary.
The key and certificate are kept in the secmon home (~/.pki/secmon/icinga/HOST_PORT/,
key mode 0600); "secmon --host icinga://MASTER" then uses them automatically.

Options
  --host HOST        the master: icinga://host[:port] or host[:port] (port 5665)
  --cn NAME          the certificate's common name (an ApiUser's client_cn on the master)
  --ticket-file FILE the ticket, from "icinga2 pki ticket --cn NAME" on the master
  --ticket T         the same on the command line (visible to other local users: prefer a file)
                     Without a ticket the request waits on the master until someone runs
                     "icinga2 ca sign FINGERPRINT" there; then run the same command again.
  --force            request a new certificate even if one is stored for this master
  --key-bits N       RSA key size: 2048, 3072 or 4096 (default, as icinga2 pki new-cert)
  --json             one JSON object on stdout instead of text

Trusting the master (its certificate is checked before anything is sent)
  --ca-file FILE     the Icinga CA (/var/lib/icinga2/ca/ca.crt on the master)
  --servername NAME  name to check in the master's certificate (its NodeName), when --host is an address
  --fingerprint SHA256   the master's certificate fingerprint (openssl x509 -fingerprint -sha256)
  --accept-new       trust the master's certificate on first use without asking
  --timeout T        connect and answer timeout (default 10 sec)

Exit codes
  0 signed and stored   1 refused, pending approval, or connection failure   2 usage
  3 master certificate not trusted   4 master certificate changed
`;

type Options = {
	target: HostSpec;
	cn: string;
	ticket?: string;
	force: boolean;
	json: boolean;
	caFile?: string;
	servername?: string;
	fingerprint?: string;
	acceptNew: boolean;
	timeoutMs: number;
	keyBits: number;
};

const enrollFlags = {
	host: {type: 'string'},
	cn: {type: 'string'},
	ticket: {type: 'string'},
	ticketFile: {type: 'string'},
	force: {type: 'boolean'},
	json: {type: 'boolean'},
	...serverTrustFlags,
	keyBits: {type: 'string'},
	help: {type: 'boolean', shortFlag: 'h'},
} as const satisfies FlagSpec;

async function parse(argv: string[]): Promise<Options | 'help'> {
	const {input, flags: values} = parseArgs('enroll', argv, enrollFlags);
	if (input.length > 0) {
		throw new SecmonError('USAGE', `unexpected argument "${input[0]}": secmon enroll takes options only`, 'see: secmon enroll --help');
	}

	if (values.help) {
		return 'help';
	}

	if (values.host === undefined) {
		throw new SecmonError('USAGE', '--host is missing', 'Give the Icinga 2 master: secmon enroll --host icinga://master:5665 --cn NAME --ticket-file FILE');
	}

	const spec = /^[a-z][a-z\d+.-]*:\/\//i.test(values.host) ? values.host : `icinga://${values.host}`;
	const target = parseHostSpec(spec);
	if (target.protocol !== 'icinga') {
		throw new SecmonError('USAGE', `secmon enroll talks to Icinga 2 masters, not ${target.protocol}://`, 'Use --host icinga://master[:5665]');
	}

	const cn = values.cn ?? '';
	if (!/^[\w.-][\w.@-]{0,254}$/.test(cn)) {
		throw new SecmonError('USAGE', cn === '' ? '--cn is missing' : `invalid --cn ${JSON.stringify(cn)}`, 'Give the name the certificate is for (letters, digits, ".", "-", "_"), e.g. --cn monitor-client; it must be an ApiUser\'s client_cn on the master');
	}

	if (values.ticket !== undefined && values.ticketFile !== undefined) {
		throw new SecmonError('USAGE', '--ticket and --ticket-file given together', 'Give the ticket once (a file keeps it out of the process list)');
	}

	let {ticket} = values;
	if (values.ticketFile !== undefined) {
		const file = values.ticketFile;
		try {
			ticket = (await readFile(file, 'utf8')).trim();
		} catch (error) {
			throw new SecmonError('USAGE', `cannot read --ticket-file ${file} (${errnoCode(error) ?? String(error)})`, 'Check the path; the ticket comes from "icinga2 pki ticket --cn NAME" on the master', {cause: error});
		}
	}

	if (ticket !== undefined && !/^[\da-f]{40}$/i.test(ticket)) {
		throw new SecmonError('USAGE', 'the ticket is not 40 hex digits', 'Use the output of "icinga2 pki ticket --cn NAME" on the master (or its API action generate-ticket)');
	}

	const keyBits = Number(values.keyBits ?? '4096');
	if (![2048, 3072, 4096].includes(keyBits)) {
		throw new SecmonError('USAGE', `invalid --key-bits ${JSON.stringify(values.keyBits)}`, 'Use 2048, 3072 or 4096 (the default, like icinga2 pki new-cert)');
	}

	return {
		target,
		cn,
		keyBits,
		...(ticket === undefined ? {} : {ticket: ticket.toLowerCase()}),
		force: values.force,
		json: values.json,
		...(values.caFile === undefined ? {} : {caFile: values.caFile}),
		...(values.servername === undefined ? {} : {servername: values.servername}),
		...(values.fingerprint === undefined ? {} : {fingerprint: values.fingerprint}),
		acceptNew: values.acceptNew,
		timeoutMs: values.timeout === undefined ? 10_000 : requireDurationMs(values.timeout, '--timeout'),
	};
}

/** The pending request of an earlier run for the same CN (so that `icinga2 ca sign` approves the request we send again). */
function pendingKey(paths: ReturnType<typeof enrolledPaths>, cn: string): RequestKey | undefined {
	if (!existsSync(paths.pendingKey) || !existsSync(paths.pendingCert)) {
		return undefined;
	}

	try {
		const key = {keyPem: readFileSync(paths.pendingKey, 'utf8'), certPem: readFileSync(paths.pendingCert, 'utf8')};
		return new X509Certificate(key.certPem).subject.split('\n').includes(`CN=${cn}`) ? key : undefined;
	} catch {
		// Unreadable leftovers: make a new request.
		return undefined;
	}
}

function removeQuietly(file: string): void {
	try {
		unlinkSync(file);
	} catch {
		// Already gone.
	}
}

export async function enrollCommand(argv: string[], io: EnrollIo): Promise<number> {
	const jsonRequested = argv.includes('--json');
	const fail = (error: unknown): number => reportError(io, error, {json: jsonRequested});

	let options: Options;
	try {
		const parsed = await parse(argv);
		if (parsed === 'help') {
			io.stdout.write(enrollHelp.trim() + '\n');
			return exitCodes.ok;
		}

		options = parsed;
	} catch (error) {
		return fail(error);
	}

	const {target, cn} = options;
	const home = secmonHome(io.env);
	const paths = enrolledPaths(home, {host: target.host, port: target.port});
	try {
		if (existsSync(paths.cert) && !options.force) {
			throw new SecmonError('USAGE', `a certificate from this master is already stored: ${paths.cert}`, 'It is used automatically. To request a new one (e.g. another --cn), add --force');
		}

		// A new key takes a moment (RSA 4096): made while the master's certificate is checked, kept
		// (as a pending request) only once the master is trusted.
		const previous = pendingKey(paths, cn);
		const reused = previous !== undefined;
		const keyPromise = previous ? Promise.resolve(previous) : makeRequestCertificate(cn, options.keyBits);
		keyPromise.catch(() => undefined);
		const interactive = !options.json && process.stdin.isTTY && process.stdout.isTTY;
		const ask = io.ask ?? (interactive ? inkAsk : undefined);

		const {stream, facts} = await connectTls({
			target: {host: target.host, port: target.port},
			...(options.servername === undefined ? {} : {servername: options.servername}),
			...(options.caFile === undefined ? {} : {caFile: options.caFile}),
			...(options.fingerprint === undefined ? {} : {fingerprint: options.fingerprint}),
			acceptNew: options.acceptNew,
			...(interactive && ask ? {ask} : {}),
			store: new TrustStore(home),
			timeoutMs: options.timeoutMs,
			onWarning(message) {
				io.stderr.write(`secmon: ${message}\n`);
			},
			rerunCommand: rerunCommand(['enroll', ...argv]),
		});
		let key: RequestKey;
		try {
			key = await keyPromise;
			if (!reused) {
				ensurePrivateDir(paths.dir);
				writeFileAtomic(paths.pendingKey, key.keyPem);
				writeFileAtomic(paths.pendingCert, key.certPem);
			}
		} catch (error) {
			stream.destroy();
			throw error;
		}

		const result = await requestCertificate(stream, {
			certPem: key.certPem, ...(options.ticket === undefined ? {} : {ticket: options.ticket}), timeoutMs: options.timeoutMs, where: target.display,
		});
		switch (result.status) {
			case 'signed': {
				const {certificate, ca} = checkSigned(result.certPem, result.caPem, key.keyPem, cn);
				ensurePrivateDir(paths.dir);
				writeFileAtomic(paths.key, key.keyPem);
				writeFileAtomic(paths.cert, result.certPem);
				writeFileAtomic(paths.ca, result.caPem);
				removeQuietly(paths.pendingKey);
				removeQuietly(paths.pendingCert);
				const warning = checkKeyFileMode(paths.key);
				if (warning) {
					io.stderr.write(`secmon: ${warning}\n`);
				}

				const summary = {
					type: 'enrolled',
					host: target.host,
					port: target.port,
					cn,
					certificate: paths.cert,
					key: paths.key,
					ca: paths.ca,
					issuer: ca.subject.replaceAll('\n', ', '),
					validTo: new Date(certificate.validTo).toISOString(),
					sha256: certificate.fingerprint256,
					master: {sha256: facts.sha256, trust: facts.basis},
				};
				if (options.json) {
					io.stdout.write(safeJson(summary) + '\n');
				} else {
					io.stdout.write([
						`Enrolled CN=${cn} with the Icinga 2 master ${target.display} (issuer ${summary.issuer}, valid until ${summary.validTo.slice(0, 10)})`,
						`  certificate  ${paths.cert}`,
						`  key          ${paths.key}  (mode 0600)`,
						`  Icinga CA    ${paths.ca}`,
						`  SHA-256      ${certificate.fingerprint256}`,
						`secmon --host icinga://${target.display} uses it from now on; the master needs an ApiUser with client_cn = "${cn}".`,
					].join('\n') + '\n');
				}

				return exitCodes.ok;
			}

			case 'pending': {
				throw new SecmonError(
					'PEER_ERROR',
					`the certificate request for CN=${cn} is waiting for approval on the Icinga 2 master ${target.display} (request fingerprint ${result.fingerprint})`,
					`On the master run: icinga2 ca sign ${result.fingerprint}\nthen run this command again: the same request is sent again (its key is kept in ${paths.dir}${reused ? '; this was already a repeated request' : ''}).\nOr get a ticket there (icinga2 pki ticket --cn ${cn}) and add --ticket-file FILE.`,
				);
			}

			case 'rejected': {
				throw new SecmonError(
					'PEER_ERROR',
					`the Icinga 2 master ${target.display} refused the certificate request for CN=${cn}: ${result.error}`,
					/invalid ticket/i.test(result.error)
						? `The ticket does not belong to CN=${cn} on this master: get one there with "icinga2 pki ticket --cn ${cn}" and pass it with --ticket-file FILE`
						: 'Check the master\'s log (/var/log/icinga2/icinga2.log) for the reason',
				);
			}
		}
	} catch (error) {
		return fail(error);
	}
}
