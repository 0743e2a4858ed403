#!/usr/bin/env node
'use strict';
/**
 * The floor for bench/zabbix.mjs: the least a Node process can do to get N keys over PSK from
 * a Zabbix agent. Bare node:tls, no secmon code: one TLS connection per key (the agent answers
 * once and closes, with no session resumption), the same cipher list and number of connections
 * as secmon, no timeouts, no error handling beyond failing. What secmon costs above this is
 * secmon's; the rest is Node's TLS and the agent.
 *
 *   node bench/zabbix-floor.cjs PORT IDENTITY PSK_FILE CONNECTIONS KEY...
 */
const fs = require('node:fs');
const tls = require('node:tls');

const [port, identity, pskFile, connections, ...keys] = process.argv.slice(2);
const psk = Buffer.from(fs.readFileSync(pskFile, 'utf8').trim(), 'hex');
// The list in source/protocols/zabbix/tls-context.ts (pskCiphers): forward-secret ECDHE-PSK first.
const ciphers = 'ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES256-CBC-SHA384:ECDHE-PSK-AES128-CBC-SHA256:PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256';
const context = tls.createSecureContext({ca: [], ciphers, minVersion: 'TLSv1.2'});

function request(key) {
	const body = Buffer.from(key);
	const header = Buffer.alloc(13);
	header.write('ZBXD\u0001', 0, 'latin1');
	header.writeUInt32LE(body.length, 5);
	return Buffer.concat([header, body]);
}

async function get(key) {
	return new Promise((resolve, reject) => {
		const socket = tls.connect({
			host: '127.0.0.1', port: Number(port), secureContext: context, pskCallback: () => ({identity, psk}), checkServerIdentity: () => undefined,
		});
		const chunks = [];
		socket.on('secureConnect', () => socket.write(request(key)));
		socket.on('data', chunk => chunks.push(chunk));
		socket.on('end', () => {
			socket.destroy();
			resolve(Buffer.concat(chunks).subarray(13).toString());
		});
		socket.on('error', reject);
	});
}

(async () => {
	const answers = [];
	let next = 0;
	await Promise.all(Array.from({length: Number(connections)}, async () => {
		while (next < keys.length) {
			const index = next++;
			answers[index] = await get(keys[index]);
		}
	}));
	process.stdout.write(answers.join('\n') + '\n');
})();
