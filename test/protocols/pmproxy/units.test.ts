import {describe, expect, it} from 'vitest';
import {parseDotted, parseUnits} from '../../../source/protocols/pmproxy/api.js';
import {pmUnitsStr} from '../../../source/protocols/pcp/model.js';
import type {Units} from '../../../source/metrics/model.js';

describe('parseUnits: pmUnitsStr text back to pmUnits', () => {
	const cases: Units[] = [];
	for (const dimSpace of [-1, 0, 1, 2]) {
		for (const dimTime of [-1, 0, 1]) {
			for (const dimCount of [-2, -1, 0, 1]) {
				for (const scaleCount of [0, 1, 3, -2]) {
					// pmUnitsStr prints scale 1 at power 2 as "count x 10^2", the same as scale 2: ambiguous.
					if (scaleCount === 1 && Math.abs(dimCount) > 1) {
						continue;
					}

					cases.push({
						dimSpace, dimTime, dimCount, scaleSpace: dimSpace === 0 ? 0 : 1, scaleTime: dimTime === 0 ? 0 : 3, scaleCount: dimCount === 0 && scaleCount !== 0 && (dimSpace !== 0 || dimTime !== 0) ? 0 : scaleCount,
					});
				}
			}
		}
	}

	it.each(cases.map(units => [pmUnitsStr(units) || 'none', units] as const))('%s', (text, units) => {
		const parsed = parseUnits(text);
		expect(parsed).toBeDefined();
		expect(pmUnitsStr(parsed!) || 'none').toBe(text);
		// The dimensions come back exactly (scales of absent dimensions print nothing).
		expect([parsed!.dimSpace, parsed!.dimTime, parsed!.dimCount]).toEqual([units.dimSpace, units.dimTime, units.dimCount]);
	});

	it.each(['count', 'byte', 'Mbyte', 'count / Mbyte', 'count x 10^6 / Mbyte', 'Kbyte / sec', 'millisec / count', 'none', 'x 10^3'])('parses pmproxy\'s "%s"', text => {
		expect(pmUnitsStr(parseUnits(text)!) || 'none').toBe(text);
	});

	it.each(['', 'furlong', 'byte byte', 'byte / ', 'sec / byte / count', '/ ', 'count x', 'Kbyte^x', '\u001B[31mbyte'])('refuses "%s"', text => {
		expect(parseUnits(text)).toBeUndefined();
	});
});

describe('parseDotted', () => {
	it('reads PMIDs and indoms, refuses the rest', () => {
		expect(parseDotted('60.0.32', 3)).toBe((60 << 22 | 32) >>> 0);
		expect(parseDotted('511.4095.1023', 3)).toBe(0x7F_FF_FF_FF);
		expect(parseDotted('60.2', 2)).toBe((60 << 22 | 2) >>> 0);
		for (const bad of ['60.0', '512.0.0', '1.4096.0', '1.1.1024', 'a.b.c', '1..2', '-1.0.0', '1.2.3.4']) {
			expect(parseDotted(bad, 3)).toBeUndefined();
		}
	});
});
