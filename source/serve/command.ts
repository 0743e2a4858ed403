/**
 * `secmon serve`: the built-in secure PCP collector, and the embedded
 * collector that `secmon` with no --host starts in-process (loopback,
 * ephemeral port, TLS required), the way pminfo's default `local:` context
 * needs no setup.
 */
import {X509Certificate, createPrivateKey} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {
	exitCodes, formatError, SecmonError,
} from '../errors.js';
import {checkKeyFileMode, errnoCode, secmonHome} from '../security/home.js';
import {parseDurationMs} from '../duration.js';
import type {Io} from '../io.js';
import {messageOf} from './errors.js';
import {defaultContextLabels} from './labels.js';
import {LinuxSource} from './linux/source.js';
import {PmcdSource} from './pmcd-source.js';
import {ensureServePki, requiredSans, type ServePki} from './pki.js';
import {
	defaultHandshakeMs, defaultIdleMs, defaultMaxClients, defaultMaxPerAddress, PcpServer, type ServeTlsMode, type ServerLimits,
} from './server.js';

export type ServeIo = Io;

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

function limitFlags(values: Record<string, string | boolean | string[] | undefined>): Partial<ServerLimits> {
	const text = (name: string) => {
		const value = values[name];
		return typeof value === 'string' ? value : undefined;
	};

	const limits: Partial<ServerLimits> = {};
	const entries: Array<[keyof ServerLimits, number | undefined]> = [
		['maxClients', countFlag(text('max-clients'), '--max-clients')],
		['maxPerAddress', countFlag(text('max-per-address'), '--max-per-address')],
		['idleMs', timeFlag(text('idle-timeout'), '--idle-timeout')],
		['handshakeMs', timeFlag(text('handshake-timeout'), '--handshake-timeout')],
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
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			strict: true,
			allowPositionals: false,
			options: {
				listen: {type: 'string', multiple: true},
				tls: {type: 'string'},
				'client-ca': {type: 'string'},
				'require-client-cert': {type: 'boolean'},
				cert: {type: 'string'},
				key: {type: 'string'},
				'max-clients': {type: 'string'},
				'max-per-address': {type: 'string'},
				'idle-timeout': {type: 'string'},
				'handshake-timeout': {type: 'string'},
				help: {type: 'boolean', short: 'h'},
			},
		});
	} catch (error) {
		throw usage(error instanceof Error ? error.message : String(error), 'see: secmon serve --help');
	}

	const {values} = parsed;
	if (values.help) {
		return 'help';
	}

	const tlsValue = values.tls ?? 'require';
	if (tlsValue !== 'require' && tlsValue !== 'offer' && tlsValue !== 'off') {
		throw usage(`--tls ${tlsValue}: expected require, offer or off`, 'require (the default) refuses plain clients; offer serves both; off is plain text only');
	}

	if ((values.cert === undefined) !== (values.key === undefined)) {
		throw usage('--cert and --key go together', 'give both the certificate file and its private key file, or neither to use the generated ones');
	}

	if (values['require-client-cert'] && values.tls !== undefined && tlsValue !== 'require') {
		throw usage(`--require-client-cert cannot work with --tls ${tlsValue}`, 'client certificates are only seen over TLS: drop --tls (require is the default)');
	}

	if (tlsValue === 'off' && (values['client-ca'] !== undefined || values.cert !== undefined)) {
		throw usage('--tls off serves plain text, so --client-ca, --cert and --key would not be used', 'drop --tls off, or drop the certificate options');
	}

	if (values['require-client-cert'] && values['client-ca'] === undefined && values.cert !== undefined) {
		throw usage('--require-client-cert with your own --cert needs --client-ca FILE', 'name the CA that signs your clients\' certificates with --client-ca FILE');
	}

	const listen = (values.listen ?? []).map(item => parseListen(item));
	const limits = limitFlags(values);
	return {
		listen: listen.length > 0 ? listen : [{host: '127.0.0.1', port: defaultPort}, {host: '::1', port: defaultPort}],
		tls: values['require-client-cert'] ? 'require' : tlsValue,
		...(values['client-ca'] === undefined ? {} : {clientCa: values['client-ca']}),
		requireClientCert: values['require-client-cert'] ?? false,
		...(values.cert === undefined ? {} : {cert: values.cert}),
		...(values.key === undefined ? {} : {key: values.key}),
		explicitListen: listen.length > 0,
		...(Object.keys(limits).length > 0 ? {limits} : {}),
	};
}

async function readPem(file: string, what: string, hint: string): Promise<string> {
	try {
		return await readFile(file, 'utf8');
	} catch (error) {
		throw new SecmonError('USAGE', `cannot read ${what} ${file} (${errnoCode(error) ?? messageOf(error)})`, hint, {cause: error});
	}
}

type Credentials = {cert: string; key: string; caFile?: string; pki?: ServePki; warnings: string[]};

async function serverCredentials(options: ServeOptions, home: string): Promise<Credentials> {
	if (options.cert !== undefined && options.key !== undefined) {
		const cert = await readPem(options.cert, 'the certificate', 'check the --cert path');
		const key = await readPem(options.key, 'the private key', 'check the --key path');
		const warnings: string[] = [];
		const modeWarning = checkKeyFileMode(options.key);
		if (modeWarning) {
			warnings.push(modeWarning);
		}

		let matches = false;
		try {
			matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
		} catch (error) {
			throw new SecmonError(
				'CERT_INVALID',
				`cannot use ${options.cert} with ${options.key}: ${messageOf(error)}`,
				'both must be PEM files: the certificate (chain) and its unencrypted private key',
			);
		}

		if (!matches) {
			throw new SecmonError('CERT_INVALID', `${options.key} is not the private key of ${options.cert}`, 'give the key that belongs to the certificate');
		}

		return {cert, key, warnings};
	}

	const pki = await ensureServePki({home, sans: requiredSans(options.listen.map(item => item.host))});
	const [cert, key] = await Promise.all([readFile(pki.certFile, 'utf8'), readFile(pki.keyFile, 'utf8')]);
	return {
		cert, key, caFile: pki.caFile, pki, warnings: pki.warnings,
	};
}

export type RunningServe = {
	/** Bound addresses, e.g. [{host: '127.0.0.1', port: 44321}]. */
	addresses: Array<{host: string; port: number}>;
	/** The CA clients should trust (generated PKI only). */
	caFile?: string;
	server: PcpServer;
	close(): Promise<void>;
};

const listenProblems: Record<string, string> = {
	EADDRINUSE: 'the port is in use',
	EADDRNOTAVAIL: 'no such local address',
	EACCES: 'permission denied',
};

function listenProblem(code: string | undefined, error: unknown): string {
	return (code === undefined ? undefined : listenProblems[code]) ?? messageOf(error);
}

function display(host: string, port: number): string {
	return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Start serving as `secmon serve` would, printing the start-up lines to io. */
export async function startServe(options: ServeOptions, io: ServeIo, limits?: Partial<ServerLimits>): Promise<RunningServe> {
	const home = secmonHome(io.env);
	let credentials: Credentials | undefined;
	let clientCa: string | undefined;
	if (options.tls !== 'off') {
		credentials = await serverCredentials(options, home);
		for (const warning of credentials.warnings) {
			io.stderr.write(`secmon serve: ${warning}\n`);
		}

		if (options.clientCa !== undefined) {
			clientCa = await readPem(options.clientCa, 'the client CA', 'check the --client-ca path');
		} else if (options.requireClientCert && credentials.caFile) {
			clientCa = await readFile(credentials.caFile, 'utf8');
		}
	}

	const server = new PcpServer({
		sources: [new PmcdSource(), new LinuxSource()],
		tls: {
			mode: options.tls,
			...(credentials ? {cert: credentials.cert, key: credentials.key} : {}),
			...(clientCa === undefined ? {} : {clientCa}),
			requestClientCert: clientCa !== undefined,
			requireClientCert: options.requireClientCert,
		},
		contextLabels: await defaultContextLabels(),
		limits: {...options.limits, ...limits},
		log(line) {
			io.stderr.write(`secmon serve: ${line}\n`);
		},
	});

	const addresses: Array<{host: string; port: number}> = [];
	for (const {host, port} of options.listen) {
		try {
			const address = await server.listen(host, port);
			addresses.push({host: address.address, port: address.port});
		} catch (error) {
			const code = errnoCode(error);
			if (!options.explicitListen && host === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) {
				continue; // No IPv6 loopback here; 127.0.0.1 is enough for the default.
			}

			await server.close();
			throw new SecmonError(
				'CONNECT_FAILED',
				`cannot listen on ${display(host, port)}: ${listenProblem(code, error)}`,
				code === 'EADDRINUSE'
					? `stop what listens there (see: ss -ltnp 'sport = :${port}') or choose another port with --listen ADDR:PORT`
					: 'choose an address of this machine with --listen ADDR:PORT, e.g. --listen 127.0.0.1:44321',
				{cause: error},
			);
		}
	}

	const pki = credentials?.pki;
	if (pki?.createdCa) {
		io.stdout.write(`secmon serve: created a local CA and a server certificate in ${pki.dir}\n`);
	} else if (pki?.issuedServerCert) {
		io.stdout.write(`secmon serve: issued a new server certificate in ${pki.dir} (same CA)\n`);
	}

	const tlsText = options.tls === 'off'
		? 'plain text, no TLS'
		: `TLS ${options.tls === 'require' ? 'required' : 'offered'}${options.requireClientCert ? ', client certificate required' : ''}`;
	for (const address of addresses) {
		io.stdout.write(`secmon serve: listening on ${display(address.host, address.port)} (${tlsText})\n`);
	}

	if (options.tls === 'off') {
		io.stderr.write('secmon serve: warning: --tls off sends metric names and values unencrypted and unauthenticated; use it on trusted networks only\n');
	}

	if (credentials?.caFile) {
		const first = addresses[0];
		io.stdout.write(`secmon serve: CA certificate for clients: ${credentials.caFile}\n`);
		if (first) {
			const host = ['0.0.0.0', '::'].includes(first.host) ? `${os.hostname()}:${first.port}` : display(first.host, first.port);
			io.stdout.write(`  secmon --ca-file ${credentials.caFile} --host pcps://${host} -f kernel.all.load\n`);
			io.stdout.write(`  PCP tools: PCP_SECURE_SOCKETS=enforce with a tls.conf holding tls-ca-cert-file = ${credentials.caFile} and tls-verify-clients = true\n`);
		}

		if (options.requireClientCert && options.clientCa === undefined) {
			io.stdout.write(`  client certificates: secmon pki issue --ca ${pki?.dir ?? ''} --cn NAME --usage client\n`);
		}
	}

	return {
		addresses,
		...(credentials?.caFile ? {caFile: credentials.caFile} : {}),
		server,
		close: async () => server.close(),
	};
}

/** `secmon serve ARGS`: runs until SIGINT or SIGTERM (or until `options.signal` aborts, for embedding and tests). */
export async function serveCommand(argv: string[], io: ServeIo, options: {signal?: AbortSignal} = {}): Promise<number> {
	try {
		const parsed = parseServeArgs(argv);
		if (parsed === 'help') {
			io.stdout.write(serveHelp.trimStart());
			return exitCodes.ok;
		}

		const running = await startServe(parsed, io);
		await new Promise<void>(resolve => {
			const stop = () => {
				process.off('SIGINT', stop);
				process.off('SIGTERM', stop);
				options.signal?.removeEventListener('abort', stop);
				resolve();
			};

			process.on('SIGINT', stop);
			process.on('SIGTERM', stop);
			if (options.signal?.aborted) {
				stop();
			} else {
				options.signal?.addEventListener('abort', stop);
			}
		});
		await running.close();
		io.stdout.write('secmon serve: stopped\n');
		return exitCodes.ok;
	} catch (error) {
		io.stderr.write(formatError(error) + '\n');
		return error instanceof SecmonError ? error.exitCode : exitCodes.failure;
	}
}

export type EmbeddedCollector = {
	host: string;
	port: number;
	/** The CA that signed the collector's certificate: pass it as the client's --ca-file. */
	caFile: string;
	close(): Promise<void>;
};

/**
 * The collector `secmon` starts in-process when no --host is given:
 * 127.0.0.1, an ephemeral port, TLS required, the same PKI as `secmon serve`.
 */
export async function startEmbeddedCollector(options: {home: string; log?: (line: string) => void}): Promise<EmbeddedCollector> {
	const pki = await ensureServePki({home: options.home, sans: requiredSans(['127.0.0.1'])});
	const [cert, key] = await Promise.all([readFile(pki.certFile, 'utf8'), readFile(pki.keyFile, 'utf8')]);
	const server = new PcpServer({
		sources: [new PmcdSource(), new LinuxSource()],
		tls: {mode: 'require', cert, key},
		contextLabels: await defaultContextLabels(),
		...(options.log ? {log: options.log} : {}),
	});
	const address = await server.listen('127.0.0.1', 0);
	return {
		host: '127.0.0.1',
		port: address.port,
		caFile: pki.caFile,
		close: async () => server.close(),
	};
}
