#!/usr/bin/env node
'use strict';
/**
 * The floor for bench/startup.mjs: the least a Node process does for the same exchange as
 * `secmon --json -h HOST:PORT --secure enforce -f kernel.all.load --ca-file CA`. Bare node:net
 * and node:tls, no secmon code: TCP (no Nagle), the PCP greeting, CREDS with the secure flag and
 * pmcd's secure-ack (docs/pcp.md#tls-upgrade), TLS verified against the CA (chain and host name, Node's
 * defaults), then the five PDUs secmon sends (recorded from its run: PMNS_IDS, DESC_IDS,
 * PROFILE, HIGHRES_FETCH, INSTANCE), each reply read by its length. No decoding, no trust store,
 * no output formatting: what secmon costs above this is secmon's; the rest is Node and pmcd.
 *
 *   node bench/startup-floor.cjs HOST PORT CA_FILE
 */
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');

const [host, port, caFile] = process.argv.slice(2);
const hex = text => Buffer.from(text, 'hex');
// CREDS: one credential, CVERSION 2 with the SECURE and SECURE_ACK feature bits.
const creds = hex('000000140000700c000000000000000101020011');
const requests = [
	// PMNS_IDS for "kernel.all.load", DESC_IDS for its PMID 60.2.0, PROFILE (no reply),
	// HIGHRES_FETCH, INSTANCE for its instance domain 60.2 (all instances).
	'0000002c0000700e000000000000001000000000000000010000000f6b65726e656c2e616c6c2e6c6f61647e',
	'000000180000701600000000ffffffff000000010f000800',
	'0000001c000070020000000000000000000000000000000000000000',
	'000000200000701400000000000000000000000000000000000000010f000800',
	'0000002000007006000000000f0000020000000000000000ffffffff00000000',
].map(text => hex(text));

/** Next whole PDU from a stream (its first 4 bytes are its length). */
function pdus(stream) {
	let buffered = Buffer.alloc(0);
	let waiting;
	const deliver = () => {
		if (waiting && buffered.length >= 4 && buffered.length >= buffered.readUInt32BE(0)) {
			const length = buffered.readUInt32BE(0);
			const pdu = buffered.subarray(0, length);
			buffered = buffered.subarray(length);
			const resolve = waiting;
			waiting = undefined;
			resolve(pdu);
		}
	};

	const onData = chunk => {
		buffered = Buffer.concat([buffered, chunk]);
		deliver();
	};

	stream.on('data', onData);
	return {
		async next() {
			return new Promise(resolve => {
				waiting = resolve;
				deliver();
			});
		},
		stop() {
			stream.off('data', onData);
		},
	};
}

const socket = net.connect({host, port: Number(port), noDelay: true});
socket.on('error', error => {
	throw error;
});
socket.once('connect', async () => {
	const plain = pdus(socket);
	await plain.next(); // Greeting
	socket.write(creds);
	await plain.next(); // Secure-ack
	plain.stop();
	socket.pause();
	const secure = tls.connect({
		socket, ca: [fs.readFileSync(caFile, 'utf8')], checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
	});
	secure.once('secureConnect', async () => {
		const replies = pdus(secure);
		const lengths = [];
		for (const request of requests) {
			secure.write(request);
			if (request.readUInt32BE(4) !== 0x70_02) { // PROFILE has no reply
				const reply = await replies.next();
				if (reply.readUInt32BE(4) === 0x70_00) { // An ERROR PDU: the exchange is not the one secmon makes
					throw new Error(`pmcd answered request ${lengths.length + 1} with an error`);
				}

				lengths.push(reply.length);
			}
		}

		process.stdout.write(JSON.stringify({replyBytes: lengths, sha256: secure.getPeerX509Certificate().fingerprint256}) + '\n');
		secure.end();
	});
});
