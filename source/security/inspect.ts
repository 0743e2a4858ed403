/**
 * Looking at a collector's TLS without trusting, pinning or sending anything (`secmon verify`).
 * The handshake uses the same CA set and connection options as the connecting path (tls.ts), and
 * the verdict comes from the same trust decision (trust.ts) asked read-only: no --accept-new, no
 * --fingerprint and no prompt, the only inputs that make decideTrust write a pin.
 *
 * Unlike tls.ts, a failed handshake is not the end of the story: the certificate the collector
 * presented is still read (TLS 1.2 sends it before it asks for ours), so verify can show it.
 */
import type net from 'node:net';
import tls from 'node:tls';
import {isSecmonError, SecmonError} from '../errors.js';
import {nameMismatchReason} from './messages.js';
import type {TrustStore} from './store.js';
import {
	authorizationCode, baseConnectOptions, loadCredentials, peerChain, receivedChain, tlsFailure, TlsFailure, type TlsOptions,
} from './tls.js';
import {decideTrust} from './trust.js';
import type {CertificateInfo, Pin, Target} from './types.js';

export type ClientCertOutcome
	/** The collector took the handshake and sent a session ticket or data: no client certificate problem. */
	= | 'accepted'
	/** The collector asked for a client certificate and we had none. */
		| 'required'
	/** The collector refused the client certificate we sent. */
		| 'rejected'
	/** The collector closed the connection right after the handshake (some refuse a client certificate that way). */
		| 'closed'
	/** Nothing arrived within the wait: the collector did not object to the handshake. */
		| 'no-objection'
	/** Not looked at (the handshake failed for another reason, or nobody waited). */
		| 'unknown';

export type Inspection = {
	/** The handshake completed ('secureConnect'). */
	completed: boolean;
	version?: string;
	cipher?: string;
	/** Presented chain, leaf first (also after a failed TLS 1.2 handshake when the server sent it). */
	chain: CertificateInfo[];
	/** Did the chain verify against the CA set (--ca-file, else system roots + trusted CAs)? */
	chainVerified: {ok: boolean; reason?: string};
	/** How many CA certificates the chain was checked against, and where they came from. */
	anchors: {source: 'ca-file' | 'system+store'; storeCas: number};
	/** The name checked against the certificate (servername, else the host). */
	name: string;
	hostnameOk: boolean;
	hostnameReason?: string;
	clientCertGiven: boolean;
	clientCert: ClientCertOutcome;
	/** Why the handshake (or the moment after it) failed. */
	error?: SecmonError;
	/** The open stream when the handshake completed; the caller closes it or hands it on. */
	stream?: tls.TLSSocket;
};

function hostOf(target: Target): string {
	return target.host.startsWith('[') && target.host.endsWith(']') ? target.host.slice(1, -1) : target.host;
}

function classify(error: SecmonError): ClientCertOutcome {
	if (error.code === 'CLIENT_CERT_REQUIRED') {
		return 'required';
	}

	return error.message.includes('rejected our client certificate') ? 'rejected' : 'unknown';
}

/**
 * TLS handshake on `socket` (an already connected TCP socket, or a PCP socket after the secure-ack)
 * that records everything and never throws for TLS reasons: failures end up in `error`.
 * Throws only for local problems (unreadable --ca-file, --cert without --key…).
 */
export async function inspectTls(socket: net.Socket, options: TlsOptions): Promise<Inspection> {
	let credentials;
	try {
		// The whole story, CA verdict included, even for a pinned collector.
		credentials = loadCredentials({...options, pinFirst: false});
	} catch (error) {
		socket.destroy();
		throw error;
	}

	const name = options.servername ?? hostOf(options.target);
	const clientCertGiven = credentials.cert !== undefined;
	const timeoutMs = options.timeoutMs ?? 10_000;
	const storeCas = options.caFile === undefined ? options.store.trustedCas().length : 0;
	const stream = tls.connect({...baseConnectOptions(options, credentials), socket});
	const base = {
		anchors: {source: options.caFile === undefined ? 'system+store' as const : 'ca-file' as const, storeCas},
		name,
		clientCertGiven,
	};

	return new Promise(resolve => {
		let settled = false;
		const finish = (error?: SecmonError) => {
			if (settled) {
				return;
			}

			settled = true;
			clearTimeout(timer);
			stream.off('secureConnect', onSecure);
			stream.off('close', onClose);
			stream.off('error', onError);
			// A late error on a stream we are done with must not crash the process.
			stream.on('error', () => undefined);
			let chain: CertificateInfo[] = [];
			try {
				chain = peerChain(stream);
			} catch {
				// No certificate was received.
			}

			const leaf = chain[0];
			const nameError = leaf ? tls.checkServerIdentity(name, stream.getPeerCertificate()) : undefined;
			const completed = error === undefined;
			const chainReason = completed ? authorizationCode(stream) : undefined;
			const inspection: Inspection = {
				...base,
				completed,
				chain,
				chainVerified: completed && stream.authorized
					? {ok: true}
					: {ok: false, reason: completed ? chainReason : 'the handshake did not complete'},
				hostnameOk: leaf !== undefined && nameError === undefined,
				...(leaf && nameError ? {hostnameReason: nameMismatchReason(leaf, name)} : {}),
				clientCert: error ? classify(error) : 'unknown',
			};
			if (completed) {
				inspection.version = stream.getProtocol() ?? 'unknown';
				inspection.cipher = stream.getCipher()?.name ?? 'unknown';
				inspection.stream = stream;
			} else {
				inspection.error = error;
				stream.destroy();
				socket.destroy();
			}

			resolve(inspection);
		};

		const onSecure = () => {
			finish();
		};

		const onError = (error: Error) => {
			finish(tlsFailure(error, {target: options.target, clientCert: clientCertGiven, chain: receivedChain(stream)}));
		};

		const onClose = () => {
			// As tls.ts handshake(): closed before anything TLS arrived and without a client
			// certificate offered, the port may offer no TLS (noTls; probe.ts decides per protocol).
			const noTls = clientCertGiven || receivedChain(stream).length > 0 ? undefined : 'closed';
			finish(new TlsFailure(
				`the collector closed the connection during the TLS handshake${clientCertGiven ? ' (it may have rejected our client certificate)' : ''}`,
				'Check that this port speaks TLS, and the collector\'s log for the reason it dropped the connection',
				noTls,
			));
		};

		const timer = setTimeout(() => {
			finish(new SecmonError('TIMEOUT', `the TLS handshake timed out after ${timeoutMs} ms`, 'Check that the collector is responsive and that this port speaks TLS'));
		}, timeoutMs);
		stream.once('secureConnect', onSecure);
		stream.once('close', onClose);
		stream.on('error', onError);
	});
}

/**
 * After a completed handshake, wait (reading and discarding, never writing) for the collector's
 * first word: a TLS 1.3 session ticket or data means it accepted the handshake, an alert means it
 * refused our client certificate (TLS 1.3 reports that only after the handshake: docs/pcp.md#late-client-certificate-rejection).
 * Only for streams that are closed afterwards: what is read is lost.
 */
export async function awaitClientCertVerdict(inspection: Inspection, waitMs: number): Promise<void> {
	const {stream} = inspection;
	if (!stream || stream.destroyed) {
		return;
	}

	await new Promise<void>(resolve => {
		let settled = false;
		const finish = (outcome: ClientCertOutcome, error?: SecmonError) => {
			if (settled) {
				return;
			}

			settled = true;
			clearTimeout(timer);
			stream.off('session', onAccepted);
			stream.off('data', onAccepted);
			stream.off('error', onError);
			stream.off('end', onClosed);
			stream.off('close', onClosed);
			stream.on('error', () => undefined);
			inspection.clientCert = outcome;
			if (error) {
				inspection.error = error;
			}

			resolve();
		};

		const onAccepted = () => {
			finish('accepted');
		};

		const onError = (error: Error) => {
			const failure = tlsFailure(error, {target: {host: inspection.name, port: 0}, clientCert: inspection.clientCertGiven});
			finish(classify(failure), failure);
		};

		const onClosed = () => {
			finish('closed');
		};

		const timer = setTimeout(() => {
			finish('no-objection');
		}, waitMs);
		stream.on('session', onAccepted);
		stream.on('data', onAccepted);
		stream.on('error', onError);
		stream.once('end', onClosed);
		stream.once('close', onClosed);
		stream.resume();
	});
}

export type TrustVerdict = {
	/**
	 * ca: chain + name; pinned: matches its pin; unknown: would be refused (exit 3) or asked;
	 * changed: exit 4; refused: --ca-file says no (exit 3); error: the store cannot be read;
	 * undecided: no certificate to judge.
	 */
	status: 'ca' | 'pinned' | 'unknown' | 'changed' | 'refused' | 'error' | 'undecided';
	/** The refusal secmon would print (message + hint), for unknown, changed and refused. */
	error?: SecmonError;
	/** Warnings the connecting path would print (an expired pinned certificate). */
	warnings: string[];
	/** The pin for this host:port, if any (whether or not it matches). */
	pin?: Pin;
	pinFile: string;
	/** The pin could not be read (corrupt file): that is a refusal too. */
	pinError?: SecmonError;
};

/**
 * How secmon would trust this certificate today, asked of the real trust decision in a mode that
 * cannot write (no accept-new, no fingerprint, no prompt). `zabbixStyle`: with --ca-file, Zabbix
 * checks the chain but not the host name (docs/zabbix.md#tls-from-node), and so does secmon's Zabbix client.
 */
export async function trustVerdict(inspection: Inspection, options: {
	target: Target;
	store: TrustStore;
	caFileGiven: boolean;
	zabbixStyle?: boolean;
	rerunCommand?: string;
	now?: Date;
}): Promise<TrustVerdict> {
	const pinFile = options.store.pinPath(options.target);
	let pin: Pin | undefined;
	let pinError: SecmonError | undefined;
	try {
		pin = options.store.get(options.target);
	} catch (error) {
		pinError = isSecmonError(error) ? error : new SecmonError('STORE', String(error));
	}

	const common = {pinFile, ...(pin ? {pin} : {}), ...(pinError ? {pinError} : {})};
	if (inspection.chain.length === 0) {
		return {status: 'undecided', warnings: [], ...common};
	}

	const ignoreName = options.zabbixStyle === true && options.caFileGiven;
	try {
		const decision = await decideTrust({
			target: options.target,
			chain: inspection.chain,
			chainVerified: inspection.chainVerified,
			hostnameOk: ignoreName || inspection.hostnameOk,
			...(inspection.hostnameReason === undefined ? {} : {hostnameReason: inspection.hostnameReason}),
			caFileGiven: options.caFileGiven,
			store: options.store,
			acceptNew: false,
			dryRun: true,
			...(options.rerunCommand === undefined ? {} : {rerunCommand: options.rerunCommand}),
			...(options.now === undefined ? {} : {now: options.now}),
		});
		return {status: decision.basis === 'ca' ? 'ca' : 'pinned', warnings: decision.warnings, ...common};
	} catch (error) {
		if (!isSecmonError(error)) {
			throw error;
		}

		switch (error.code) {
			case 'TRUST_REQUIRED': {
				return {
					status: 'unknown', error, warnings: [], ...common,
				};
			}

			case 'CERT_CHANGED': {
				return {
					status: 'changed', error, warnings: [], ...common,
				};
			}

			case 'CERT_INVALID': {
				return {
					status: 'refused', error, warnings: [], ...common,
				};
			}

			default: {
				// A pin file that cannot be read refuses the connection too (store.ts: never "no pin").
				return {
					status: 'error', error, warnings: [], ...common,
				};
			}
		}
	}
}
