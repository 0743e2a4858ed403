/**
 * Which secure mode applies to a collector (readme "Security model"):
 * `--secure` flag > the stricter of SECMON_SECURE_SOCKETS and PCP_SECURE_SOCKETS > the default,
 * with a `pcps://` spec as a floor that only the flag can lower.
 *
 * Values follow PCP's PCP_SECURE_SOCKETS (libpcp src/libpcp/src/context.c: `enforce`, `1` or the
 * empty string = enforce; `relaxed`), with secmon's differences, each chosen so that no typo
 * can silently mean plain text:
 * - Unset means `relaxed` (TLS whenever the collector offers it, verified as in enforce), not
 *   plain text as in PCP.
 * - Plain text only by an explicit `0`, `off`, `no` or `false`; any other value is a usage error
 *   (PCP takes every unknown value, `yes` and `enforced` included, as plain text).
 * - Values are trimmed and compared case-insensitively (PCP's strcmp makes `ENFORCE` plain text).
 * - When both variables are set and disagree, the stricter wins (and the caller says so once).
 */
import {SecmonError} from '../errors.js';
import type {SecureMode, SecureModeSource} from './types.js';

export type SecureModeResolution = {
	mode: SecureMode;
	source: SecureModeSource;
	/** Said once on stderr: the two variables disagreed and the stricter won. */
	notice?: string;
};

const offValues = new Set(['0', 'off', 'no', 'false']);
const validValues = 'enforce, 1 or empty (TLS required); relaxed (TLS whenever the collector offers it); 0, off, no or false (plain text)';

/** A secure-mode value from `what` (a variable, the flag, a `?secure=` attribute); anything unknown is a usage error. */
export function parseSecureValue(value: string, what: string): SecureMode {
	const normalized = value.trim().toLowerCase();
	if (normalized === '' || normalized === '1' || normalized === 'enforce') {
		return 'enforce';
	}

	if (normalized === 'relaxed') {
		return 'relaxed';
	}

	if (offValues.has(normalized)) {
		return 'off';
	}

	const fix = what.startsWith('--')
		? `Use ${what} enforce, ${what} relaxed or ${what} off`
		: (what.endsWith('_SOCKETS') ? `Set it to one of them, e.g. export ${what}=enforce, or unset it: unset ${what}` : 'Use one of them');
	throw new SecmonError('USAGE', `${what}=${JSON.stringify(value)} is not a secure mode`, `Valid values: ${validValues}.\n${fix}`);
}

/** The `--secure` flag. */
export function parseSecureFlag(value: string): SecureMode {
	return parseSecureValue(value, '--secure');
}

/**
 * The mode a host spec's scheme asks for: `pcps://…` → enforce, or its `?secure=` attribute;
 * anything else (including `pcp://` and bare host names) → undefined.
 * Accepts a bare scheme (`pcps`, `pcps:`) or a whole host spec (`pcps://host:44321?secure=relaxed`).
 */
export function schemeSecureMode(spec: string): SecureMode | undefined {
	const match = /^\s*([a-z][a-z\d+.\-]*)(?::(?:\/\/)?(.*))?$/isv.exec(spec);
	if (match?.[1]?.toLowerCase() !== 'pcps') {
		return undefined;
	}

	const rest = match[2] ?? '';
	const queryStart = rest.indexOf('?');
	if (queryStart === -1) {
		return 'enforce';
	}

	const secure = new URLSearchParams(rest.slice(queryStart + 1)).get('secure');
	return secure === null ? 'enforce' : parseSecureValue(secure, '?secure');
}

export const strength: Record<SecureMode, number> = {off: 0, relaxed: 1, enforce: 2};

const variables = ['SECMON_SECURE_SOCKETS', 'PCP_SECURE_SOCKETS'] as const;

/** The two variables: the stricter wins when both are set and disagree. */
function fromEnvironment(env: NodeJS.ProcessEnv): SecureModeResolution | undefined {
	const set = variables
		.filter(name => env[name] !== undefined)
		.map(name => ({name, value: env[name]!, mode: parseSecureValue(env[name]!, name)}));
	const [first, second] = set;
	if (first === undefined) {
		return undefined;
	}

	if (second === undefined || second.mode === first.mode) {
		return {mode: first.mode, source: first.name};
	}

	const [winner, loser] = strength[first.mode] >= strength[second.mode] ? [first, second] : [second, first];
	return {
		mode: winner.mode,
		source: winner.name,
		notice: `secmon: note: ${winner.name}=${winner.value} and ${loser.name}=${loser.value} disagree; the stricter, ${winner.mode}, applies (unset one of them to silence this)`,
	};
}

export function resolveSecureMode(options: {flag?: string; env: NodeJS.ProcessEnv; scheme?: string}): SecureModeResolution {
	// Every value is checked, even one a stronger source overrides: a typo is always a usage error.
	const environment = fromEnvironment(options.env);
	const scheme = options.scheme === undefined ? undefined : schemeSecureMode(options.scheme);
	if (options.flag !== undefined) {
		return {mode: parseSecureFlag(options.flag), source: 'flag'};
	}

	// A pcps:// spec is a floor the environment cannot lower (PCP_SECURE_SOCKETS=0 must not turn
	// pcps:// into plain text); only an explicit --secure overrides the scheme.
	if (environment !== undefined && (scheme === undefined || strength[environment.mode] >= strength[scheme])) {
		return environment;
	}

	if (scheme !== undefined) {
		return {mode: scheme, source: 'scheme', ...(environment?.notice ? {notice: environment.notice} : {})};
	}

	return {mode: 'relaxed', source: 'default'};
}

/** The `--secure VALUE` that reproduces a resolution in a fresh shell, or undefined when the command line already carries it. */
export function secureArgument(resolution: Pick<SecureModeResolution, 'mode' | 'source'>): string | undefined {
	return resolution.source === 'SECMON_SECURE_SOCKETS' || resolution.source === 'PCP_SECURE_SOCKETS' ? resolution.mode : undefined;
}

/** For status lines and errors: "enforce (from PCP_SECURE_SOCKETS)". */
export function describeSecureMode(resolution: Pick<SecureModeResolution, 'mode' | 'source'>): string {
	const from: Record<SecureModeSource, string> = {
		flag: '--secure',
		SECMON_SECURE_SOCKETS: 'SECMON_SECURE_SOCKETS',
		PCP_SECURE_SOCKETS: 'PCP_SECURE_SOCKETS',
		scheme: 'the pcps:// scheme',
		default: 'the default: TLS whenever the collector offers it',
	};
	return `${resolution.mode} (from ${from[resolution.source]})`;
}
