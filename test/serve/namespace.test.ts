import {describe, expect, test} from 'vitest';
import {PM_ERR} from '../../source/protocols/pcp/constants.js';
import {Namespace} from '../../source/serve/namespace.js';

const ns = new Namespace([
	{name: 'kernel.all.load', pmid: 1},
	{name: 'kernel.all.cpu.user', pmid: 2},
	{name: 'kernel.all.cpu.sys', pmid: 3},
	{name: 'hinv.ncpu', pmid: 4},
]);

const codeOf = (fn: () => unknown): number | undefined => {
	try {
		fn();
	} catch (error) {
		return (error as {code?: number}).code;
	}

	return undefined;
};

describe('Namespace (pmcd PMNS semantics)', () => {
	test('traverse: every leaf below, depth first; a leaf gives itself; unknown is PM_ERR_NAME', () => {
		expect(ns.traverse('')).toEqual(['kernel.all.load', 'kernel.all.cpu.user', 'kernel.all.cpu.sys', 'hinv.ncpu']);
		expect(ns.traverse('kernel.all.cpu')).toEqual(['kernel.all.cpu.user', 'kernel.all.cpu.sys']);
		expect(ns.traverse('hinv.ncpu')).toEqual(['hinv.ncpu']);
		expect(codeOf(() => ns.traverse('kernel.al'))).toBe(PM_ERR.NAME);
	});

	test('lookup: PM_ID_NULL for unknown and non-leaf names in a batch, errors for a single name', () => {
		expect(ns.lookup(['hinv.ncpu', 'nope', 'kernel.all'])).toEqual({found: 1, pmids: [4, 0xFF_FF_FF_FF, 0xFF_FF_FF_FF]});
		expect(codeOf(() => ns.lookup(['nope']))).toBe(PM_ERR.NAME);
		expect(codeOf(() => ns.lookup(['kernel.all']))).toBe(PM_ERR.NONLEAF);
	});

	test('names of a pmid, children with leaf status', () => {
		expect(ns.namesOf(3)).toEqual(['kernel.all.cpu.sys']);
		expect(codeOf(() => ns.namesOf(99))).toBe(PM_ERR.PMID);
		expect(ns.children('kernel.all')).toEqual([{name: 'load', leaf: true}, {name: 'cpu', leaf: false}]);
		expect(ns.children('hinv.ncpu')).toEqual([]);
		expect(codeOf(() => ns.children('x'))).toBe(PM_ERR.NAME);
	});

	test('clashing names are a programming error', () => {
		expect(() => new Namespace([{name: 'a.b', pmid: 1}, {name: 'a.b.c', pmid: 2}])).toThrow(/below the leaf/v);
		expect(() => new Namespace([{name: 'a.b.c', pmid: 1}, {name: 'a.b', pmid: 2}])).toThrow(/clashes/v);
	});
});
