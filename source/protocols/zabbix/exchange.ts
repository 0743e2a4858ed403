/**
 * One passive check (docs/zabbix.md#passive-checks): connect, secure the connection as prepared
 * (plain, PSK, certificate against --tls-ca-file, or certificate by pin/first use), send the key,
 * read one frame; the agent answers once and closes. One timeout covers the whole exchange
 * (zabbix_get -t), except the trust prompt.
 */
import net from 'node:net';
import {SecmonError} from '../../errors.js';
import {checkIssuerSubject, verifyWithCa} from './certificate-checks.js';
import {
	defaultTimeoutMs, where, type ZabbixEndpoint, type ZabbixReply, type ZabbixTlsFacts,
} from './endpoint.js';
import {
	accessRestricted, connectFailed, protocolFailure, requestTimeout, strerror, ZabbixError,
} from './errors.js';
import {
	encodeFrame, encodeRequest, FrameDecoder, parseResponse, type AgentResponse,
} from './frame.js';
import {tlsHandshake} from './handshake.js';
import {decodeJsonAnswer, encodeJsonRequest, type JsonAnswer} from './passive-json.js';
import type {Prepared} from './tls-context.js';
import {secureTofu, type TrustedCertificate} from './trust.js';

/** What a pool keeps per agent between exchanges. */
export type AgentState = {
	prepared: Prepared;
	/** cert-tofu: the certificate trusted earlier in this process, and how. */
	trusted?: TrustedCertificate;
	/** -P auto: how this agent answered the first request of the run (docs/zabbix.md#zabbix-7-json-checks). */
	protocol?: 'json' | 'plaintext';
};

/** A JSON request answered in plain text: the agent is older than 7.0 and took the JSON for an item key. */
export type PlainAnswerToJson = {plainAnswerToJson: true; ms: number};

/**
 * The per-request `timeout` field: whole seconds of the request timeout, within the 1–600 s a
 * Zabbix 7 item timeout may have (docs/zabbix.md#zabbix-7-json-checks).
 */
export function jsonTimeoutSeconds(timeoutMs: number): number {
	return Math.min(600, Math.max(1, Math.ceil(timeoutMs / 1000)));
}

function responseOf(answer: Exclude<JsonAnswer, {kind: 'plaintext'}>): AgentResponse {
	switch (answer.kind) {
		case 'value': {
			return {kind: 'value', value: answer.value};
		}

		case 'nodata': {
			return {kind: 'notsupported', reason: 'No value was received.'};
		}

		case 'error': {
			return {kind: 'notsupported', reason: answer.message};
		}
	}
}

async function tcpConnect(endpoint: ZabbixEndpoint): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({
			host: endpoint.host,
			port: endpoint.port,
			...(endpoint.sourceAddress ? {localAddress: endpoint.sourceAddress} : {}),
			noDelay: true,
		});
		const onError = (error: NodeJS.ErrnoException) => {
			socket.destroy();
			reject(connectFailed(endpoint, error));
		};

		socket.once('error', onError);
		socket.once('connect', () => {
			socket.off('error', onError);
			resolve(socket);
		});
	});
}

export async function exchangeOnce(endpoint: ZabbixEndpoint, state: AgentState, key: string, onWarning: (message: string) => void, protocol?: 'plaintext'): Promise<ZabbixReply>;
export async function exchangeOnce(endpoint: ZabbixEndpoint, state: AgentState, key: string, onWarning: (message: string) => void, protocol: 'json'): Promise<ZabbixReply | PlainAnswerToJson>;
export async function exchangeOnce(endpoint: ZabbixEndpoint, state: AgentState, key: string, onWarning: (message: string) => void, protocol: 'json' | 'plaintext' = 'plaintext'): Promise<ZabbixReply | PlainAnswerToJson> {
	const timeoutMs = endpoint.timeoutMs ?? defaultTimeoutMs;
	const started = performance.now();
	const {prepared} = state;
	const sockets: net.Socket[] = [];
	let timer: NodeJS.Timeout | undefined;
	let timedOut = false;
	let rejectTimeout: (error: Error) => void = () => undefined;
	const timeout = new Promise<never>((_resolve, reject) => {
		rejectTimeout = reject;
	});
	timeout.catch(() => undefined);
	const arm = () => {
		timer = setTimeout(() => {
			timedOut = true;
			for (const socket of sockets) {
				socket.destroy();
			}

			rejectTimeout(requestTimeout(endpoint, timeoutMs));
		}, timeoutMs);
	};

	arm();
	const race = async <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, timeout]);

	try {
		const socket = await race(tcpConnect(endpoint));
		sockets.push(socket);
		let stream: net.Socket = socket;
		let facts: ZabbixTlsFacts | undefined;
		switch (prepared.kind) {
			case 'unencrypted': {
				break;
			}

			case 'psk': {
				const tlsSocket = await race(tlsHandshake(endpoint, 'psk', {
					socket,
					secureContext: prepared.context,
					pskCallback: () => ({identity: prepared.identity, psk: prepared.key}),
					// No certificate in PSK mode; Node's default host-name check would fail (docs/zabbix.md#tls-from-node).
					checkServerIdentity: () => undefined,
				}));
				sockets.push(tlsSocket);
				stream = tlsSocket;
				facts = {
					version: tlsSocket.getProtocol() ?? 'unknown', cipher: tlsSocket.getCipher()?.name ?? 'unknown', kind: 'psk', pskIdentity: prepared.identity,
				};
				break;
			}

			case 'cert-ca': {
				const tlsSocket = await race(tlsHandshake(endpoint, 'cert', {
					socket,
					secureContext: prepared.context,
					// Verified below: Zabbix accepts agent certificates without serverAuth and matches no host name (docs/zabbix.md#agent-certificates).
					rejectUnauthorized: false,
					checkServerIdentity: () => undefined,
				}));
				sockets.push(tlsSocket);
				verifyWithCa(endpoint, tlsSocket, prepared);
				stream = tlsSocket;
				const leaf = tlsSocket.getPeerX509Certificate();
				facts = {
					version: tlsSocket.getProtocol() ?? 'unknown',
					cipher: tlsSocket.getCipher()?.name ?? 'unknown',
					kind: 'cert',
					basis: 'ca-file',
					...(leaf ? {sha256: leaf.fingerprint256, subject: leaf.subject.split('\n').toReversed().join(', ')} : {}),
				};
				break;
			}

			case 'cert-tofu': {
				// The trust prompt must not count against the request timeout (tls.ts has its own handshake timeout).
				const firstDecision = !state.trusted;
				if (firstDecision) {
					clearTimeout(timer);
				}

				const secured = firstDecision ? await secureTofu(endpoint, state, socket, prepared, onWarning) : await race(secureTofu(endpoint, state, socket, prepared, onWarning));
				sockets.push(secured.stream);
				if (firstDecision) {
					arm();
				}

				const leaf = secured.stream.getPeerX509Certificate();
				if (leaf) {
					checkIssuerSubject(endpoint, leaf, prepared);
				}

				stream = secured.stream;
				facts = secured.facts;
				if (stream.destroyed) {
					// The agent gave up waiting while we asked about its certificate (its Timeout, 3 s by default).
					throw accessRestricted(endpoint, prepared);
				}

				break;
			}
		}

		const request = protocol === 'json' ? encodeFrame(encodeJsonRequest(key, jsonTimeoutSeconds(timeoutMs))) : encodeRequest(key);
		const data = await race(readAnswer(endpoint, prepared, stream, request, () => timedOut));
		const ms = performance.now() - started;
		if (protocol === 'json') {
			let answer: JsonAnswer;
			try {
				answer = decodeJsonAnswer(data, where(endpoint));
			} catch (error) {
				// The codec's message names the agent already.
				const cause = error as SecmonError;
				throw new ZabbixError({
					code: cause.code, stage: 'response', message: cause.message, hint: cause.hint ?? '', zabbixText: `Get value error: ${cause.message}`, agentLevel: false, cause,
				});
			}

			if (answer.kind === 'plaintext') {
				return {plainAnswerToJson: true, ms};
			}

			return {
				key, response: responseOf(answer), data, protocol: 'json', json: answer, ms, ...(facts ? {tls: facts} : {}),
			};
		}

		return {
			key, response: parseResponse(data), data, protocol: 'plaintext', ms, ...(facts ? {tls: facts} : {}),
		};
	} finally {
		clearTimeout(timer);
		for (const socket of sockets.toReversed()) {
			if (!socket.destroyed) {
				socket.destroy();
			}
		}
	}
}

async function readAnswer(endpoint: ZabbixEndpoint, prepared: Prepared, stream: net.Socket, request: Buffer, timedOut: () => boolean): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const decoder = new FrameDecoder(endpoint.maxBytes === undefined ? {} : {maxBytes: endpoint.maxBytes});
		let settled = false;
		const finish = (error?: Error, data?: Buffer) => {
			if (settled) {
				return;
			}

			settled = true;
			stream.off('data', onData);
			stream.off('end', onEnd);
			stream.off('close', onEnd);
			stream.off('error', onError);
			stream.on('error', () => undefined);
			if (error) {
				stream.destroy();
				reject(error);
			} else {
				// The agent closes after its answer; close our side too (TLS: close_notify).
				stream.end();
				resolve(data!);
			}
		};

		const onData = (chunk: Buffer) => {
			try {
				const frame = decoder.push(chunk);
				if (frame) {
					finish(undefined, frame.data);
				}
			} catch (error) {
				finish(error instanceof SecmonError ? protocolFailure(endpoint, error) : (error as Error));
			}
		};

		const onEnd = () => {
			if (timedOut()) {
				return;
			}

			try {
				finish(undefined, decoder.end().data);
			} catch (error) {
				finish(decoder.bytesReceived === 0 ? accessRestricted(endpoint, prepared, error) : protocolFailure(endpoint, error as SecmonError));
			}
		};

		const onError = (error: NodeJS.ErrnoException) => {
			if (decoder.bytesReceived === 0 && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
				// The agent peeks one byte, refuses the connection kind and closes with our request unread (RST).
				finish(accessRestricted(endpoint, prepared, error));
				return;
			}

			finish(new ZabbixError({
				code: 'CONNECT_FAILED',
				stage: 'response',
				message: `connection to Zabbix agent ${where(endpoint)} failed while reading the answer: ${strerror(error)}`,
				hint: 'Check the network and the agent log',
				zabbixText: `Get value error: ${strerror(error)}`,
				agentLevel: true,
				cause: error,
			}));
		};

		stream.on('data', onData);
		stream.once('end', onEnd);
		stream.once('close', onEnd);
		stream.on('error', onError);
		stream.write(request, error => {
			if (error) {
				onError(error);
			}
		});
	});
}

