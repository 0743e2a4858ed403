/**
 * Collectors with TLS from the first byte (Icinga 2, Livestatus, mon): whether a session is TLS or
 * plain text, and the plain-text warning. Their TLS options come from ./tls-options.ts, their
 * connections from security/tls-connector.ts.
 *
 * Security modes. These collectors speak TLS from the first byte (HTTPS, or stunnel in front of
 * the plain protocol), so there is nothing to negotiate in-band:
 * - icinga://: always TLS, whatever the mode: the REST API has no plain-text form.
 * - livestatus:// and mon://: TLS in enforce, relaxed and in the default mode (relaxed cannot
 *   detect "TLS not offered" on a stunnel port, and a plain attempt after a failed TLS one would be
 *   a downgrade). Plain text only when asked for explicitly with `--secure off` or
 *   SECMON_SECURE_SOCKETS=off (PCP_SECURE_SOCKETS is PCP's and never turns TLS off here), with a
 *   warning on every run.
 */
import type {SessionHooks} from '../../io.js';
import type {SecurityPlan} from '../../plan.js';
import {checkPlainAllowed} from '../../security/downgrade.js';
import {secmonHome} from '../../security/home.js';
import {TrustStore} from '../../security/store.js';
import type {HostSpec} from '../../target.js';

export type Transport = 'tls' | 'plain';

/** Livestatus and mon (icinga:// is always TLS and does not ask). */
export function transportFor(security: Pick<SecurityPlan, 'mode' | 'modeSource'>): Transport {
	return security.mode === 'off' && (security.modeSource === 'flag' || security.modeSource === 'SECMON_SECURE_SOCKETS') ? 'plain' : 'tls';
}

export function plainTextWarning(target: HostSpec): string {
	return `secmon: warning: ${target.protocol}://${target.display} in PLAIN TEXT because --secure off was asked for (not encrypted, not authenticated; anyone on the path can read and change it).`;
}

/**
 * Livestatus and mon in plain text (only ever by an explicit --secure off): say so, and say it
 * louder when the collector was read over verified TLS before (security/downgrade.ts).
 */
export function warnPlainText(target: HostSpec, security: Pick<SecurityPlan, 'mode' | 'modeSource'>, hooks: SessionHooks): void {
	hooks.warn(plainTextWarning(target));
	checkPlainAllowed({
		store: TrustStore.for(secmonHome(hooks.env)),
		target: {host: target.host, port: target.port},
		collector: `${target.protocol}://${target.display}`,
		mode: security.mode,
		modeSource: security.modeSource,
		plainBecause: 'is asked for in plain text with --secure off',
		warn: hooks.warn,
	});
}
