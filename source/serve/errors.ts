/**
 * An Error carrying a PCP error code (docs/pcp.md#error-codes), so that a request handler
 * or a metric source can `throw pcpError('INDOM')` and the session turns it
 * into an ERROR PDU.
 */
import {PM_ERR} from '../protocols/pcp/constants.js';
import {pmErrStr} from '../protocols/pcp/errors.js';

export class PcpCodeError extends Error {
	readonly code: number;

	constructor(code: number) {
		super(`${pmErrStr(code)} (${code})`);
		this.name = 'PcpCodeError';
		this.code = code;
	}
}

export function pcpError(name: keyof typeof PM_ERR): PcpCodeError {
	return new PcpCodeError(PM_ERR[name]);
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
