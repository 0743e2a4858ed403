/**
 * The PCP server side of `secmon serve`: one session per connection,
 * speaking what Debian's pminfo/pmval/pmrep 6.0.3 use (docs/pcp.md#tls-upgrade, docs/pcp.md#wire-protocol, docs/pcp.md#serving-pminfo).
 *
 * Robust where pmcd is not (docs/pcp.md#tls-upgrade, docs/pcp.md#framing): every connection has its own
 * state and timers, nothing blocks the event loop (a stalled TLS handshake or
 * half a PDU only costs that connection a timer), client PDUs are limited to
 * 64 KiB, unknown types get ERROR PM_ERR_IPC, bad framing closes the
 * connection. `--tls require` refuses plain clients from every address,
 * loopback included (pmcd cannot, docs/pcp.md#requiring-client-certificates).
 *
 * One address (or a few) cannot lock the others out: a session must be usable (CREDS and TLS
 * handshake) within handshakeMs of the connect and is closed after idleMs
 * without a request; one address holds at most maxPerAddress connections, the
 * last slots go only to addresses under their fair share, and a full table
 * makes room by closing the least active session of the biggest holder.
 * Refusals are pmcd's: a greeting carrying PM_ERR_CONNLIMIT.
 */
import {once} from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import {
	FEATURE, PDU, PM_ERR, PM_LABEL, PM_TEXT, PMCD_MAX_CLIENT_PDU, PM_ID_NULL, PM_INDOM_NULL, PM_PROFILE, pduTypeName,
} from '../protocols/pcp/constants.js';
import {isPduError} from '../protocols/pcp/errors.js';
import {
	decodeCreds, decodeDescIds, decodeDescReq, decodeFetch, decodeIds, decodeInstanceReq, decodeLabelReq, decodeNameRequest, decodeNames,
	decodeProfile, decodeResult, decodeTextReq, encodeDesc, encodeDescs, encodeError, encodeGreeting, encodeHighresResult, encodeIds,
	encodeInstance, encodeLabel, encodeNames, encodeResult, encodeText, makeLabelSet, readHeader,
	type PcpDesc, type PcpValueSet, type Profile,
} from '../protocols/pcp/pdu.js';
import {PduReader} from '../protocols/pcp/reader.js';
import {errnoCode} from '../security/home.js';
import {messageOf, PcpCodeError} from './errors.js';
import {Namespace} from './namespace.js';
import {whoamiPmid} from './pmcd-source.js';
import type {
	ClientContext, FetchOutcome, Instance, MetricSource, ServedIndom, ServedMetric,
} from './types.js';

export type ServeTlsMode = 'off' | 'offer' | 'require';

export type ServerTls = {
	mode: ServeTlsMode;
	/** Server certificate (chain) and key, PEM. Required unless mode is off. */
	cert?: string;
	key?: string;
	/** PEM CA(s) that client certificates must chain to. */
	clientCa?: string;
	/** Ask clients for a certificate (set when a client CA is configured). */
	requestClientCert?: boolean;
	/** Refuse clients without a certificate signed by the client CA (advertises CERT_REQD). Implies mode require. */
	requireClientCert?: boolean;
};

export type ServerLimits = {
	/** Largest client PDU (pmcd's default, docs/pcp.md#framing). */
	maxPduBytes: number;
	/** Time allowed for the rest of a partly received PDU (pmcd -t default 5 s). */
	partialPduMs: number;
	/** Time from accept to the client's CREDS. */
	credsMs: number;
	/** Time from accept to a usable session: CREDS and, when the client asks for TLS, the whole handshake. */
	handshakeMs: number;
	/** An established session that sends no request for this long is closed. */
	idleMs: number;
	/** A client that reads none of our replies for this long is dropped. */
	writeStallMs: number;
	/** How long a refused plain client is answered with errors before the connection is closed. */
	refusedLingerMs: number;
	/** Connections beyond this get a greeting with PM_ERR_CONNLIMIT (after the fair-share rules below). */
	maxClients: number;
	/** Connections one client address (an IPv6 /64) may hold; more get PM_ERR_CONNLIMIT. */
	maxPerAddress: number;
	/** PROFILE contexts (ctxid) one connection may keep. */
	maxContexts: number;
	/**
	 * A fetch from a source whose values do not depend on the client (MetricSource.shared) is
	 * served to every client asking within this many milliseconds of it, with its timestamp
	 * (issue 18): /proc is read once per window, not once per client. 0 reads for every fetch.
	 */
	fetchShareMs: number;
};

/**
 * CREDS must follow the greeting within pmcd's own client timeout: pmcd(1) -t,
 * "timeouts on PDU exchanges with clients", default 5 s.
 */
export const defaultCredsMs = 5000;

/**
 * Accept to usable session. libpcp gives up on connect + greeting after 5 s
 * (PMCD_CONNECT_TIMEOUT); a TLS 1.3 handshake adds one or two round trips, so
 * 10 s serves a client across a slow link, while a staller holds a slot of its
 * own address's share for no longer than that.
 */
export const defaultHandshakeMs = 10_000;

/**
 * pmcd closes no idle client; secmon does, but only well above common sampling
 * intervals (pmval/pmrep -t 60, pmlogger's 1-10 min groups): a session with no
 * request for 15 min is closed. A client sampling less often loses its
 * connection: Debian's pmval then exits with "pmFetch: IPC protocol failure"
 * (it does not reconnect), so `secmon serve --idle-timeout` raises it.
 */
export const defaultIdleMs = 15 * 60_000;

/** pmcd waits on its clients with select(), so FD_SETSIZE (1024) descriptors bound them. */
export const defaultMaxClients = 1024;

/**
 * Connections per client address: pmcd's access control has this as
 * "allow host * : all, maximum N connections" (pmcd(1)), off by default.
 * 64 is far above what one host's pminfo/pmval/pmrep/pmlogger need.
 */
export const defaultMaxPerAddress = 64;

/**
 * The last maxClients/8 slots are kept for addresses under their fair share
 * (maxClients / addresses connected): a newcomer still gets in while a few
 * addresses hold the rest of the table.
 */
export const reserveFraction = 1 / 8;

/** A flood of refused connects writes one log line per second, not one per connect. */
const refusalLogMs = 1000;

export const defaultLimits: ServerLimits = {
	maxPduBytes: PMCD_MAX_CLIENT_PDU,
	partialPduMs: 5000,
	credsMs: defaultCredsMs,
	handshakeMs: defaultHandshakeMs,
	idleMs: defaultIdleMs,
	writeStallMs: 30_000,
	refusedLingerMs: 5000,
	maxClients: defaultMaxClients,
	maxPerAddress: defaultMaxPerAddress,
	maxContexts: 64,
	// Short beside any sampling interval (pmval's shortest useful is ~0.1 s), long enough that the
	// clients of one round (a fleet monitor asks all its collectors at once) share one read.
	fetchShareMs: 100,
};

/**
 * What a plain client gets under --tls require, as the reply to each of its
 * requests: libpcp prints "No permission to perform requested operation",
 * the words pmcd's own access control uses. The server log says why.
 */
export const plainRefusedCode = PM_ERR.PERMISSION;

export type PcpServerOptions = {
	sources: readonly MetricSource[];
	tls: ServerTls;
	/** Labels for LABEL_REQ(context), e.g. {hostname, domainname, machineid}; none means no LABELS feature. */
	contextLabels?: Record<string, string>;
	limits?: Partial<ServerLimits>;
	/** One line per notable event (refusals, protocol errors). Default: silent. */
	log?: (line: string) => void;
	/** Milliseconds since the epoch (default: the system clock); tests move it. */
	clock?: () => number;
};

/** One shared read of a source: when it began, and each metric's outcome (promised) so far. */
type FetchWindow = {at: number; outcomes: Map<number, Promise<FetchOutcome>>};

type MetricEntry = {metric: ServedMetric; source: MetricSource};
type IndomEntry = {indom: ServedIndom; source: MetricSource};

export class PcpServer {
	readonly limits: ServerLimits;
	readonly tls: ServerTls;
	readonly namespace: Namespace;
	readonly contextLabels: Record<string, string> | undefined;
	readonly features: number;
	private readonly metrics = new Map<number, MetricEntry>();
	private readonly indoms = new Map<number, IndomEntry>();
	private readonly sourcesByDomain = new Map<number, MetricSource>();
	private readonly sessions = new Set<Session>();
	/** Open sessions by client address (addressKey). */
	private readonly byAddress = new Map<string, Set<Session>>();
	private readonly tlsServer: tls.Server | undefined;
	/** Sessions in their TLS handshake, by connection (address and port pairs). */
	private readonly handshakes = new Map<string, Session>();
	private readonly listeners: net.Server[] = [];
	private readonly log: (line: string) => void;
	private nextSeq = 0;
	/** Refusal lines are rate-limited (a flood of connects would flood the log): when the next may be written, and how many were left out. */
	private refusalLogAt = 0;
	private refusalsNotLogged = 0;
	private readonly clock: () => number;
	private readonly windows = new Map<MetricSource, FetchWindow>();

	constructor(options: PcpServerOptions) {
		this.limits = {...defaultLimits, ...options.limits};
		this.clock = options.clock ?? (() => performance.timeOrigin + performance.now());
		const mode = options.tls.requireClientCert ? 'require' : options.tls.mode;
		this.tls = {...options.tls, mode};
		if (mode !== 'off') {
			if (options.tls.cert === undefined || options.tls.key === undefined) {
				throw new Error('internal: TLS mode needs a certificate and key');
			}

			// Never listening: sessions hand it their socket after the secure-ack (STARTTLS style), so
			// that Node's own server code runs the handshake and checks client certificates.
			const requireClientCert = Boolean(options.tls.requireClientCert);
			this.tlsServer = tls.createServer({
				cert: options.tls.cert,
				key: options.tls.key,
				...(options.tls.clientCa === undefined ? {} : {ca: options.tls.clientCa}),
				minVersion: 'TLSv1.2',
				requestCert: requireClientCert || Boolean(options.tls.requestClientCert),
				rejectUnauthorized: requireClientCert,
				handshakeTimeout: this.limits.handshakeMs,
			});
			this.tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
				this.handshakes.get(connectionKey(socket))?.secured(socket);
			});
			this.tlsServer.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
				const session = this.handshakes.get(connectionKey(socket));
				if (session) {
					session.tlsFailed(error);
				} else {
					socket.destroy();
				}
			});
		}

		this.contextLabels = options.contextLabels;
		this.log = options.log ?? (() => undefined);
		for (const source of options.sources) {
			this.sourcesByDomain.set(source.domain, source);
			for (const metric of source.metrics) {
				this.metrics.set(metric.pmid, {metric, source});
			}

			for (const indom of source.indoms) {
				this.indoms.set(indom.indom, {indom, source});
			}
		}

		this.namespace = new Namespace(options.sources.flatMap(source => source.metrics));
		let features = FEATURE.HIGHRES | FEATURE.DESCS;
		if (this.contextLabels) {
			features |= FEATURE.LABELS;
		}

		if (mode !== 'off') {
			features |= FEATURE.SECURE | FEATURE.SECURE_ACK;
		}

		if (this.tls.requireClientCert) {
			features |= FEATURE.CERT_REQD;
		}

		this.features = features;
	}

	/** Number of open connections. */
	get connections(): number {
		return this.sessions.size;
	}

	/** Listen on host:port (port 0 picks a free one); resolves with the bound address. */
	async listen(host: string, port: number): Promise<net.AddressInfo> {
		const server = net.createServer(socket => {
			this.accept(socket);
		});
		server.on('error', error => {
			this.log(`listener error: ${error.message}`);
		});
		await new Promise<void>((resolve, reject) => {
			const onError = (error: Error) => {
				reject(error);
			};

			server.once('error', onError);
			server.listen({host, port, exclusive: true}, () => {
				server.off('error', onError);
				resolve();
			});
		});
		this.listeners.push(server);
		const address = server.address();
		if (address === null || typeof address === 'string') {
			throw new Error('internal: listener has no TCP address');
		}

		return address;
	}

	/** Take over an accepted connection (also used by tests with their own sockets). */
	accept(socket: net.Socket): void {
		const peer = socket.remoteAddress ? (net.isIPv6(socket.remoteAddress) ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`) : 'peer';
		const address = addressKey(socket.remoteAddress);
		const refusal = this.admit(address);
		if (refusal !== undefined) {
			// What pmcd sends beyond a "maximum N connections" clause: the greeting carries PM_ERR_CONNLIMIT.
			this.logRefusal(`${peer}: refused: ${refusal}`);
			socket.on('error', () => undefined);
			socket.end(encodeGreeting({status: PM_ERR.CONNLIMIT, features: 0}));
			setTimeout(() => {
				socket.destroy();
			}, 1000).unref();
			return;
		}

		const session = new Session(this, socket, peer, address, this.nextSeq++);
		this.sessions.add(session);
		let mine = this.byAddress.get(address);
		if (!mine) {
			mine = new Set();
			this.byAddress.set(address, mine);
		}

		mine.add(session);
		socket.once('close', () => {
			this.remove(session);
			session.dispose();
		});
		session.start();
	}

	/** At most one refusal line per refusalLogMs; the next one says how many were left out. */
	private logRefusal(line: string): void {
		const now = Date.now();
		if (now < this.refusalLogAt) {
			this.refusalsNotLogged++;
			return;
		}

		const left = this.refusalsNotLogged;
		this.refusalsNotLogged = 0;
		this.refusalLogAt = now + refusalLogMs;
		this.log(left > 0 ? `${line} (${left} more refusals since the previous line not logged)` : line);
	}

	/** Forget a session (closed, or evicted to make room). */
	remove(session: Session): void {
		this.sessions.delete(session);
		const mine = this.byAddress.get(session.address);
		mine?.delete(session);
		if (mine?.size === 0) {
			this.byAddress.delete(session.address);
		}
	}

	/**
	 * Whether a new connection from `address` may have a slot; the reason when not.
	 * One address never holds more than maxPerAddress. In the reserved last
	 * slots, only addresses under their fair share get in; when the table is
	 * full, a newcomer takes the least recently active session of the address
	 * holding the most, if that address holds at least two more than it.
	 */
	private admit(address: string): string | undefined {
		const {maxClients, maxPerAddress} = this.limits;
		const mine = this.byAddress.get(address)?.size ?? 0;
		if (mine >= maxPerAddress) {
			return `${address} already holds ${mine} connections (limit per address ${maxPerAddress}, see --max-per-address)`;
		}

		const free = maxClients - this.sessions.size;
		if (free <= Math.ceil(maxClients * reserveFraction)) {
			const addresses = this.byAddress.size + (mine === 0 ? 1 : 0);
			const fairShare = Math.max(1, Math.floor(maxClients / addresses));
			if (mine >= fairShare) {
				return `${this.sessions.size} of ${maxClients} connections in use and ${address} already holds ${mine}, its fair share (see --max-clients)`;
			}
		}

		if (free > 0) {
			return undefined;
		}

		let hog: Set<Session> | undefined;
		for (const sessions of this.byAddress.values()) {
			if (!hog || sessions.size > hog.size) {
				hog = sessions;
			}
		}

		let victim: Session | undefined;
		if (hog && hog.size > mine + 1) {
			for (const session of hog) {
				if (session.evictable && (!victim || session.lastActive < victim.lastActive)) {
					victim = session;
				}
			}
		}

		if (!victim) {
			return `all ${maxClients} connections in use (see --max-clients)`;
		}

		victim.evict(`to make room for a client from ${address} (all ${maxClients} connections in use, ${hog!.size} from ${victim.address})`);
		this.remove(victim);
		return undefined;
	}

	/** Stop listening and drop every connection. */
	async close(): Promise<void> {
		const closing = this.listeners.map(async server => new Promise<void>(resolve => {
			server.close(() => {
				resolve();
			});
		}));
		this.listeners.length = 0;
		for (const session of this.sessions) {
			session.destroy();
		}

		await Promise.all(closing);
	}

	/** Hand a connection to the TLS server; it reports back through secured() or tlsFailed(). */
	startTls(session: Session, socket: net.Socket): void {
		if (!this.tlsServer) {
			throw new Error('internal: TLS is off');
		}

		const key = connectionKey(socket);
		this.handshakes.set(key, session);
		socket.once('close', () => {
			this.handshakes.delete(key);
		});
		this.tlsServer.emit('connection', socket);
	}

	handshakeDone(socket: net.Socket): void {
		this.handshakes.delete(connectionKey(socket));
	}

	logLine(line: string): void {
		this.log(line);
	}

	metric(pmid: number): MetricEntry | undefined {
		return this.metrics.get(pmid);
	}

	now(): number {
		return this.clock();
	}

	/**
	 * The values of `ids` from `source`, and when they were read. A shared source (its values do
	 * not depend on the client) is read once per `fetchShareMs` window: a fetch within the window
	 * gets the values read at its start (metrics not read yet in it are read now and added), so the
	 * cost grows with the metrics asked for, not with the clients asking.
	 */
	async sharedFetch(source: MetricSource, ids: readonly number[], client: ClientContext): Promise<{outcomes: Map<number, FetchOutcome>; at: number}> {
		const now = this.clock();
		if (!source.shared || this.limits.fetchShareMs <= 0) {
			return {outcomes: await source.fetch(ids, client), at: now};
		}

		let window = this.windows.get(source);
		if (!window || now - window.at >= this.limits.fetchShareMs || now < window.at) {
			window = {at: now, outcomes: new Map()};
			this.windows.set(source, window);
		}

		const missing = ids.filter(id => !window.outcomes.has(id));
		if (missing.length > 0) {
			const read = source.fetch(missing, client);
			// A failed read is every metric's failure for this window (the caller logs it once per client).
			read.catch(() => undefined);
			for (const id of missing) {
				const outcome = read.then(result => result.get(id) ?? {error: PM_ERR.PMID});
				// Awaited below, one after the other: the first rejection ends that loop, so the others
				// need a handler of their own (an unhandled rejection would end the process).
				outcome.catch(() => undefined);
				window.outcomes.set(id, outcome);
			}
		}

		const outcomes = new Map<number, FetchOutcome>();
		for (const id of ids) {
			outcomes.set(id, await window.outcomes.get(id)!);
		}

		return {outcomes, at: window.at};
	}

	indom(id: number): IndomEntry | undefined {
		return this.indoms.get(id);
	}

	sourceForDomain(domain: number): MetricSource | undefined {
		return this.sourcesByDomain.get(domain);
	}

	/** The error a pmid nobody serves gets: PM_ERR_PMID in a domain we serve, PM_ERR_NOAGENT otherwise (as pmcd). */
	unknownPmidCode(pmid: number): number {
		return this.sourcesByDomain.has(pmid >>> 22) ? PM_ERR.PMID : PM_ERR.NOAGENT;
	}
}

/** Per-connection input buffering bounds (a few maximum-size PDUs). */
const pauseAboveBytes = 256 * 1024;
const resumeBelowBytes = 64 * 1024;

function connectionKey(socket: net.Socket): string {
	return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

/**
 * The address that per-address limits count: IPv4 (also when IPv4-mapped), or
 * the /64 prefix of an IPv6 address, since one host or site gets a whole /64
 * (RFC 4291 §2.5.4: interface IDs are 64 bits).
 */
export function addressKey(remote: string | undefined): string {
	if (!remote) {
		return 'unknown';
	}

	const address = remote.replace(/%.*$/v, '');
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/iv.exec(address);
	if (mapped) {
		return mapped[1]!;
	}

	if (!net.isIPv6(address)) {
		return address;
	}

	const [head = '', tail] = address.split('::');
	const headGroups = head === '' ? [] : head.split(':');
	const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
	const groups = tail === undefined ? headGroups : [...headGroups, ...Array.from({length: 8 - headGroups.length - tailGroups.length}, () => '0'), ...tailGroups];
	return `${groups.slice(0, 4).map(group => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}

type State = 'creds' | 'handshake' | 'ready' | 'refused' | 'closed';

/** Decides whether an instance is in a PROFILE (libpcp __pmInProfile). */
function inProfile(profile: Profile, indom: number, inst: number): boolean {
	if (indom === PM_INDOM_NULL) {
		return true;
	}

	const entry = profile.profiles.find(p => p.indom === indom);
	if (!entry) {
		return profile.globalState === PM_PROFILE.INCLUDE;
	}

	const listed = entry.instances.includes(inst);
	return entry.state === PM_PROFILE.INCLUDE ? !listed : listed;
}

/** pmdaInstance name matching: exact, or (for a name without spaces) the instance name's first word. */
function matchInstance(instances: readonly Instance[], name: string): Instance | undefined {
	const exact = instances.find(instance => instance.name === name);
	if (exact || name.includes(' ')) {
		return exact;
	}

	return instances.find(instance => {
		const space = instance.name.indexOf(' ');
		return space !== -1 && instance.name.slice(0, space) === name;
	});
}

class Session {
	private state: State = 'creds';
	private stream: net.Socket | tls.TLSSocket;
	private reader: PduReader;
	private busy = false;
	private partialTimer: NodeJS.Timeout | undefined;
	private stateTimer: NodeJS.Timeout | undefined;
	/** Accept to usable session (limits.handshakeMs). */
	private setupTimer: NodeJS.Timeout | undefined;
	private idleTimer: NodeJS.Timeout | undefined;
	/** When the client last sent a whole request (or connected): the least recent is evicted first. */
	lastActive = Date.now();
	readonly address: string;
	private readonly profiles = new Map<number, Profile>();
	private readonly client: ClientContext;
	private readonly server: PcpServer;
	private readonly socket: net.Socket;
	private readonly peer: string;
	private readonly onData: (chunk: Buffer) => void;

	constructor(server: PcpServer, socket: net.Socket, peer: string, address: string, seq: number) {
		this.server = server;
		this.socket = socket;
		this.peer = peer;
		this.address = address;
		this.stream = socket;
		this.reader = new PduReader({maxPduBytes: server.limits.maxPduBytes});
		this.client = {seq, whoami: ''};
		this.onData = chunk => {
			this.receive(chunk);
		};
	}

	start(): void {
		this.socket.setNoDelay(true);
		this.socket.on('error', error => {
			// Pminfo ends every connection with RST (docs/pcp.md#connection-end): not worth a line.
			if (errnoCode(error) !== 'ECONNRESET') {
				this.server.logLine(`${this.peer}: ${error.message}`);
			}
		});
		this.socket.on('data', this.onData);
		void this.write(encodeGreeting({status: 0, features: this.server.features}));
		this.setStateTimer(this.server.limits.credsMs, 'sent no CREDS');
		const {handshakeMs} = this.server.limits;
		this.setupTimer = setTimeout(() => {
			this.close(`no usable session (CREDS${this.server.tls.mode === 'off' ? '' : ' and TLS handshake'}) within ${handshakeMs / 1000} s of connecting`);
		}, handshakeMs);
		this.setupTimer.unref();
	}

	/** Not in the middle of a request: closing it loses no reply. */
	get evictable(): boolean {
		return !this.busy && this.state !== 'closed';
	}

	/** Closed to make room for another client. */
	evict(reason: string): void {
		this.close(`evicted ${reason}`);
	}

	destroy(): void {
		this.state = 'closed';
		this.stream.destroy();
		this.socket.destroy();
		this.dispose();
	}

	dispose(): void {
		if (this.state === 'handshake') {
			// Node's TLS server drops a client whose certificate does not verify without an event.
			this.server.logLine(`${this.peer}: closed during the TLS handshake (client certificate missing or not signed by the client CA, or the client gave up)`);
		}

		this.state = 'closed';
		this.clearTimers();
	}

	private clearTimers(): void {
		clearTimeout(this.partialTimer);
		clearTimeout(this.stateTimer);
		clearTimeout(this.setupTimer);
		clearTimeout(this.idleTimer);
	}

	/** Called by the server once the handshake (and any client certificate check) succeeded. */
	secured(secure: tls.TLSSocket): void {
		this.server.handshakeDone(this.socket);
		if (this.state !== 'handshake') {
			secure.destroy();
			return;
		}

		this.stream = secure;
		this.reader = new PduReader({maxPduBytes: this.server.limits.maxPduBytes});
		secure.on('error', error => {
			if (errnoCode(error) !== 'ECONNRESET') {
				this.server.logLine(`${this.peer}: TLS: ${messageOf(error)}`);
			}

			this.destroy();
		});
		secure.on('close', () => {
			this.destroy();
		});
		this.ready();
		secure.on('data', this.onData);
	}

	tlsFailed(error: Error): void {
		this.server.handshakeDone(this.socket);
		const reason = 'reason' in error && typeof error.reason === 'string' ? error.reason : messageOf(error);
		this.close(`TLS handshake failed: ${reason}`);
	}

	private close(reason: string): void {
		if (this.state !== 'closed') {
			this.server.logLine(`${this.peer}: closing: ${reason}`);
		}

		this.destroy();
	}

	private setStateTimer(ms: number, what: string): void {
		clearTimeout(this.stateTimer);
		this.stateTimer = setTimeout(() => {
			this.close(`${what} within ${ms / 1000} s`);
		}, ms);
		this.stateTimer.unref();
	}

	private receive(chunk: Buffer): void {
		if (this.state === 'closed' || this.state === 'handshake') {
			return;
		}

		this.reader.append(chunk);
		if (this.reader.buffered > pauseAboveBytes && !this.stream.isPaused()) {
			// A client pipelining requests faster than it reads replies: stop reading until we catch up.
			this.stream.pause();
		}

		void this.pump();
	}

	/** Send a last PDU, then close (end, so the PDU is delivered; destroy if the client lingers). */
	private finish(last: Buffer, reason: string): void {
		this.server.logLine(`${this.peer}: closing: ${reason}`);
		this.state = 'closed';
		this.clearTimers();
		this.stream.end(last);
		setTimeout(() => {
			this.destroy();
		}, 1000).unref();
	}

	/** Handle complete PDUs one at a time, in order (strict request/reply, docs/pcp.md#request-and-reply). */
	private async pump(): Promise<void> {
		if (this.busy) {
			return;
		}

		this.busy = true;
		try {
			while (this.state !== 'closed' && this.state !== 'handshake') {
				let pdu: Buffer | undefined;
				try {
					pdu = this.reader.next();
				} catch (error) {
					// Bad length: pmcd drops such a client without a word (docs/pcp.md#framing).
					this.close(error instanceof Error ? error.message : String(error));
					return;
				}

				if (!pdu) {
					break;
				}

				this.lastActive = Date.now();
				await this.handle(pdu);
				this.lastActive = Date.now();
			}
		} finally {
			this.busy = false;
		}

		if (this.state !== 'closed' && this.stream.isPaused() && this.reader.buffered < resumeBelowBytes) {
			this.stream.resume();
		}

		this.watchPartial();
	}

	/** A client that leaves half a PDU for partialPduMs is dropped (pmcd -t, docs/pcp.md#framing). */
	private watchPartial(): void {
		if (this.state === 'closed' || this.state === 'handshake') {
			return;
		}

		if (!this.reader.partial) {
			clearTimeout(this.partialTimer);
			this.partialTimer = undefined;
			return;
		}

		if (!this.partialTimer) {
			this.partialTimer = setTimeout(() => {
				this.close(`sent only part of a PDU (${this.reader.buffered} bytes) within ${this.server.limits.partialPduMs / 1000} s`);
			}, this.server.limits.partialPduMs);
			this.partialTimer.unref();
		}
	}

	/** Write a reply; a client that stops reading is dropped after writeStallMs, never blocking others. */
	private async write(buf: Buffer): Promise<void> {
		if (this.state === 'closed') {
			return;
		}

		if (this.stream.write(buf)) {
			return;
		}

		const timer = setTimeout(() => {
			this.close(`did not read our replies for ${this.server.limits.writeStallMs / 1000} s`);
		}, this.server.limits.writeStallMs);
		timer.unref();
		try {
			await Promise.race([once(this.stream, 'drain'), once(this.stream, 'close')]);
		} catch {
			// An error closes the session; nothing more to write.
		} finally {
			clearTimeout(timer);
		}
	}

	private async handle(pdu: Buffer): Promise<void> {
		const {type} = readHeader(pdu);
		if (this.state === 'creds') {
			this.handleCreds(pdu, type);
			return;
		}

		if (this.state === 'refused') {
			await this.write(encodeError(plainRefusedCode));
			return;
		}

		try {
			await this.dispatch(pdu, type);
		} catch (error) {
			if (error instanceof PcpCodeError) {
				await this.write(encodeError(error.code));
			} else if (isPduError(error)) {
				this.server.logLine(`${this.peer}: malformed request: ${error.message}`);
				await this.write(encodeError(PM_ERR.IPC));
			} else {
				this.server.logLine(`${this.peer}: internal error on ${pduTypeName(type)}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
				await this.write(encodeError(PM_ERR.GENERIC));
			}
		}
	}

	private handleCreds(pdu: Buffer, type: number): void {
		if (type !== PDU.CREDS) {
			// Pmcd closes without an ERROR when anything but CREDS comes first (docs/pcp.md#creds).
			this.close(`first PDU was ${pduTypeName(type)}, not CREDS`);
			return;
		}

		let flags = 0;
		try {
			const creds = decodeCreds(pdu);
			flags = creds.find(cred => cred.type === 1)?.flags ?? 0;
		} catch (error) {
			this.close(`malformed CREDS: ${error instanceof Error ? error.message : String(error)}`);
			return;
		}

		const {tls: tlsSetup} = this.server;
		if ((flags & FEATURE.SECURE) !== 0) {
			if (tlsSetup.mode === 'off') {
				// What pmcd without TLS answers (docs/pcp.md#tls-upgrade); real clients never ask.
				this.finish(encodeError(PM_ERR.NOTCONN), 'asked for TLS, which is off (--tls off)');
				return;
			}

			if ((flags & FEATURE.SECURE_ACK) !== 0) {
				void this.write(encodeError(0));
			}

			this.upgrade();
			return;
		}

		if (tlsSetup.mode === 'require') {
			this.state = 'refused';
			clearTimeout(this.setupTimer);
			this.server.logLine(`${this.peer}: refused a plain-text client (--tls require); the client must ask for TLS, e.g. PCP_SECURE_SOCKETS=enforce for pminfo/pmval, or secmon --secure enforce`);
			this.setStateTimer(this.server.limits.refusedLingerMs, 'refused client did not leave');
			return;
		}

		this.ready();
	}

	private ready(): void {
		this.state = 'ready';
		clearTimeout(this.stateTimer);
		this.stateTimer = undefined;
		clearTimeout(this.setupTimer);
		this.setupTimer = undefined;
		this.lastActive = Date.now();
		this.watchIdle();
	}

	/** Close a session with no request for idleMs; re-armed from lastActive rather than reset on every PDU. */
	private watchIdle(): void {
		const {idleMs} = this.server.limits;
		this.idleTimer = setTimeout(() => {
			if (this.state === 'closed') {
				return;
			}

			if (this.busy || Date.now() - this.lastActive < idleMs) {
				this.watchIdle();
				return;
			}

			this.close(`idle for ${idleMs / 1000} s (see --idle-timeout)`);
		}, Math.max(1, this.lastActive + idleMs - Date.now()));
		this.idleTimer.unref();
	}

	/** The in-band TLS upgrade after CREDS (docs/pcp.md#tls-upgrade): bytes already read go back to the socket first. */
	private upgrade(): void {
		this.state = 'handshake';
		this.socket.off('data', this.onData);
		this.socket.pause();
		clearTimeout(this.partialTimer);
		this.partialTimer = undefined;
		const early = this.reader.drain();
		if (early.length > 0) {
			// Without SECURE_ACK the ClientHello may share a segment with CREDS.
			this.socket.unshift(early);
		}

		// The setup timer (accept to usable session) bounds the handshake.
		clearTimeout(this.stateTimer);
		this.stateTimer = undefined;
		this.server.startTls(this, this.socket);
	}

	private async dispatch(pdu: Buffer, type: number): Promise<void> {
		switch (type) {
			case PDU.PROFILE: {
				const profile = decodeProfile(pdu);
				if (!this.profiles.has(profile.ctxid) && this.profiles.size >= this.server.limits.maxContexts) {
					// PROFILE has no reply, so refusing it would desynchronise the client: drop it instead.
					this.close(`more than ${this.server.limits.maxContexts} PROFILE contexts`);
					return;
				}

				this.profiles.set(profile.ctxid, profile);
				return;
			}

			case PDU.FETCH:
			case PDU.HIGHRES_FETCH: {
				await this.fetch(pdu, type);
				return;
			}

			case PDU.PMNS_TRAVERSE: {
				const {name} = decodeNameRequest(pdu);
				await this.write(encodeNames(this.server.namespace.traverse(name)));
				return;
			}

			case PDU.PMNS_CHILD: {
				const {name, subtype} = decodeNameRequest(pdu);
				const children = this.server.namespace.children(name);
				const statuses = subtype === 1 ? children.map(child => (child.leaf ? 0 : 1)) : undefined;
				await this.write(encodeNames(children.map(child => child.name), statuses));
				return;
			}

			case PDU.PMNS_NAMES: {
				const {names} = decodeNames(pdu);
				if (names.length === 0) {
					throw new PcpCodeError(PM_ERR.TOOSMALL);
				}

				const {found, pmids} = this.server.namespace.lookup(names);
				await this.write(encodeIds(found, pmids));
				return;
			}

			case PDU.PMNS_IDS: {
				const {pmids} = decodeIds(pdu);
				if (pmids.length !== 1) {
					throw new PcpCodeError(PM_ERR.IPC);
				}

				await this.write(encodeNames(this.server.namespace.namesOf(pmids[0]!)));
				return;
			}

			case PDU.DESC_REQ: {
				const pmid = decodeDescReq(pdu);
				const entry = this.server.metric(pmid);
				if (!entry) {
					throw new PcpCodeError(this.server.unknownPmidCode(pmid));
				}

				await this.write(encodeDesc(descOf(entry.metric)));
				return;
			}

			case PDU.DESC_IDS: {
				const {pmids} = decodeDescIds(pdu);
				await this.write(encodeDescs(pmids.map(pmid => {
					const entry = this.server.metric(pmid);
					return entry
						? descOf(entry.metric)
						: {
							pmid: PM_ID_NULL, type: 0, indom: 0, sem: 0, units: {
								dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
							},
						};
				})));
				return;
			}

			case PDU.INSTANCE_REQ: {
				await this.instance(pdu);
				return;
			}

			case PDU.TEXT_REQ: {
				const {ident, type: textType} = decodeTextReq(pdu);
				await this.write(encodeText(ident, this.text(ident, textType)));
				return;
			}

			case PDU.LABEL_REQ: {
				await this.labels(pdu);
				return;
			}

			case PDU.RESULT: {
				await this.store(pdu);
				return;
			}

			default: {
				// Pmcd answers unknown types with PM_ERR_IPC and keeps the connection (docs/pcp.md#pdu-types).
				throw new PcpCodeError(PM_ERR.IPC);
			}
		}
	}

	private async fetch(pdu: Buffer, type: number): Promise<void> {
		const {ctxid, pmids} = decodeFetch(pdu);
		if (pmids.length === 0) {
			throw new PcpCodeError(PM_ERR.IPC);
		}

		// FETCH needs a PROFILE first for the same ctxid (docs/pcp.md#request-and-reply).
		const profile = this.profiles.get(ctxid);
		if (!profile) {
			throw new PcpCodeError(PM_ERR.NOPROFILE);
		}

		const bySource = new Map<MetricSource, number[]>();
		for (const pmid of new Set(pmids)) {
			const entry = this.server.metric(pmid);
			if (entry) {
				bySource.set(entry.source, [...(bySource.get(entry.source) ?? []), pmid]);
			}
		}

		const outcomes = new Map<number, FetchOutcome>();
		// When the values were read: the start of a shared read (sharedFetch) when one was used.
		let readAt: number | undefined;
		await Promise.all([...bySource].map(async ([source, ids]) => {
			let result: Map<number, FetchOutcome>;
			try {
				const shared = await this.server.sharedFetch(source, ids, this.client);
				result = shared.outcomes;
				readAt = Math.min(readAt ?? shared.at, shared.at);
			} catch (error) {
				this.server.logLine(`fetch from ${source.agent} failed: ${error instanceof Error ? error.message : String(error)}`);
				result = new Map(ids.map(id => [id, {error: PM_ERR.AGAIN}]));
			}

			for (const [id, outcome] of result) {
				outcomes.set(id, outcome);
			}
		}));

		const now = readAt ?? this.server.now();
		const sec = Math.floor(now / 1000);
		const nsec = Math.floor((now - (sec * 1000)) * 1e6);
		const vsets: PcpValueSet[] = pmids.map(pmid => {
			const entry = this.server.metric(pmid);
			const outcome = outcomes.get(pmid);
			if (!entry || !outcome) {
				return {pmid, status: 'error', code: entry ? PM_ERR.AGAIN : this.server.unknownPmidCode(pmid)};
			}

			if ('error' in outcome) {
				return {pmid, status: 'error', code: outcome.error};
			}

			const {metric} = entry;
			const values = outcome.values
				.filter(value => inProfile(profile, metric.indom, value.inst))
				.map(value => ({inst: value.inst, type: metric.type, value: value.value}));
			return values.length === 0
				? {pmid, status: 'novalues'}
				: {
					pmid, status: 'ok', valfmt: 0, values,
				};
		});
		const result = {sec, nsec, vsets};
		await this.write(type === PDU.HIGHRES_FETCH ? encodeHighresResult(result) : encodeResult(result));
	}

	/** INSTANCE_REQ in its three forms (docs/pcp.md#instances). */
	private async instance(pdu: Buffer): Promise<void> {
		const request = decodeInstanceReq(pdu);
		const entry = this.server.indom(request.indom);
		if (!entry) {
			throw new PcpCodeError(PM_ERR.INDOM);
		}

		const instances = await entry.source.instances(request.indom, this.client);
		if (request.inst === -1 && request.name === '') {
			await this.write(encodeInstance({indom: request.indom, instances}));
			return;
		}

		if (request.name === '') {
			// By number: one entry, inst -1, with the name (docs/pcp.md#instances).
			const found = instances.find(instance => instance.inst === request.inst);
			if (!found) {
				throw new PcpCodeError(PM_ERR.INST);
			}

			await this.write(encodeInstance({indom: request.indom, instances: [{inst: -1, name: found.name}]}));
			return;
		}

		// By name: one entry with the id and no name.
		const found = matchInstance(instances, request.name);
		if (!found) {
			throw new PcpCodeError(PM_ERR.INST);
		}

		await this.write(encodeInstance({indom: request.indom, instances: [{inst: found.inst, name: ''}]}));
	}

	private text(ident: number, type: number): string {
		const help = (type & PM_TEXT.HELP) !== 0;
		if ((type & PM_TEXT.PMID) !== 0) {
			const entry = this.server.metric(ident);
			if (entry) {
				return help ? entry.metric.help : entry.metric.oneline;
			}
		} else if ((type & PM_TEXT.INDOM) !== 0) {
			const entry = this.server.indom(ident);
			if (entry) {
				return help ? entry.indom.help : entry.indom.oneline;
			}
		}

		throw new PcpCodeError(PM_ERR.TEXT);
	}

	/** Context and domain labels as pmcd gives them; none below that (empty sets, as for a PMDA without labels). */
	private async labels(pdu: Buffer): Promise<void> {
		const {ident, type} = decodeLabelReq(pdu);
		const labels = this.server.contextLabels;
		if (!labels) {
			throw new PcpCodeError(PM_ERR.NOLABELS);
		}

		let sets: Array<ReturnType<typeof makeLabelSet>> = [];
		if (type === PM_LABEL.CONTEXT) {
			sets = [makeLabelSet(-1, labels, PM_LABEL.CONTEXT)];
		} else if (type === PM_LABEL.DOMAIN) {
			const source = this.server.sourceForDomain(ident);
			if (source) {
				sets = [makeLabelSet(-1, {agent: source.agent}, PM_LABEL.DOMAIN)];
			}
		}

		await this.write(encodeLabel({ident, type, sets}));
	}

	/**
	 * RESULT from a client is pmStore. Only pmcd.client.whoami may be stored
	 * (each client its own, as pmcd allows); everything else is refused.
	 */
	private async store(pdu: Buffer): Promise<void> {
		const result = decodeResult(pdu, {typeOf: pmid => this.server.metric(pmid)?.metric.type});
		if (result.vsets.length === 0) {
			throw new PcpCodeError(PM_ERR.IPC);
		}

		for (const vset of result.vsets) {
			if (vset.pmid !== whoamiPmid) {
				throw new PcpCodeError(PM_ERR.PERMISSION);
			}

			const value = vset.status === 'ok' && vset.values.length === 1 ? vset.values[0]?.value : undefined;
			if (typeof value !== 'string') {
				throw new PcpCodeError(vset.status === 'ok' ? PM_ERR.BADSTORE : PM_ERR.INST);
			}
		}

		for (const vset of result.vsets) {
			if (vset.status === 'ok' && typeof vset.values[0]?.value === 'string') {
				// Bounded: whoami is free text from the client, shown to nobody but itself.
				this.client.whoami = vset.values[0].value.slice(0, 1024);
			}
		}

		await this.write(encodeError(0));
	}
}

function descOf(metric: ServedMetric): PcpDesc {
	return {
		pmid: metric.pmid, type: metric.type, indom: metric.indom, sem: metric.sem, units: metric.units,
	};
}
