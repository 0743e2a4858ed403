/**
 * PCP client session: one TCP connection to pmcd (or `secmon serve`), the
 * in-band TLS upgrade after CREDS (docs/pcp.md#tls-upgrade), then strictly serialized
 * request/reply exchanges (docs/pcp.md#request-and-reply).
 *
 * The protocol layer knows nothing about certificates: the caller injects
 * `upgrade`, which does TLS and the trust decision on the raw socket.
 * Secure-mode semantics are secmon's (docs/design.md#security-semantics):
 * enforce refuses a server without TLS, relaxed continues in plain text and
 * says so (plainBecauseRelaxed), and there is never a plain-text fallback
 * after a TLS attempt.
 */
import net from 'node:net';
import process from 'node:process';
import type {Duplex} from 'node:stream';
import {SecmonError, isSecmonError} from '../../errors.js';
import type {SecureMode, TlsFacts} from '../../security/types.js';
import {
	ERRNO, FEATURE, PDU, PM_ERR, PM_ID_NULL, PM_LABEL, PM_TEXT, PMCD_CONNECT_TIMEOUT_MS, PMCD_MAX_CLIENT_PDU, PMCD_REQUEST_TIMEOUT_MS,
	PDU_VERSION, pduTypeName,
} from './constants.js';
import {PcpError, isPduError, pmErrStr} from './errors.js';
import {
	type LabelReply, type PcpDesc, type Profile, type PcpResult, type PcpValueSet, decodeDesc, decodeDescs, decodeError, decodeGreeting,
	decodeHighresResult, decodeIds, decodeInstance, decodeLabel, decodeNames, decodeResult, decodeText, emptyProfile,
	encodeChild, encodeCreds, encodeDescIds, encodeDescReq, encodeHighresFetch, encodeFetch, encodeIds, encodeInstanceReq,
	encodeLabelReq, encodeNames, encodeProfile, encodeResult, encodeTextReq, encodeTraverse, pad4, readHeader,
} from './pdu.js';
import {DEFAULT_MAX_PDU_BYTES, PduReader} from './reader.js';

export type PcpConnectOptions = {
	/** Host name or address; an IPv6 literal without brackets. */
	host: string;
	port: number;
	secure: SecureMode;
	/** TLS + trust on the raw socket, injected by the caller (the protocol layer knows no certificates). */
	upgrade: (socket: net.Socket) => Promise<{stream: Duplex; facts: TlsFacts}>;
	/**
	 * Called once the TCP connect is under way (unless `secure` is off), so that the caller's
	 * TLS set-up (files, context) runs while the kernel and pmcd answer. Must not throw.
	 */
	prepareUpgrade?: () => void;
	/** TCP connect + greeting (+ secure-ack). Default 5000 (PMCD_CONNECT_TIMEOUT). */
	connectTimeoutMs?: number;
	/** Each request, from send to reply. Default 10000 (PMCD_REQUEST_TIMEOUT). */
	requestTimeoutMs?: number;
	/** Largest PDU accepted from the server. Default 64 MiB. */
	maxPduBytes?: number;
	signal?: AbortSignal;
	/**
	 * After a TLS upgrade, make one cheap request (a name lookup) before
	 * connect() resolves, so that a TLS 1.3 client-certificate rejection, which
	 * only arrives on the first read (docs/pcp.md#late-client-certificate-rejection), fails connect() rather than
	 * the caller's first request. Default: only when a client certificate is in
	 * play (pmcd's greeting says it requires one, or `clientCertificate`), the
	 * only case with such a rejection; otherwise it is a round trip for nothing.
	 */
	probeAfterUpgrade?: boolean;
	/** The upgrade presents a client certificate (--cert/--key). */
	clientCertificate?: boolean;
	/**
	 * Called when the session is about to go on in plain text (mode off, or relaxed and pmcd
	 * offers no TLS), before CREDS is sent: the security layer may refuse (downgrade memory,
	 * an option that implies TLS) by throwing. `offersTls` is what pmcd's greeting said.
	 */
	beforePlain?: (offersTls: boolean) => void;
	/** Called once the TCP connection is up (before pmcd has said anything): PMCD_PORT's next port is tried only before. */
	onTcpConnected?: () => void;
	/** The hint of the enforce-mode refusal (the caller knows the command line to suggest). */
	tlsRequiredHint?: string;
};

/** A fetch reply: timestamp and one vset per requested pmid, in request order. */
export type FetchResult = PcpResult;

export type FetchOptions = {
	/** PM_TYPE of a metric, for INSITU values (U32 vs I32). Default: types seen by descriptor()/descriptors(). */
	typeOf?: (pmid: number) => number | undefined;
	/**
	 * A profile for this fetch only (pminfo -F: every instance of an indom named); the empty
	 * profile is sent again before the next fetch without one (docs/pcp.md#profile).
	 */
	profile?: Profile;
};

/** pminfo keeps its name batches under 63 KiB (docs/pcp.md#framing). */
const nameBatchBytes = 63 * 1024;
/** HIGHRES_FETCH of n pmids is 28 + 4n bytes; pmcd takes at most 64 KiB. */
const fetchBatch = Math.floor((PMCD_MAX_CLIENT_PDU - 28) / 4);

type Waiter = {resolve: (pdu: Buffer) => void; reject: (error: Error) => void};

const errnoByCode: Record<string, number> = {
	...ERRNO,
	// Name resolution failures: libpcp reports them as EHOSTUNREACH ("No route to host", docs/pcp.md#secure-modes).
	ENOTFOUND: ERRNO.EHOSTUNREACH,
	EAI_AGAIN: ERRNO.EHOSTUNREACH,
	EAI_FAIL: ERRNO.EHOSTUNREACH,
	EAI_NONAME: ERRNO.EHOSTUNREACH,
	EAI_NODATA: ERRNO.EHOSTUNREACH,
};

function errnoOf(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null || !('code' in error)) {
		return undefined;
	}

	return typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** `host:port`, brackets around IPv6 literals, as pminfo prints the host. */
export function hostPort(host: string, port: number): string {
	return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Text for a socket error, the way pmErrStr would print its errno. */
function socketErrorText(error: unknown): string {
	const code = errnoOf(error);
	const errno = code === undefined ? undefined : errnoByCode[code];
	return errno === undefined ? messageOf(error) : pmErrStr(-errno);
}

function connectHint(code: string | undefined, host: string, port: number): string {
	switch (code ?? '') {
		case 'ECONNREFUSED': {
			return `Nothing accepts connections on ${hostPort(host, port)}. Check that pmcd is running there and listening on port ${port} (its default is 44321).`;
		}

		case 'ENOTFOUND':
		case 'EAI_AGAIN':
		case 'EAI_FAIL':
		case 'EAI_NONAME':
		case 'EAI_NODATA': {
			return `The host name "${host}" could not be resolved (${code}). Check the spelling, or give an address.`;
		}

		case 'EHOSTUNREACH':
		case 'ENETUNREACH': {
			return `There is no network route to ${host}. Check the address and the network.`;
		}

		default: {
			return `Check that pmcd is running on ${hostPort(host, port)} and reachable from here.`;
		}
	}
}

const notPmcdHint = 'Is this a pmcd port? pmcd listens on 44321 by default.';

const clientCertHint = 'Present a client certificate signed by a CA the server trusts: --secure enforce --cert FILE --key FILE.';

/**
 * A TLS failure as a SecmonError, or undefined if `error` is not a TLS error.
 * TLS 1.3 reports a missing client certificate as alert 116 on the first read
 * after the handshake (docs/pcp.md#tls-upgrade, docs/pcp.md#late-client-certificate-rejection).
 */
export function tlsFailure(error: unknown, where: string, alwaysTls = false): SecmonError | undefined {
	if (isSecmonError(error)) {
		return error;
	}

	const code = errnoOf(error) ?? '';
	const message = messageOf(error);
	// OpenSSL errors carry a short `reason` ("tlsv13 alert certificate required"); the message is a long dump.
	const reason = typeof error === 'object' && error !== null && 'reason' in error && typeof error.reason === 'string' ? error.reason : message.trim();
	const text = `${code} ${message}`.toLowerCase();
	if (text.includes('certificate required') || text.includes('certificate_required') || text.includes('alert number 116')) {
		return new SecmonError('CLIENT_CERT_REQUIRED', `PMCD on host "${where}" requires a client certificate (TLS: ${reason})`, clientCertHint, {cause: error});
	}

	if (!alwaysTls && !code.startsWith('ERR_SSL') && !code.startsWith('ERR_TLS') && !/\b(?:ssl|tls|alert)\b/v.test(text)) {
		return undefined;
	}

	let hint = 'Check the TLS configuration of both sides (tls.conf on the server; --ca-file, --cert and --key here).';
	if (text.includes('unknown ca')) {
		hint = 'The server does not trust the issuer of the client certificate. Use a certificate signed by the CA in the server\'s tls-ca-cert-file.';
	} else if (text.includes('bad certificate') || text.includes('certificate unknown') || text.includes('unsupported certificate')) {
		hint = 'The server rejected the client certificate. Check --cert/--key and that the certificate is valid for client authentication.';
	} else if (text.includes('certificate expired')) {
		hint = 'The server says the client certificate has expired. Renew it.';
	} else if (text.includes('protocol version') || text.includes('no protocols available')) {
		hint = 'The two sides share no TLS version; pmcd needs TLS 1.2 or newer.';
	}

	return new SecmonError('TLS_FAILED', `TLS with PMCD on host "${where}" failed: ${reason}`, hint, {cause: error});
}

export class PcpClient {
	/**
	 * Open a session: TCP connect, greeting, secure-mode decision, CREDS, TLS
	 * upgrade when chosen. Rejects with SecmonError (CONNECT_FAILED, TIMEOUT,
	 * TLS_REQUIRED, TLS_FAILED, CLIENT_CERT_REQUIRED, PROTOCOL, or whatever the
	 * upgrade function throws) and never leaves a socket open behind.
	 */
	static async connect(options: PcpConnectOptions): Promise<PcpClient> {
		options.signal?.throwIfAborted();
		const client = new PcpClient(options);
		try {
			await client.#open(options);
			return client;
		} catch (error) {
			client.#destroy();
			throw error;
		}
	}

	readonly host: string;
	readonly port: number;
	/** "host:port" for messages. */
	readonly where: string;
	#features = 0;
	#tls: TlsFacts | undefined;
	#plainBecauseRelaxed = false;
	readonly #requestTimeoutMs: number;
	readonly #reader: PduReader;
	#socket: net.Socket | undefined;
	#stream: Duplex | undefined;
	#waiter: Waiter | undefined;
	#chain: Promise<unknown> = Promise.resolve();
	#failure: Error | undefined;
	#closed = false;
	#profileSent = false;
	/** Set while connect() runs: errors then read "Cannot connect to PMCD…". */
	#connecting = true;
	#greeted = false;
	/** Set while the injected upgrade function owns the raw socket. */
	#upgrading = false;
	readonly #types = new Map<number, number>();
	readonly #signal: AbortSignal | undefined;
	readonly #onAbort: () => void;
	readonly #onData: (chunk: Buffer) => void;
	readonly #onError: (error: Error) => void;
	readonly #onEnd: () => void;

	private constructor(options: PcpConnectOptions) {
		this.host = options.host;
		this.port = options.port;
		this.where = hostPort(options.host, options.port);
		this.#requestTimeoutMs = options.requestTimeoutMs ?? PMCD_REQUEST_TIMEOUT_MS;
		this.#reader = new PduReader({maxPduBytes: options.maxPduBytes ?? DEFAULT_MAX_PDU_BYTES});
		this.#signal = options.signal;
		this.#onAbort = () => {
			this.#handleAbort();
		};

		this.#onData = chunk => {
			this.#handleData(chunk);
		};

		this.#onError = error => {
			this.#handleError(error);
		};

		this.#onEnd = () => {
			this.#handleEnd();
		};

		this.#signal?.addEventListener('abort', this.#onAbort, {once: true});
	}

	/** Feature bits from the server's greeting (FEATURE.*). */
	get features(): number {
		return this.#features;
	}

	/** TLS facts when the session runs over TLS. */
	get tls(): TlsFacts | undefined {
		return this.#tls;
	}

	/** True when relaxed mode continued in plain text because the server offers no TLS (say so visibly). */
	get plainBecauseRelaxed(): boolean {
		return this.#plainBecauseRelaxed;
	}

	/** True once the session is unusable (closed, timed out, broken). */
	get closed(): boolean {
		return this.#closed || this.#failure !== undefined;
	}

	// -----------------------------------------------------------------------
	// Requests

	/** PMNS_TRAVERSE: every leaf name at or below `name` ('' = the whole namespace). PcpError(PM_ERR_NAME) if unknown. */
	async traverse(name: string): Promise<string[]> {
		return this.#enqueue(async () => decodeNames(await this.#request(encodeTraverse(name), PDU.PMNS_NAMES)).names);
	}

	/**
	 * PMNS_NAMES lookup: a pmid or a PcpError for each name, in order. Names
	 * are sent in batches under 63 KiB, as pminfo does.
	 */
	async lookupNames(names: string[]): Promise<Array<number | PcpError>> {
		const out: Array<number | PcpError> = [];
		let batch: string[] = [];
		let bytes = 24;
		const flush = async (): Promise<void> => {
			if (batch.length > 0) {
				out.push(...await this.#lookupBatch(batch));
				batch = [];
				bytes = 24;
			}
		};

		for (const name of names) {
			const size = 4 + pad4(Buffer.byteLength(name));
			if (24 + size > nameBatchBytes) {
				await flush();
				out.push(new PcpError(PM_ERR.TOOBIG)); // Pmcd would drop the connection (docs/pcp.md#framing)
				continue;
			}

			if (bytes + size > nameBatchBytes) {
				await flush();
			}

			batch.push(name);
			bytes += size;
		}

		await flush();
		return out;
	}

	/** PMNS_IDS request: every name of a pmid. */
	async namesOf(pmid: number): Promise<string[]> {
		return this.#enqueue(async () => decodeNames(await this.#request(encodeIds(0, [pmid]), PDU.PMNS_NAMES)).names);
	}

	/** PMNS_CHILD: the names one level below `name` ('' = root), with leaf status. */
	async children(name: string): Promise<Array<{name: string; leaf: boolean}>> {
		return this.#enqueue(async () => {
			const reply = decodeNames(await this.#request(encodeChild(name, 1), PDU.PMNS_NAMES));
			const {statuses} = reply;
			if (statuses === undefined && reply.names.length > 0) {
				throw this.#fail(this.#protocolError(`PMCD on host "${this.where}" answered PMNS_CHILD without leaf statuses`));
			}

			return reply.names.map((child, i) => ({name: child, leaf: statuses?.[i] === 0}));
		});
	}

	/** DESC_REQ: the descriptor of one metric. PcpError(PM_ERR_PMID) if unknown. */
	async descriptor(pmid: number): Promise<PcpDesc> {
		return this.#enqueue(async () => {
			const desc = decodeDesc(await this.#request(encodeDescReq(pmid), PDU.DESC));
			this.#types.set(pmid, desc.type);
			return desc;
		});
	}

	/**
	 * Several descriptors: one DESC_IDS when the server has the DESCS feature,
	 * otherwise one DESC_REQ each. Unknown pmids give PcpError(PM_ERR_PMID).
	 */
	async descriptors(pmids: number[]): Promise<Array<PcpDesc | PcpError>> {
		if (pmids.length === 0) {
			return [];
		}

		if ((this.#features & FEATURE.DESCS) === 0 || 20 + (4 * pmids.length) > PMCD_MAX_CLIENT_PDU) {
			const out: Array<PcpDesc | PcpError> = [];
			for (const pmid of pmids) {
				try {
					out.push(await this.descriptor(pmid));
				} catch (error) {
					if (!(error instanceof PcpError)) {
						throw error;
					}

					out.push(error);
				}
			}

			return out;
		}

		return this.#enqueue(async () => {
			const descs = decodeDescs(await this.#request(encodeDescIds(pmids), PDU.DESCS));
			if (descs.length !== pmids.length) {
				throw this.#fail(this.#protocolError(`PMCD on host "${this.where}" answered DESC_IDS for ${pmids.length} pmids with ${descs.length} descriptors`));
			}

			return descs.map((desc, i) => {
				if (desc.pmid === PM_ID_NULL) {
					return new PcpError(PM_ERR.PMID);
				}

				this.#types.set(pmids[i]!, desc.type);
				return desc;
			});
		});
	}

	/** INSTANCE_REQ for the whole instance domain: every {inst, name}. */
	async instances(indom: number): Promise<Array<{inst: number; name: string}>> {
		return this.#enqueue(async () => decodeInstance(await this.#request(encodeInstanceReq({indom, inst: -1, name: ''}), PDU.INSTANCE)).instances);
	}

	/** INSTANCE_REQ by number: the instance's name. */
	async instanceName(indom: number, inst: number): Promise<string> {
		return this.#enqueue(async () => {
			const reply = decodeInstance(await this.#request(encodeInstanceReq({indom, inst, name: ''}), PDU.INSTANCE));
			// PCP answers a lookup by number with inst = -1 and the name (docs/pcp.md#instances).
			const entry = reply.instances[0];
			if (entry === undefined) {
				throw new PcpError(PM_ERR.INST);
			}

			return entry.name;
		});
	}

	/** INSTANCE_REQ by name: the instance's number. */
	async instanceId(indom: number, name: string): Promise<number> {
		if (name === '') {
			throw new PcpError(PM_ERR.INST);
		}

		return this.#enqueue(async () => {
			const entry = decodeInstance(await this.#request(encodeInstanceReq({indom, inst: -1, name}), PDU.INSTANCE)).instances[0];
			if (entry === undefined) {
				throw new PcpError(PM_ERR.INST);
			}

			return entry.inst;
		});
	}

	/**
	 * Fetch values. Sends the empty PROFILE once before the first fetch
	 * (docs/pcp.md#request-and-reply), then HIGHRES_FETCH when the server has the HIGHRES
	 * feature, else FETCH. The reply has one vset per pmid, in order.
	 */
	async fetch(pmids: number[], options: FetchOptions = {}): Promise<FetchResult> {
		const typeOf = options.typeOf ?? ((pmid: number) => this.#types.get(pmid));
		if (pmids.length === 0) {
			const now = Date.now();
			return {sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000, vsets: []};
		}

		let merged: FetchResult | undefined;
		for (let start = 0; start < pmids.length; start += fetchBatch) {
			const batch = pmids.slice(start, start + fetchBatch);
			const result = await this.#enqueue(async () => {
				if (options.profile) {
					this.#send(encodeProfile(options.profile));
					this.#profileSent = false;
				} else if (!this.#profileSent) {
					this.#send(encodeProfile(emptyProfile)); // No reply (docs/pcp.md#request-and-reply)
					this.#profileSent = true;
				}

				const highres = (this.#features & FEATURE.HIGHRES) !== 0;
				const request = {ctxid: 0, pmids: batch};
				const reply = await this.#request(highres ? encodeHighresFetch(request) : encodeFetch(request), highres ? PDU.HIGHRES_RESULT : PDU.RESULT);
				const decoded = highres ? decodeHighresResult(reply, {typeOf}) : decodeResult(reply, {typeOf});
				if (decoded.vsets.length !== batch.length || decoded.vsets.some((v, i) => v.pmid !== batch[i])) {
					throw this.#fail(this.#protocolError(`PMCD on host "${this.where}" answered a fetch of ${batch.length} metrics with ${decoded.vsets.length} other ones`));
				}

				return decoded;
			});
			if (merged === undefined) {
				merged = result;
			} else {
				merged.vsets.push(...result.vsets);
			}
		}

		return merged!;
	}

	/** TEXT_REQ: kind = PM_TEXT.ONELINE|HELP with PM_TEXT.PMID|INDOM. PcpError(PM_ERR_TEXT) if none. */
	async text(ident: number, kind: number): Promise<string> {
		const type = (kind & (PM_TEXT.PMID | PM_TEXT.INDOM)) === 0 ? kind | PM_TEXT.PMID : kind;
		return this.#enqueue(async () => decodeText(await this.#request(encodeTextReq(ident, type), PDU.TEXT)).text);
	}

	/**
	 * LABEL_REQ: type is one PM_LABEL bit; ident is ignored for CONTEXT. A pmcd without the
	 * LABELS feature is not asked: PcpError(PM_ERR_NOLABELS), as libpcp's getlabels().
	 */
	async labels(ident: number, type: number): Promise<LabelReply> {
		if ((this.#features & FEATURE.LABELS) === 0) {
			throw new PcpError(PM_ERR.NOLABELS);
		}

		return this.#enqueue(async () => decodeLabel(await this.#request(encodeLabelReq(type === PM_LABEL.CONTEXT ? PM_ID_NULL : ident, type), PDU.LABEL)));
	}

	/** RESULT (pmStore): ERROR 0 is success; a refusal rejects with PcpError (pmcd's default is PM_ERR_PERMISSION). */
	async store(vsets: PcpValueSet[]): Promise<void> {
		await this.#enqueue(async () => {
			const code = decodeError(await this.#request(encodeResult({sec: 0, nsec: 0, vsets}), PDU.ERROR));
			if (code !== 0) {
				throw new PcpError(code);
			}
		});
	}

	/** Close the session (no goodbye PDU exists; pminfo just drops the socket). Pending requests reject. */
	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		this.#failure ??= new SecmonError('CONNECT_FAILED', `The connection to PMCD on host "${this.where}" was closed`, 'Open a new session.');
		this.#rejectWaiter(this.#failure);
		this.#destroy();
	}

	// -----------------------------------------------------------------------
	// Connection set-up

	async #open(options: PcpConnectOptions): Promise<void> {
		const connectTimeoutMs = options.connectTimeoutMs ?? PMCD_CONNECT_TIMEOUT_MS;
		const deadline = Date.now() + connectTimeoutMs;
		const connecting = this.#tcpConnect(connectTimeoutMs);
		if (options.secure !== 'off') {
			options.prepareUpgrade?.();
		}

		const socket = await connecting;
		options.onTcpConnected?.();
		this.#attach(socket);

		// 1. Greeting: extended ERROR, 20 bytes (docs/pcp.md#greeting).
		const greetingPdu = await this.#receive(Math.max(1, deadline - Date.now()));
		let greeting;
		try {
			greeting = decodeGreeting(greetingPdu);
		} catch (error) {
			throw this.#protocolError(`${this.where} did not send a PCP greeting (${messageOf(error)})`, error, notPmcdHint);
		}

		this.#greeted = true;

		if (greeting.status !== 0) {
			throw new SecmonError('CONNECT_FAILED', `Cannot connect to PMCD on host "${this.where}": ${pmErrStr(greeting.status)}`, greetingHint(greeting.status));
		}

		if (greeting.version !== PDU_VERSION) {
			throw this.#protocolError(`PMCD on host "${this.where}" speaks PDU version ${greeting.version}; only version 2 is supported`);
		}

		this.#features = greeting.features;
		const offersTls = (greeting.features & FEATURE.SECURE) !== 0;
		const certRequired = (greeting.features & FEATURE.CERT_REQD) !== 0;

		// 2. Decide (docs/pcp.md#secure-modes with secmon's semantics).
		if (options.secure === 'off' || (options.secure === 'relaxed' && !offersTls)) {
			if (certRequired) {
				throw new SecmonError('CLIENT_CERT_REQUIRED', `Cannot connect to PMCD on host "${this.where}": ${pmErrStr(PM_ERR.NEEDCLIENTCERT)}`, clientCertHint);
			}

			options.beforePlain?.(offersTls);
			this.#send(encodeCreds(0, process.pid));
			this.#plainBecauseRelaxed = options.secure === 'relaxed';
			this.#connecting = false;
			return;
		}

		if (!offersTls) {
			throw new SecmonError(
				'TLS_REQUIRED',
				`PMCD on host "${this.where}" does not offer TLS, and secure mode "enforce" requires it`,
				options.tlsRequiredHint ?? 'Turn TLS on in pmcd (tls-cert-file and tls-key-file in its tls.conf), or accept plain text with --secure relaxed.',
			);
		}

		// 3. CREDS asking for TLS; pminfo echoes CERT_REQD as well (docs/pcp.md#tls-upgrade).
		const flags = FEATURE.SECURE | (greeting.features & (FEATURE.SECURE_ACK | FEATURE.CERT_REQD));
		this.#send(encodeCreds(flags, process.pid));
		if ((greeting.features & FEATURE.SECURE_ACK) !== 0) {
			const ack = await this.#receive(Math.max(1, deadline - Date.now()));
			let code: number;
			try {
				code = decodeError(ack);
			} catch (error) {
				throw this.#protocolError(`PMCD on host "${this.where}" sent ${pduTypeName(readHeaderType(ack))} instead of the secure-ack (${messageOf(error)})`, error);
			}

			if (code !== 0) {
				throw new SecmonError('TLS_FAILED', `PMCD on host "${this.where}" refused the TLS upgrade: ${pmErrStr(code)}`, 'Check the TLS configuration of pmcd (tls.conf) and its pmcd.log.');
			}
		}

		// 4. Hand the raw socket to the TLS layer. pmcd sends nothing before the ClientHello (docs/pcp.md#tls-upgrade).
		this.#detach(socket);
		if (this.#reader.buffered > 0) {
			throw this.#protocolError(`PMCD on host "${this.where}" sent ${this.#reader.buffered} unexpected bytes before the TLS handshake`);
		}

		this.#upgrading = true;
		let upgraded: {stream: Duplex; facts: TlsFacts};
		try {
			upgraded = await options.upgrade(socket);
		} catch (error) {
			// Whatever goes wrong inside the upgrade is a TLS failure; never fall back to plain text.
			throw tlsFailure(error, this.where, true)!;
		} finally {
			this.#upgrading = false;
		}

		if (this.#failure) {
			upgraded.stream.destroy();
			throw this.#failure;
		}

		this.#tls = upgraded.facts;
		this.#attach(upgraded.stream);

		// 5. Surface a late client-certificate rejection now (docs/pcp.md#late-client-certificate-rejection).
		if (options.probeAfterUpgrade ?? (certRequired || options.clientCertificate === true)) {
			try {
				await this.#enqueue(async () => this.#request(encodeNames(['pmcd.version']), PDU.PMNS_IDS));
			} catch (error) {
				if (!(error instanceof PcpError)) {
					throw error;
				}
			}
		}

		this.#connecting = false;
	}

	async #tcpConnect(timeoutMs: number): Promise<net.Socket> {
		return new Promise((resolve, reject) => {
			const socket = net.connect({host: this.host, port: this.port});
			this.#socket = socket;
			const done = (): void => {
				clearTimeout(timer);
				socket.off('connect', onConnect);
				socket.off('error', onError);
				this.#signal?.removeEventListener('abort', onAbort);
			};

			const onConnect = (): void => {
				done();
				socket.setNoDelay(true);
				resolve(socket);
			};

			const onError = (error: Error): void => {
				done();
				socket.destroy();
				reject(this.#socketError(error));
			};

			const onAbort = (): void => {
				done();
				socket.destroy();
				const reason: unknown = this.#signal?.reason;
				reject(reason instanceof Error ? reason : new Error(String(reason)));
			};

			const timer = setTimeout(() => {
				done();
				socket.destroy();
				reject(this.#timeoutError(timeoutMs));
			}, timeoutMs);
			socket.once('connect', onConnect);
			socket.once('error', onError);
			this.#signal?.addEventListener('abort', onAbort, {once: true});
		});
	}

	#attach(stream: Duplex): void {
		this.#stream = stream;
		stream.on('data', this.#onData);
		stream.on('error', this.#onError);
		stream.on('end', this.#onEnd);
		stream.on('close', this.#onEnd);
	}

	/** Stop reading from the raw socket (before the TLS layer takes it); keep an error listener. */
	#detach(socket: net.Socket): void {
		socket.pause();
		socket.off('data', this.#onData);
		socket.off('end', this.#onEnd);
		socket.off('close', this.#onEnd);
		this.#stream = undefined;
	}

	#handleAbort(): void {
		const reason: unknown = this.#signal?.reason;
		this.#fail(reason instanceof Error ? reason : new Error(String(reason)));
	}

	#handleData(chunk: Buffer): void {
		try {
			this.#reader.append(chunk);
			for (let pdu = this.#reader.next(); pdu !== undefined; pdu = this.#reader.next()) {
				const waiter = this.#waiter;
				if (waiter === undefined) {
					this.#fail(this.#protocolError(`PMCD on host "${this.where}" sent an unexpected ${pduTypeName(readHeaderType(pdu))} PDU`));
					return;
				}

				this.#waiter = undefined;
				waiter.resolve(pdu);
			}
		} catch (error) {
			if (!isPduError(error)) {
				this.#fail(error instanceof Error ? error : new Error(String(error)));
			} else if (this.#greeted) {
				this.#fail(this.#protocolError(`PMCD on host "${this.where}" sent a bad PDU: ${error.message}`, error));
			} else {
				this.#fail(this.#protocolError(`${this.where} did not send a PCP greeting (${error.message})`, error, notPmcdHint));
			}
		}
	}

	#handleError(error: Error): void {
		if (this.#closed) {
			return; // ECONNRESET and friends after close() are normal (docs/pcp.md#connection-end).
		}

		this.#fail(this.#tls === undefined && !this.#upgrading ? this.#socketError(error) : (tlsFailure(error, this.where) ?? this.#socketError(error)));
	}

	#handleEnd(): void {
		if (this.#closed) {
			return;
		}

		const hint = this.#tls !== undefined && this.#connecting
			? `The server closed the connection right after the TLS handshake; it may require a client certificate. ${clientCertHint}`
			: 'pmcd closes connections it cannot parse or that its access control refuses; see its pmcd.log.';
		this.#fail(new SecmonError('CONNECT_FAILED', this.#connecting
			? `Cannot connect to PMCD on host "${this.where}": ${pmErrStr(PM_ERR.EOF)}`
			: `Lost connection to PMCD on host "${this.where}": ${pmErrStr(PM_ERR.EOF)}`, hint));
	}

	// -----------------------------------------------------------------------
	// Exchange machinery

	async #lookupBatch(batch: string[]): Promise<Array<number | PcpError>> {
		return this.#enqueue(async () => {
			let ids;
			try {
				ids = decodeIds(await this.#request(encodeNames(batch), PDU.PMNS_IDS));
			} catch (error) {
				// A lone unknown name gets ERROR PM_ERR_NAME instead of PMNS_IDS (docs/pcp.md#pmns-requests).
				if (error instanceof PcpError) {
					return batch.map(() => new PcpError(error.code));
				}

				throw error;
			}

			if (ids.pmids.length !== batch.length) {
				throw this.#fail(this.#protocolError(`PMCD on host "${this.where}" answered a lookup of ${batch.length} names with ${ids.pmids.length} pmids`));
			}

			return ids.pmids.map(id => id === PM_ID_NULL ? new PcpError(PM_ERR.NAME) : id);
		});
	}

	/**
	 * Run `task` after every earlier request has settled (strict request/reply order).
	 * Never pipeline requests over TLS. Measured with pmcd 6.0.3: DESC_IDS, PROFILE and
	 * HIGHRES_FETCH written together are all answered in plain text, but over TLS the session
	 * hangs until the request timeout. The likely cause: pmcd waits in select() on the socket,
	 * and PDUs already decrypted into its TLS layer's buffer do not make the socket readable.
	 */
	async #enqueue<T>(task: () => Promise<T>): Promise<T> {
		const guarded = async (): Promise<T> => {
			try {
				return await task();
			} catch (error) {
				// A reply that breaks the wire format ends the session (the stream is out of step).
				throw isPduError(error) ? this.#fail(this.#protocolError(`PMCD on host "${this.where}" sent a bad reply: ${error.message}`, error)) : error;
			}
		};

		const run = this.#chain.then(guarded, guarded);
		this.#chain = run.catch(() => undefined);
		return run;
	}

	#send(pdu: Buffer): void {
		if (this.#failure) {
			throw this.#failure;
		}

		if (pdu.length > PMCD_MAX_CLIENT_PDU) {
			throw new PcpError(PM_ERR.TOOBIG); // Pmcd would drop the connection (docs/pcp.md#framing)
		}

		this.#stream!.write(pdu);
	}

	/** Wait for the next PDU (no send). */
	async #receive(timeoutMs: number): Promise<Buffer> {
		if (this.#failure) {
			throw this.#failure;
		}

		return new Promise<Buffer>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#fail(this.#timeoutError(timeoutMs));
			}, timeoutMs);
			this.#waiter = {
				resolve(pdu) {
					clearTimeout(timer);
					resolve(pdu);
				},
				reject(error) {
					clearTimeout(timer);
					reject(error);
				},
			};
		});
	}

	/** Send one request, wait for its reply: the expected type, or ERROR → PcpError. */
	async #request(pdu: Buffer, expect: number): Promise<Buffer> {
		this.#send(pdu);
		const reply = await this.#receive(this.#requestTimeoutMs);
		const type = readHeaderType(reply);
		if (type === expect) {
			return reply;
		}

		if (type === PDU.ERROR) {
			let code: number;
			try {
				code = decodeError(reply);
			} catch (error) {
				throw this.#fail(this.#protocolError(messageOf(error), error));
			}

			// An ERROR 0 where a store ack is expected is handled by the caller (expect === ERROR).
			throw new PcpError(code);
		}

		throw this.#fail(this.#protocolError(`PMCD on host "${this.where}" answered ${pduTypeName(readHeaderType(pdu))} with ${pduTypeName(type)}, expected ${pduTypeName(expect)}`));
	}

	/** Break the session: reject the waiter and every later request with `error`; returns it. */
	#fail(error: Error): Error {
		const failure = this.#failure ?? error;
		this.#failure = failure;
		this.#rejectWaiter(failure);
		this.#destroy();
		return failure;
	}

	#rejectWaiter(error: Error): void {
		const waiter = this.#waiter;
		this.#waiter = undefined;
		waiter?.reject(error);
	}

	#destroy(): void {
		this.#signal?.removeEventListener('abort', this.#onAbort);
		// Swallow late socket errors (ECONNRESET after close is normal, docs/pcp.md#connection-end).
		for (const stream of [this.#stream, this.#socket]) {
			if (stream && !stream.destroyed) {
				stream.on('error', () => undefined);
				stream.destroy();
			}
		}
	}

	#timeoutError(ms: number): SecmonError {
		const text = pmErrStr(PM_ERR.TIMEOUT);
		const seconds = `${ms / 1000} s`;
		if (this.#connecting) {
			const hint = `Nothing answered within ${seconds}. Check that pmcd is running on ${this.where} and not overloaded, or allow more time.`;
			return new SecmonError('TIMEOUT', `Cannot connect to PMCD on host "${this.where}": ${text}`, hint);
		}

		return new SecmonError('TIMEOUT', text, `PMCD on host "${this.where}" did not answer within ${seconds}. Check that pmcd and its PMDAs are responsive, or allow more time.`);
	}

	#socketError(error: unknown): SecmonError {
		if (isSecmonError(error)) {
			return error;
		}

		const code = errnoOf(error);
		const text = socketErrorText(error);
		return this.#connecting
			? new SecmonError('CONNECT_FAILED', `Cannot connect to PMCD on host "${this.where}": ${text}`, connectHint(code, this.host, this.port), {cause: error})
			: new SecmonError('CONNECT_FAILED', `Lost connection to PMCD on host "${this.where}": ${text}`, 'Open a new session; if this repeats, see the pmcd log.', {cause: error});
	}

	#protocolError(message: string, cause?: unknown, hint?: string): SecmonError {
		const fallback = `The peer on ${this.where} does not speak the PCP protocol as expected; the connection was closed.`;
		return new SecmonError('PROTOCOL', message, hint ?? fallback, cause === undefined ? undefined : {cause});
	}
}

function readHeaderType(pdu: Buffer): number {
	try {
		return readHeader(pdu).type;
	} catch {
		return pdu.length >= 8 ? pdu.readInt32BE(4) : -1;
	}
}

function greetingHint(status: number): string {
	switch (status) {
		case PM_ERR.PERMISSION: {
			return 'pmcd\'s access control ([access] in pmcd.conf) does not allow this host to connect.';
		}

		case PM_ERR.CONNLIMIT: {
			return 'pmcd has too many connections from this host; close some or raise its limit.';
		}

		default: {
			return 'pmcd refused the connection; see its pmcd.log.';
		}
	}
}
