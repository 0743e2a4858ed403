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
import {exitCodes, SecmonError} from '../errors.js';
import {checkKeyFileMode, errnoCode, secmonHome} from '../security/home.js';
import type {Io} from '../io.js';
import {reportError} from '../output/report.js';
import {messageOf} from './errors.js';
import {defaultContextLabels} from './labels.js';
import {LinuxSource} from './linux/source.js';
import {PmcdSource} from './pmcd-source.js';
import {ensureServePki, requiredSans, type ServePki} from './pki.js';
import {PcpServer, type ServerLimits} from './server.js';
import type {ServeOptions} from './args.js';

export type ServeIo = Io;

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
		// Loaded here, not at the top: the embedded collector uses this module and needs no argv.
		const {parseServeArgs, serveHelp} = await import('./args.js');
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
		return reportError(io, error, {json: false});
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
