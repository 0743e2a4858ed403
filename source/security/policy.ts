/**
 * Which secure mode applies (DESIGN.md "Security semantics"):
 * `--secure` flag > SECMON_SECURE_SOCKETS > PCP_SECURE_SOCKETS > scheme (`pcps://`) > off.
 *
 * Values follow PCP (pcp.md §2.3, context.c `ctxflags`): `enforce`, `1` or the empty string =
 * enforce; `relaxed`; anything else = off. Two deliberate differences: values are compared
 * case-insensitively and trimmed (PCP's strcmp would make `ENFORCE` mean plain text, a silent
 * downgrade), and an unknown `--secure` value is a usage error rather than "off".
 * Note that PCP itself lets a `pcps://` host spec win over PCP_SECURE_SOCKETS; secmon's documented
 * precedence puts the environment first.
 */
import {SecmonError} from '../errors.js';
import type {SecureMode, SecureModeSource} from './types.js';

export type SecureModeResolution = {mode: SecureMode; source: SecureModeSource};

/** PCP_SECURE_SOCKETS semantics: enforce/1/'' → enforce, relaxed → relaxed, anything else → off. */
export function pcpSecureValue(value: string): SecureMode {
	const normalized = value.trim().toLowerCase();
	if (normalized === '' || normalized === '1' || normalized === 'enforce') {
		return 'enforce';
	}

	if (normalized === 'relaxed') {
		return 'relaxed';
	}

	return 'off';
}

/** The `--secure` flag: like PCP, plus explicit `off`/`0`; anything else is a usage error. */
export function parseSecureFlag(value: string): SecureMode {
	const normalized = value.trim().toLowerCase();
	if (normalized === 'off' || normalized === '0') {
		return 'off';
	}

	if (normalized === '' || normalized === '1' || normalized === 'enforce' || normalized === 'relaxed') {
		return pcpSecureValue(normalized);
	}

	throw new SecmonError(
		'USAGE',
		`unknown --secure value ${JSON.stringify(value)}`,
		'Use --secure=enforce (TLS required), --secure=relaxed (TLS when the collector offers it) or --secure=off (plain text)',
	);
}

/**
 * The mode a host spec's scheme asks for: `pcps://…` → enforce, or its `?secure=` attribute
 * (PCP values); anything else (including `pcp://` and bare host names) → undefined.
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
	return secure === null ? 'enforce' : pcpSecureValue(secure);
}

export function resolveSecureMode(options: {flag?: string; env: NodeJS.ProcessEnv; scheme?: string}): SecureModeResolution {
	if (options.flag !== undefined) {
		return {mode: parseSecureFlag(options.flag), source: 'flag'};
	}

	for (const name of ['SECMON_SECURE_SOCKETS', 'PCP_SECURE_SOCKETS'] as const) {
		const value = options.env[name];
		if (value !== undefined) {
			return {mode: pcpSecureValue(value), source: name};
		}
	}

	if (options.scheme !== undefined) {
		const mode = schemeSecureMode(options.scheme);
		if (mode !== undefined) {
			return {mode, source: 'scheme'};
		}
	}

	return {mode: 'off', source: 'default'};
}

/** For status lines and errors: "enforce (from PCP_SECURE_SOCKETS)". */
export function describeSecureMode(resolution: SecureModeResolution): string {
	const from: Record<SecureModeSource, string> = {
		flag: '--secure',
		SECMON_SECURE_SOCKETS: 'SECMON_SECURE_SOCKETS',
		PCP_SECURE_SOCKETS: 'PCP_SECURE_SOCKETS',
		scheme: 'the pcps:// scheme',
		default: 'the default',
	};
	return `${resolution.mode} (from ${from[resolution.source]})`;
}
