/**
 * `secmon serve`'s command line: its help text, its flag table, and the ServeOptions they make.
 * Parsed by the subcommands' parser (argv/args.ts); command.ts loads this module only for
 * `secmon serve`, so the embedded collector (`secmon` without --host) does not load meow.
 */
import net from 'node:net';
import {parseArgs, type FlagSpec} from '../argv/args.js';
import {certificateFlags} from '../argv/security-flags.js';
import type {FlagValues} from '../argv/simple-argv.js';
import {parseDurationMs} from '../duration.js';
import {SecmonError} from '../errors.js';
import {
	defaultHandshakeMs, defaultIdleMs, defaultMaxClients, defaultMaxPerAddress, type ServeTlsMode, type ServerLimits,
} from './server.js';

export const serveHelp = `
Usage
  $ secmon serve [--listen ADDR:PORT]... [--tls offer|require|off]
                 [--client-ca FILE] [--require-client-cert] [--cert FILE --key FILE]
                 [--max-clients N] [--max-per-address N] [--idle-timeout TIME]
                 [--handshake-timeout TIME]

A PCP collector with this machine's Linux metrics (kernel.all.load, mem.util.*,
disk.dev.*, network.interface.*, filesys.*, ...) under pmcd's names, for
pminfo, pmval, pmrep and secmon.

Options
  --listen ADDR:PORT       where to listen (repeatable); default 127.0.0.1:44321 and
                           [::1]:44321. Use 0.0.0.0:44321 or [::]:44321 for remote clients
  --tls MODE               require (default): TLS only, plain clients are refused, from
                           every address including loopback; offer: TLS for clients that
                           ask, plain for the rest; off: plain text only
  --cert FILE --key FILE   serve this certificate and key instead of the generated ones
  --client-ca FILE         CA that client certificates must be signed by
  --require-client-cert    refuse clients without such a certificate (implies --tls require;
                           without --client-ca the collector's own CA is used)
  --max-clients N          connections in all (default ${defaultMaxClients}); the last eighth is kept
                           for addresses holding less than their fair share, and when
                           all are in use a newcomer closes the least active session of
                           the address holding the most
  --max-per-address N      connections from one address or IPv6 /64 (default ${defaultMaxPerAddress});
                           more get "PMCD connection limit for this host exceeded"
  --idle-timeout TIME      close a session with no request for TIME (default ${defaultIdleMs / 60_000}min);
                           keep it well above the clients' sampling interval: a pmval -t
                           longer than this loses its connection and exits
  --handshake-timeout TIME from connect to a usable session: CREDS and the TLS handshake
                           (default ${defaultHandshakeMs / 1000}s)
  TIME is a PCP interval: 90, 30sec, 500msec, 10min, 1hour

On first start secmon creates a local CA and a server certificate in
<secmon home>/serve/ (RSA 2048, SHA-512, keys 0600) and prints the CA file:
  secmon --ca-file CA --host pcps://HOST:PORT -f kernel.all.load
  PCP_SECURE_SOCKETS=enforce pminfo -h HOST:PORT ...   with a tls.conf holding
      tls-ca-cert-file = CA    and    tls-verify-clients = true
`;

const serveFlags = {
	listen: {type: 'string', isMultiple: true},
	tls: {type: 'string'},
	clientCa: {type: 'string'},
	requireClientCert: {type: 'boolean'},
	...certificateFlags,
	maxClients: {type: 'string'},
	maxPerAddress: {type: 'string'},
	idleTimeout: {type: 'string'},
	handshakeTimeout: {type: 'string'},
	help: {type: 'boolean', shortFlag: 'h'},
} as const satisfies FlagSpec;

type ServeFlags = FlagValues<typeof serveFlags>;

export type ServeOptions = {
	listen: Array<{host: string; port: number}>;
	tls: ServeTlsMode;
	clientCa?: string;
	requireClientCert: boolean;
	cert?: string;
	key?: string;
	/** Whether --listen was given (otherwise a missing ::1 is not an error). */
	explicitListen: boolean;
	/** Limits given on the command line (the rest are the server's defaults). */
	limits?: Partial<ServerLimits>;
};

/** setTimeout takes at most 2^31 - 1 ms (about 24.8 days). */
const maxTimerMs = 2_147_483_647;

function timeFlag(text: string | undefined, flag: string): number | undefined {
	if (text === undefined) {
		return undefined;
	}

	const ms = parseDurationMs(text);
	if (ms === undefined || ms < 1 || ms > maxTimerMs) {
		throw usage(`${flag} ${text}: expected a time from 1msec to 24 days`, `give a PCP interval, e.g. ${flag} 10min, ${flag} 30sec or ${flag} 90 (seconds)`);
	}

	return Math.round(ms);
}

function countFlag(text: string | undefined, flag: string): number | undefined {
	if (text === undefined) {
		return undefined;
	}

	const count = /^\d{1,9}$/v.test(text) ? Number(text) : 0;
	if (count < 1) {
		throw usage(`${flag} ${text}: expected a whole number of connections, 1 or more`, `e.g. ${flag} 64`);
	}

	return count;
}

function limitFlags(flags: ServeFlags): Partial<ServerLimits> {
	const limits: Partial<ServerLimits> = {};
	const entries: Array<[keyof ServerLimits, number | undefined]> = [
		['maxClients', countFlag(flags.maxClients, '--max-clients')],
		['maxPerAddress', countFlag(flags.maxPerAddress, '--max-per-address')],
		['idleMs', timeFlag(flags.idleTimeout, '--idle-timeout')],
		['handshakeMs', timeFlag(flags.handshakeTimeout, '--handshake-timeout')],
	];
	for (const [key, value] of entries) {
		if (value !== undefined) {
			limits[key] = value;
		}
	}

	return limits;
}

const defaultPort = 44_321;

function usage(message: string, hint: string): SecmonError {
	return new SecmonError('USAGE', message, hint);
}

/** "127.0.0.1:44321", "[::1]:44321", "0.0.0.0:44321", "[::]:44321", "localhost:44321". */
export function parseListen(text: string): {host: string; port: number} {
	const bracketed = /^\[([^\]]+)\]:(\d+)$/v.exec(text);
	const plain = /^([^:\[\]]+):(\d+)$/v.exec(text);
	const match = bracketed ?? plain;
	const host = match?.[1];
	const port = Number(match?.[2]);
	if (!match || !host || !Number.isInteger(port) || port < 0 || port > 65_535) {
		throw usage(`--listen ${text}: expected ADDR:PORT`, 'e.g. --listen 127.0.0.1:44321, --listen [::1]:44321 or --listen 0.0.0.0:44321 for every IPv4 address');
	}

	if (bracketed && !net.isIPv6(host)) {
		throw usage(`--listen ${text}: ${host} is not an IPv6 address`, 'brackets are for IPv6 addresses only, e.g. --listen [::1]:44321');
	}

	return {host, port};
}

export function parseServeArgs(argv: string[]): ServeOptions | 'help' {
	const {input, flags} = parseArgs('serve', argv, serveFlags);
	if (input.length > 0) {
		throw usage(`unexpected argument "${input[0]}": secmon serve takes options only`, 'see: secmon serve --help');
	}

	if (flags.help) {
		return 'help';
	}

	const tlsValue = flags.tls ?? 'require';
	if (tlsValue !== 'require' && tlsValue !== 'offer' && tlsValue !== 'off') {
		throw usage(`--tls ${tlsValue}: expected require, offer or off`, 'require (the default) refuses plain clients; offer serves both; off is plain text only');
	}

	if ((flags.cert === undefined) !== (flags.key === undefined)) {
		throw usage('--cert and --key go together', 'give both the certificate file and its private key file, or neither to use the generated ones');
	}

	if (flags.requireClientCert && flags.tls !== undefined && tlsValue !== 'require') {
		throw usage(`--require-client-cert cannot work with --tls ${tlsValue}`, 'client certificates are only seen over TLS: drop --tls (require is the default)');
	}

	if (tlsValue === 'off' && (flags.clientCa !== undefined || flags.cert !== undefined)) {
		throw usage('--tls off serves plain text, so --client-ca, --cert and --key would not be used', 'drop --tls off, or drop the certificate options');
	}

	if (flags.requireClientCert && flags.clientCa === undefined && flags.cert !== undefined) {
		throw usage('--require-client-cert with your own --cert needs --client-ca FILE', 'name the CA that signs your clients\' certificates with --client-ca FILE');
	}

	const listen = flags.listen.map(item => parseListen(item));
	const limits = limitFlags(flags);
	return {
		listen: listen.length > 0 ? listen : [{host: '127.0.0.1', port: defaultPort}, {host: '::1', port: defaultPort}],
		tls: flags.requireClientCert ? 'require' : tlsValue,
		...(flags.clientCa === undefined ? {} : {clientCa: flags.clientCa}),
		requireClientCert: flags.requireClientCert,
		...(flags.cert === undefined ? {} : {cert: flags.cert}),
		...(flags.key === undefined ? {} : {key: flags.key}),
		explicitListen: listen.length > 0,
		...(Object.keys(limits).length > 0 ? {limits} : {}),
	};
}
