/**
 * TLS transport with secmon's own trust decision. Node is told not to reject anything
 * (`rejectUnauthorized: false`) and to skip its host-name check, so `socket.authorized` reports the
 * chain alone; after 'secureConnect' we check the name with tls.checkServerIdentity and hand both
 * facts to decideTrust (docs/node.md#tls-verification-hooks: checkServerIdentity is not enforced when
 * rejectUnauthorized is false, so TOFU must decide after the handshake and destroy the socket
 * before a byte is written). Nothing is written on the stream before the decision; a refusal
 * destroys the socket. There is never a fallback to plain text.
 */
import {X509Certificate} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import net from 'node:net';
import process from 'node:process';
import tls from 'node:tls';
import {SecmonError} from '../errors.js';
import {describeCertificate, splitPemBundle} from './certificate.js';
import {checkKeyFileMode, errnoCode} from './home.js';
import {nameMismatchReason} from './messages.js';
import {formatTarget, type TrustStore} from './store.js';
import {warnIfExpiring} from './expiry.js';
import {floorViolation, secureCiphers, secureOptions} from './floor.js';
import {decideTrust, floorError} from './trust.js';
import {rememberVerifiedTls} from './downgrade.js';
import type {
	Ask, CertificateInfo, Pin, Target, TlsFacts,
} from './types.js';

export type TlsOptions = {
	target: Target;
	/** Name to verify (and send as SNI) instead of target.host. */
	servername?: string;
	/** --ca-file: PEM bundle. When given, it is the only CA set and its verdict is final. */
	caFile?: string;
	/** --cert / --key: client certificate and key files (read here, never logged). */
	cert?: string;
	key?: string;
	fingerprint?: string;
	acceptNew: boolean;
	ask?: Ask;
	store: TrustStore;
	/** Handshake timeout (default 10 s). Time spent at the prompt does not count. */
	timeoutMs?: number;
	minVersion?: tls.SecureVersion;
	/**
	 * Default true: without --ca-file, a collector pinned in the store is held to its pin alone,
	 * and the handshake carries no CA store (see loadCredentials). `secmon verify` turns it off
	 * to report the CA verdict as well.
	 */
	pinFirst?: boolean;
	/** Non-fatal warnings: key file mode, expired pinned certificate, replaced pin. */
	onWarning?: (message: string) => void;
	/** How to re-run the command, for the refusal hint. */
	rerunCommand?: string;
	/**
	 * Default true: a CA-verified collector is recorded in the store's downgrade memory
	 * (security/downgrade.ts). The embedded collector, on a new ephemeral port each run, is not.
	 */
	remember?: boolean;
};

export type TlsResult = {
	stream: tls.TLSSocket;
	facts: TlsFacts;
	/** The pin file written by this connection, if any (for "Permanently added …"). */
	pinFile?: string;
};

const defaultTimeoutMs = 10_000;

function hostOf(target: Target): string {
	return target.host.startsWith('[') && target.host.endsWith(']') ? target.host.slice(1, -1) : target.host;
}

/**
 * Small local files, read synchronously: an asynchronous read costs a trip through the
 * thread pool per file (~1 ms on the start-up path, core issue part 7) and loading
 * node:fs/promises, and the connection waits for the file either way.
 */
function readOption(file: string, flag: string): Buffer {
	try {
		return readFileSync(file);
	} catch (error) {
		throw new SecmonError('USAGE', `cannot read ${flag} ${file} (${errnoCode(error) ?? String(error)})`, 'Check the path and its permissions', {cause: error});
	}
}

/** `ca` undefined: Node's own CA roots (Mozilla's bundle plus NODE_EXTRA_CA_CERTS). */
export type Credentials = {ca?: string[]; cert?: Buffer; key?: Buffer};

/**
 * The CA set without --ca-file: Node's default roots, unless the store has CAs of its own.
 * Leaving `ca` unset matters for start-up: Node 20 parses its ~140 bundled roots into a
 * store once per process (~30 ms on a small VM, already done at start when
 * NODE_EXTRA_CA_CERTS is set), and an explicit list makes it parse them all again into a
 * copy. With store CAs the list must be explicit, so it carries NODE_EXTRA_CA_CERTS as
 * Node's default would.
 */
function defaultCas(options: TlsOptions): string[] | undefined {
	const storeCas = options.store.trustedCas();
	if (storeCas.length === 0) {
		return undefined;
	}

	// Like Node, which warns at start-up about an unreadable NODE_EXTRA_CA_CERTS and goes on without it.
	const extraFile = process.env['NODE_EXTRA_CA_CERTS'];
	let extra: string[] = [];
	if (extraFile) {
		try {
			extra = splitPemBundle(readFileSync(extraFile, 'utf8'));
		} catch {
			extra = [];
		}
	}

	return [...tls.rootCertificates, ...extra, ...storeCas];
}

/**
 * Without --ca-file the collector's pin, if it has one, decides alone (loadCredentials): the pin
 * (null: none), or undefined when pins are not asked first (--ca-file, pinFirst false).
 */
function pinFirst(options: TlsOptions): Pin | null | undefined {
	return options.caFile === undefined && (options.pinFirst ?? true) ? (options.store.get(options.target) ?? null) : undefined;
}

function pinnedAlone(options: TlsOptions): boolean {
	return Boolean(pinFirst(options));
}

export function loadCredentials(options: TlsOptions, pinned = pinnedAlone(options)): Credentials {
	let ca: string[] | undefined;
	if (pinned) {
		// A pinned collector: its pin decides alone (decideTrust: same certificate → trusted,
		// another → exit 4), as ssh's known_hosts does, so no CA store is needed, and none is
		// built (`ca: []`): Node 20 spends ~30 ms building its default one when
		// NODE_EXTRA_CA_CERTS is unset. With no CA set, `authorized` stays false and decideTrust
		// goes straight to the pin.
		ca = [];
	} else if (options.caFile === undefined) {
		ca = defaultCas(options);
	} else {
		const bundle = readOption(options.caFile, '--ca-file');
		ca = splitPemBundle(bundle.toString('utf8'));
		if (ca.length === 0) {
			throw new SecmonError('USAGE', `--ca-file ${options.caFile} holds no PEM certificate`, 'Give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)');
		}
	}

	if ((options.cert === undefined) !== (options.key === undefined)) {
		throw new SecmonError(
			'USAGE',
			options.cert === undefined ? '--key given without --cert' : '--cert given without --key',
			'Give both the client certificate (--cert FILE) and its private key (--key FILE)',
		);
	}

	if (options.cert === undefined || options.key === undefined) {
		return {ca};
	}

	const warning = checkKeyFileMode(options.key);
	if (warning) {
		options.onWarning?.(warning);
	}

	return {ca, cert: readOption(options.cert, '--cert'), key: readOption(options.key, '--key')};
}

/**
 * Why a TLS attempt shows the peer offers no TLS on this port, for a caller that may go on in
 * plain text where that is allowed (pmproxy serves both on one port: docs/pmproxy.md#security-modes):
 * - 'answered-plain': it answered the ClientHello with bytes that are not TLS;
 * - 'closed': it closed or reset the connection during the handshake, with no client
 *   certificate offered (pmproxy without TLS closes on a hello without a byte; docs/pmproxy.md#tls).
 * Certificate, alert and cipher failures have none: they never mean "no TLS".
 */
export type NoTlsReason = 'answered-plain' | 'closed';

/** A TLS_FAILED SecmonError that carries `noTls` (decided here, never from the message text). */
export class TlsFailure extends SecmonError {
	readonly noTls: NoTlsReason | undefined;

	constructor(message: string, hint: string, noTls: NoTlsReason | undefined, options?: {cause?: unknown}) {
		super('TLS_FAILED', message, hint, options);
		this.noTls = noTls;
	}
}

/** What secmon negotiates, for hints. */
const cipherFloorText = 'secmon needs TLS 1.3, or TLS 1.2 with a forward-secret AEAD suite (ECDHE or DHE with AES-GCM or ChaCha20-Poly1305), and a server key of RSA 2048+ or ECDSA P-256+';

// Alerts a collector sends when it does not accept the client certificate we presented.
const clientCertAlerts = /ALERT_(?:UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED|DECRYPT_ERROR|HANDSHAKE_FAILURE)$/v;

/** The TLS alert name inside an OpenSSL error message ("… tlsv13 alert certificate required: …"). */
function alertName(message: string): string | undefined {
	return /(?:sslv3|ssl\/tls|tlsv1[23]?) alert ([a-z ]+?)(?::|$)/iv.exec(message)?.[1];
}

/**
 * Map a TLS error (during the handshake, or a late alert on the first read, as TLS 1.3 delivers a
 * rejected client certificate: docs/pcp.md#late-client-certificate-rejection) to a SecmonError that says what to do. Protocol
 * sessions call this for errors on the stream they got from upgradeToTls/connectTls.
 */
export function tlsFailure(error: unknown, context: {
	target: Target; clientCert: boolean; chain?: readonly X509Certificate[];
	/** The error came after a completed handshake (secure()'s late errors): never "no TLS". */
	afterHandshake?: boolean;
}): SecmonError {
	if (error instanceof SecmonError) {
		return error;
	}

	const where = formatTarget(context.target);
	const code = errnoCode(error) ?? '';
	const message = error instanceof Error ? error.message : String(error);
	const alert = alertName(message);
	const options = {cause: error};
	// OpenSSL's own refusals of weak keys and digests are opaque (EE_KEY_TOO_SMALL, CA_MD_TOO_WEAK,
	// "unspecified"); when the chain arrived, the floor names what is wrong with it.
	const weak = context.chain?.[0] ? floorViolation(context.chain) : undefined;
	if (weak) {
		return floorError(context.target, describeCertificate(context.chain![0]!), weak, {tlsError: alert ?? (code || message.split('\n')[0]!), cause: error});
	}

	const required = code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED';
	// OpenSSL 3.2 renamed "sslv3 alert …" to "ssl/tls alert …" (crypto/err/openssl.txt): Node 20
	// reports ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, Node 22 and 24 ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE.
	if (required || (!context.clientCert && /^ERR_SSL_(?:SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/v.test(code))) {
		return new SecmonError(
			'CLIENT_CERT_REQUIRED',
			`collector ${where} ${required ? 'requires a client certificate' : 'failed the TLS handshake: it may require a client certificate, or it has no cipher suite or key in common with secmon'} (TLS alert: ${alert ?? code})`,
			'Give --cert FILE --key FILE with a client certificate issued by a CA the collector trusts'
			+ (code.endsWith('HANDSHAKE_FAILURE') ? `;\nif it does not require one, check its TLS settings: ${cipherFloorText}` : ''),
			options,
		);
	}

	if (context.clientCert && clientCertAlerts.test(code)) {
		return new SecmonError(
			'TLS_FAILED',
			`collector ${where} rejected our client certificate (TLS alert: ${alert ?? code})`,
			'Check that --cert was issued by a CA the collector trusts, is still valid, and matches --key',
			options,
		);
	}

	// Bytes that are not TLS, or a broken record: "no TLS" only while nothing TLS came back. After
	// the collector's certificate arrived (or the handshake completed) it is a broken TLS session.
	const tlsSeen = context.afterHandshake === true || (context.chain?.length ?? 0) > 0;
	const notTlsBytes = /^ERR_SSL_(?:WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|RECORD_LAYER_FAILURE|UNEXPECTED_MESSAGE)/v.test(code);
	if (notTlsBytes && tlsSeen) {
		return new TlsFailure(
			`TLS with collector ${where} broke ${context.afterHandshake ? 'after the TLS handshake' : 'after its certificate arrived'} (${code})`,
			'Check the collector\'s TLS configuration and log; secmon never falls back to plain text after a TLS failure',
			undefined,
			options,
		);
	}

	if (notTlsBytes) {
		return new TlsFailure(
			`collector ${where} did not answer with TLS (${code})`,
			'Check the port and that TLS is enabled on the collector; secmon never falls back to plain text after a TLS attempt',
			'answered-plain',
			options,
		);
	}

	if (/NO_SHARED_CIPHER|NO_CIPHERS_AVAILABLE|NO_SUITABLE_SIGNATURE_ALGORITHM|INSUFFICIENT_SECURITY/v.test(code)) {
		return new SecmonError(
			'TLS_FAILED',
			`no cipher suite in common with collector ${where} (${alert ?? code})`,
			`Enable a modern suite on the collector: ${cipherFloorText}`,
			options,
		);
	}

	if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE/v.test(code)) {
		return new SecmonError(
			'TLS_FAILED',
			`no common TLS version with collector ${where} (${alert ?? code})`,
			'secmon requires TLS 1.2 or newer; enable it on the collector',
			options,
		);
	}

	if (code === 'ECONNRESET' || code === 'EPIPE') {
		const when = context.afterHandshake ? 'after the TLS handshake' : 'during the TLS handshake';
		return new TlsFailure(
			`collector ${where} reset the connection ${when}${context.clientCert ? ' (it may have rejected our client certificate)' : ''}`,
			context.clientCert
				? 'Check that --cert was issued by a CA the collector trusts, and the collector\'s log for the reason it dropped the connection'
				: (context.afterHandshake
					? 'Check the collector\'s log for the reason it dropped the connection (it may require a client certificate: --cert FILE --key FILE), then run the command again'
					: 'Check that this port speaks TLS, and the collector\'s log for the reason it dropped the connection'),
			// After a completed handshake, or once the certificate arrived, the port does speak TLS:
			// never a reason to go on in plain text.
			context.clientCert || tlsSeen ? undefined : 'closed',
			options,
		);
	}

	return new SecmonError(
		'TLS_FAILED',
		`TLS with collector ${where} failed: ${alert ? `TLS alert: ${alert}` : (code || message.split('\n')[0])}`,
		'Check the collector\'s TLS configuration and log; secmon never falls back to plain text after a TLS failure',
		options,
	);
}

type ChainLink<Link> = {fingerprint256: string; issuerCertificate?: Link | undefined};

/** The chain from `leaf` up its issuers, leaf first, each certificate once (a loop ends it). */
function walkLinks<Link extends ChainLink<Link>>(leaf: Link | undefined, present: (link: Link) => boolean = () => true): Link[] {
	const chain: Link[] = [];
	const seen = new Set<string>();
	let current = leaf;
	while (current && present(current) && !seen.has(current.fingerprint256)) {
		seen.add(current.fingerprint256);
		chain.push(current);
		current = current.issuerCertificate;
	}

	return chain;
}

/**
 * The peer's certificate chain, leaf first. By default as the peer sent it
 * (X509Certificate.issuerCertificate: only what arrived). `completed`: the chain the handshake
 * was verified on, finished from the context's CA store (getPeerCertificate(true)), so a CA the
 * peer did not send (the usual agent sends only its leaf) and that came only from a CA file is in
 * it too, for checks that must judge every certificate the verification relied on (Zabbix's
 * floor check: test/protocols/zabbix/certificate-checks.test.ts).
 */
export function certificateChain(socket: tls.TLSSocket, options: {completed?: boolean} = {}): X509Certificate[] {
	return options.completed
		? completedChain(socket).map(link => new X509Certificate(link.raw))
		: walkLinks(socket.getPeerX509Certificate());
}

/** What the peer sent, completed from the context's CA store, as Node's plain objects. */
function completedChain(socket: tls.TLSSocket): tls.DetailedPeerCertificate[] {
	// Without a certificate getPeerCertificate gives an empty object: no raw, no chain.
	return walkLinks<tls.DetailedPeerCertificate>(socket.getPeerCertificate(true), link => (link.raw as Buffer | undefined) !== undefined);
}

/** The chain a failed handshake received, if any (leaf first). */
export function receivedChain(socket: tls.TLSSocket): X509Certificate[] {
	try {
		return certificateChain(socket);
	} catch {
		// No certificate arrived.
		return [];
	}
}

/** Handshake only: resolves on 'secureConnect', rejects (and destroys) on error, close or timeout. */
async function handshake(connectOptions: tls.ConnectionOptions, options: TlsOptions, clientCert: boolean): Promise<tls.TLSSocket> {
	const where = formatTarget(options.target);
	const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
	return new Promise((resolve, reject) => {
		const socket = tls.connect(connectOptions);
		let settled = false;
		const finish = (error?: SecmonError) => {
			if (settled) {
				return;
			}

			settled = true;
			clearTimeout(timer);
			socket.off('error', onError);
			socket.off('close', onClose);
			socket.off('secureConnect', onSecure);
			if (error) {
				// Keep a listener: a late error on a destroyed socket must not crash the process.
				socket.on('error', () => undefined);
				socket.destroy();
				connectOptions.socket?.destroy();
				reject(error);
			} else {
				resolve(socket);
			}
		};

		const onError = (error: Error) => {
			finish(tlsFailure(error, {target: options.target, clientCert, chain: receivedChain(socket)}));
		};

		const onClose = () => {
			finish(new TlsFailure(
				`collector ${where} closed the connection during the TLS handshake`,
				'Check that this port speaks TLS, and the collector\'s log for the reason it dropped the connection',
				clientCert ? undefined : 'closed',
			));
		};

		const onSecure = () => {
			finish();
		};

		// A collector that never answers must not hold us (docs/pcp.md#tls-upgrade: a stalled handshake also freezes pmcd).
		const timer = setTimeout(() => {
			finish(new SecmonError(
				'TIMEOUT',
				`TLS handshake with collector ${where} timed out after ${timeoutMs} ms`,
				'Check that the collector is responsive and that this port speaks TLS',
			));
		}, timeoutMs);
		socket.on('error', onError);
		socket.once('close', onClose);
		socket.once('secureConnect', onSecure);
	});
}

/**
 * The chain as the peer sent it, leaf first, from X509Certificate objects: no conversion of
 * every certificate to a plain object with three fingerprints each, as getPeerCertificate(true)
 * does (~1 ms of a one-shot fetch, core issue part 7). Trust decisions read only the leaf.
 */
export function presentedChain(leaf: X509Certificate | undefined): CertificateInfo[] {
	return walkLinks(leaf).map(certificate => describeCertificate(certificate));
}

/**
 * Node's host-name check on the leaf. It reads the subject only when the certificate has no
 * DNS name in subjectAltName (then the CN counts), so the subject is converted only then. The
 * socket must still be open (secure() asks while deciding, before the decision's first await);
 * if it is not, there is no subject, and a certificate without a DNS name does not match.
 */
function checkHostName(socket: tls.TLSSocket, leaf: X509Certificate, name: string): Error | undefined {
	const peer = {
		subjectaltname: leaf.subjectAltName,
		get subject() {
			// An empty object when the socket is gone (Node returns null or {}): no CN, so no match.
			return (socket.getPeerCertificate() as tls.PeerCertificate | null)?.subject ?? {};
		},
	};
	// checkServerIdentity reads only these two fields.
	return tls.checkServerIdentity(name, peer as unknown as tls.PeerCertificate);
}

/** The chain for display (secmon verify): what the peer sent, completed from the local trust store. */
export function peerChain(socket: tls.TLSSocket): CertificateInfo[] {
	return completedChain(socket).map(link => describeCertificate(link.raw));
}

export function authorizationCode(socket: tls.TLSSocket): string | undefined {
	// Typed as Error, but Node stores the OpenSSL verify code string ("UNABLE_TO_VERIFY_LEAF_SIGNATURE").
	const error = socket.authorizationError as unknown;
	if (error === null || error === undefined) {
		return undefined;
	}

	if (typeof error === 'string') {
		return error;
	}

	return errnoCode(error) ?? (error instanceof Error ? error.message : 'unknown verification error');
}

async function secure(connectOptions: tls.ConnectionOptions, options: TlsOptions, credentials: Credentials, pin?: Pin | null): Promise<TlsResult> {
	const clientCert = credentials.cert !== undefined;
	const stream = await handshake(connectOptions, options, clientCert);
	refuseRenegotiation(stream, options.target);
	// Errors that arrive while we decide (a late alert, a reset) are kept, not thrown at the process.
	let lateError: Error | undefined;
	const onLateError = (error: Error) => {
		lateError ??= error;
	};

	stream.on('error', onLateError);
	const refuse = (error: unknown): never => {
		stream.destroy();
		connectOptions.socket?.destroy();
		throw error;
	};

	try {
		const leafX509 = stream.getPeerX509Certificate();
		const chain = presentedChain(leafX509);
		const leaf = chain[0];
		const nameToCheck = options.servername ?? hostOf(options.target);
		// The name is checked when the decision asks (a pinned collector's is not: its pin decides,
		// as a known_hosts entry does), once. Its reason is read only when the name does not match.
		let nameError: Error | undefined | false = false;
		const nameMismatch = () => {
			if (nameError === false) {
				nameError = leafX509 ? checkHostName(stream, leafX509, nameToCheck) : undefined;
			}

			return nameError;
		};

		const chainReason = authorizationCode(stream);
		const decision = await decideTrust({
			target: options.target,
			chain,
			chainVerified: stream.authorized ? {ok: true} : {ok: false, ...(chainReason === undefined ? {} : {reason: chainReason})},
			get hostnameOk() {
				return leaf !== undefined && nameMismatch() === undefined;
			},
			get hostnameReason() {
				return leaf && nameMismatch() ? nameMismatchReason(leaf, nameToCheck) : 'certificate does not match the host name';
			},
			caFileGiven: options.caFile !== undefined,
			store: options.store,
			...(pin === undefined ? {} : {pin}),
			...(options.fingerprint === undefined ? {} : {fingerprint: options.fingerprint}),
			acceptNew: options.acceptNew,
			...(options.ask ? {ask: options.ask} : {}),
			...(options.rerunCommand === undefined ? {} : {rerunCommand: options.rerunCommand}),
		});
		for (const warning of decision.warnings) {
			options.onWarning?.(warning);
		}

		if (lateError) {
			refuse(tlsFailure(lateError, {target: options.target, clientCert, afterHandshake: true}));
		}

		if (stream.destroyed || !stream.writable) {
			refuse(new SecmonError(
				'CONNECT_FAILED',
				`collector ${formatTarget(options.target)} closed the connection while its certificate was being checked`,
				decision.pinFile ? 'The certificate is now pinned; run the command again' : 'Run the command again',
			));
		}

		stream.off('error', onLateError);
		const facts: TlsFacts = {
			version: stream.getProtocol() ?? 'unknown',
			cipher: stream.getCipher()?.name ?? 'unknown',
			basis: decision.basis,
			sha256: leaf?.sha256 ?? '',
			sha1: leaf?.sha1 ?? '',
			subject: leaf?.subject ?? '',
			validTo: leaf?.validTo ?? new Date(Number.NaN),
		};
		rememberVerifiedTls(options.store, options.target, facts, options.remember ?? true);
		// Every protocol connects through here, so every one warns about a certificate close to expiry.
		if (options.onWarning) {
			warnIfExpiring(facts, formatTarget(options.target), options.onWarning);
		}

		return {stream, facts, ...(decision.pinFile ? {pinFile: decision.pinFile} : {})};
	} catch (error) {
		return refuse(error);
	}
}

/** What goes into the TLS context: CAs, client certificate, lowest version, suites, options. */
function contextOptions(options: TlsOptions, credentials: Credentials): tls.SecureContextOptions {
	return {
		...(credentials.ca ? {ca: credentials.ca} : {}),
		...(credentials.cert && credentials.key ? {cert: credentials.cert, key: credentials.key} : {}),
		minVersion: options.minVersion ?? 'TLSv1.2',
		ciphers: secureCiphers,
		secureOptions,
	};
}

/**
 * A second 'secureConnect' on a client socket is the collector starting a renegotiation
 * (Node emits it when OpenSSL processes the HelloRequest). secmon refuses it (secureOptions) and
 * ends the stream with an error that says so, rather than the collector's bare handshake alert.
 */
export function refuseRenegotiation(stream: tls.TLSSocket, target: Target): void {
	stream.once('secureConnect', () => {
		stream.destroy(new SecmonError(
			'TLS_FAILED',
			`collector ${formatTarget(target)} asked to renegotiate the TLS session; secmon refuses renegotiation`,
			'Turn off server-initiated renegotiation on the collector (or its TLS proxy), or have it offer TLS 1.3, which has none',
		));
	});
}

/** What is per connection: the name sent (SNI) and our own verification. */
function sessionOptions(options: TlsOptions): tls.ConnectionOptions {
	const name = options.servername ?? hostOf(options.target);
	return {
		// Never SNI for IP literals (docs/node.md#sni-for-ip-literals, Node DEP0123).
		...(net.isIP(name) === 0 ? {servername: name} : {}),
		rejectUnauthorized: false,
		// Node would otherwise fold its own name check (against "localhost" when no host is set)
		// into `authorized`; we want `authorized` to mean "chain verified" and check names ourselves.
		checkServerIdentity: () => undefined,
	};
}

export function baseConnectOptions(options: TlsOptions, credentials: Credentials): tls.ConnectionOptions {
	return {...sessionOptions(options), ...contextOptions(options, credentials)};
}

/** Credentials and TLS context made ahead of the handshake, or the error that stopped them. */
export type PreparedTls = {
	credentials: Credentials;
	context: tls.SecureContext;
	/** The pin the context was chosen by (pinFirst), handed to the trust decision: one read per connection. */
	pin?: Pin | null;
} | {error: unknown};

/**
 * Reads the credential files and builds the TLS context. Never throws: an error is kept for
 * upgradeToTls, so it is reported at the TLS step, after any connection error, as before.
 * PCP calls this while its TCP connection and greeting are under way (core issue part 7).
 */
export function prepareTls(options: TlsOptions): PreparedTls {
	try {
		const pin = pinFirst(options);
		const pinned = Boolean(pin);
		const withPin = (ready: {credentials: Credentials; context: tls.SecureContext}) => (pin === undefined ? ready : {...ready, pin});
		const key = contextKey(options, pinned);
		const known = key === undefined ? undefined : contexts.get(key);
		if (known) {
			return withPin(known);
		}

		const credentials = loadCredentials(options, pinned);
		const ready = {credentials, context: tls.createSecureContext(contextOptions(options, credentials))};
		if (key !== undefined) {
			if (contexts.size >= maxContexts) {
				contexts.clear();
			}

			contexts.set(key, ready);
		}

		return withPin(ready);
	} catch (error) {
		return {error};
	}
}

/**
 * TLS contexts of this run, one per distinct set of credentials (issue 18): building one costs
 * ~0.7 ms of CPU (parsing the CA and key files, OpenSSL's context), and a fleet's collectors
 * share theirs (the same --ca-file, client certificate, or none for pinned collectors). The key
 * names each file by its inode, size and modification time, so a file changed during a long
 * run (a renewed client certificate) gets a new context; a key file's mode is warned about
 * once per context.
 */
const contexts = new Map<string, {credentials: Credentials; context: tls.SecureContext}>();
const maxContexts = 64;

function fileIdentity(file: string | undefined, absent?: string): string {
	if (file === undefined) {
		return '-';
	}

	let stats;
	try {
		stats = statSync(file);
	} catch (error) {
		if (absent !== undefined && errnoCode(error) === 'ENOENT') {
			return absent;
		}

		throw error;
	}

	return `${file}\0${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** undefined: not cached (a file that cannot be looked at gets its error from loadCredentials). */
function contextKey(options: TlsOptions, pinned: boolean): string | undefined {
	try {
		// The store's CAs count when neither a pin nor --ca-file decides (defaultCas).
		const cas = pinned || options.caFile !== undefined ? '-' : `${options.store.home}\0${fileIdentity(options.store.casDir, 'no CAs')}`;
		return [pinned ? 'pinned' : 'chain', fileIdentity(options.caFile), cas, fileIdentity(options.cert), fileIdentity(options.key), options.minVersion ?? 'TLSv1.2'].join('\n');
	} catch {
		return undefined;
	}
}

/**
 * In-band upgrade of an already connected plain socket (PCP after CREDS + secure-ack, docs/pcp.md#tls-upgrade).
 * The caller must have stopped reading: any byte already buffered would be lost, so it is an error.
 */
export async function upgradeToTls(socket: net.Socket, options: TlsOptions, prepared?: PreparedTls): Promise<TlsResult> {
	if (socket.readableLength > 0) {
		socket.destroy();
		throw new SecmonError(
			'PROTOCOL',
			`collector ${formatTarget(options.target)} sent ${socket.readableLength} unexpected byte(s) before the TLS handshake`,
			'This does not look like the expected protocol; check the host and port',
		);
	}

	const ready = prepared ?? prepareTls(options);
	if ('error' in ready) {
		socket.destroy();
		throw ready.error;
	}

	return secure({...sessionOptions(options), secureContext: ready.context, socket}, options, ready.credentials, ready.pin);
}

/** Plain TCP connect with a timeout and errors that say what to do. */
export async function connectTcp(target: Target, timeoutMs: number = defaultTimeoutMs): Promise<net.Socket> {
	const where = formatTarget(target);
	return new Promise((resolve, reject) => {
		const socket = net.connect({host: hostOf(target), port: target.port});
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new SecmonError('TIMEOUT', `connecting to ${where} timed out after ${timeoutMs} ms`, 'Check the host and port, and that no firewall drops the connection'));
		}, timeoutMs);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.off('error', onError);
			resolve(socket);
		});
		const onError = (error: Error) => {
			clearTimeout(timer);
			socket.destroy();
			reject(connectFailure(error, target));
		};

		socket.once('error', onError);
	});
}

export function connectFailure(error: unknown, target: Target): SecmonError {
	const where = formatTarget(target);
	const code = errnoCode(error);
	const options = {cause: error};
	if (code === 'ECONNREFUSED') {
		return new SecmonError('CONNECT_FAILED', `cannot connect to ${where}: connection refused`, `Check that the collector is running and listening on port ${target.port}`, options);
	}

	if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
		return new SecmonError('CONNECT_FAILED', `cannot resolve host ${hostOf(target)}`, 'Check the host name (and DNS); an IP address also works', options);
	}

	if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
		return new SecmonError('CONNECT_FAILED', `cannot reach ${where}: no route to host`, 'Check the address and the network between you and the collector', options);
	}

	const message = error instanceof Error ? error.message : String(error);
	return new SecmonError('CONNECT_FAILED', `cannot connect to ${where}: ${code ?? message}`, 'Check the host, port and network', options);
}

/** TLS from the first byte (Zabbix with TLS, Icinga HTTPS, stunnel-wrapped Livestatus and mon). */
export async function connectTls(options: TlsOptions): Promise<TlsResult> {
	const ready = prepareTls(options);
	if ('error' in ready) {
		throw ready.error;
	}

	const socket = await connectTcp(options.target, options.timeoutMs ?? defaultTimeoutMs);
	return secure({...sessionOptions(options), secureContext: ready.context, socket}, options, ready.credentials, ready.pin);
}
