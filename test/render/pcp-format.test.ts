import {execFileSync, spawnSync} from 'node:child_process';
import {
	existsSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {noUnits, type Units} from '../../source/metrics/model.js';
import {
	eventSummary, formatAggregate, hex32, pmIdBuild, pmIdCluster, pmIdDomain, pmIdItem, pmIDStr, pmInDomBuild, pmInDomStr, pmPrintValue, pmSemStr, pmTypeStr, semText, typeCodeOfValue, typeName, typeText, unitsFromWord, unitsToWord,
} from '../../source/render/pcp-format.js';
import {
	metricTypeOf, pcpSemCode, pcpType, pcpTypeCode, pmUnitsStr, semanticsOf, unitsText,
} from '../../source/protocols/pcp/model.js';

function units(partial: Partial<Units>): Units {
	return {...noUnits, ...partial};
}

function bytes(hex: string): Uint8Array {
	return Uint8Array.from(Buffer.from(hex, 'hex'));
}

describe('pmIDStr / pmInDomStr / hex32', () => {
	test('the identifiers of docs/pcp.md#identifiers and the captures', () => {
		expect(pmIDStr(0x0f_00_00_20)).toBe('60.0.32');
		expect(pmIDStr(0x0f_00_08_00)).toBe('60.2.0');
		expect(pmIDStr(pmIdBuild(60, 0, 4))).toBe('60.0.4');
		expect(pmIDStr(pmIdBuild(29, 0, 145))).toBe('29.0.145');
		expect(pmIDStr(pmIdBuild(2, 4, 1))).toBe('2.4.1');
		expect(hex32(0x0f_00_00_20)).toBe('0xf000020');
		expect(pmInDomStr(0x0f_00_00_02)).toBe('60.2');
		expect(hex32(0x0f_00_00_02)).toBe('0xf000002');
		expect(pmInDomStr(pmInDomBuild(29, 10))).toBe('29.10');
		expect(hex32(pmInDomBuild(29, 10))).toBe('0x740000a');
		expect(hex32(pmInDomBuild(2, 3))).toBe('0x800003');
	});

	test('null identifiers and dynamic subtree roots', () => {
		expect(pmIDStr(0xff_ff_ff_ff)).toBe('PM_ID_NULL');
		expect(pmIDStr(-1)).toBe('PM_ID_NULL');
		expect(pmInDomStr(0xff_ff_ff_ff)).toBe('PM_INDOM_NULL');
		expect(pmInDomStr(-1)).toBe('PM_INDOM_NULL');
		expect(hex32(-1)).toBe('0xffffffff');
		// Domain 511, item 0: the real domain sits in the cluster field.
		expect(pmIDStr(pmIdBuild(511, 60, 0))).toBe('60.*.*');
		// Domain 511 with an item is a derived metric, printed normally.
		expect(pmIDStr(pmIdBuild(511, 0, 5))).toBe('511.0.5');
		expect(hex32(0)).toBe('0x0');
	});

	test('field extraction and building round-trip', () => {
		const pmid = pmIdBuild(511, 4095, 1023);
		expect([pmIdDomain(pmid), pmIdCluster(pmid), pmIdItem(pmid)]).toEqual([511, 4095, 1023]);
		expect(pmid).toBe(0x7f_ff_ff_ff);
		expect(pmInDomBuild(60, 2)).toBe(0x0f_00_00_02);
	});
});

describe('type and semantics names', () => {
	test('pminfo -d type names (pminfo.c mytypestr)', () => {
		expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -1].map(code => typeName(code))).toEqual([
			'32-bit int',
			'32-bit unsigned int',
			'64-bit int',
			'64-bit unsigned int',
			'float',
			'double',
			'string',
			'aggregate',
			'static aggregate',
			'event record array',
			'highres event record array',
			'Not Supported',
		]);
		expect(typeName(42)).toBe('???');
		expect(typeText(42)).toBe('??? (42)');
		expect(typeText(255)).toBe('??? (255)');
		expect(typeText(-1)).toBe('Not Supported');
	});

	test('semantics', () => {
		expect([1, 3, 4].map(code => pmSemStr(code))).toEqual(['counter', 'instant', 'discrete']);
		expect(pmSemStr(0)).toBe('???');
		// sample.bad.nosupport: "Semantics: ??? (0)"
		expect(semText(0)).toBe('??? (0)');
		expect(semText(3)).toBe('instant');
		expect(semanticsOf(2)).toBeUndefined();
		expect(pcpSemCode('counter')).toBe(1);
		expect(pcpSemCode('counter', 0)).toBe(0);
	});

	test('pmTypeStr', () => {
		expect(pmTypeStr(0)).toBe('32');
		expect(pmTypeStr(3)).toBe('U64');
		expect(pmTypeStr(10)).toBe('HIGHRES_EVENT');
		expect(pmTypeStr(-1)).toBe('NO_SUPPORT');
		expect(pmTypeStr(255)).toBe('UNKNOWN');
		expect(pmTypeStr(11)).toBe('???');
	});

	test('model types map to codes and back', () => {
		for (const type of ['i32', 'u32', 'i64', 'u64', 'float', 'double', 'string', 'aggregate', 'event'] as const) {
			expect(metricTypeOf(pcpTypeCode(type))).toBe(type);
		}

		expect(pcpTypeCode('float', 8)).toBe(8);
		expect(metricTypeOf(8)).toBe('aggregate');
		expect(metricTypeOf(10)).toBe('event');
		expect(metricTypeOf(-1)).toBe('unknown');
	});
});

describe('pmUnitsStr (units.c)', () => {
	test('the verified words of docs/pcp.md#identifiers', () => {
		const cases: Array<[number, string]> = [
			[0x10_01_00_00, 'Kbyte'],
			[0x01_00_20_00, 'millisec'],
			[0x00_10_00_00, 'count'],
			[0x10_00_00_00, 'byte'],
			[0x1f_00_30_00, 'byte / sec'],
			[0x1f_00_50_00, 'byte / hour'],
			[0x0f_00_10_00, '/ microsec'],
			[0xf0_12_06_00, 'count x 10^6 / Mbyte'],
			[0, ''],
		];
		for (const [word, text] of cases) {
			expect(pmUnitsStr(unitsFromWord(word))).toBe(text);
			expect(unitsToWord(unitsFromWord(word))).toBe(word);
		}
	});

	test('none, scale-only and count scales', () => {
		expect(unitsText(noUnits)).toBe('none');
		expect(pmUnitsStr(units({scaleCount: 1}))).toBe('x 10');
		expect(pmUnitsStr(units({scaleCount: 3}))).toBe('x 10^3');
		expect(pmUnitsStr(units({scaleCount: -2}))).toBe('x 10^-2');
		expect(pmUnitsStr(units({dimCount: 1, scaleCount: 1}))).toBe('count x 10');
		expect(pmUnitsStr(units({dimCount: 1, scaleCount: -3}))).toBe('count x 10^-3');
		// Scales of absent dimensions are ignored.
		expect(pmUnitsStr(units({scaleSpace: 3, scaleTime: 2}))).toBe('');
	});

	test('every space and time name', () => {
		expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map(scale => pmUnitsStr(units({dimSpace: 1, scaleSpace: scale})))).toEqual([
			'byte', 'Kbyte', 'Mbyte', 'Gbyte', 'Tbyte', 'Pbyte', 'Ebyte', 'Zbyte', 'Ybyte',
		]);
		expect([0, 1, 2, 3, 4, 5].map(scale => pmUnitsStr(units({dimTime: 1, scaleTime: scale})))).toEqual([
			'nanosec', 'microsec', 'millisec', 'sec', 'min', 'hour',
		]);
		expect(pmUnitsStr(units({dimSpace: 1, scaleSpace: 9}))).toBe('space-9');
		expect(pmUnitsStr(units({dimTime: -1, scaleTime: 7}))).toBe('/ time-7');
	});

	test('powers and mixed dimensions', () => {
		expect(pmUnitsStr(units({dimSpace: 2, scaleSpace: 1}))).toBe('Kbyte^2');
		expect(pmUnitsStr(units({dimTime: -2, scaleTime: 3}))).toBe('/ sec^2');
		expect(pmUnitsStr(units({
			dimSpace: 1, dimTime: 1, dimCount: 1, scaleSpace: 2, scaleTime: 1,
		}))).toBe('Mbyte microsec count');
		expect(pmUnitsStr(units({
			dimSpace: -1, dimTime: -1, dimCount: -1, scaleTime: 3,
		}))).toBe('/ byte sec count');
		expect(pmUnitsStr(units({dimCount: 1, dimTime: -1, scaleTime: 3}))).toBe('count / sec');
		expect(pmUnitsStr(units({
			dimSpace: 7, dimTime: -8, scaleSpace: 1, scaleTime: 0,
		}))).toBe('Kbyte^7 / nanosec^8');
	});

	test('unitsFromWord reads signed 4-bit fields', () => {
		expect(unitsFromWord(0xf0_12_06_00)).toEqual({
			dimSpace: -1, dimTime: 0, dimCount: 1, scaleSpace: 2, scaleTime: 0, scaleCount: 6,
		});
		expect(unitsFromWord(0x00_10_0f_00).scaleCount).toBe(-1);
	});
});

describe('pmPrintValue', () => {
	test('integers', () => {
		expect(pmPrintValue(pcpType.i32, 1_000_000)).toBe('1000000');
		expect(pmPrintValue(pcpType.i32, -9999)).toBe('-9999');
		expect(pmPrintValue(pcpType.u32, 4_294_967_295)).toBe('4294967295');
		expect(pmPrintValue(pcpType.i64, -9997n)).toBe('-9997');
		expect(pmPrintValue(pcpType.u64, 18_446_744_073_709_551_615n)).toBe('18446744073709551615');
		expect(pmPrintValue(pcpType.u64, 9_223_372_036_854_775_806n)).toBe('9223372036854775806');
		expect(pmPrintValue(pcpType.i64, -9_223_372_036_854_775_808n)).toBe('-9223372036854775808');
		expect(pmPrintValue(pcpType.u64, 37_408)).toBe('37408');
	});

	test('FLOAT is %.8g of the float widened to double, DOUBLE %.16g', () => {
		expect(pmPrintValue(pcpType.float, 0.74)).toBe('0.74000001');
		expect(pmPrintValue(pcpType.float, 0.18)).toBe('0.18000001');
		expect(pmPrintValue(pcpType.float, 0.29)).toBe('0.28999999');
		expect(pmPrintValue(pcpType.float, 0.25)).toBe('0.25');
		expect(pmPrintValue(pcpType.float, 10)).toBe('10');
		expect(pmPrintValue(pcpType.float, 1e6)).toBe('1000000');
		expect(pmPrintValue(pcpType.float, 1e8)).toBe('1e+08');
		expect(pmPrintValue(pcpType.float, -9996)).toBe('-9996');
		expect(pmPrintValue(pcpType.double, Math.PI)).toBe('3.141592653589793');
		expect(pmPrintValue(pcpType.double, 0.1)).toBe('0.1');
		expect(pmPrintValue(pcpType.double, 1e16)).toBe('1e+16');
		expect(pmPrintValue(pcpType.double, Number.NaN)).toBe('nan');
		expect(pmPrintValue(pcpType.double, Number.NEGATIVE_INFINITY)).toBe('-inf');
	});

	test('STRING in quotes, nothing escaped', () => {
		expect(pmPrintValue(pcpType.string, 'hullo world!')).toBe('"hullo world!"');
		expect(pmPrintValue(pcpType.string, '')).toBe('""');
		expect(pmPrintValue(pcpType.string, 'a "b"\tc\n')).toBe('"a "b"\tc\n"');
	});

	test('AGGREGATE: text and hex, hex only, numeric readings of 4 and 8 bytes', () => {
		expect(pmPrintValue(pcpType.aggregate, new TextEncoder().encode('hullo world!'))).toBe('"hullo world!" [68756c6c6f20776f726c6421]');
		expect(pmPrintValue(pcpType.aggregate, new Uint8Array())).toBe('"" []');
		expect(pmPrintValue(pcpType.aggregate, bytes('3133'))).toBe('"13" [3133]');
		expect(pmPrintValue(pcpType.aggregate, bytes('00ff7f'))).toBe('[00ff7f]');
		// 4 bytes: a float reading (little-endian), then text, then hex.
		expect(formatAggregate(bytes('0000803f'))).toBe('1 [0000803f]');
		expect(formatAggregate(new TextEncoder().encode('abcd'))).toBe('1.6777999e+22 "abcd" [61626364]');
		// A NaN float reading is left out.
		expect(formatAggregate(bytes('0000c07f'))).toBe('[0000c07f]');
		// 8 bytes: u64 and double readings.
		expect(formatAggregate(bytes('000000000000f03f'))).toBe('4607182418800017408 1 [000000000000f03f]');
		expect(formatAggregate(bytes('0100000000000000'))).toBe('1 4.940656458412465e-324 [0100000000000000]');
		expect(formatAggregate(bytes('000000000000f87f'))).toBe('9221120237041090560 [000000000000f87f]');
		expect(formatAggregate(new TextEncoder().encode('abcdefgh'))).toBe('7523094288207667809 8.540883223036124e+194 "abcdefgh" [6162636465666768]');
		// Bytes >= 0x80 and DEL are not printable in the C locale.
		expect(formatAggregate(bytes('41c3a9'))).toBe('[41c3a9]');
		expect(formatAggregate(bytes('417f'))).toBe('[417f]');
		expect(formatAggregate(bytes('207e'))).toBe('" ~" [207e]');
	});

	test('the 8-byte aggregate of sample.sysinfo prints as hex only', () => {
		const hex = 'da0200000000000060fd050000000000c00304000000000040c7010000000000000099e2050000000040836c0500000000508900000000000000fd0100000000000000000000000000000000000000009000000000000000000000000000000000000000000000000100000000000000';
		expect(pmPrintValue(pcpType.aggregate, bytes(hex))).toBe(`[${hex}]`);
	});

	test('types libpcp prints as PM_TYPE_UNKNOWN', () => {
		expect(pmPrintValue(pcpType.aggregateStatic, bytes('3133'))).toBe('"13" [3133]');
		expect(pmPrintValue(pcpType.noSupport, bytes('00'))).toBe('[00]');
		expect(pmPrintValue(pcpType.event, bytes('0001'))).toBe('[0001]');
		// An in-situ 32-bit word: "%u %.8g 0x%x".
		expect(pmPrintValue(42, 0x3f_80_00_00)).toBe('1065353216 1 0x3f800000');
		expect(pmPrintValue(42, 5)).toBe('5 7.0064923e-45 0x5');
		expect(pmPrintValue(42, -1)).toBe('4294967295 0xffffffff');
	});

	test('values whose JS type does not match the PCP type still print', () => {
		expect(pmPrintValue(pcpType.string, 5)).toBe('5');
		expect(pmPrintValue(pcpType.i32, 'x')).toBe('"x"');
		expect(pmPrintValue(pcpType.double, 3n)).toBe('3');
		expect(pmPrintValue(pcpType.i32, bytes('41'))).toBe('"A" [41]');
		expect(pmPrintValue(pcpType.i32, 0.5)).toBe('0.5');
	});

	test('typeCodeOfValue', () => {
		expect(typeCodeOfValue(1)).toBe(pcpType.double);
		expect(typeCodeOfValue(-1n)).toBe(pcpType.i64);
		expect(typeCodeOfValue(1n)).toBe(pcpType.u64);
		expect(typeCodeOfValue('')).toBe(pcpType.string);
		expect(typeCodeOfValue(new Uint8Array())).toBe(pcpType.aggregate);
	});
});

/**
 * The real thing: a tiny C program calling Debian's libpcp.so.3 (pmPrintValue,
 * pmUnitsStr, pmIDStr, pmInDomStr) on thousands of generated inputs. Skipped
 * where gcc or libpcp is missing.
 */
const libpcp = '/usr/lib/libpcp.so.3';
const canBuildOracle = existsSync(libpcp) && spawnSync('gcc', ['--version']).status === 0;

const oracleSource = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
typedef struct { unsigned int vlen:24; unsigned int vtype:8; char vbuf[1]; } pmValueBlock;
typedef struct { int inst; union { pmValueBlock *pval; int lval; } value; } pmValue;
void pmPrintValue(FILE *, int, int, const pmValue *, int);
const char *pmUnitsStr(const void *);
const char *pmIDStr(unsigned int);
const char *pmInDomStr(unsigned int);
int main(void) {
	char line[70000];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\\n")] = 0;
		char kind = line[0];
		if (kind == 'A') { /* A type hex: value block (DPTR) */
			int type; char hex[65536] = "";
			sscanf(line + 2, "%d %65535s", &type, hex);
			size_t n = strlen(hex) / 2;
			pmValueBlock *vb = calloc(1, 8 + n);
			for (size_t i = 0; i < n; i++) { unsigned b; sscanf(hex + 2 * i, "%2x", &b); vb->vbuf[i] = (char)b; }
			vb->vlen = 4 + n; vb->vtype = type < 0 ? 0 : type;
			pmValue v = {0}; v.value.pval = vb;
			pmPrintValue(stdout, 1, type, &v, 1);
			free(vb);
		} else if (kind == 'I') { /* I type int32: in-situ */
			int type; long long x; sscanf(line + 2, "%d %lld", &type, &x);
			pmValue v = {0}; v.value.lval = (int)x;
			pmPrintValue(stdout, 0, type, &v, 1);
		} else if (kind == 'U') { unsigned w; sscanf(line + 2, "%x", &w); fputs(pmUnitsStr(&w), stdout); }
		else if (kind == 'P') { unsigned w; sscanf(line + 2, "%x", &w); fputs(pmIDStr(w), stdout); }
		else if (kind == 'D') { unsigned w; sscanf(line + 2, "%x", &w); fputs(pmInDomStr(w), stdout); }
		fputs("\\x01\\n", stdout);
	}
	return 0;
}
`;

function runOracle(requests: string[]): string[] {
	const dir = mkdtempSync(path.join(tmpdir(), 'secmon-libpcp-'));
	try {
		const source = path.join(dir, 'oracle.c');
		const binary = path.join(dir, 'oracle');
		writeFileSync(source, oracleSource);
		execFileSync('gcc', ['-o', binary, source, libpcp]);
		const output = execFileSync(binary, {input: requests.join('\n') + '\n', encoding: 'latin1', maxBuffer: 64 * 1024 * 1024});
		// Each answer ends with \x01\n, so answers may themselves contain newlines.
		return output.split('\u0001\n').slice(0, requests.length);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

function makeRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		return state >>> 0;
	};
}

function hexOf(data: Uint8Array): string {
	return Buffer.from(data).toString('hex');
}

describe.skipIf(!canBuildOracle)('against libpcp itself', () => {
	test('pmPrintValue, pmUnitsStr, pmIDStr and pmInDomStr', () => {
		const random = makeRandom(0x5e_c0_00_01);
		const randomBytes = (length: number, printable = false) => Uint8Array.from({length}, () => printable ? 0x20 + (random() % 95) : random() % 256);
		const requests: string[] = [];
		const expected: string[] = [];
		const add = (request: string, actual: string) => {
			requests.push(request);
			expected.push(actual);
		};

		for (let i = 0; i < 600; i++) {
			const data = randomBytes(random() % 13, i % 2 === 0);
			add(`A 7 ${hexOf(data)}`, pmPrintValue(pcpType.aggregate, data));
		}

		for (let byte = 0; byte < 256; byte++) {
			const data = Uint8Array.of(0x41, byte);
			add(`A 7 ${hexOf(data)}`, pmPrintValue(pcpType.aggregate, data));
		}

		for (const length of [4, 8]) {
			for (let i = 0; i < 300; i++) {
				const data = randomBytes(length, i % 3 === 0);
				add(`A 7 ${hexOf(data)}`, pmPrintValue(pcpType.aggregate, data));
			}
		}

		for (let i = 0; i < 1000; i++) {
			const data = randomBytes(4);
			const view = new DataView(data.buffer);
			add(`A 4 ${hexOf(data)}`, pmPrintValue(pcpType.float, view.getFloat32(0, true)));
			const wide = randomBytes(8);
			const wideView = new DataView(wide.buffer);
			add(`A 5 ${hexOf(wide)}`, pmPrintValue(pcpType.double, wideView.getFloat64(0, true)));
			add(`A 2 ${hexOf(wide)}`, pmPrintValue(pcpType.i64, wideView.getBigInt64(0, true)));
			add(`A 3 ${hexOf(wide)}`, pmPrintValue(pcpType.u64, wideView.getBigUint64(0, true)));
			const word = random() | 0;
			add(`I 0 ${word}`, pmPrintValue(pcpType.i32, word));
			add(`I 1 ${word}`, pmPrintValue(pcpType.u32, word));
			add(`I 42 ${word}`, pmPrintValue(42, word));
			const unitsWord = (random() & 0xff_ff_ff_00) >>> 0;
			add(`U ${unitsWord.toString(16)}`, pmUnitsStr(unitsFromWord(unitsWord)));
		}

		// pmUnitsStr over every small dimension combination and scale.
		for (let dims = 0; dims < 512; dims++) {
			const word = ((((dims & 7) - 3) & 0xf) << 28) | (((((dims >> 3) & 7) - 3) & 0xf) << 24) | (((((dims >> 6) & 7) - 3) & 0xf) << 20)
				| ((dims % 10) << 16) | ((dims % 7) << 12) | (((dims % 5) - 2 & 0xf) << 8);
			add(`U ${(word >>> 0).toString(16)}`, pmUnitsStr(unitsFromWord(word)));
		}

		for (let i = 0; i < 500; i++) {
			const id = i < 10 ? (0xff_c0_00_00 | (i * 1024)) : random();
			add(`P ${id.toString(16)}`, pmIDStr(id));
			add(`D ${id.toString(16)}`, pmInDomStr(id));
		}

		const strings = ['hullo world!', '', 'a "b" \\ c', 'tab\there'];
		for (const text of strings) {
			add(`A 6 ${Buffer.from(text + '\0').toString('hex')}`, pmPrintValue(pcpType.string, text));
		}

		const answers = runOracle(requests);
		const mismatches = requests.flatMap((request, i) => answers[i] === expected[i] ? [] : [`${request}: libpcp ${JSON.stringify(answers[i])}, ours ${JSON.stringify(expected[i])}`]);
		expect(mismatches).toEqual([]);
	});
});

describe('eventSummary (print_event_summary) on event arrays a real pmcd sent', () => {
	const hms = (seconds: number) => {
		const date = new Date(seconds * 1000);
		return [date.getHours(), date.getMinutes(), date.getSeconds()].map(n => String(n).padStart(2, '0')).join(':');
	};

	test('records with parameters: first and last timestamps, milliseconds', () => {
		const value = bytes('000000026b111f3c0001134e00000001000000010740007f01000008000000016b111f3d0001134e00000001000000020740007f0100000800000002074000820200000cfffffffffffffffd');
		expect(eventSummary(value, false)).toBe(`[2 event records timestamps ${hms(0x6b_11_1f_3c)}.070...${hms(0x6b_11_1f_3d)}.070]`);
		expect(pmPrintValue(9, value)).toBe(eventSummary(value, false));
	});

	test('one record, none, and high resolution (nanoseconds)', () => {
		expect(eventSummary(bytes('000000016b111f460001134f0000000100000001074000860600000c6665746368202334'), false)).toBe(`[1 event record timestamp ${hms(0x6b_11_1f_46)}.070]`);
		expect(eventSummary(bytes('00000000'), false)).toBe('[0 event records]');
		expect(pmPrintValue(10, bytes('00000001000000006b111f3c00000000043348040000000100000000'))).toBe(`[1 event record timestamp ${hms(0x6b_11_1f_3c)}.070469636]`);
	});

	test('a truncated array prints as an aggregate', () => {
		expect(eventSummary(bytes('0000000200'), false)).toBe('[0000000200]');
	});
});
