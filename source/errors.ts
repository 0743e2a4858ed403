/**
 * Every failure secmon reports carries an exit code (readme "Exit codes") and a
 * "what to do next" line, so that each refusal tells the user how to proceed.
 */
import {safeText} from './safe-text.js';

export const exitCodes = {
	ok: 0,
	failure: 1,
	usage: 2,
	untrusted: 3,
	changed: 4,
	tlsRequired: 5,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/**
 * The worse of two exit codes, for a run over several collectors (readme "Exit codes"): the one
 * that asks most of the user. A changed certificate (4, possible interception) ranks first, then
 * TLS required or stripped (5), an untrusted certificate (3), usage (2), a failure (1), ok (0).
 * Codes outside the table (signals) rank above all of them.
 */
export function worseExitCode(a: number, b: number): number {
	return exitRank(b) > exitRank(a) ? b : a;
}

const exitRanks: Readonly<Record<number, number>> = {
	0: 0, 1: 1, 2: 2, 3: 3, 5: 4, 4: 5,
};

function exitRank(code: number): number {
	return exitRanks[code] ?? 6;
}

/** Stable machine-readable codes, used in `--json` error objects. */
export type ErrorCode
	= | 'USAGE'
		| 'CONNECT_FAILED'
		| 'TIMEOUT'
		| 'PROTOCOL'
		| 'PEER_ERROR'
		| 'TLS_FAILED'
		| 'TLS_REQUIRED'
		| 'CLIENT_CERT_REQUIRED'
		| 'TRUST_REQUIRED'
		| 'TRUST_REJECTED'
		| 'CERT_CHANGED'
		| 'CERT_INVALID'
		| 'STORE'
		| 'INTERNAL';

const exitFor: Record<ErrorCode, ExitCode> = {
	USAGE: exitCodes.usage,
	CONNECT_FAILED: exitCodes.failure,
	TIMEOUT: exitCodes.failure,
	PROTOCOL: exitCodes.failure,
	PEER_ERROR: exitCodes.failure,
	TLS_FAILED: exitCodes.failure,
	TLS_REQUIRED: exitCodes.tlsRequired,
	CLIENT_CERT_REQUIRED: exitCodes.failure,
	TRUST_REQUIRED: exitCodes.untrusted,
	TRUST_REJECTED: exitCodes.untrusted,
	CERT_CHANGED: exitCodes.changed,
	CERT_INVALID: exitCodes.failure,
	STORE: exitCodes.failure,
	INTERNAL: exitCodes.failure,
};

/**
 * Structured facts of a failure for `--json` (docs/schema/error.json): the fingerprints, files and
 * commands a long human message shows (the changed-certificate banner), so that a script needs none
 * of that text.
 */
export type ErrorFacts = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

export class SecmonError extends Error {
	readonly code: ErrorCode;
	readonly hint: string | undefined;
	readonly exitCode: ExitCode;
	readonly facts: ErrorFacts | undefined;

	/**
	 * @param code stable code for scripts
	 * @param message what happened (one line, no trailing period needed)
	 * @param hint what the user can do next (may span lines)
	 */
	constructor(
		code: ErrorCode,
		message: string,
		hint?: string,
		options?: {cause?: unknown; exitCode?: ExitCode; facts?: ErrorFacts},
	) {
		super(message, options?.cause === undefined ? undefined : {cause: options.cause});
		this.name = 'SecmonError';
		this.code = code;
		this.hint = hint;
		this.exitCode = options?.exitCode ?? exitFor[code];
		this.facts = options?.facts;
	}
}

export function isSecmonError(error: unknown): error is SecmonError {
	return error instanceof SecmonError;
}

/**
 * Human text for stderr: message, then the hint indented. Messages quote peers (an HTTP error
 * body, a collector's status text, certificate names), so control characters are made inert.
 */
export function formatError(error: unknown): string {
	if (isSecmonError(error)) {
		const text = error.hint ? `secmon: ${error.message}\n${error.hint}` : `secmon: ${error.message}`;
		return safeText(text, {multiline: true});
	}

	const message = error instanceof Error ? error.message : String(error);
	return safeText(`secmon: ${message}`, {multiline: true});
}

export type ErrorJson = {type: 'error'; code: ErrorCode; message: string; hint?: string; exitCode: number; detail?: string[]} & Record<string, unknown>;

/**
 * The one JSON object `--json` prints for a fatal error (docs/schema/error.json). `message` is one
 * line, the first of the human text; the lines after it (a banner, indented facts) are the
 * error's structured facts when it has them, else `detail`, one string per line. `hint` is the
 * human "what to do next" text as stderr shows it.
 */
export function errorJson(error: unknown): ErrorJson {
	const raw = error instanceof Error ? error.message : String(error);
	const [first = '', ...rest] = raw.split('\n');
	const lines = rest.map(line => line.trim()).filter(line => line !== '');
	if (isSecmonError(error)) {
		return {
			type: 'error',
			code: error.code,
			message: first,
			...(error.hint ? {hint: error.hint} : {}),
			exitCode: error.exitCode,
			...(error.facts ?? (lines.length > 0 ? {detail: lines} : {})),
		};
	}

	return {
		type: 'error', code: 'INTERNAL', message: first, exitCode: exitCodes.failure, ...(lines.length > 0 ? {detail: lines} : {}),
	};
}
