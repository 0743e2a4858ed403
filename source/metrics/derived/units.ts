/**
 * pmParseUnitsStr and pmConvScale as libpcp 6.0.3 has them (src/libpcp/src/units.c), for
 * mkconst(units=…) and rescale(expr, "units") (docs/pcp.md#derived-units).
 */
import type {Units} from '../model.js';
import {
	PM_TYPE_32, PM_TYPE_64, PM_TYPE_DOUBLE, PM_TYPE_FLOAT, PM_TYPE_U32, PM_TYPE_U64,
} from './types.js';

type Keyword = [string, number];

const timeKeywords: Keyword[] = [
	['nanoseconds', 0],
	['nanosecond', 0],
	['nanosec', 0],
	['ns', 0],
	['microseconds', 1],
	['microsecond', 1],
	['microsec', 1],
	['us', 1],
	['milliseconds', 2],
	['millisecond', 2],
	['millisec', 2],
	['ms', 2],
	['seconds', 3],
	['second', 3],
	['sec', 3],
	['s', 3],
	['minutes', 4],
	['minute', 4],
	['min', 4],
	['hours', 5],
	['hour', 5],
	['hr', 5],
	['h', 5],
	['time-0', 0],
	...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((n): Keyword => [`time-${n}`, n]),
	['time-1', 1],
];

const spacePrefixes: Array<[string, string, string, string]> = [
	['K', 'Kibi', 'Kilo', 'K'],
	['M', 'Mebi', 'Mega', 'M'],
	['G', 'Gibi', 'Giga', 'G'],
	['T', 'Tebi', 'Tera', 'T'],
	['P', 'Pebi', 'Peta', 'P'],
	['E', 'Exbi', 'Exa', 'E'],
	['Z', 'Zebi', 'Zetta', 'Z'],
	['Y', 'Yobi', 'Yotta', 'Y'],
];

const spaceKeywords: Keyword[] = [
	['bytes', 0],
	['byte', 0],
	...spacePrefixes.flatMap(([p, binary, decimal], index): Keyword[] => {
		const scale = index + 1;
		return [[`${p}B`, scale],
			[`${p}iB`, scale],
			[`${p}bytes`, scale],
			[`${p}byte`, scale],
			[`${binary}bytes`, scale],
			[`${binary}byte`, scale],
			[`${decimal}bytes`, scale],
			[`${decimal}byte`, scale]];
	}),
	['space-0', 0],
	...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((n): Keyword => [`space-${n}`, n]),
	['space-1', 1],
];

const countKeywords: Keyword[] = [
	...[-8, -7, -6, -5, -4, -3, -2, -1].map((n): Keyword => [`count x 10^${n}`, n]),
	...[2, 3, 4, 5, 6, 7].map((n): Keyword => [`count x 10^${n}`, n]),
	['count x 10', 1],
	['counts', 0],
	['count', 0],
];

const exponentKeywords: Keyword[] = [
	...[-8, -7, -6, -5, -4, -3, -2, -1, 0].map((n): Keyword => [`^${n}`, n]),
	...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((n): Keyword => [`^${n}`, n]),
	['^1', 1],
];

type Part = {dimSpace: number; dimTime: number; dimCount: number; scaleSpace: number; scaleTime: number; scaleCount: number};

const isSpace = (c: string | undefined) => c !== undefined && /^[ \t\n\v\f\r]$/.test(c);

function parsePart(text: string): {part: Part; multiplier: number} | {error: string} {
	const part: Part = {
		dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
	};
	let multiplier = 1;
	let pos = 0;
	// streqskip(): the keyword, case-insensitive, then a blank, '^' or the end.
	const skip = (keyword: string): boolean => {
		if (pos + keyword.length > text.length || text.slice(pos, pos + keyword.length).toLowerCase() !== keyword.toLowerCase()) {
			return false;
		}

		const next = text[pos + keyword.length];
		if (next === undefined || next === '^' || isSpace(next)) {
			pos += keyword.length;
			return true;
		}

		return false;
	};

	while (pos < text.length) {
		const c = text[pos]!;
		if (isSpace(c)) {
			pos++;
			continue;
		}

		if (c === '-' || c === '.' || /\d/.test(c)) {
			const match = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(text.slice(pos));
			if (!match) {
				return {error: 'invalid floating point literal'};
			}

			pos += match[0].length;
			multiplier *= Number(match[0]);
			continue;
		}

		let dimension: 'space' | 'time' | 'count' | undefined;
		if (part.dimTime === 0) {
			const found = timeKeywords.find(([keyword]) => skip(keyword));
			if (found) {
				part.scaleTime = found[1];
				dimension = 'time';
			}
		}

		if (dimension === undefined && part.dimSpace === 0) {
			const found = spaceKeywords.find(([keyword]) => skip(keyword));
			if (found) {
				part.scaleSpace = found[1];
				dimension = 'space';
			}
		}

		if (dimension === undefined && part.dimCount === 0) {
			const found = countKeywords.find(([keyword]) => skip(keyword));
			if (found) {
				part.scaleCount = found[1];
				dimension = 'count';
			}
		}

		if (dimension === undefined) {
			return {error: 'unrecognized or duplicate base unit'};
		}

		let exponent = 0;
		if (pos === text.length || isSpace(text[pos])) {
			exponent = 1;
		} else {
			exponent = exponentKeywords.find(([keyword]) => skip(keyword))?.[1] ?? 0;
		}

		if (dimension === 'time') {
			part.dimTime = exponent;
		} else if (dimension === 'space') {
			part.dimSpace = exponent;
		} else {
			part.dimCount = exponent;
		}
	}

	return {part, multiplier};
}

const timeScales = [0.000_000_001, 0.000_001, 0.001, 1, 60, 3600];

/** Fits a signed 4-bit pmUnits field. */
const fits4 = (n: number) => n >= -8 && n <= 7;

/** pmParseUnitsStr: units and a multiplier, or libpcp's error text. */
export function parseUnitsStr(text: string): {units: Units; multiplier: number} | {error: string} {
	const slash = text.indexOf('/');
	const dividend = parsePart(slash === -1 ? text : text.slice(0, slash));
	if ('error' in dividend) {
		return dividend;
	}

	const zero: Part = {
		dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
	};
	const divisor = slash === -1 ? {part: zero, multiplier: 1} : parsePart(text.slice(slash + 1));
	if ('error' in divisor) {
		return divisor;
	}

	const a = dividend.part;
	const b = divisor.part;
	const units: Units = {
		dimSpace: a.dimSpace - b.dimSpace,
		dimTime: a.dimTime - b.dimTime,
		dimCount: a.dimCount - b.dimCount,
		scaleSpace: 0,
		scaleTime: 0,
		scaleCount: 0,
	};
	if (!fits4(units.dimSpace)) {
		return {error: 'space dimension out of bounds'};
	}

	if (!fits4(units.dimTime)) {
		return {error: 'time dimension out of bounds'};
	}

	if (!fits4(units.dimCount)) {
		return {error: 'count dimension out of bounds'};
	}

	let multiplier = divisor.multiplier / dividend.multiplier;
	if (a.dimSpace === 0 && b.dimSpace !== 0) {
		units.scaleSpace = b.scaleSpace;
	} else if (b.dimSpace === 0 && a.dimSpace !== 0) {
		units.scaleSpace = a.scaleSpace;
	} else {
		multiplier *= (1024 ** a.scaleSpace) ** -a.dimSpace;
		multiplier *= (1024 ** b.scaleSpace) ** b.dimSpace;
	}

	if (a.dimCount === 0 && b.dimCount !== 0) {
		units.scaleCount = b.scaleCount;
	} else if (b.dimCount === 0 && a.dimCount !== 0) {
		units.scaleCount = a.scaleCount;
	} else {
		multiplier *= (10 ** a.scaleCount) ** -a.dimCount;
		multiplier *= (10 ** b.scaleCount) ** b.dimCount;
	}

	if (a.dimTime === 0 && b.dimTime !== 0) {
		units.scaleTime = b.scaleTime;
	} else if (b.dimTime === 0 && a.dimTime !== 0) {
		units.scaleTime = a.scaleTime;
	} else {
		units.scaleTime = units.dimTime === 0 ? 0 : 3;
		multiplier *= (timeScales[a.scaleTime] ?? 1) ** -a.dimTime;
		multiplier *= (timeScales[b.scaleTime] ?? 1) ** b.dimTime;
	}

	return {units, multiplier};
}

const spaceFactor = [1024 * 1024, 1024, 1];

/**
 * pmConvScale's factors: value × mult / div converts from `from` to `to` units, or undefined
 * (PM_ERR_CONV / PM_ERR_UNIT) when the dimensions differ or a scale is out of range.
 * "none" counts as "count" on either side.
 */
export function scaleFactors(fromArg: Units, toArg: Units): {mult: bigint; div: bigint} | undefined {
	const none = (u: Units) => u.dimSpace === 0 && u.dimTime === 0 && u.dimCount === 0;
	const from = none(fromArg) ? {...fromArg, dimCount: 1} : fromArg;
	const to = none(toArg) ? {...toArg, dimCount: 1} : toArg;
	if (from.dimSpace !== to.dimSpace || from.dimTime !== to.dimTime || from.dimCount !== to.dimCount) {
		return undefined;
	}

	let div = 1n;
	let mult = 1n;
	const apply = (dim: number, d: bigint, m: bigint) => {
		if (dim > 0) {
			for (let k = 0; k < dim; k++) {
				div *= d;
				mult *= m;
			}
		} else {
			for (let k = dim; k < 0; k++) {
				mult *= d;
				div *= m;
			}
		}
	};

	if (from.dimSpace !== 0) {
		// Canonical Mbyte; scales above Ebyte are PM_ERR_UNIT.
		if (from.scaleSpace > 6 || to.scaleSpace > 6) {
			return undefined;
		}

		let d = 1n;
		let m = 1n;
		if (from.scaleSpace < 2) {
			d = BigInt(spaceFactor[from.scaleSpace]!);
		} else {
			m = 1024n ** BigInt(from.scaleSpace - 2);
		}

		if (to.scaleSpace < 2) {
			m *= BigInt(spaceFactor[to.scaleSpace]!);
		} else {
			d *= 1024n ** BigInt(to.scaleSpace - 2);
		}

		apply(from.dimSpace, d, m);
	}

	if (from.dimTime !== 0) {
		if (from.scaleTime > 5 || to.scaleTime > 5) {
			return undefined;
		}

		const toSeconds = [1_000_000_000n, 1_000_000n, 1000n, 1n];
		const fromSeconds = [1n, 1n, 1n, 1n, 60n, 3600n];
		let d = from.scaleTime < 3 ? toSeconds[from.scaleTime]! : 1n;
		let m = from.scaleTime > 3 ? fromSeconds[from.scaleTime]! : 1n;
		if (to.scaleTime < 3) {
			m *= toSeconds[to.scaleTime]!;
		} else if (to.scaleTime > 3) {
			d *= fromSeconds[to.scaleTime]!;
		}

		apply(from.dimTime, d, m);
	}

	if (from.dimCount !== 0 || (from.dimSpace === 0 && from.dimTime === 0)) {
		let d = 1n;
		let m = 1n;
		if (from.scaleCount < 0) {
			d = 10n ** BigInt(-from.scaleCount);
		} else {
			m = 10n ** BigInt(from.scaleCount);
		}

		if (to.scaleCount < 0) {
			m *= 10n ** BigInt(-to.scaleCount);
		} else {
			d *= 10n ** BigInt(to.scaleCount);
		}

		if (from.dimCount === 0) {
			mult = m;
			div = d;
		} else {
			apply(from.dimCount, d, m);
		}
	}

	if (mult % div === 0n) {
		mult /= div;
		div = 1n;
	}

	return {mult, div};
}

/** pmConvScale on one value of `type`: integers round half up as libpcp does ((v*mult + div/2) / div). */
export function convScale(type: number, value: number | bigint, from: Units, to: Units): number | bigint | undefined {
	const factors = scaleFactors(from, to);
	if (!factors) {
		return undefined;
	}

	const {mult, div} = factors;
	switch (type) {
		case PM_TYPE_32: {
			return Number(BigInt.asIntN(32, (BigInt(value) * mult + div / 2n) / div));
		}

		case PM_TYPE_U32: {
			return Number(BigInt.asUintN(32, (BigInt(value) * mult + div / 2n) / div));
		}

		case PM_TYPE_64: {
			return BigInt.asIntN(64, (BigInt(value) * mult + div / 2n) / div);
		}

		case PM_TYPE_U64: {
			return BigInt.asUintN(64, (BigInt(value) * mult + div / 2n) / div);
		}

		case PM_TYPE_FLOAT: {
			return Math.fround(Number(value) * Math.fround(Math.fround(Number(mult)) / Math.fround(Number(div))));
		}

		case PM_TYPE_DOUBLE: {
			return Number(value) * (Number(mult) / Number(div));
		}

		default: {
			return undefined;
		}
	}
}
