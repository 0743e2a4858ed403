/**
 * PCP error codes the collector answers with (pcp.md §3.6), and an Error that
 * carries one so that a request handler can `throw pcpError('indom')` and the
 * session turns it into an ERROR PDU.
 */
export const pmErr = {
	text: -12_349,
	name: -12_357,
	pmid: -12_358,
	indom: -12_359,
	inst: -12_360,
	ipc: -12_366,
	noprofile: -12_381,
	permission: -12_387,
	again: -12_389,
	nolabels: -12_410,
	toobig: -12_444,
} as const;

export type PmErrName = keyof typeof pmErr;

export class PcpCodeError extends Error {
	readonly code: number;

	constructor(code: number, message?: string) {
		super(message ?? `PCP error ${code}`);
		this.name = 'PcpCodeError';
		this.code = code;
	}
}

export function pcpError(name: PmErrName, message?: string): PcpCodeError {
	return new PcpCodeError(pmErr[name], message ?? `PCP error ${name} (${pmErr[name]})`);
}
