/**
 * C printf number conversions, exactly as glibc prints them.
 *
 * pminfo prints FLOAT values with `%.8g` and DOUBLE values with `%.16g`
 * (docs/pcp.md#pminfo-output, libpcp util.c pmPrintValue). JS's toPrecision/toExponential
 * round ties away from zero and use a different exponent form, so the digits
 * here come from the exact decimal expansion of the double (every finite
 * double is m·2^e, i.e. a finite decimal), rounded half-to-even like glibc in
 * its default rounding mode.
 */

type Exact = {
	negative: boolean;
	/** Value = digits × 10^exp10, digits >= 0. */
	digits: bigint;
	exp10: number;
};

const view = new DataView(new ArrayBuffer(8));

function signBit(x: number): boolean {
	view.setFloat64(0, x);
	return (view.getUint8(0) & 0x80) !== 0;
}

/** The exact value of a finite double as a decimal integer times a power of ten. */
function exact(x: number): Exact {
	view.setFloat64(0, x);
	const high = view.getUint32(0);
	const low = view.getUint32(4);
	const negative = (high & 0x80_00_00_00) !== 0;
	const exponentBits = (high >>> 20) & 0x7_ff;
	let mantissa = (BigInt(high & 0xf_ff_ff) << 32n) | BigInt(low);
	let e2: number;
	if (exponentBits === 0) {
		e2 = -1074; // subnormal (or zero)
	} else {
		mantissa |= 1n << 52n;
		e2 = exponentBits - 1075;
	}

	if (e2 >= 0) {
		return {negative, digits: mantissa << BigInt(e2), exp10: 0};
	}

	// m / 2^k = m·5^k / 10^k
	return {negative, digits: mantissa * (5n ** BigInt(-e2)), exp10: e2};
}

function digitCount(n: bigint): number {
	return n === 0n ? 1 : n.toString().length;
}

/**
 * Drop `drop` trailing decimal digits of n, rounding half to even. A negative
 * `drop` appends zeros instead.
 */
function roundDrop(n: bigint, drop: number): bigint {
	if (drop <= 0) {
		return n * (10n ** BigInt(-drop));
	}

	const pow = 10n ** BigInt(drop);
	let q = n / pow;
	const twice = (n % pow) * 2n;
	if (twice > pow || (twice === pow && (q & 1n) === 1n)) {
		q += 1n;
	}

	return q;
}

function nonFinite(x: number): string | undefined {
	if (Number.isNaN(x)) {
		// glibc prints the sign of a NaN; V8 keeps the bits of NaNs it reads from buffers.
		return signBit(x) ? '-nan' : 'nan';
	}

	if (x === Number.POSITIVE_INFINITY) {
		return 'inf';
	}

	if (x === Number.NEGATIVE_INFINITY) {
		return '-inf';
	}

	return undefined;
}

function exponentText(exp: number): string {
	const abs = Math.abs(exp);
	return `e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

/** Digits `q` (a value of q × 10^-fraction) as "I.FFF" with exactly `fraction` fraction digits. */
function placePoint(q: bigint, fraction: number): string {
	let text = q.toString();
	if (fraction <= 0) {
		return text;
	}

	if (text.length <= fraction) {
		text = '0'.repeat(fraction - text.length + 1) + text;
	}

	return `${text.slice(0, text.length - fraction)}.${text.slice(text.length - fraction)}`;
}

/** Round to `significant` digits: returns the digits (exactly that many) and the decimal exponent of the first. */
function roundSignificant(value: Exact, significant: number): {q: bigint; exponent: number} {
	if (value.digits === 0n) {
		return {q: 0n, exponent: 0};
	}

	const length = digitCount(value.digits);
	let exponent = length - 1 + value.exp10;
	let q = roundDrop(value.digits, length - significant);
	if (digitCount(q) > significant) {
		// 9.99…→10.0…: one more digit, and it is a zero.
		q /= 10n;
		exponent += 1;
	}

	return {q, exponent};
}

function stripZeros(text: string): string {
	if (!text.includes('.')) {
		return text;
	}

	return text.replace(/\.?0+$/v, '');
}

/**
 * `%.<precision>g` as glibc prints it: at most `precision` significant digits,
 * trailing zeros removed, exponent form when exp < -4 or exp >= precision,
 * exponent with at least two digits, `inf`/`-inf`/`nan`/`-nan`.
 */
export function formatG(x: number, precision: number): string {
	const special = nonFinite(x);
	if (special !== undefined) {
		return special;
	}

	const p = precision === 0 ? 1 : Math.max(1, Math.trunc(precision));
	const value = exact(x);
	const sign = value.negative ? '-' : '';
	const {q, exponent} = roundSignificant(value, p);
	if (exponent < -4 || exponent >= p) {
		return sign + stripZeros(placePoint(q, p - 1)) + exponentText(exponent);
	}

	// %f with precision p-1-exponent: the same p significant digits.
	return sign + stripZeros(placePoint(q, p - 1 - exponent));
}

/** `%.<precision>e` as glibc prints it. */
export function formatE(x: number, precision: number): string {
	const special = nonFinite(x);
	if (special !== undefined) {
		return special;
	}

	const p = Math.max(0, Math.trunc(precision));
	const value = exact(x);
	const sign = value.negative ? '-' : '';
	const {q, exponent} = roundSignificant(value, p + 1);
	return sign + placePoint(q, p) + exponentText(exponent);
}

/** `%.<precision>f` as glibc prints it. */
export function formatF(x: number, precision: number): string {
	const special = nonFinite(x);
	if (special !== undefined) {
		return special;
	}

	const p = Math.max(0, Math.trunc(precision));
	const value = exact(x);
	const sign = value.negative ? '-' : '';
	// digits×10^exp10 expressed in units of 10^-p: drop (-exp10 - p) digits.
	const q = roundDrop(value.digits, -value.exp10 - p);
	return sign + placePoint(q, p);
}

/**
 * A PCP FLOAT is a 32-bit float that C widens to double before `%.8g`
 * (docs/pcp.md#pminfo-output: 0.15f prints as 0.15000001). Math.fround gives that double.
 */
export function widenFloat32(x: number): number {
	return Math.fround(x);
}
