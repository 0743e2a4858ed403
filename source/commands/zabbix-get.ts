/**
 * `secmon zabbix-get`: a flag-compatible drop-in for zabbix_get (docs/zabbix.md#zabbix_get). It prints what
 * zabbix_get prints (the value, or `ZBX_NOTSUPPORTED: reason`, exit 0; failures on stderr, exit 1)
 * and adds what zabbix_get lacks: pin/TOFU trust when no --tls-ca-file is given, the OpenSSL-form
 * issuer/subject, a warning for a PSK file others can read, several -k in one run over a bounded
 * connection pool, and a refusal of unencrypted connections under `--secure enforce`.
 *
 * Deliberate differences (documented in --help): usage errors exit 2 (zabbix_get: 1); stderr lines
 * start with "secmon zabbix-get: " and are followed by what to do next; --tls-cipher takes OpenSSL
 * cipher names (a GnuTLS priority string is ignored with a warning).
 */
import type {Writable} from 'node:stream';
import {
	exitCodes, formatError, isSecmonError, SecmonError,
} from '../errors.js';
import {
	defaultTimeoutMs, defaultZabbixPort, type ZabbixProtocol, type ZabbixReply, type ZabbixTls, type ZabbixTrust,
} from '../protocols/zabbix/endpoint.js';
import {isZabbixError, ZabbixError} from '../protocols/zabbix/errors.js';
import {ZabbixAgent} from '../protocols/zabbix/pool.js';
import type {Io} from '../io.js';
import {formatLikeZabbixGet} from '../protocols/zabbix/frame.js';
import {formatJsonAnswerLikeZabbixGet} from '../protocols/zabbix/passive-json.js';
import {safeJson, terminalSafe} from '../safe-text.js';
import {shellQuote} from '../shell.js';
import {loadPsk} from '../protocols/zabbix/psk.js';
import {resolveSecureMode, describeSecureMode} from '../security/policy.js';
import type {Ask} from '../security/types.js';
import type {MeowParsed} from '../argv/args.js';
import {
	kebab, parseSimpleArgv, type ParsedArgv, type SimpleFlag,
} from '../argv/simple-argv.js';

/** `ask`: the interactive trust prompt (certificates without --tls-ca-file); absent = refuse unknown certificates. */
export type ZabbixGetIo = Io & {ask?: Ask};

export const zabbixGetHelp = `
Usage
  $ secmon zabbix-get -s HOST [-p PORT] [-I IP] [-t TIMEOUT] [-P PROTOCOL] -k KEY [-k KEY]...
  $ secmon zabbix-get -s HOST ... --tls-connect psk --tls-psk-identity ID --tls-psk-file FILE -k KEY
  $ secmon zabbix-get -s HOST ... --tls-connect cert [--tls-ca-file CA] [--tls-crl-file CRL]
        [--tls-server-cert-issuer S] [--tls-server-cert-subject S]
        --tls-cert-file FILE --tls-key-file FILE -k KEY

A drop-in for zabbix_get: same flags, same output (the value, or "ZBX_NOTSUPPORTED: reason"
with exit 0), failures on stderr with exit 1.

General options (as zabbix_get)
  -s, --host HOST            agent host name or IP address
  -p, --port PORT            agent port (default 10050)
  -I, --source-address IP    source IP address
  -t, --timeout SECONDS      1-30 (default 30); also sent to a Zabbix 7 agent as the check's timeout
  -k, --key KEY              item key; secmon accepts several -k and prints one answer per key,
                             in order, exactly as running zabbix_get once per key would
  -P, --protocol MODE        auto (default): JSON as Zabbix 7 sends it, and the plain key to an
                             agent that answers as a pre-7 one (remembered for the other -k);
                             json: JSON only; plaintext: the plain key only (6.4 and older)
  -h, --help   -V, --version

TLS (as zabbix_get)
  --tls-connect MODE         unencrypted (default) | psk | cert
  --tls-psk-identity ID      PSK identity (TLSPSKIdentity on the agent)
  --tls-psk-file FILE        PSK: 32-512 hex digits on the first line; never on the command line
  --tls-ca-file FILE         CA(s) for the agent's certificate. Without it secmon pins the agent's
                             certificate instead (trust on first use, changes refused)
  --tls-crl-file FILE        revoked certificates
  --tls-server-cert-issuer S, --tls-agent-cert-issuer S     required issuer (Zabbix string form)
  --tls-server-cert-subject S, --tls-agent-cert-subject S   required subject (Zabbix string form)
  --tls-cert-file FILE --tls-key-file FILE   our client certificate and key
  --tls-cipher LIST          OpenSSL cipher list (zabbix_get takes GnuTLS priority strings;
                             those are ignored with a warning)
  --tls-cipher13 LIST        TLS 1.3 suites, OpenSSL names (TLS_AES_256_GCM_SHA384:...)

secmon additions
  --tls-psk-identity-file F  read the PSK identity from the first line of F
  --fingerprint SHA256       trust the agent certificate with this fingerprint (no --tls-ca-file)
  --accept-new               pin an agent certificate seen for the first time (no --tls-ca-file)
  --secure MODE              enforce refuses --tls-connect unencrypted (also SECMON_SECURE_SOCKETS,
                             PCP_SECURE_SOCKETS)
  --connections N            concurrent connections per agent for several -k (default 3)
  --json                     one JSON object per key on stdout: {"key","value"} or {"key","error"},
                             with "protocol" (json|plaintext) and the agent's "version"/"variant"
                             when it answered in JSON; a failure adds "code"

Exit codes
  0 value printed (also ZBX_NOTSUPPORTED)   1 connection, TLS or agent failure   2 usage
  3 agent certificate not trusted (no --tls-ca-file)   4 agent certificate changed
`;

const version = 'secmon zabbix-get 0.1.0 (compatible with zabbix_get 6.0)';

const usageLine = 'usage: secmon zabbix-get -s HOST [-p PORT] [-I IP] [-t TIMEOUT] [-P auto|json|plaintext] [--tls-connect unencrypted|psk|cert ...] -k KEY';

type Parsed = {
	host: string;
	port: number;
	sourceAddress?: string;
	timeoutMs: number;
	keys: string[];
	tls: {mode: 'unencrypted' | 'psk' | 'cert'};
	flags: Record<string, string | undefined>;
	acceptNew: boolean;
	fingerprint?: string;
	secure?: string;
	connections: number;
	protocol: ZabbixProtocol;
	json: boolean;
};

function usage(message: string, hint = `${usageLine}\nSee: secmon zabbix-get --help`): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

/** A TLS parameter problem: zabbix_get prints these as "ERROR: …". */
function tlsUsage(message: string, hint = 'See: secmon zabbix-get --help'): ZabbixError {
	return new ZabbixError({
		code: 'USAGE', stage: 'config', message, hint, zabbixText: `ERROR: ${message}`, agentLevel: true,
	});
}

const stringFlags = {
	host: 's',
	port: 'p',
	sourceAddress: 'I',
	timeout: 't',
	key: 'k',
	tlsConnect: undefined,
	tlsCaFile: undefined,
	tlsCrlFile: undefined,
	tlsAgentCertIssuer: undefined,
	tlsAgentCertSubject: undefined,
	tlsCertFile: undefined,
	tlsKeyFile: undefined,
	tlsPskIdentity: undefined,
	tlsPskIdentityFile: undefined,
	tlsPskFile: undefined,
	tlsCipher: undefined,
	tlsCipher13: undefined,
	protocol: 'P',
	fingerprint: undefined,
	secure: undefined,
	connections: undefined,
} as const;

/** zabbix_get's flag spelling for messages: -s → "-s" or "--host". */
function flagName(name: keyof typeof stringFlags): string {
	const long = `--${kebab(name)}`;
	const short = stringFlags[name];
	return short ? `"-${short}" or "${long}"` : `"${long}"`;
}

/** zabbix_get's flags for meow and simple-argv.ts: every one repeatable, so that repeats can be refused by name. */
export function zabbixGetFlags(): Record<string, SimpleFlag> {
	const flagDefs: Record<string, SimpleFlag> = {};
	for (const [name, short] of Object.entries(stringFlags)) {
		flagDefs[name] = {type: 'string', isMultiple: true, ...(short ? {shortFlag: short} : {})};
	}

	flagDefs['tlsAgentCertIssuer']!.aliases = ['tlsServerCertIssuer'];
	flagDefs['tlsAgentCertSubject']!.aliases = ['tlsServerCertSubject'];
	flagDefs['help'] = {type: 'boolean', isMultiple: true, shortFlag: 'h'};
	flagDefs['version'] = {type: 'boolean', isMultiple: true, shortFlag: 'V'};
	flagDefs['acceptNew'] = {type: 'boolean', isMultiple: true};
	flagDefs['json'] = {type: 'boolean', isMultiple: true};
	return flagDefs;
}

/**
 * The subcommands' meow parser (argv/args.ts), for every command line simple-argv.ts leaves to it
 * (loaded only then: start-up, and O(flags × arguments) with many -k). Unknown flags are named
 * below in zabbix_get's words, not by argv/args.ts parseArgs.
 */
export async function parseZabbixGetWithMeow(argv: string[], flagDefs = zabbixGetFlags()): Promise<MeowParsed> {
	const {parseWithMeow} = await import('../argv/args.js');
	try {
		return parseWithMeow(argv, flagDefs, {booleanDefault: undefined});
	} catch (error) {
		throw usage((error as Error).message);
	}
}

async function parse(argv: string[]): Promise<Parsed | 'help' | 'version'> {
	const flagDefs = zabbixGetFlags();
	// The plain form needs no meow, and has no unknown flags (those go to meow).
	let cli: ParsedArgv | undefined = parseSimpleArgv(argv, flagDefs);
	let unnormalizedFlags: Record<string, unknown> = {};
	if (!cli) {
		const parsed = await parseZabbixGetWithMeow(argv, flagDefs);
		cli = parsed;
		unnormalizedFlags = parsed.unnormalizedFlags;
	}

	const known = new Set<string>();
	for (const [name, definition] of Object.entries(flagDefs)) {
		known.add(name);
		if (definition.shortFlag) {
			known.add(definition.shortFlag);
		}

		for (const alias of definition.aliases ?? []) {
			known.add(alias);
		}
	}

	const unknown = Object.keys(unnormalizedFlags).filter(name => !known.has(name) && !known.has(name.replaceAll(/-([a-z])/g, (_, char: string) => char.toUpperCase())));
	if (unknown.length > 0) {
		const first = unknown[0]!;
		throw usage(`invalid option ${first.length === 1 ? `-- ${first}` : `--${first}`}`);
	}

	if (cli.input.length > 0) {
		throw usage(`invalid parameter "${cli.input[0]}"`);
	}

	const {flags} = cli;
	const booleans = (name: string) => ((flags[name] as boolean[] | undefined) ?? []).some(Boolean);
	if (booleans('help')) {
		return 'help';
	}

	if (booleans('version')) {
		return 'version';
	}

	const single: Record<string, string | undefined> = {};
	for (const name of Object.keys(stringFlags) as Array<keyof typeof stringFlags>) {
		const values = ((flags[name] as unknown[] | undefined) ?? []).map(String);
		if (name !== 'key' && values.length > 1) {
			throw usage(`option ${flagName(name)} specified multiple times`);
		}

		single[name] = values[0];
	}

	const keys = ((flags['key'] as unknown[] | undefined) ?? []).map(String);
	if (single['host'] === undefined || single['host'] === '' || keys.length === 0) {
		throw usage(single['host'] ? 'no item key given (-k KEY)' : 'no agent host given (-s HOST)');
	}

	let port = defaultZabbixPort;
	if (single['port'] !== undefined) {
		if (!/^\d+$/.test(single['port']) || Number(single['port']) < 1 || Number(single['port']) > 65_535) {
			throw usage(`invalid port "${single['port']}" (-p): expected 1-65535`);
		}

		port = Number(single['port']);
	}

	let timeoutMs = defaultTimeoutMs;
	if (single['timeout'] !== undefined) {
		const seconds = Number(single['timeout']);
		if (!/^\d+$/.test(single['timeout']) || seconds < 1 || seconds > 30) {
			throw usage('Invalid timeout, valid range 1:30 seconds');
		}

		timeoutMs = seconds * 1000;
	}

	let connections = 3;
	if (single['connections'] !== undefined) {
		if (!/^\d+$/.test(single['connections']) || Number(single['connections']) < 1 || Number(single['connections']) > 64) {
			throw usage(`invalid --connections "${single['connections']}": expected 1-64`);
		}

		connections = Number(single['connections']);
	}

	const protocol = single['protocol'] ?? 'auto';
	if (protocol !== 'auto' && protocol !== 'json' && protocol !== 'plaintext') {
		// zabbix_get 7's words (src/zabbix_get/zabbix_get.c, case 'P').
		throw usage(`Invalid protocol "${protocol}"`, 'Use -P auto, json or plaintext\nSee: secmon zabbix-get --help');
	}

	const mode = single['tlsConnect'] ?? 'unencrypted';
	if (mode !== 'unencrypted' && mode !== 'psk' && mode !== 'cert') {
		throw tlsUsage('invalid value of "--tls-connect" parameter', 'Use --tls-connect unencrypted, psk or cert');
	}

	validateTlsFlags(single, mode);
	return {
		host: single['host'],
		port,
		...(single['sourceAddress'] ? {sourceAddress: single['sourceAddress']} : {}),
		timeoutMs,
		keys,
		tls: {mode},
		flags: single,
		acceptNew: booleans('acceptNew'),
		...(single['fingerprint'] === undefined ? {} : {fingerprint: single['fingerprint']}),
		...(single['secure'] === undefined ? {} : {secure: single['secure']}),
		connections,
		protocol,
		json: booleans('json'),
	};
}

/** zabbix_get's parameter consistency checks, in its order and words (docs/zabbix.md#zabbix_get). */
function validateTlsFlags(flags: Record<string, string | undefined>, mode: string): void {
	const has = (name: string) => flags[name] !== undefined;
	const spell = (name: string) => `--${name.replaceAll(/[A-Z]/g, char => `-${char.toLowerCase()}`)}`;
	const requires = (name: string, other: string) => {
		if (has(name) && !has(other)) {
			throw tlsUsage(`parameter "${spell(name)}" is defined, but "${spell(other)}" is not defined`);
		}
	};

	for (const name of ['tlsCaFile', 'tlsCrlFile', 'tlsAgentCertIssuer', 'tlsAgentCertSubject']) {
		requires(name, 'tlsCertFile');
	}

	requires('tlsCertFile', 'tlsKeyFile');
	requires('tlsKeyFile', 'tlsCertFile');
	if (has('tlsPskIdentity') || has('tlsPskIdentityFile')) {
		requires(has('tlsPskIdentity') ? 'tlsPskIdentity' : 'tlsPskIdentityFile', 'tlsPskFile');
	}

	if (has('tlsPskFile') && !has('tlsPskIdentity') && !has('tlsPskIdentityFile')) {
		throw tlsUsage('parameter "--tls-psk-file" is defined, but "--tls-psk-identity" is not defined');
	}

	if (has('tlsPskIdentity') && has('tlsPskIdentityFile')) {
		throw tlsUsage('give the PSK identity once: --tls-psk-identity or --tls-psk-identity-file');
	}

	if (mode === 'psk' && !has('tlsPskFile')) {
		throw tlsUsage('parameter "--tls-connect" value requires "--tls-psk-file", but it is not defined');
	}

	if (mode === 'cert' && !has('tlsCertFile')) {
		throw tlsUsage('parameter "--tls-connect" value requires "--tls-cert-file", but it is not defined');
	}

	if (flags['tlsConnect'] === undefined) {
		for (const name of ['tlsCertFile', 'tlsPskFile']) {
			if (has(name)) {
				throw tlsUsage(`parameter "${spell(name)}" is defined, but "--tls-connect" is not defined`);
			}
		}
	}

	if ((has('fingerprint') || has('acceptNew')) && (mode !== 'cert' || has('tlsCaFile'))) {
		// Only meaningful for the pinning path; a silent no-op would mislead.
		throw tlsUsage('--fingerprint and --accept-new apply to --tls-connect cert without --tls-ca-file', 'With --tls-ca-file the CA decides; with psk the key authenticates the agent');
	}
}

function looksLikeGnutlsPriority(ciphers: string): boolean {
	return /(?:^|:)[+!-]?(?:NONE|NORMAL|SECURE128|SECURE256|PERFORMANCE|PFS|VERS-|%)/.test(ciphers) || ciphers.includes(':+');
}

/** One line (or more) to stdout or stderr: the agent's exact bytes for scripts, made inert on a terminal (as ls does). */
function write(stream: Writable, text: string): void {
	terminalSafe(stream)(text.endsWith('\n') ? text : `${text}\n`);
}

const prefix = 'secmon zabbix-get: ';

/** What zabbix_get prints for an answer: 6.0's rules for a plain-text answer, 7.0's for a JSON one. */
function formatReply(reply: ZabbixReply): string {
	return reply.json ? formatJsonAnswerLikeZabbixGet(reply.json) : formatLikeZabbixGet(reply.data);
}

/** --json: one object per key (docs/zabbix.md#zabbix_get). The value is the agent's whole text (no trimming). */
function jsonLine(reply: ZabbixReply): Record<string, unknown> {
	const {key, response, json} = reply;
	const answer = json?.kind === 'nodata'
		? {value: null}
		: (response.kind === 'value' ? {value: response.value} : {error: response.reason === '' ? 'Not supported by Zabbix Agent' : response.reason});
	return {
		key,
		...answer,
		protocol: reply.protocol,
		...(json ? {version: json.version} : {}),
		...(json?.variant === undefined ? {} : {variant: json.variant}),
	};
}

/** Prints an error: zabbix_get's line(s) first, then what to do (each distinct hint once per run). */
function reportError(io: ZabbixGetIo, error: unknown, hintsShown = new Set<string>()): void {
	if (isZabbixError(error)) {
		const lines = error.zabbixText.split('\n').map(line => `${prefix}${line}`);
		const showHint = error.hint !== undefined && error.hint !== '' && !hintsShown.has(error.hint);
		if (showHint) {
			hintsShown.add(error.hint);
		}

		write(io.stderr, [...lines, ...(showHint ? [error.hint] : [])].join('\n'));
		return;
	}

	write(io.stderr, formatError(error).replace(/^secmon: /, prefix));
}

export async function zabbixGetCommand(argv: string[], io: ZabbixGetIo): Promise<number> {
	let parsed: Parsed;
	try {
		const result = await parse(argv);
		if (result === 'help') {
			write(io.stdout, zabbixGetHelp.trim());
			return exitCodes.ok;
		}

		if (result === 'version') {
			write(io.stdout, version);
			return exitCodes.ok;
		}

		parsed = result;
		const secure = resolveSecureMode({...(parsed.secure === undefined ? {} : {flag: parsed.secure}), env: io.env});
		if (secure.mode === 'enforce' && parsed.tls.mode === 'unencrypted') {
			throw new SecmonError(
				'USAGE',
				`--tls-connect unencrypted is refused: secure mode is ${describeSecureMode(secure)}`,
				'Use --tls-connect psk or --tls-connect cert (as configured on the agent with TLSAccept), or run with --secure relaxed/off to allow plain text',
			);
		}
	} catch (error) {
		reportError(io, error);
		return isSecmonError(error) ? error.exitCode : exitCodes.usage;
	}

	const {flags} = parsed;
	let tls: ZabbixTls;
	let trust: ZabbixTrust | undefined;
	try {
		switch (parsed.tls.mode) {
			case 'unencrypted': {
				tls = {kind: 'unencrypted'};
				break;
			}

			case 'psk': {
				const psk = loadPsk({
					...(flags['tlsPskIdentity'] === undefined ? {} : {identity: flags['tlsPskIdentity']}),
					...(flags['tlsPskIdentityFile'] === undefined ? {} : {identityFile: flags['tlsPskIdentityFile']}),
					keyFile: flags['tlsPskFile']!,
				});
				for (const warning of psk.warnings) {
					write(io.stderr, `${prefix}${warning}`);
				}

				tls = {kind: 'psk', identity: psk.identity, key: psk.key};
				break;
			}

			case 'cert': {
				tls = {
					kind: 'cert',
					certFile: flags['tlsCertFile']!,
					keyFile: flags['tlsKeyFile']!,
					...(flags['tlsCaFile'] === undefined ? {} : {caFile: flags['tlsCaFile']}),
					...(flags['tlsCrlFile'] === undefined ? {} : {crlFile: flags['tlsCrlFile']}),
					...(flags['tlsAgentCertIssuer'] ? {issuer: flags['tlsAgentCertIssuer']} : {}),
					...(flags['tlsAgentCertSubject'] ? {subject: flags['tlsAgentCertSubject']} : {}),
				};
				if (flags['tlsCaFile'] === undefined) {
					const [{TrustStore}, {secmonHome}] = await Promise.all([import('../security/store.js'), import('../security/home.js')]);
					trust = {
						store: new TrustStore(secmonHome(io.env)),
						acceptNew: parsed.acceptNew,
						...(parsed.fingerprint === undefined ? {} : {fingerprint: parsed.fingerprint}),
						...(io.ask ? {ask: io.ask} : {}),
						rerunCommand: ['secmon', 'zabbix-get', ...argv].map(argument => shellQuote(argument)).join(' '),
					};
				}

				break;
			}
		}
	} catch (error) {
		if (isSecmonError(error) && !isZabbixError(error) && error.code === 'USAGE') {
			// PSK file problems: zabbix_get's "ERROR: …" line, then what to do.
			write(io.stderr, `${prefix}ERROR: ${error.message}${error.hint ? `\n${error.hint}` : ''}`);
			return error.exitCode;
		}

		reportError(io, error);
		return isSecmonError(error) ? error.exitCode : exitCodes.failure;
	}

	let ciphers: string | undefined;
	if (flags['tlsCipher'] !== undefined && parsed.tls.mode !== 'unencrypted') {
		if (looksLikeGnutlsPriority(flags['tlsCipher'])) {
			write(io.stderr, `${prefix}warning: --tls-cipher ${JSON.stringify(flags['tlsCipher'])} looks like a GnuTLS priority string; secmon uses OpenSSL cipher names, so it is ignored and secmon's defaults apply`);
		} else {
			ciphers = flags['tlsCipher'];
		}
	}

	let ciphers13: string | undefined;
	if (flags['tlsCipher13'] !== undefined && parsed.tls.mode !== 'unencrypted') {
		if (/^TLS_[\dA-Z_]+(?::TLS_[\dA-Z_]+)*$/.test(flags['tlsCipher13'])) {
			ciphers13 = flags['tlsCipher13'];
		} else {
			write(io.stderr, `${prefix}warning: --tls-cipher13 ${JSON.stringify(flags['tlsCipher13'])} is not a list of OpenSSL TLS 1.3 suite names (TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:...), so it is ignored and secmon's defaults apply`);
		}
	}

	const agent = new ZabbixAgent({
		host: parsed.host,
		port: parsed.port,
		tls,
		...(trust ? {trust} : {}),
		timeoutMs: parsed.timeoutMs,
		...(parsed.sourceAddress ? {sourceAddress: parsed.sourceAddress} : {}),
		...(ciphers ? {ciphers} : {}),
		...(ciphers13 ? {ciphers13} : {}),
		protocol: parsed.protocol,
		concurrency: parsed.connections,
		onWarning(message) {
			write(io.stderr, `${prefix}${message}`);
		},
	});

	// Answers are printed in key order as soon as all earlier ones are in.
	const pending: Array<(() => void) | undefined> = [];
	const hintsShown = new Set<string>();
	let printed = 0;
	let failed = false;
	const flush = () => {
		while (pending[printed]) {
			pending[printed]!();
			pending[printed] = undefined;
			printed++;
		}
	};

	try {
		await agent.getMany(parsed.keys, (result, index) => {
			pending[index] = result.ok
				? () => {
					write(io.stdout, parsed.json ? safeJson(jsonLine(result.reply)) : formatReply(result.reply));
				}
				: () => {
					failed = true;
					if (parsed.json) {
						// One line (docs/schema/zabbix-get.json): the message's first line; the rest is on stderr.
						write(io.stdout, safeJson({key: result.key, error: result.error.message.split('\n')[0], code: result.error.code}));
					}

					reportError(io, result.error, hintsShown);
				};

			flush();
		});
	} catch (error) {
		flush();
		reportError(io, error, hintsShown);
		return isSecmonError(error) ? error.exitCode : exitCodes.failure;
	}

	return failed ? exitCodes.failure : exitCodes.ok;
}
