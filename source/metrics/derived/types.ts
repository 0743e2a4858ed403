/**
 * PCP descriptor codes the derived-metrics engine works with (docs/pcp.md#identifiers), kept as
 * libpcp's numbers so that inference and evaluation follow derive.c literally
 * (docs/pcp.md#derived-metrics).
 */
import type {Units} from '../model.js';

export const PM_TYPE_32 = 0;
export const PM_TYPE_U32 = 1;
export const PM_TYPE_64 = 2;
export const PM_TYPE_U64 = 3;
export const PM_TYPE_FLOAT = 4;
export const PM_TYPE_DOUBLE = 5;
export const PM_TYPE_STRING = 6;

export const PM_SEM_COUNTER = 1;
export const PM_SEM_INSTANT = 3;
export const PM_SEM_DISCRETE = 4;

export const PM_ID_NULL = 0xff_ff_ff_ff;
export const PM_INDOM_NULL = 0xff_ff_ff_ff;
/** The instance of a value without instance domain. */
export const PM_IN_NULL = -1;

/** libpcp's DYNAMIC_PMID: the domain of every derived metric's PMID. */
export const DYNAMIC_PMID_DOMAIN = 511;

/** A pmDesc: what pmLookupDesc returns for an operand and what inference yields for a derived metric. */
export type PcpDescriptor = {
	pmid: number;
	/** PM_TYPE_* */
	type: number;
	/** PM_SEM_* */
	sem: number;
	indom: number;
	units: Units;
};

export function isArithmetic(type: number): boolean {
	return type >= PM_TYPE_32 && type <= PM_TYPE_DOUBLE;
}

/** pmID from its fields (flag:1 domain:9 cluster:12 item:10). */
export function makePmid(domain: number, cluster: number, item: number): number {
	return ((domain << 22) | (cluster << 10) | item) >>> 0;
}

/** pmTypeStr for the types mkconst accepts (src/libpcp/src/units.c). */
export function typeWord(type: number): string {
	return ['32', 'U32', '64', 'U64', 'FLOAT', 'DOUBLE', 'STRING', 'AGGREGATE', 'AGGREGATE_STATIC', 'EVENT', 'HIGHRES_EVENT'][type] ?? '???';
}
