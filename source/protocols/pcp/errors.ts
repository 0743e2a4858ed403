/**
 * PCP error codes and texts. `pmErrStr` prints exactly what libpcp 6.0.3's
 * pmErrStr prints (checked against libpcp.so.3 for every code in the tables
 * below), so secmon's messages match pminfo's word for word.
 */
import {PM_ERR_BASE, PM_ERR, pduTypeName} from './constants.js';

/** PCP's own codes: [code, symbol, text], in `pmerr -l` order. */
const pcpErrors: ReadonlyArray<readonly [number, string, string]> = [
	[-12_345, 'PM_ERR_GENERIC', 'Generic error, already reported above'],
	[-12_346, 'PM_ERR_PMNS', 'Problems parsing PMNS definitions'],
	[-12_347, 'PM_ERR_NOPMNS', 'PMNS not accessible'],
	[-12_348, 'PM_ERR_DUPPMNS', 'Attempt to reload the PMNS'],
	[-12_349, 'PM_ERR_TEXT', 'One-line or help text is not available'],
	[-12_350, 'PM_ERR_APPVERSION', 'Metric not supported by this version of monitored application'],
	[-12_351, 'PM_ERR_VALUE', 'Missing metric value(s)'],
	[-12_353, 'PM_ERR_TIMEOUT', 'Timeout waiting for a response from PMCD'],
	[-12_354, 'PM_ERR_NODATA', 'Empty archive log file'],
	[-12_355, 'PM_ERR_RESET', 'PMCD reset or configuration change'],
	[-12_357, 'PM_ERR_NAME', 'Unknown metric name'],
	[-12_358, 'PM_ERR_PMID', 'Unknown or illegal metric identifier'],
	[-12_359, 'PM_ERR_INDOM', 'Unknown or illegal instance domain identifier'],
	[-12_360, 'PM_ERR_INST', 'Unknown or illegal instance identifier'],
	[-12_397, 'PM_ERR_TYPE', 'Unknown or illegal metric type'],
	[-12_361, 'PM_ERR_UNIT', 'Illegal pmUnits specification'],
	[-12_362, 'PM_ERR_CONV', 'Impossible value or scale conversion'],
	[-12_363, 'PM_ERR_TRUNC', 'Truncation in value conversion'],
	[-12_364, 'PM_ERR_SIGN', 'Negative value in conversion to unsigned'],
	[-12_365, 'PM_ERR_PROFILE', 'Explicit instance identifier(s) required'],
	[-12_366, 'PM_ERR_IPC', 'IPC protocol failure'],
	[-12_414, 'PM_ERR_TLS', 'TLS protocol failure'],
	[-12_368, 'PM_ERR_EOF', 'IPC channel closed'],
	[-12_369, 'PM_ERR_NOTHOST', 'Operation requires context with host source of metrics'],
	[-12_370, 'PM_ERR_EOL', 'End of PCP archive log'],
	[-12_371, 'PM_ERR_MODE', 'Illegal mode specification'],
	[-12_372, 'PM_ERR_LABEL', 'Illegal label record at start of a PCP archive log file'],
	[-12_373, 'PM_ERR_LOGREC', 'Corrupted record in a PCP archive log'],
	[-12_375, 'PM_ERR_LOGFILE', 'Missing PCP archive log file'],
	[-12_374, 'PM_ERR_NOTARCHIVE', 'Operation requires context with archive source of metrics'],
	[-12_376, 'PM_ERR_NOCONTEXT', 'Attempt to use an illegal context'],
	[-12_377, 'PM_ERR_PROFILESPEC', 'NULL pmInDom with non-NULL instlist'],
	[-12_378, 'PM_ERR_PMID_LOG', 'Metric not defined in the PCP archive log'],
	[-12_379, 'PM_ERR_INDOM_LOG', 'Instance domain identifier not defined in the PCP archive log'],
	[-12_380, 'PM_ERR_INST_LOG', 'Instance identifier not defined in the PCP archive log'],
	[-12_381, 'PM_ERR_NOPROFILE', 'Missing profile - protocol botch'],
	[-12_386, 'PM_ERR_NOAGENT', 'No PMCD agent for domain of request'],
	[-12_387, 'PM_ERR_PERMISSION', 'No permission to perform requested operation'],
	[-12_388, 'PM_ERR_CONNLIMIT', 'PMCD connection limit for this host exceeded'],
	[-12_389, 'PM_ERR_AGAIN', 'Try again. Information not currently available'],
	[-12_390, 'PM_ERR_ISCONN', 'Already Connected'],
	[-12_391, 'PM_ERR_NOTCONN', 'Not Connected'],
	[-12_392, 'PM_ERR_NEEDPORT', 'A non-null port name is required'],
	[-12_394, 'PM_ERR_NONLEAF', 'Metric name is not a leaf in PMNS'],
	[-13_394, 'PM_ERR_PMDANOTREADY', 'PMDA is not yet ready to respond to requests'],
	[-13_393, 'PM_ERR_PMDAREADY', 'PMDA is now responsive to requests'],
	[-12_442, 'PM_ERR_BOTCH', 'Internal inconsistency detected or assertion failed'],
	[-12_443, 'PM_ERR_TOOSMALL', 'Insufficient elements in list'],
	[-12_444, 'PM_ERR_TOOBIG', 'Result size exceeded'],
	[-12_445, 'PM_ERR_FAULT', 'QA fault injected'],
	[-12_398, 'PM_ERR_THREAD', 'Operation not supported for multi-threaded applications'],
	[-12_399, 'PM_ERR_NOCONTAINER', 'Container not found'],
	[-12_400, 'PM_ERR_BADSTORE', 'Bad input to pmstore'],
	[-12_401, 'PM_ERR_LOGOVERLAP', 'Archives overlap in time'],
	[-12_402, 'PM_ERR_LOGHOST', 'Archives differ by host'],
	[-12_404, 'PM_ERR_LOGCHANGETYPE', 'The type of a metric has changed in an archive'],
	[-12_405, 'PM_ERR_LOGCHANGESEM', 'The semantics of a metric has changed in an archive'],
	[-12_406, 'PM_ERR_LOGCHANGEINDOM', 'The instance domain of a metric has changed in an archive'],
	[-12_407, 'PM_ERR_LOGCHANGEUNITS', 'The units of a metric have changed in an archive'],
	[-12_408, 'PM_ERR_NEEDCLIENTCERT', 'PMCD requires a client certificate'],
	[-12_409, 'PM_ERR_BADDERIVE', 'Derived metric definition failed'],
	[-12_410, 'PM_ERR_NOLABELS', 'No support for metric label metadata'],
	[-12_411, 'PM_ERR_PMDAFENCED', 'PMDA is currently fenced and unable to respond to requests'],
	[-12_412, 'PM_ERR_RECTYPE', 'Incorrect record type in an archive'],
	[-12_413, 'PM_ERR_FEATURE', 'Archive feature not supported'],
	[-21_344, 'PM_ERR_NYI', 'Functionality not yet implemented'],
];

/** glibc strerror() texts for errno 1..133 (Linux x86-64); absent numbers print "Unknown error N". */
const errnoText: Record<number, string> = {
	1: 'Operation not permitted',
	2: 'No such file or directory',
	3: 'No such process',
	4: 'Interrupted system call',
	5: 'Input/output error',
	6: 'No such device or address',
	7: 'Argument list too long',
	8: 'Exec format error',
	9: 'Bad file descriptor',
	10: 'No child processes',
	11: 'Resource temporarily unavailable',
	12: 'Cannot allocate memory',
	13: 'Permission denied',
	14: 'Bad address',
	15: 'Block device required',
	16: 'Device or resource busy',
	17: 'File exists',
	18: 'Invalid cross-device link',
	19: 'No such device',
	20: 'Not a directory',
	21: 'Is a directory',
	22: 'Invalid argument',
	23: 'Too many open files in system',
	24: 'Too many open files',
	25: 'Inappropriate ioctl for device',
	26: 'Text file busy',
	27: 'File too large',
	28: 'No space left on device',
	29: 'Illegal seek',
	30: 'Read-only file system',
	31: 'Too many links',
	32: 'Broken pipe',
	33: 'Numerical argument out of domain',
	34: 'Numerical result out of range',
	35: 'Resource deadlock avoided',
	36: 'File name too long',
	37: 'No locks available',
	38: 'Function not implemented',
	39: 'Directory not empty',
	40: 'Too many levels of symbolic links',
	42: 'No message of desired type',
	43: 'Identifier removed',
	44: 'Channel number out of range',
	45: 'Level 2 not synchronized',
	46: 'Level 3 halted',
	47: 'Level 3 reset',
	48: 'Link number out of range',
	49: 'Protocol driver not attached',
	50: 'No CSI structure available',
	51: 'Level 2 halted',
	52: 'Invalid exchange',
	53: 'Invalid request descriptor',
	54: 'Exchange full',
	55: 'No anode',
	56: 'Invalid request code',
	57: 'Invalid slot',
	59: 'Bad font file format',
	60: 'Device not a stream',
	61: 'No data available',
	62: 'Timer expired',
	63: 'Out of streams resources',
	64: 'Machine is not on the network',
	65: 'Package not installed',
	66: 'Object is remote',
	67: 'Link has been severed',
	68: 'Advertise error',
	69: 'Srmount error',
	70: 'Communication error on send',
	71: 'Protocol error',
	72: 'Multihop attempted',
	73: 'RFS specific error',
	74: 'Bad message',
	75: 'Value too large for defined data type',
	76: 'Name not unique on network',
	77: 'File descriptor in bad state',
	78: 'Remote address changed',
	79: 'Can not access a needed shared library',
	80: 'Accessing a corrupted shared library',
	81: '.lib section in a.out corrupted',
	82: 'Attempting to link in too many shared libraries',
	83: 'Cannot exec a shared library directly',
	84: 'Invalid or incomplete multibyte or wide character',
	85: 'Interrupted system call should be restarted',
	86: 'Streams pipe error',
	87: 'Too many users',
	88: 'Socket operation on non-socket',
	89: 'Destination address required',
	90: 'Message too long',
	91: 'Protocol wrong type for socket',
	92: 'Protocol not available',
	93: 'Protocol not supported',
	94: 'Socket type not supported',
	95: 'Operation not supported',
	96: 'Protocol family not supported',
	97: 'Address family not supported by protocol',
	98: 'Address already in use',
	99: 'Cannot assign requested address',
	100: 'Network is down',
	101: 'Network is unreachable',
	102: 'Network dropped connection on reset',
	103: 'Software caused connection abort',
	104: 'Connection reset by peer',
	105: 'No buffer space available',
	106: 'Transport endpoint is already connected',
	107: 'Transport endpoint is not connected',
	108: 'Cannot send after transport endpoint shutdown',
	109: 'Too many references: cannot splice',
	110: 'Connection timed out',
	111: 'Connection refused',
	112: 'Host is down',
	113: 'No route to host',
	114: 'Operation already in progress',
	115: 'Operation now in progress',
	116: 'Stale file handle',
	117: 'Structure needs cleaning',
	118: 'Not a XENIX named type file',
	119: 'No XENIX semaphores available',
	120: 'Is a named type file',
	121: 'Remote I/O error',
	122: 'Disk quota exceeded',
	123: 'No medium found',
	124: 'Wrong medium type',
	125: 'Operation canceled',
	126: 'Required key not available',
	127: 'Key has expired',
	128: 'Key has been revoked',
	129: 'Key was rejected by service',
	130: 'Owner died',
	131: 'State not recoverable',
	132: 'Operation not possible due to RF-kill',
	133: 'Memory page has hardware error',
};

/** Cyrus SASL sasl_errstring() texts, by negated SASL code. */
const saslText: Record<number, string> = {
	1: 'generic failure',
	2: 'no memory available',
	3: 'overflowed buffer',
	4: 'no mechanism available',
	5: 'bad protocol / cancel',
	6: 'can\'t request information until later in exchange',
	7: 'invalid parameter supplied',
	8: 'transient failure (e.g., weak key)',
	9: 'integrity check failed',
	10: 'server failed mutual authentication step',
	11: 'mechanism doesn\'t support requested feature',
	12: 'SASL library is not initialized',
	13: 'authentication failure',
	14: 'authorization failure',
	15: 'mechanism too weak for this user',
	16: 'encryption needed to use mechanism',
	17: 'One time use of a plaintext password will enable requested mechanism for user',
	18: 'passphrase expired, has to be reset',
	19: 'account disabled',
	20: 'user not found',
	21: 'passphrase locked',
	22: 'requested change was not needed',
	23: 'version mismatch with plug-in',
	24: 'remote authentication server unavailable',
	26: 'user exists, but no verifier for user',
	27: 'passphrase is too weak for security policy',
	28: 'user supplied passwords are not permitted',
	29: 'sasl_setpass needs old password in order to perform password change',
	30: 'sasl_setpass can\'t store a property because of a constraint violation',
	32: 'channel binding failure',
};

const byCode = new Map<number, {symbol: string; text: string}>(pcpErrors.map(([code, symbol, text]) => [code, {symbol, text}]));

/**
 * The text PCP prints for an error code (pmErrStr): PCP codes from the table,
 * negated errno values as glibc's strerror, SASL and "secure sockets" codes
 * below PM_ERR_NYI as libpcp formats them.
 */
export function pmErrStr(code: number): string {
	if (code === 0) {
		return 'No error';
	}

	if (code < PM_ERR.NYI) {
		// libpcp: codes below NYI wrap SASL (-1..-1000 after the shift) or TLS library errors.
		const wrapped = code - PM_ERR.NYI;
		if (wrapped >= -1000) {
			return `Authentication - ${saslText[-wrapped] ?? 'undefined error!'}`;
		}

		return `Unknown secure sockets error ${code} (${wrapped})`;
	}

	if (code < 0 && code > -PM_ERR_BASE) {
		return errnoText[-code] ?? `Unknown error ${-code}`;
	}

	return byCode.get(code)?.text ?? `No such PMAPI error code (${code})`;
}

/** "PM_ERR_NAME", "ECONNREFUSED"-style names are not PCP's; errno values give undefined. */
export function pmErrSymbol(code: number): string | undefined {
	return byCode.get(code)?.symbol;
}

/**
 * The greeting's status uses PCP 1.x numbering (docs/pcp.md#greeting): codes
 * <= -1000 are shifted by -11345 (e.g. -1042 is PM_ERR_PERMISSION -12387).
 */
export function fromPcp1Code(code: number): number {
	return code <= -1000 ? code - (PM_ERR_BASE - 1000) : code;
}

/** The inverse of fromPcp1Code, for a server writing a greeting. */
export function toPcp1Code(code: number): number {
	return code <= -PM_ERR_BASE ? code + (PM_ERR_BASE - 1000) : code;
}

/** An error code sent by the peer (ERROR PDU, negative numval, greeting status). */
export class PcpError extends Error {
	readonly code: number;

	constructor(code: number, options?: {cause?: unknown}) {
		super(pmErrStr(code), options);
		this.name = 'PcpError';
		this.code = code;
	}
}

export function isPcpError(error: unknown): error is PcpError {
	return error instanceof PcpError;
}

/** A PDU that breaks the wire format: wrong length, count, offset or type. */
export class PduError extends Error {
	/** PDU type code, when known. */
	readonly pduType: number | undefined;
	/** The offending field, e.g. "numnames". */
	readonly field: string | undefined;

	constructor(message: string, pduType?: number, field?: string) {
		super(pduType === undefined ? message : `Malformed ${pduTypeName(pduType)} PDU: ${message}`);
		this.name = 'PduError';
		this.pduType = pduType;
		this.field = field;
	}
}

export function isPduError(error: unknown): error is PduError {
	return error instanceof PduError;
}
