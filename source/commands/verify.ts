/**
 * `secmon verify --host H`: diagnose a collector's TLS (after `pcp verify --secure` and Checkmk's
 * certificate-expiry check) for every protocol — does it offer TLS, version and cipher, the whole
 * chain, who signed it, host-name match, expiry, client certificate, how secmon would trust it
 * today and what to do next. It never prompts and never pins (security/inspect.ts asks the trust
 * decision in its read-only form), and sends no request to a collector it does not trust.
 * Exit 0 only when a secure connection would succeed; else 3 untrusted, 4 changed, 5 no TLS, 1.
 */
import {X509Certificate} from 'node:crypto';
import {accessSync, constants, readFileSync} from 'node:fs';
import tls from 'node:tls';
import type {Io} from '../io.js';
import {shellQuote} from '../shell.js';
import {requireDurationMs} from '../duration.js';
import {
	errorJson, exitCodes, formatError, SecmonError,
} from '../errors.js';
import {fingerprintArgument, splitPemBundle} from '../security/certificate.js';
import {expiryOf, expiryWarning, type Expiry} from '../security/expiry.js';
import {secmonHome} from '../security/home.js';
import {trustVerdict, type ClientCertOutcome, type TrustVerdict} from '../security/inspect.js';
import {formatDate, validityNote} from '../security/messages.js';
import {formatTarget, TrustStore} from '../security/store.js';
import {listTrustedCas} from '../security/trusted-cas.js';
import {describeChainError, opaqueVerifyCodes} from '../security/trust.js';
import {floorHint} from '../security/floor.js';
import type {CertificateInfo, Pin, Target} from '../security/types.js';
import {parseHostSpec, type HostSpec} from '../target.js';
import {descriptorFor, schemes} from '../protocols/registry.js';
import {safeJson} from '../safe-text.js';
import {colorWanted, paint} from '../color.js';
import {reportError} from '../output/report.js';
import {parseArgs} from '../argv/args.js';

export const verifyHelp = `
Usage
  $ secmon verify --host HOST [--ca-file FILE] [--cert FILE --key FILE] [--servername NAME] [--json]

Diagnose the TLS of one collector, of any protocol (pcp:// by in-band upgrade; zabbix://,
icinga://, livestatus:// and mon:// with TLS from the first byte): whether it offers TLS, the
TLS version and cipher, the certificate chain it presents, who signed it, whether it matches the
host name, when it expires, whether it wants a client certificate, and how secmon would trust it
today (CA, pin, unknown, changed) — with the exact command to fix what is wrong.

verify never asks, never pins and sends no request to a collector it does not trust.
For a Zabbix agent with a pre-shared key (SECMON_PSK_IDENTITY and SECMON_PSK_FILE), it checks
the PSK connection (TLS-PSK has no certificate).

Options
  --host HOST        host[:port] or a URL: ${schemes.map(scheme => `${scheme}://`).join(', ')}
  --ca-file FILE     check against exactly this CA (as the same flag does for other commands)
  --cert FILE --key FILE   the client certificate to present
  --servername NAME  the name to check the certificate against (default: the host)
  --timeout T        connect and handshake timeout (default 5 sec)
  --json             one JSON object with everything shown

Exit codes
  0 a secure connection would succeed   1 connection, TLS or client-certificate failure
  2 usage   3 certificate not trusted   4 certificate changed (possible interception)
  5 the collector does not offer TLS
`;

const verifyFlags = {
	host: {type: 'string' as const, shortFlag: 'h'},
	caFile: {type: 'string' as const},
	cert: {type: 'string' as const},
	key: {type: 'string' as const},
	servername: {type: 'string' as const},
	timeout: {type: 'string' as const},
	json: {type: 'boolean' as const},
};

type Options = {
	spec: HostSpec;
	caFile?: string;
	cert?: string;
	key?: string;
	servername?: string;
	timeoutMs: number;
	json: boolean;
};

/** What verify found; also the --json object. */
export type VerifyReport = {
	target: string;
	protocol: HostSpec['protocol'];
	/** How TLS is reached: PCP's in-band upgrade, TLS from the first byte, or Zabbix TLS-PSK. */
	transport: 'pcp-upgrade' | 'direct' | 'psk';
	connected: boolean;
	/** Does the collector offer TLS? undefined when that could not be told. */
	tlsOffered?: boolean;
	tls?: {version: string; cipher: string};
	chain: CertificateInfo[];
	chainVerified?: {ok: boolean; reason?: string; against: string};
	signedBy?: string;
	hostname?: {name: string; ok: boolean; reason?: string; checked: boolean};
	expiry?: Expiry & {warning?: string};
	clientCert: {given: boolean; outcome: ClientCertOutcome | 'not-applicable'; requiredByCollector?: boolean};
	pin?: {file: string; exists: boolean; matches?: boolean; pin?: Pin; error?: string};
	trust: TrustVerdict['status'] | 'not-checked';
	psk?: {identity: string};
	ok: boolean;
	exitCode: number;
	/** The refusal secmon would print, when there is one. */
	problem?: SecmonError;
	warnings: string[];
	next: string[];
};

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
	const {input, flags} = parseArgs('verify', argv, verifyFlags);
	const host = flags.host ?? input[0];
	const extra = flags.host === undefined ? input.slice(1) : input;
	if (host === undefined) {
		throw new SecmonError('USAGE', 'secmon verify needs --host HOST', 'e.g. secmon verify --host pcps://collector.example.org:44321');
	}

	if (extra.length > 0) {
		throw new SecmonError('USAGE', `secmon verify checks one collector; unexpected: ${extra.join(' ')}`, 'Run it once per collector');
	}

	const string = (name: keyof typeof verifyFlags) => (typeof flags[name] === 'string' ? flags[name] : undefined);
	const cert = string('cert');
	const key = string('key');
	if ((cert === undefined) !== (key === undefined)) {
		throw new SecmonError('USAGE', cert === undefined ? '--key needs --cert' : '--cert needs --key', 'Give the client certificate with --cert FILE and its private key with --key FILE');
	}

	const timeout = string('timeout');
	const caFile = string('caFile');
	for (const [flag, file] of [['--ca-file', caFile], ['--cert', cert], ['--key', key]] as const) {
		if (file !== undefined) {
			try {
				accessSync(file, constants.R_OK);
			} catch (error) {
				throw new SecmonError('USAGE', `cannot read ${flag} ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Check the path and its permissions');
			}
		}
	}

	const spec = parseHostSpec(host, env);
	const fromEnvironment = descriptorFor(spec.protocol).verify.servernameFromEnv ? env['SECMON_SERVERNAME'] : undefined;
	const servername = string('servername') ?? (fromEnvironment === '' ? undefined : fromEnvironment);
	return {
		spec,
		...(caFile === undefined ? {} : {caFile}),
		...(cert === undefined ? {} : {cert}),
		...(key === undefined ? {} : {key}),
		...(servername === undefined ? {} : {servername}),
		timeoutMs: timeout === undefined ? 5000 : requireDurationMs(timeout, '--timeout'),
		json: flags.json,
	};
}

/**
 * The command that would pin this collector (untrustedMessage appends --fingerprint/--accept-new),
 * every argument shell-quoted: it is printed to be pasted, and the host spec is the user's text.
 */
function connectCommand(options: Pick<Options, 'spec' | 'caFile' | 'cert' | 'key'>): string {
	const {spec} = options;
	const {secureScheme, hintMetric} = descriptorFor(spec.protocol).verify;
	const parts = ['secmon', '--host', `${secureScheme}://${spec.display}`];
	if (options.caFile !== undefined) {
		parts.push('--ca-file', options.caFile);
	}

	if (options.cert !== undefined && options.key !== undefined) {
		parts.push('--cert', options.cert, '--key', options.key);
	}

	if (hintMetric !== undefined) {
		parts.push('-f', hintMetric);
	}

	return parts.map(part => shellQuote(part)).join(' ');
}

// ---------------------------------------------------------------------------
// Who signed it

type Anchor = {label: string; cert: X509Certificate};

function anchorsFor(options: Options, store: TrustStore): Anchor[] {
	const parse = (pem: string): X509Certificate | undefined => {
		try {
			return new X509Certificate(pem);
		} catch {
			return undefined;
		}
	};

	const anchors: Anchor[] = [];
	if (options.caFile !== undefined) {
		for (const pem of splitPemBundle(readFileSync(options.caFile, 'utf8'))) {
			const cert = parse(pem);
			if (cert) {
				anchors.push({label: `the CA in --ca-file ${options.caFile}`, cert});
			}
		}

		return anchors;
	}

	for (const ca of listTrustedCas(store)) {
		const cert = parse(ca.info.pem);
		if (cert) {
			anchors.push({label: `the CA "${ca.name}" that you trust (secmon certs list)`, cert});
		}
	}

	return anchors;
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
	try {
		return child.checkIssued(parent) && child.verify(parent.publicKey);
	} catch {
		return false;
	}
}

function oneLine(name: string): string {
	return name.split('\n').toReversed().join(', ');
}

/** "who signed it" in words: each issuer up the chain, and where secmon finds the last one. */
function describeSigner(chain: CertificateInfo[], anchors: Anchor[], useSystemRoots: boolean): string | undefined {
	const leaf = chain[0];
	if (!leaf) {
		return undefined;
	}

	if (leaf.selfSigned) {
		return 'nobody: the certificate is self-signed (only a pin can trust it)';
	}

	const sent = chain.slice(1).map(info => new X509Certificate(info.pem));
	const roots = useSystemRoots ? tls.rootCertificates : [];
	const steps: string[] = [];
	let current = new X509Certificate(leaf.pem);
	for (let depth = 0; depth < 6; depth++) {
		const child = current;
		const anchor = anchors.find(candidate => issuedBy(child, candidate.cert));
		if (anchor) {
			steps.push(`${oneLine(child.issuer)}, ${anchor.label}`);
			break;
		}

		const intermediate = sent.find(candidate => candidate !== child && issuedBy(child, candidate));
		if (intermediate) {
			const selfSigned = intermediate.subject === intermediate.issuer && issuedBy(intermediate, intermediate);
			steps.push(`${oneLine(intermediate.subject)} (sent by the collector${selfSigned ? ', a root that is not among the CAs secmon trusts' : ''})`);
			if (selfSigned) {
				break;
			}

			current = intermediate;
			continue;
		}

		const root = roots.map(pem => new X509Certificate(pem)).find(candidate => issuedBy(child, candidate));
		steps.push(root ? `${oneLine(root.subject)}, a system CA` : `${oneLine(child.issuer)} (not among the CAs secmon trusts)`);
		break;
	}

	return steps.join(' ← ');
}

// ---------------------------------------------------------------------------
// The report

function exitCodeFor(report: Omit<VerifyReport, 'exitCode' | 'ok' | 'next'>, failure: SecmonError | undefined): number {
	if (!report.connected) {
		return failure?.exitCode ?? exitCodes.failure;
	}

	if (report.tlsOffered === false) {
		return exitCodes.tlsRequired;
	}

	switch (report.trust) {
		case 'changed': {
			return exitCodes.changed;
		}

		case 'unknown':
		case 'refused': {
			return exitCodes.untrusted;
		}

		case 'error': {
			return report.problem?.exitCode ?? exitCodes.failure;
		}

		default: {
			break;
		}
	}

	if (failure) {
		return failure.exitCode === exitCodes.ok ? exitCodes.failure : failure.exitCode;
	}

	if (report.trust === 'ca' || report.trust === 'pinned' || report.transport === 'psk') {
		return exitCodes.ok;
	}

	return exitCodes.failure;
}

function nextSteps(report: VerifyReport, options: Options, failure: SecmonError | undefined): string[] {
	const where = `${options.spec.protocol}://${options.spec.display}`;
	const steps: string[] = [];
	if (!report.connected) {
		steps.push(failure?.hint ?? 'Check the host, the port and that the collector runs');
		return steps;
	}

	const advice = descriptorFor(options.spec.protocol).verify;
	if (advice.withoutClientCert && options.cert === undefined && report.trust !== 'ca' && report.trust !== 'pinned') {
		steps.push(...advice.withoutClientCert);
	}

	if (report.tlsOffered === false) {
		if (advice.noTls) {
			steps.push(...advice.noTls(options.spec.host));
		} else {
			steps.push(failure?.hint ?? `Put TLS in front of ${where} (e.g. stunnel: secmon pki snippet stunnel …), or check the port`);
		}

		return steps;
	}

	if (report.problem && (report.trust === 'unknown' || report.trust === 'changed' || report.trust === 'refused' || report.trust === 'error')) {
		// verify never asks, so the refusal's "cannot ask here (no terminal)" preface does not apply.
		steps.push(...(report.problem.hint ?? '').split('\n').filter(line => line !== '' && !line.startsWith('secmon does not trust a new collector without asking')));
		if (report.trust === 'unknown' && options.caFile === undefined) {
			steps.push('or trust the CA that signs your collectors, once for all of them: secmon certs trust-ca CA.pem');
		}
	}

	if (report.clientCert.outcome === 'required') {
		steps.push('The collector requires a client certificate: add --cert FILE --key FILE (make one with: secmon pki issue --client --cn "secmon client")');
	} else if (report.clientCert.outcome === 'rejected' || report.clientCert.outcome === 'closed') {
		steps.push(failure?.hint ?? 'The collector refused the client certificate: check that --cert was issued by a CA it trusts and is still valid');
	} else if (failure && report.trust !== 'unknown' && report.trust !== 'changed' && report.trust !== 'refused') {
		steps.push(...(failure.hint ?? 'Check the collector\'s TLS configuration and log').split('\n'));
	}

	if (report.expiry?.warning) {
		const verb = report.expiry.state === 'expired' ? 'has EXPIRED' : `expires in ${report.expiry.daysLeft} day(s)`;
		const cn = /(?:^|, )CN=([^,]+)/v.exec(report.chain[0]?.subject ?? '')?.[1] ?? options.spec.host;
		steps.push(`The certificate ${verb}: renew it on the collector (e.g. secmon pki issue --cn ${shellQuote(cn)} --force, then install it and restart the collector)`);
	}

	if (steps.length === 0) {
		steps.push(report.trust === 'pinned'
			? 'Nothing to do. (The certificate is trusted by its pin; to rely on a CA instead: secmon certs trust-ca CA.pem)'
			: 'Nothing to do.');
	}

	return steps;
}

async function verify(options: Options, io: Io): Promise<VerifyReport> {
	const store = new TrustStore(secmonHome(io.env));
	const target: Target = {host: options.spec.host, port: options.spec.port};
	const now = new Date();
	const descriptor = descriptorFor(options.spec.protocol);
	const probe = await descriptor.verify.probe({
		spec: options.spec,
		...(options.caFile === undefined ? {} : {caFile: options.caFile}),
		...(options.cert === undefined ? {} : {cert: options.cert}),
		...(options.key === undefined ? {} : {key: options.key}),
		...(options.servername === undefined ? {} : {servername: options.servername}),
		timeoutMs: options.timeoutMs,
		store,
		env: io.env,
		rerunCommand: connectCommand(options),
	});
	if (probe.psk) {
		const base = {
			target: formatTarget(target),
			protocol: options.spec.protocol,
			transport: 'psk' as const,
			connected: probe.connected,
			...(probe.failure ? {} : {tlsOffered: true}),
			...(probe.psk.tls ? {tls: probe.psk.tls} : {}),
			chain: [],
			clientCert: {given: false, outcome: 'not-applicable' as const},
			trust: 'not-checked' as const,
			psk: {identity: probe.psk.identity},
			...(probe.failure ? {problem: probe.failure} : {}),
			warnings: [],
		};
		const exitCode = probe.failure ? (probe.failure.exitCode || exitCodes.failure) : exitCodes.ok;
		const next = probe.failure
			? (probe.failure.hint ?? 'Check TLSAccept=psk, TLSPSKIdentity and TLSPSKFile on the agent').split('\n')
			: ['Nothing to do. TLS-PSK authenticates both sides with the shared key; there is no certificate to check or pin.'];
		return {
			...base, ok: exitCode === 0, exitCode, next,
		};
	}

	const {inspection} = probe;
	const leaf = inspection?.chain[0];
	let {verdict} = probe;
	if (!verdict && inspection && leaf) {
		// The handshake did not complete (TLS 1.2 client certificate): still show the pin.
		verdict = await trustVerdict({...inspection, chain: []}, {target, store, caFileGiven: options.caFile !== undefined});
	}

	const expiry = leaf ? expiryOf(leaf, now) : undefined;
	const warning = leaf ? expiryWarning(leaf, now, options.spec.display) : undefined;
	const problem = verdict?.error ?? (verdict?.status === 'error' ? verdict.pinError : undefined);
	const useSystemRoots = options.caFile === undefined;
	let signedBy: string | undefined;
	if (inspection && inspection.chain.length > 0) {
		try {
			signedBy = describeSigner(inspection.chain, anchorsFor(options, store), useSystemRoots);
		} catch {
			signedBy = undefined;
		}
	}

	const storeCas = inspection?.anchors.storeCas ?? 0;
	const partial: Omit<VerifyReport, 'exitCode' | 'ok' | 'next'> = {
		target: formatTarget(target),
		protocol: options.spec.protocol,
		transport: descriptor.tls === 'upgrade' ? 'pcp-upgrade' : 'direct',
		connected: probe.connected,
		...(probe.tlsOffered === undefined ? {} : {tlsOffered: probe.tlsOffered}),
		...(inspection?.completed ? {tls: {version: inspection.version ?? 'unknown', cipher: inspection.cipher ?? 'unknown'}} : {}),
		chain: inspection?.chain ?? [],
		...(inspection && leaf
			? {
				chainVerified: {
					...inspection.chainVerified,
					against: options.caFile === undefined
						? `the system CAs${storeCas > 0 ? ` and ${storeCas} CA(s) you trust (secmon certs list)` : ''}`
						: `--ca-file ${options.caFile}`,
				},
				hostname: {
					name: inspection.name,
					ok: inspection.hostnameOk,
					...(inspection.hostnameReason === undefined ? {} : {reason: inspection.hostnameReason}),
					checked: probe.hostnameChecked ?? true,
				},
			}
			: {}),
		...(signedBy === undefined ? {} : {signedBy}),
		...(expiry ? {expiry: {...expiry, ...(warning === undefined ? {} : {warning})}} : {}),
		clientCert: {
			given: options.cert !== undefined,
			outcome: inspection?.clientCert ?? 'unknown',
			...(probe.requiredByCollector === undefined ? {} : {requiredByCollector: probe.requiredByCollector}),
		},
		...(verdict
			? {
				pin: {
					file: verdict.pinFile,
					exists: verdict.pin !== undefined,
					...(verdict.pin && leaf ? {matches: verdict.pin.sha256 === leaf.sha256} : {}),
					...(verdict.pin ? {pin: verdict.pin} : {}),
					...(verdict.pinError ? {error: verdict.pinError.message} : {}),
				},
			}
			: {}),
		trust: probe.verdict?.status ?? 'not-checked',
		...(problem ? {problem} : (probe.failure ? {problem: probe.failure} : {})),
		warnings: [...(probe.verdict?.warnings ?? [])],
	};
	const exitCode = exitCodeFor(partial, probe.failure);
	const report: VerifyReport = {
		...partial, exitCode, ok: exitCode === exitCodes.ok, next: [],
	};
	report.next = nextSteps(report, options, probe.failure);
	return report;
}

// ---------------------------------------------------------------------------
// Output

function clientCertText(report: VerifyReport): string {
	const {given, outcome, requiredByCollector} = report.clientCert;
	switch (outcome) {
		case 'accepted': {
			return given ? 'sent and accepted' : (requiredByCollector ? 'not needed from this address' : 'not required');
		}

		case 'required': {
			return 'REQUIRED by the collector, and none was given';
		}

		case 'rejected': {
			return 'sent, and REJECTED by the collector';
		}

		case 'closed': {
			return `the collector closed the connection after the handshake${given ? ' (it may not accept this certificate)' : ' (it may want one)'}`;
		}

		case 'no-objection': {
			return given ? 'sent; the collector did not object' : 'none sent; the collector did not object';
		}

		case 'not-applicable': {
			return 'not applicable (TLS-PSK)';
		}

		case 'unknown': {
			return given ? 'sent; not known whether it was accepted' : 'not checked';
		}
	}
}

/** The verify code as OpenSSL says it, unless it is opaque ("UNSPECIFIED"…): then what the floor names. */
function chainReasonText(reason: string | undefined, chain: CertificateInfo[]): string {
	return reason === undefined || opaqueVerifyCodes.test(reason) ? describeChainError(reason, chain) : reason;
}

function trustText(report: VerifyReport, color: boolean): string {
	switch (report.trust) {
		case 'ca': {
			return paint(report.hostname?.checked === false
				? 'trusted: the chain verifies against --ca-file (Zabbix checks no host name)'
				: 'trusted: the chain verifies and the name matches (no pin needed)', 'ok', color);
		}

		case 'pinned': {
			return paint('trusted: it matches the certificate pinned for this collector', 'ok', color);
		}

		case 'unknown': {
			return paint('NOT TRUSTED: secmon would ask (in a terminal) or refuse (exit 3)', 'error', color);
		}

		case 'changed': {
			return paint('CHANGED: it differs from the pinned certificate; secmon refuses it (exit 4)', 'error', color);
		}

		case 'refused': {
			// CERT_INVALID: the --ca-file verdict, or a key or signature below the floor (security/floor.ts).
			const floor = report.problem?.hint === floorHint;
			return paint(`REFUSED ${floor ? 'below secmon\'s cryptographic floor' : 'by --ca-file'} (exit 3)`, 'error', color);
		}

		case 'error': {
			return paint('cannot decide: the trust store cannot be read', 'error', color);
		}

		case 'undecided':
		case 'not-checked': {
			return report.transport === 'psk' ? 'by the pre-shared key' : 'not decided (no certificate was seen)';
		}
	}
}

function textReport(report: VerifyReport, options: Options, color: boolean, now: Date): string {
	const lines: string[] = [`secmon verify ${options.spec.protocol}://${options.spec.display}`];
	const row = (label: string, text: string) => {
		lines.push(`  ${label.padEnd(13)} ${text}`);
	};

	if (!report.connected || (report.transport !== 'psk' && report.tlsOffered === undefined && report.chain.length === 0)) {
		row('Connection', paint(`FAILED: ${report.problem?.message ?? 'cannot connect'}`, 'error', color));
	} else if (report.transport === 'psk') {
		row('Connection', `TLS-PSK, identity ${report.psk?.identity ?? ''}`);
		row('TLS', report.tls ? `${report.tls.version}, ${report.tls.cipher}` : paint(`FAILED: ${report.problem?.message ?? ''}`, 'error', color));
	} else {
		const how = report.transport === 'pcp-upgrade' ? 'in-band upgrade after the PCP greeting' : 'TLS from the first byte';
		if (report.tlsOffered === false) {
			row('TLS', paint(`NOT OFFERED (${how}): ${report.problem?.message ?? ''}`, 'error', color));
		} else if (report.tls) {
			row('TLS', `${report.tls.version}, ${report.tls.cipher} (${how})`);
		} else {
			row('TLS', paint(`handshake FAILED (${how}): ${report.problem?.message ?? ''}`, 'error', color));
		}
	}

	if (report.chain.length > 0) {
		lines.push('  Chain         as presented by the collector, leaf first');
		for (const [index, cert] of report.chain.entries()) {
			const note = validityNote(cert, now);
			lines.push(
				`    [${index}] ${cert.subject}`,
				`        issuer   ${cert.issuer}${cert.selfSigned ? ' (self-signed)' : ''}`,
				`        valid    ${paint(note.text, note.level, color)}`,
				...(index === 0 ? [`        names    ${cert.subjectAltNames.length > 0 ? cert.subjectAltNames.join(', ') : '(no subjectAltName)'}`] : []),
				`        SHA-256  ${cert.sha256}`,
			);
		}
	}

	if (report.signedBy !== undefined) {
		row('Signed by', report.signedBy);
	}

	if (report.chainVerified) {
		row('Chain check', report.chainVerified.ok
			? paint(`verified against ${report.chainVerified.against}`, 'ok', color)
			: paint(`not verified against ${report.chainVerified.against}: ${chainReasonText(report.chainVerified.reason, report.chain)}`, 'warn', color));
	}

	if (report.hostname) {
		const {name, ok, reason, checked} = report.hostname;
		let text = ok ? paint(`${name} matches the certificate`, 'ok', color) : paint(`${name} does NOT match: ${reason ?? 'no matching name'}`, 'warn', color);
		if (!checked) {
			text += ' (Zabbix with --ca-file checks no host names)';
		}

		row('Host name', text);
	}

	if (report.expiry) {
		const {state, validTo} = report.expiry;
		const text = state === 'ok'
			? paint(`${formatDate(validTo)} (${report.expiry.daysLeft} days left)`, 'ok', color)
			: paint(`${formatDate(validTo)} (${state === 'expired' ? 'EXPIRED' : (state === 'expiring' ? `only ${report.expiry.daysLeft} day(s) left` : state)})`, state === 'expiring' ? 'warn' : 'error', color);
		row('Expires', text);
	}

	if (report.transport !== 'psk' && report.connected && report.tlsOffered !== false) {
		row('Client cert', clientCertText(report));
	}

	if (report.pin) {
		const {pin} = report;
		let text: string;
		if (pin.error) {
			text = paint(`cannot read ${pin.file}: ${pin.error}`, 'error', color);
		} else if (pin.exists) {
			const when = pin.pin ? `pinned ${formatDate(new Date(pin.pin.pinnedAt))} (${pin.pin.pinnedBy})` : 'pinned';
			text = pin.matches === false
				? paint(`${when}, a DIFFERENT certificate: SHA-256 ${pin.pin?.sha256 ?? '?'}`, 'error', color)
				: `${when}, the same certificate`;
			text += ` — ${pin.file}`;
		} else {
			text = `none for ${report.target}`;
		}

		row('Pin', text);
	}

	if (report.transport === 'psk' || report.chain.length > 0) {
		row('Trust today', trustText(report, color));
	}

	for (const warning of report.warnings) {
		lines.push(`  ${paint(warning, 'warn', color)}`);
	}

	if (report.problem && (report.trust === 'changed' || report.trust === 'refused')) {
		lines.push('', ...formatError(report.problem).split('\n').slice(0, report.problem.message.split('\n').length));
	}

	lines.push(
		'',
		report.ok
			? paint(`Result: OK — a secure connection to ${report.target} would succeed (exit 0)`, 'ok', color)
			: paint(`Result: a secure connection to ${report.target} would NOT succeed (exit ${report.exitCode})`, 'error', color),
		'Next:',
		...report.next.map(line => `  ${line}`),
	);
	return lines.join('\n') + '\n';
}

function problemJson(problem: SecmonError): Record<string, unknown> {
	const {type: _type, exitCode: _exitCode, ...rest} = errorJson(problem);
	return {...rest, hint: problem.hint ?? null};
}

function reportJson(report: VerifyReport): Record<string, unknown> {
	const cert = (info: CertificateInfo) => ({
		subject: info.subject,
		issuer: info.issuer,
		subjectAltNames: info.subjectAltNames,
		serialNumber: info.serialNumber,
		validFrom: info.validFrom.toISOString(),
		validTo: info.validTo.toISOString(),
		selfSigned: info.selfSigned,
		sha256: info.sha256,
		sha1: info.sha1,
		spkiSha256: info.spkiSha256,
	});
	return {
		type: 'verify',
		target: report.target,
		protocol: report.protocol,
		transport: report.transport,
		connected: report.connected,
		tlsOffered: report.tlsOffered ?? null,
		tls: report.tls ?? null,
		chain: report.chain.map(info => cert(info)),
		chainVerified: report.chainVerified ?? null,
		signedBy: report.signedBy ?? null,
		hostname: report.hostname ?? null,
		expiry: report.expiry
			? {
				state: report.expiry.state, validTo: report.expiry.validTo.toISOString(), daysLeft: Number.isNaN(report.expiry.daysLeft) ? null : report.expiry.daysLeft, warning: report.expiry.warning ?? null,
			}
			: null,
		clientCert: report.clientCert,
		pin: report.pin
			? {
				file: report.pin.file, exists: report.pin.exists, matches: report.pin.matches ?? null, sha256: report.pin.pin?.sha256 ?? null, pinnedAt: report.pin.pin?.pinnedAt ?? null, pinnedBy: report.pin.pin?.pinnedBy ?? null, error: report.pin.error ?? null,
			}
			: null,
		trust: report.trust,
		...(report.psk ? {psk: report.psk} : {}),
		ok: report.ok,
		exitCode: report.exitCode,
		// As an error line (errors.ts errorJson): a one-line message, the banner's facts as fields.
		problem: report.problem ? problemJson(report.problem) : null,
		warnings: report.warnings,
		next: report.next,
		// The leaf's SHA-256 as --fingerprint takes it.
		...(report.chain[0] ? {fingerprint: fingerprintArgument(report.chain[0].sha256)} : {}),
	};
}

export async function verifyCommand(argv: string[], io: Io): Promise<number> {
	if (argv.includes('--help')) {
		io.stdout.write(verifyHelp.replace(/^\n/v, ''));
		return exitCodes.ok;
	}

	const json = argv.includes('--json');
	try {
		const options = parseOptions(argv, io.env);
		const report = await verify(options, io);
		if (options.json) {
			io.stdout.write(safeJson(reportJson(report)) + '\n');
		} else {
			io.stdout.write(textReport(report, options, colorWanted(io.stdout, io.env), new Date()));
		}

		return report.exitCode;
	} catch (error) {
		return reportError(io, error, {json});
	}
}
