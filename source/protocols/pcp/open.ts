/**
 * pcp:// and pcps:// → a verified PcpClient: the plan's security settings meet PCP's in-band TLS
 * upgrade here (docs/design.md#layering-rules: the client gets an already verified stream; trust
 * decisions happen in source/security).
 */
import {rerunWithSecure} from '../../shell.js';
import {checkPlainAllowed} from '../../security/downgrade.js';
import {secmonHome} from '../../security/home.js';
import {TrustStore} from '../../security/store.js';
import {prepareTls, upgradeToTls, type PreparedTls} from '../../security/tls.js';
import type {TlsFacts} from '../../security/types.js';
import type {SessionHooks} from '../../io.js';
import type {Plan, SecurityPlan} from '../../plan.js';
import {displayHostPort, type HostSpec} from '../../target.js';
import {tlsOptionsFor} from '../shared/tls-options.js';
import {PcpClient} from './client.js';
import {FEATURE} from './constants.js';

export function plainWarning(target: HostSpec, security: SecurityPlan): string | undefined {
	if (security.mode === 'relaxed') {
		const mode = security.modeSource === 'default' ? 'secmon' : 'relaxed mode';
		return `secmon: warning: ${target.display} does not offer TLS; ${mode} continues in PLAIN TEXT (not encrypted, not authenticated). Turn TLS on at the collector, or refuse plain text with --secure enforce.`;
	}

	return undefined;
}

/**
 * A session with the pmcd of `target`. A host given without a port tries $PMCD_PORT's ports in
 * turn as libpcp does (docs/pcp.md#pmcd_port), but only while nothing answers: once a TCP
 * connection is up, its outcome (a TLS or trust failure included) is final, so a refused TLS
 * session can never move to a plain one on another port.
 */
export async function openPcp(target: HostSpec, plan: Plan, hooks: SessionHooks): Promise<{client: PcpClient; tls?: TlsFacts}> {
	const ports = [target.port, ...(target.otherPorts ?? [])];
	for (const [index, port] of ports.entries()) {
		const attempt = port === target.port ? target : {...target, port, display: displayHostPort(target.host, port)};
		let reached = false;
		try {
			// One port after the other, as libpcp.
			return await openPcpPort(attempt, plan, hooks, () => {
				reached = true;
			});
		} catch (error) {
			// A port read over verified TLS before (or pinned) is never passed over for the next one:
			// an attacker resetting its connection must not steer secmon to a port with no memory,
			// where relaxed mode would read plain text (the downgrade memory is per host:port).
			if (reached || index === ports.length - 1 || TrustStore.for(secmonHome(hooks.env)).tlsMemory(attempt) !== undefined) {
				throw error;
			}
		}
	}

	throw new Error('unreachable: no PMCD port to try');
}

async function openPcpPort(target: HostSpec, plan: Plan, hooks: SessionHooks, onTcpConnected: () => void): Promise<{client: PcpClient; tls?: TlsFacts}> {
	const security = plan.security(target);
	// As before the one builder: an empty --servername is kept for PCP (extraOption skips it for the others).
	const servername = security.servername ?? (hooks.env['SECMON_SERVERNAME'] || undefined);
	const tlsOptions = tlsOptionsFor(target, plan, hooks, servername === undefined ? {} : {servername});
	const {store} = tlsOptions;
	let prepared: PreparedTls | undefined;
	const relaxedHint = hooks.argv === undefined
		? undefined
		: `Turn TLS on in pmcd (tls-cert-file and tls-key-file in its tls.conf), or accept plain text (said loudly) with:\n  ${rerunWithSecure(hooks.argv, 'relaxed')}`;
	const client = await PcpClient.connect({
		host: target.host,
		port: target.port,
		secure: security.mode,
		connectTimeoutMs: plan.connectTimeoutMs,
		requestTimeoutMs: plan.requestTimeoutMs,
		clientCertificate: security.cert !== undefined,
		onTcpConnected,
		prepareUpgrade() {
			prepared = prepareTls(tlsOptions);
		},
		upgrade: async socket => upgradeToTls(socket, tlsOptions, prepared),
		...(relaxedHint === undefined ? {} : {tlsRequiredHint: relaxedHint}),
		beforePlain(offersTls) {
			checkPlainAllowed({
				store,
				target: tlsOptions.target,
				collector: `PMCD at ${target.display}`,
				mode: security.mode,
				modeSource: security.modeSource,
				...(security.tlsRequiredBy === undefined ? {} : {tlsRequiredBy: security.tlsRequiredBy}),
				plainBecause: offersTls ? 'offers TLS, but secure mode is off' : 'offers no TLS',
				...(hooks.argv === undefined ? {} : {rerunPlain: rerunWithSecure(hooks.argv, 'off')}),
				warn: hooks.warn,
			});
		},
	});
	if (security.mode === 'off' && (client.features & FEATURE.SECURE) !== 0) {
		hooks.warn(`secmon: note: ${target.display} offers TLS, but secure mode is off, so this session is PLAIN TEXT. Use --secure enforce (or pcps://, or PCP_SECURE_SOCKETS=enforce) to encrypt and verify it.`);
	}

	if (client.plainBecauseRelaxed) {
		const warning = plainWarning(target, security);
		if (warning) {
			hooks.warn(warning);
		}
	}

	return {client, tls: client.tls};
}
