/**
 * PCP wire constants (libpcp.h / pmapi.h of PCP 6.0.3). References are to
 * the sections of docs/pcp.md.
 */

/** PDU type codes (docs/pcp.md#pdu-types). */
export const PDU = {
	ERROR: 0x70_00,
	RESULT: 0x70_01,
	PROFILE: 0x70_02,
	FETCH: 0x70_03,
	DESC_REQ: 0x70_04,
	DESC: 0x70_05,
	INSTANCE_REQ: 0x70_06,
	INSTANCE: 0x70_07,
	TEXT_REQ: 0x70_08,
	TEXT: 0x70_09,
	CONTROL_REQ: 0x70_0a,
	CREDS: 0x70_0c,
	PMNS_IDS: 0x70_0d,
	PMNS_NAMES: 0x70_0e,
	PMNS_CHILD: 0x70_0f,
	PMNS_TRAVERSE: 0x70_10,
	ATTR: 0x70_11,
	LABEL_REQ: 0x70_12,
	LABEL: 0x70_13,
	HIGHRES_FETCH: 0x70_14,
	HIGHRES_RESULT: 0x70_15,
	DESC_IDS: 0x70_16,
	DESCS: 0x70_17,
} as const;

export type PduType = (typeof PDU)[keyof typeof PDU];

const pduNames = new Map<number, string>(Object.entries(PDU).map(([name, code]) => [code, name]));

/** "PMNS_NAMES", or "0x7050" for a code PCP does not define. */
export function pduTypeName(type: number): string {
	return pduNames.get(type) ?? `0x${(type >>> 0).toString(16)}`;
}

/** Size of the PDU header: len, type, from (docs/pcp.md#framing). */
export const PDU_HEADER_BYTES = 12;

/** pmcd accepts client PDUs up to this size by default (docs/pcp.md#framing, `pmcd -L`). */
export const PMCD_MAX_CLIENT_PDU = 65_536;

/** The only PDU version (docs/pcp.md#creds). */
export const PDU_VERSION = 2;

/** `from` value pmcd writes in its PDUs. */
export const FROM_ANON = 0;

/** Greeting feature bits, the low 16 bits of the challenge (docs/pcp.md#greeting). */
export const FEATURE = {
	SECURE: 0x1,
	COMPRESS: 0x2,
	AUTH: 0x4,
	CREDS_REQD: 0x8,
	SECURE_ACK: 0x10,
	NO_NSS_INIT: 0x20,
	CONTAINER: 0x40,
	CERT_REQD: 0x80,
	BAD_LABEL: 0x1_00,
	LABELS: 0x2_00,
	HIGHRES: 0x4_00,
	DESCS: 0x8_00,
} as const;

/** Names of the feature bits set in `features`, lowest bit first. */
export function featureNames(features: number): string[] {
	return Object.entries(FEATURE)
		.filter(([, bit]) => (features & bit) !== 0)
		.map(([name]) => name);
}

/** Credential types in CREDS (c_type). */
export const CRED = {
	/** CVERSION: version + requested feature flags. */
	VERSION: 1,
} as const;

/** Metric value types (pmDesc.type, pmValueBlock.vtype; docs/pcp.md#identifiers). */
export const PM_TYPE = {
	NOSUPPORT: -1,
	I32: 0,
	U32: 1,
	I64: 2,
	U64: 3,
	FLOAT: 4,
	DOUBLE: 5,
	STRING: 6,
	AGGREGATE: 7,
	AGGREGATE_STATIC: 8,
	EVENT: 9,
	HIGHRES_EVENT: 10,
	UNKNOWN: 255,
} as const;

/** Metric semantics (pmDesc.sem). */
export const PM_SEM = {
	COUNTER: 1,
	INSTANT: 3,
	DISCRETE: 4,
} as const;

/** Value formats in a vset (docs/pcp.md#fetch-and-result). SPTR is DPTR on the wire. */
export const PM_VAL = {
	INSITU: 0,
	DPTR: 1,
	SPTR: 2,
} as const;

/** Size of the pmValueBlock header word (vtype:8, vlen:24). */
export const PM_VAL_HDR_SIZE = 4;

/** vlen is a 24-bit field. */
export const PM_VAL_VLEN_MAX = 0xff_ff_ff;

export const PM_ID_NULL = 0xff_ff_ff_ff;
export const PM_INDOM_NULL = 0xff_ff_ff_ff;
/** Instance id of a metric without an instance domain. */
export const PM_IN_NULL = -1;

/** Profile states (docs/pcp.md#profile). */
export const PM_PROFILE = {
	/** Everything except the listed instances. */
	INCLUDE: 0,
	/** Nothing except the listed instances. */
	EXCLUDE: 1,
} as const;

/** Text request bits: kind (ONELINE/HELP) | target (PMID/INDOM). */
export const PM_TEXT = {
	ONELINE: 1,
	HELP: 2,
	PMID: 4,
	INDOM: 8,
	DIRECT: 16,
} as const;

/** Label request types (docs/pcp.md#labels). */
export const PM_LABEL = {
	CONTEXT: 0x1,
	DOMAIN: 0x2,
	INDOM: 0x4,
	CLUSTER: 0x8,
	ITEM: 0x10,
	INSTANCES: 0x20,
	COMPOUND: 0x40,
	/** Flag bit in a label's flags byte. */
	OPTIONAL: 0x80,
} as const;

/** PMNS_TRAVERSE/PMNS_CHILD subtype and PMNS_NAMES status values. */
export const PMNS = {
	/** PMNS_CHILD subtype: names only. */
	CHILD_NAMES: 0,
	/** PMNS_CHILD subtype: also return leaf/non-leaf status. */
	CHILD_STATUS: 1,
	LEAF_STATUS: 0,
	NONLEAF_STATUS: 1,
} as const;

/** Base of PCP's own error codes: PCP codes are <= -PM_ERR_BASE, errno values above. */
export const PM_ERR_BASE = 12_345;

/** PCP error codes, exactly as `pmerr -l` lists them for PCP 6.0.3. */
export const PM_ERR = {
	GENERIC: -12_345,
	PMNS: -12_346,
	NOPMNS: -12_347,
	DUPPMNS: -12_348,
	TEXT: -12_349,
	APPVERSION: -12_350,
	VALUE: -12_351,
	TIMEOUT: -12_353,
	NODATA: -12_354,
	RESET: -12_355,
	NAME: -12_357,
	PMID: -12_358,
	INDOM: -12_359,
	INST: -12_360,
	TYPE: -12_397,
	UNIT: -12_361,
	CONV: -12_362,
	TRUNC: -12_363,
	SIGN: -12_364,
	PROFILE: -12_365,
	IPC: -12_366,
	TLS: -12_414,
	EOF: -12_368,
	NOTHOST: -12_369,
	EOL: -12_370,
	MODE: -12_371,
	LABEL: -12_372,
	LOGREC: -12_373,
	LOGFILE: -12_375,
	NOTARCHIVE: -12_374,
	NOCONTEXT: -12_376,
	PROFILESPEC: -12_377,
	PMID_LOG: -12_378,
	INDOM_LOG: -12_379,
	INST_LOG: -12_380,
	NOPROFILE: -12_381,
	NOAGENT: -12_386,
	PERMISSION: -12_387,
	CONNLIMIT: -12_388,
	AGAIN: -12_389,
	ISCONN: -12_390,
	NOTCONN: -12_391,
	NEEDPORT: -12_392,
	NONLEAF: -12_394,
	PMDANOTREADY: -13_394,
	PMDAREADY: -13_393,
	BOTCH: -12_442,
	TOOSMALL: -12_443,
	TOOBIG: -12_444,
	FAULT: -12_445,
	THREAD: -12_398,
	NOCONTAINER: -12_399,
	BADSTORE: -12_400,
	LOGOVERLAP: -12_401,
	LOGHOST: -12_402,
	LOGCHANGETYPE: -12_404,
	LOGCHANGESEM: -12_405,
	LOGCHANGEINDOM: -12_406,
	LOGCHANGEUNITS: -12_407,
	NEEDCLIENTCERT: -12_408,
	BADDERIVE: -12_409,
	NOLABELS: -12_410,
	PMDAFENCED: -12_411,
	RECTYPE: -12_412,
	FEATURE: -12_413,
	NYI: -21_344,
} as const;

/** Common negated errno values PCP passes through unchanged (Linux numbering). */
export const ERRNO = {
	EPERM: 1,
	ENOENT: 2,
	EINTR: 4,
	EIO: 5,
	E2BIG: 7,
	EBADF: 9,
	EAGAIN: 11,
	ENOMEM: 12,
	EACCES: 13,
	EINVAL: 22,
	EPIPE: 32,
	EPROTO: 71,
	EBADMSG: 74,
	EMSGSIZE: 90,
	EOPNOTSUPP: 95,
	EADDRINUSE: 98,
	EADDRNOTAVAIL: 99,
	ENETDOWN: 100,
	ENETUNREACH: 101,
	ECONNABORTED: 103,
	ECONNRESET: 104,
	ENOTCONN: 107,
	ETIMEDOUT: 110,
	ECONNREFUSED: 111,
	EHOSTDOWN: 112,
	EHOSTUNREACH: 113,
} as const;

/** Default TCP port of pmcd. */
export const PMCD_PORT = 44_321;

/** libpcp defaults (PMCD_CONNECT_TIMEOUT, PMCD_REQUEST_TIMEOUT; docs/pcp.md#client-environment). */
export const PMCD_CONNECT_TIMEOUT_MS = 5000;
export const PMCD_REQUEST_TIMEOUT_MS = 10_000;

/** pmID = flag:1 | domain:9 | cluster:12 | item:10 (docs/pcp.md#identifiers). */
export function pmid(domain: number, cluster: number, item: number): number {
	return (((domain & 0x1_ff) << 22) | ((cluster & 0xf_ff) << 10) | (item & 0x3_ff)) >>> 0;
}

export function pmidDomain(id: number): number {
	return (id >>> 22) & 0x1_ff;
}

export function pmidCluster(id: number): number {
	return (id >>> 10) & 0xf_ff;
}

export function pmidItem(id: number): number {
	return id & 0x3_ff;
}

/** pmInDom = flag:1 | domain:9 | serial:22. */
export function pmInDom(domain: number, serial: number): number {
	return (((domain & 0x1_ff) << 22) | (serial & 0x3f_ff_ff)) >>> 0;
}

export function indomDomain(id: number): number {
	return (id >>> 22) & 0x1_ff;
}

export function indomSerial(id: number): number {
	return id & 0x3f_ff_ff;
}
