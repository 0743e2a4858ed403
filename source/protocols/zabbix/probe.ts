/**
 * `secmon verify` for a Zabbix agent: with a pre-shared key (SECMON_PSK_IDENTITY and
 * SECMON_PSK_FILE, and no --cert) the PSK connection is checked by one agent.ping (TLS-PSK has no
 * certificate); otherwise the certificate as for any collector with TLS from the first byte, where
 * --ca-file checks no host name, as the agent does (docs/zabbix.md#tls-from-node).
 */
import {isSecmonError, SecmonError} from '../../errors.js';
import {probeDirect, type Probe, type ProbeInput} from '../shared/probe.js';
import {ZabbixAgent} from './pool.js';
import {loadPsk} from './psk.js';

export async function probeZabbix(input: ProbeInput): Promise<Probe> {
	const pskFile = input.env['SECMON_PSK_FILE'];
	const pskIdentity = input.env['SECMON_PSK_IDENTITY'];
	if (pskFile === undefined || pskFile === '' || input.cert !== undefined) {
		return probeDirect(input, {zabbixStyle: true});
	}

	if (pskIdentity === undefined || pskIdentity === '') {
		throw new SecmonError('USAGE', 'SECMON_PSK_FILE is set but SECMON_PSK_IDENTITY is not', 'Set SECMON_PSK_IDENTITY to the agent\'s TLSPSKIdentity');
	}

	const psk = loadPsk({identity: pskIdentity, keyFile: pskFile});
	const agent = new ZabbixAgent({
		host: input.spec.host, port: input.spec.port, tls: {kind: 'psk', identity: psk.identity, key: psk.key}, timeoutMs: input.timeoutMs,
	});
	try {
		const reply = await agent.get('agent.ping');
		return {
			connected: true, tlsOffered: true, psk: {identity: pskIdentity, ...(reply.tls ? {tls: {version: reply.tls.version, cipher: reply.tls.cipher}} : {})},
		};
	} catch (error) {
		return {connected: true, failure: isSecmonError(error) ? error : new SecmonError('TLS_FAILED', String(error)), psk: {identity: pskIdentity}};
	}
}
