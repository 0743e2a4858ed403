import {describe, expect, test} from 'vitest';
import {PM_ERR} from '../../../source/protocols/pcp/constants.js';
import {PduError} from '../../../source/protocols/pcp/errors.js';
import {LabelMerger, mergeLabelSets, PM_MAXLABELJSONLEN} from '../../../source/protocols/pcp/labels.js';
import {
	decodeLabel, encodeLabel, makeLabelSet, type PcpLabelSet,
} from '../../../source/protocols/pcp/pdu.js';

const set = (labels: Record<string, string | number | boolean | null>, inst = -1): PcpLabelSet => makeLabelSet(inst, labels, 0);

describe('mergeLabelSets (pmMergeLabelSets)', () => {
	test('later sets win, names in byte order, values as the peer wrote them', () => {
		const merged = mergeLabelSets([
			set({hostname: 'vm', domainname: 'localdomain', machineid: 'abc'}),
			set({agent: 'sample', role: 'testing'}),
			undefined,
			set({
				role: 'override', cluster: 'zero', b: 1.5, a: null, c: true,
			}),
		]);
		expect(merged).toEqual({json: '{"a":null,"agent":"sample","b":1.5,"c":true,"cluster":"zero","domainname":"localdomain","hostname":"vm","machineid":"abc","role":"override"}'});
	});

	test('a shorter name sorts before the longer one it starts (namecmp6)', () => {
		expect(mergeLabelSets([set({
			ab: 1, a: 2, a_b: 3, B: 4,
		})])).toEqual({json: '{"B":4,"a":2,"a_b":3,"ab":1}'});
	});

	test('no usable set: nothing to print; empty sets: {}', () => {
		expect(mergeLabelSets([undefined, undefined])).toBeUndefined();
		expect(mergeLabelSets([{
			inst: -1, nlabels: PM_ERR.NOLABELS, json: '', labels: [],
		}])).toBeUndefined();
		expect(mergeLabelSets([set({})])).toEqual({json: '{}'});
	});

	test('a merged set larger than pminfo\'s buffer is -E2BIG, not a huge line', () => {
		const big = Object.fromEntries(Array.from({length: 40}, (_, i) => [`label${i}`, 'x'.repeat(2000)]));
		expect(mergeLabelSets([set(big)])).toEqual({error: -7});
		expect(JSON.stringify(big).length).toBeGreaterThan(PM_MAXLABELJSONLEN);
	});
});

describe('LabelMerger: pminfo -l\'s base sets merged once per metric, each instance\'s set added', () => {
	const base = [
		set({hostname: 'vm', domainname: 'localdomain', role: 'context'}),
		set({agent: 'sample', role: 'domain'}),
		undefined,
		set({cluster: 'zero', 'a.b': 1}),
		set({item: 7, B: false}),
	];

	test('the same JSON as merging every set for each instance, whatever the instance set holds', () => {
		const merger = new LabelMerger(base);
		const instanceSets = [
			undefined,
			{
				inst: 3, nlabels: PM_ERR.NOLABELS, json: '', labels: [],
			},
			set({}, 1),
			set({
				role: 'instance', zz: 'last', A: 'first', a: null,
			}, 2),
			set({
				item: 'replaced', cluster: 'also', 'a.c': 2, 'a.a': 0,
			}, 4),
			set({hostname: ''}, 5),
		];
		for (const instanceSet of instanceSets) {
			expect(merger.with(instanceSet)).toEqual(mergeLabelSets([...base, instanceSet]));
		}

		// Generated sets over the base's names and others, with overlaps, prefixes and byte order.
		const names = ['a', 'a.b', 'ab', 'B', 'agent', 'role', 'zz', 'item', 'hostname', 'é', 'a_b'];
		for (let seed = 1; seed < 300; seed++) {
			const labels = Object.fromEntries(names.filter((_, index) => ((seed * (index + 7)) % 5) < 2).map(name => [name, seed]));
			const instanceSet = set(labels, seed);
			expect(merger.with(instanceSet)).toEqual(mergeLabelSets([...base, instanceSet]));
		}

		expect(new LabelMerger([undefined]).with(set({}, 1))).toEqual({json: '{}'});
		expect(new LabelMerger([undefined]).with(undefined)).toBeUndefined();
	});

	test('20000 instances: the four base sets decoded once, one decode per instance set', () => {
		const merger = new LabelMerger(base);
		const instances = 20_000;
		let last;
		for (let inst = 0; inst < instances; inst++) {
			last = merger.with(set({device: `dev${inst}`}, inst));
		}

		expect(last).toEqual({json: `{"B":false,"a.b":1,"agent":"sample","cluster":"zero","device":"dev${instances - 1}","domainname":"localdomain","hostname":"vm","item":7,"role":"domain"}`});
		expect(merger.decoded).toBe(4 + instances);
	});

	test('an instance set that pushes the merge past pminfo\'s buffer is -E2BIG for that instance only', () => {
		const merger = new LabelMerger(base);
		const big = Object.fromEntries(Array.from({length: 40}, (_, i) => [`label${i}`, 'x'.repeat(2000)]));
		expect(merger.with(set(big, 1))).toEqual({error: -7});
		expect(merger.with(set({small: 1}, 2))).toEqual(mergeLabelSets([...base, set({small: 1}, 2)]));
	});
});

describe('decodeLabel bounds (libpcp __pmDecodeLabel)', () => {
	test('255 labels in one set or 64 KiB of JSON are refused', () => {
		const many = set(Object.fromEntries(Array.from({length: 255}, (_, i) => [`l${i}`, i])));
		expect(() => decodeLabel(encodeLabel({ident: 1, type: 16, sets: [many]}))).toThrow(PduError);
		const fewer = set(Object.fromEntries(Array.from({length: 254}, (_, i) => [`l${i}`, i])));
		expect(decodeLabel(encodeLabel({ident: 1, type: 16, sets: [fewer]})).sets[0]!.nlabels).toBe(254);
		const long = set({big: 'y'.repeat(70_000)});
		expect(() => decodeLabel(encodeLabel({ident: 1, type: 16, sets: [long]}))).toThrow(/fewer than 65535/v);
	});

	test('sets whose JSON areas overlap (all pointing at the same bytes) are refused before their JSON is decoded', () => {
		const first = set({role: 'x'.repeat(1000)});
		const empty: PcpLabelSet = {
			inst: 1, nlabels: 0, json: '', labels: [],
		};
		const sets = [first, ...Array.from({length: 20}, (_, i) => ({...empty, inst: i + 1}))];
		const pdu = encodeLabel({ident: 1, type: 16, sets});
		// Every later set header (16 bytes, no labels) now names the first set's JSON.
		const firstHeader = 28;
		const jsonAt = pdu.readInt32BE(firstHeader + 8);
		const jsonLength = pdu.readInt32BE(firstHeader + 12);
		for (let i = 0; i < 20; i++) {
			const header = firstHeader + 16 + (8 * first.nlabels) + (16 * i);
			pdu.writeInt32BE(jsonAt, header + 8);
			pdu.writeInt32BE(jsonLength, header + 12);
		}

		expect(() => decodeLabel(pdu)).toThrow(/add up to \d+ bytes, more than the \d+-byte PDU/v);
		expect(decodeLabel(encodeLabel({ident: 1, type: 16, sets})).sets).toHaveLength(21);
	});
});
