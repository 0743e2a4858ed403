/**
 * The TLS handshake with a Zabbix agent on an open TCP socket. The agent sends no TLS alert when it
 * refuses (docs/zabbix.md#refused-connections), so a reset or close is translated by mode (errors.ts).
 */
import tls from 'node:tls';
import type {ZabbixEndpoint} from './endpoint.js';
import {handshakeFailure, tlsError} from './errors.js';

export async function tlsHandshake(endpoint: ZabbixEndpoint, kind: 'psk' | 'cert', options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect(options);
		const cleanup = () => {
			socket.off('error', onError);
			socket.off('close', onClose);
		};

		const onError = (error: NodeJS.ErrnoException) => {
			cleanup();
			socket.on('error', () => undefined);
			socket.destroy();
			reject(handshakeFailure(endpoint, kind, error));
		};

		const onClose = () => {
			cleanup();
			reject(handshakeFailure(endpoint, kind));
		};

		socket.on('error', onError);
		socket.once('close', onClose);
		socket.once('secureConnect', () => {
			cleanup();
			// A second 'secureConnect' is the agent asking to renegotiate; secureOptions refuses it.
			socket.once('secureConnect', () => {
				socket.destroy(tlsError(endpoint, 'the agent asked to renegotiate the TLS session; secmon refuses renegotiation', 'Turn off renegotiation on the agent side (or its TLS proxy)'));
			});
			resolve(socket);
		});
	});
}

