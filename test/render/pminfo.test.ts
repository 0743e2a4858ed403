import {existsSync} from 'node:fs';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import type {MetricDesc, MetricValues, Value} from '../../source/metrics/model.js';
import {pmIdBuild, pmInDomBuild, unitsFromWord} from '../../source/render/pcp-format.js';
import {metricTypeOf, semanticsOf, unitsText} from '../../source/protocols/pcp/model.js';
import {
	argumentErrorLine,
	connectErrorLine,
	lookupNameErrorLine,
	needsOnelineFallback,
	renderDesc,
	renderHelp,
	renderInDomBlock,
	renderMetricBlock,
	renderMetricBlocks,
	renderNameList,
	renderValues,
	resolveHelp,
	traverseErrorLine,
	type PminfoMetric,
	type PminfoShow,
} from '../../source/render/pminfo.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {pminfoPath, runPminfo} from '../helpers/pminfo.js';

const indomNull = 0xff_ff_ff_ff;

/** A descriptor as a PCP DESC PDU gives it: type code, semantics code, indom, units word. */
function pcpDesc(name: string, pmid: number, typeCode: number, semCode: number, indom: number, unitsWord = 0): MetricDesc {
	const units = unitsFromWord(unitsWord);
	return {
		name,
		type: metricTypeOf(typeCode),
		semantics: semanticsOf(semCode) ?? 'instant',
		units,
		unitsText: unitsText(units),
		pmid,
		indom,
		typeCode,
		semCode,
	};
}

function ok(...values: Array<[number | undefined, Value]>): MetricValues {
	return {status: 'ok', values: values.map(([instance, value]) => (instance === undefined ? {value} : {instance, value}))};
}

const text = new TextEncoder();
const bins = [100, 200, 300, 400, 500, 600, 700, 800, 900];
const binNames = new Map(bins.map(inst => [inst, `bin-${inst}`]));
const sample = (item: number) => pmIdBuild(29, 0, item);
const notAvailable = 'One-line or help text is not available';

type Case = {metric: Omit<PminfoMetric, 'show'>};

/** sample PMDA metrics whose values never change (pmdasample -d 29, docs/pcp.md#a-private-pmcd). */
const sampleCases: Case[] = [
	{
		metric: {
			name: 'sample.long.million', pmid: sample(13), desc: pcpDesc('sample.long.million', sample(13), 0, 3, indomNull), values: ok([-1, 1_000_000]),
		},
	},
	{
		metric: {
			name: 'sample.ulong.hundred', pmid: sample(95), desc: pcpDesc('sample.ulong.hundred', sample(95), 1, 3, indomNull), values: ok([-1, 100]),
		},
	},
	{
		metric: {
			name: 'sample.longlong.ten', pmid: sample(21), desc: pcpDesc('sample.longlong.ten', sample(21), 2, 3, indomNull), values: ok([-1, 10n]),
		},
	},
	{
		metric: {
			name: 'sample.ulonglong.one', pmid: sample(98), desc: pcpDesc('sample.ulonglong.one', sample(98), 3, 3, indomNull), values: ok([-1, 1n]),
		},
	},
	{
		metric: {
			name: 'sample.float.ten', pmid: sample(16), desc: pcpDesc('sample.float.ten', sample(16), 4, 3, indomNull), values: ok([-1, 10]),
		},
	},
	{
		metric: {
			name: 'sample.float.hundred', pmid: sample(17), desc: pcpDesc('sample.float.hundred', sample(17), 4, 3, indomNull), values: ok([-1, 100]),
		},
	},
	{
		metric: {
			name: 'sample.double.million', pmid: sample(28), desc: pcpDesc('sample.double.million', sample(28), 5, 3, indomNull), values: ok([-1, 1e6]),
		},
	},
	{
		metric: {
			name: 'sample.string.null', pmid: sample(30), desc: pcpDesc('sample.string.null', sample(30), 6, 3, indomNull), values: ok([-1, '']),
		},
	},
	{
		metric: {
			name: 'sample.string.hullo', pmid: sample(31), desc: pcpDesc('sample.string.hullo', sample(31), 6, 3, indomNull), values: ok([-1, 'hullo world!']),
		},
	},
	{
		metric: {
			name: 'sample.aggregate.null', pmid: sample(33), desc: pcpDesc('sample.aggregate.null', sample(33), 7, 3, indomNull), values: ok([-1, new Uint8Array()]),
		},
	},
	{
		metric: {
			name: 'sample.aggregate.hullo', pmid: sample(34), desc: pcpDesc('sample.aggregate.hullo', sample(34), 7, 3, indomNull), values: ok([-1, text.encode('hullo world!')]),
		},
	},
	{
		metric: {
			name: 'sample.bin',
			pmid: sample(6),
			desc: pcpDesc('sample.bin', sample(6), 0, 3, pmInDomBuild(29, 2)),
			values: ok(...bins.map((inst): [number, number] => [inst, inst])),
			instanceNames: binNames,
		},
	},
	{
		metric: {
			name: 'sample.bogus_bin',
			pmid: sample(51),
			desc: pcpDesc('sample.bogus_bin', sample(51), 0, 3, pmInDomBuild(29, 2)),
			values: ok(...[100, 250, 300, 450, 500, 650, 700, 850, 900].map((inst): [number, number] => [inst, inst])),
			instanceNames: binNames,
		},
	},
	{
		metric: {
			name: 'sample.bad.novalues', pmid: sample(138), desc: pcpDesc('sample.bad.novalues', sample(138), 0, 3, indomNull), values: {status: 'novalues'},
		},
	},
	{
		metric: {
			name: 'sample.bad.unknown', pmid: pmIdBuild(29, 0, 200), descError: 'Unknown or illegal metric identifier', values: {status: 'error', code: -12_358, message: 'Unknown or illegal metric identifier'},
		},
	},
	{
		metric: {
			name: 'sample.bad.nosupport',
			pmid: sample(55),
			desc: pcpDesc('sample.bad.nosupport', sample(55), -1, 0, indomNull),
			values: {status: 'error', code: -12_350, message: 'Metric not supported by this version of monitored application'},
		},
	},
	{
		metric: {
			name: 'sample.needprofile',
			pmid: sample(49),
			desc: pcpDesc('sample.needprofile', sample(49), 4, 4, pmInDomBuild(29, 4)),
			values: {status: 'error', code: -12_365, message: 'Explicit instance identifier(s) required'},
		},
	},
	{
		metric: {
			name: 'sample.noinst', pmid: sample(9), desc: pcpDesc('sample.noinst', sample(9), 0, 3, indomNull), values: {status: 'novalues'},
		},
	},
	{
		metric: {
			name: 'sample.ulong.count.mega', pmid: sample(119), desc: pcpDesc('sample.ulong.count.mega', sample(119), 1, 3, indomNull, 0xf0_12_06_00), values: ok([-1, 42]),
		},
	},
];

/** `pminfo -dfm <the metrics above>` against pmcd 6.0.3 with pmdasample, copied from a real run. */
const sampleDfm = `
sample.long.million PMID: 29.0.13
    Data Type: 32-bit int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 1000000

sample.ulong.hundred PMID: 29.0.95
    Data Type: 32-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 100

sample.longlong.ten PMID: 29.0.21
    Data Type: 64-bit int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 10

sample.ulonglong.one PMID: 29.0.98
    Data Type: 64-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 1

sample.float.ten PMID: 29.0.16
    Data Type: float  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 10

sample.float.hundred PMID: 29.0.17
    Data Type: float  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 100

sample.double.million PMID: 29.0.28
    Data Type: double  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value 1000000

sample.string.null PMID: 29.0.30
    Data Type: string  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value ""

sample.string.hullo PMID: 29.0.31
    Data Type: string  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value "hullo world!"

sample.aggregate.null PMID: 29.0.33
    Data Type: aggregate  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value "" []

sample.aggregate.hullo PMID: 29.0.34
    Data Type: aggregate  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
    value "hullo world!" [68756c6c6f20776f726c6421]

sample.bin PMID: 29.0.6
    Data Type: 32-bit int  InDom: 29.2 0x7400002
    Semantics: instant  Units: none
    inst [100 or "bin-100"] value 100
    inst [200 or "bin-200"] value 200
    inst [300 or "bin-300"] value 300
    inst [400 or "bin-400"] value 400
    inst [500 or "bin-500"] value 500
    inst [600 or "bin-600"] value 600
    inst [700 or "bin-700"] value 700
    inst [800 or "bin-800"] value 800
    inst [900 or "bin-900"] value 900

sample.bogus_bin PMID: 29.0.51
    Data Type: 32-bit int  InDom: 29.2 0x7400002
    Semantics: instant  Units: none
    inst [100 or "bin-100"] value 100
pmNameIndom: indom=29.2 inst=250: Unknown or illegal instance identifier
    inst [250] value 250
    inst [300 or "bin-300"] value 300
pmNameIndom: indom=29.2 inst=450: Unknown or illegal instance identifier
    inst [450] value 450
    inst [500 or "bin-500"] value 500
pmNameIndom: indom=29.2 inst=650: Unknown or illegal instance identifier
    inst [650] value 650
    inst [700 or "bin-700"] value 700
pmNameIndom: indom=29.2 inst=850: Unknown or illegal instance identifier
    inst [850] value 850
    inst [900 or "bin-900"] value 900

sample.bad.novalues PMID: 29.0.138
    Data Type: 32-bit int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
No value(s) available!
sample.bad.unknown: pmLookupDesc: Unknown or illegal metric identifier

sample.bad.nosupport PMID: 29.0.55
    Data Type: Not Supported  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: ??? (0)  Units: none
Error: Metric not supported by this version of monitored application

sample.needprofile PMID: 29.0.49
    Data Type: float  InDom: 29.4 0x7400004
    Semantics: discrete  Units: none
Error: Explicit instance identifier(s) required

sample.noinst PMID: 29.0.9
    Data Type: 32-bit int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: none
No value(s) available!

sample.ulong.count.mega PMID: 29.0.119
    Data Type: 32-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: instant  Units: count x 10^6 / Mbyte
    value 42
`;

/** linux and pmcd PMDA metrics with help text; the descriptors and texts do not change. */
const textCases: Case[] = [
	{
		metric: {
			name: 'kernel.all.load',
			pmid: pmIdBuild(60, 2, 0),
			desc: pcpDesc('kernel.all.load', pmIdBuild(60, 2, 0), 4, 3, pmInDomBuild(60, 2)),
			oneline: '1, 5 and 15 minute load average',
			// The help entry is empty, so libpcp fell back to the one-line text.
			help: '1, 5 and 15 minute load average',
		},
	},
	{
		metric: {
			name: 'hinv.ncpu',
			pmid: pmIdBuild(60, 0, 32),
			desc: pcpDesc('hinv.ncpu', pmIdBuild(60, 0, 32), 1, 4, indomNull),
			oneline: 'number of CPUs in the system',
			help: 'number of CPUs in the system',
		},
	},
	{
		metric: {
			name: 'disk.dev.read',
			pmid: pmIdBuild(60, 0, 4),
			desc: pcpDesc('disk.dev.read', pmIdBuild(60, 0, 4), 3, 1, pmInDomBuild(60, 1), 0x00_10_00_00),
			oneline: 'per-disk read operations',
			help: 'Cumulative number of disk read operations since system boot time (subject\nto counter wrap).\n',
		},
	},
	{
		metric: {
			name: 'mem.physmem',
			pmid: pmIdBuild(60, 1, 0),
			desc: pcpDesc('mem.physmem', pmIdBuild(60, 1, 0), 3, 4, indomNull, 0x10_01_00_00),
			oneline: 'total system memory metric reported by /proc/meminfo',
			help: 'The value of this metric corresponds to the "MemTotal" field\nreported by /proc/meminfo. Note that this does not necessarily\ncorrespond to actual installed physical memory - there may\nbe areas of the physical address space mapped as ROM in\nvarious peripheral devices and the bios may be mirroring\ncertain ROMs in RAM.\n\n',
		},
	},
	{
		metric: {
			name: 'pmcd.version',
			pmid: pmIdBuild(2, 0, 7),
			desc: pcpDesc('pmcd.version', pmIdBuild(2, 0, 7), 6, 4, indomNull),
			oneline: 'PMCD version',
			help: 'PMCD version',
		},
	},
	{
		metric: {
			name: 'kernel.uname.release',
			pmid: pmIdBuild(60, 12, 0),
			desc: pcpDesc('kernel.uname.release', pmIdBuild(60, 12, 0), 6, 4, indomNull),
			oneline: 'release level of the running kernel',
			help: 'Release level of the running kernel as reported via the release[]\nvalue returned from uname(2) or uname -r.\n\nSee also pmda.uname.\n',
		},
	},
];

/** `pminfo -dmtT <the metrics above>`, copied from a real run (docs/pcp.md#pminfo-output; capture plain-pminfo-dmtT in test/protocols/pcp/fixtures/captures.json). */
const textDmtT = `
kernel.all.load PMID: 60.2.0 [1, 5 and 15 minute load average]
    Data Type: float  InDom: 60.2 0xf000002
    Semantics: instant  Units: none
Help:
1, 5 and 15 minute load average

hinv.ncpu PMID: 60.0.32 [number of CPUs in the system]
    Data Type: 32-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: discrete  Units: none
Help:
number of CPUs in the system

disk.dev.read PMID: 60.0.4 [per-disk read operations]
    Data Type: 64-bit unsigned int  InDom: 60.1 0xf000001
    Semantics: counter  Units: count
Help:
Cumulative number of disk read operations since system boot time (subject
to counter wrap).

mem.physmem PMID: 60.1.0 [total system memory metric reported by /proc/meminfo]
    Data Type: 64-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: discrete  Units: Kbyte
Help:
The value of this metric corresponds to the "MemTotal" field
reported by /proc/meminfo. Note that this does not necessarily
correspond to actual installed physical memory - there may
be areas of the physical address space mapped as ROM in
various peripheral devices and the bios may be mirroring
certain ROMs in RAM.

pmcd.version PMID: 2.0.7 [PMCD version]
    Data Type: string  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: discrete  Units: none
Help:
PMCD version

kernel.uname.release PMID: 60.12.0 [release level of the running kernel]
    Data Type: string  InDom: PM_INDOM_NULL 0xffffffff
    Semantics: discrete  Units: none
Help:
Release level of the running kernel as reported via the release[]
value returned from uname(2) or uname -r.

See also pmda.uname.
`;

function render(cases: Case[], show: PminfoShow): string {
	return renderMetricBlocks(cases.map(({metric}) => ({...metric, show}))).stdout;
}

const byName = (cases: Case[], name: string): Omit<PminfoMetric, 'show'> => {
	const found = cases.find(({metric}) => metric.name === name);
	if (!found) {
		throw new Error(`no case ${name}`);
	}

	return found.metric;
};

describe('pminfo blocks, byte for byte against recorded pminfo 6.0.3 output', () => {
	test('-dfm over every value type and anomaly of pmdasample', () => {
		expect(render(sampleCases, {desc: true, fetch: true, pmid: true})).toBe(sampleDfm);
	});

	test('-dmtT with help texts (trailing newlines removed, inner blank lines kept)', () => {
		expect(render(textCases, {
			desc: true, pmid: true, oneline: true, help: true,
		})).toBe(textDmtT);
	});

	test('-f kernel.all.load (captures/plain-pminfo-f-kernel.all.load.txt)', () => {
		const out = renderMetricBlock({
			...byName(textCases, 'kernel.all.load'),
			show: {fetch: true},
			values: ok([1, 0.18], [5, 0.29], [15, 0.25]),
			instanceNames: new Map([[1, '1 minute'], [5, '5 minute'], [15, '15 minute']]),
		});
		expect(out).toEqual({
			stdout: '\nkernel.all.load\n    inst [1 or "1 minute"] value 0.18000001\n    inst [5 or "5 minute"] value 0.28999999\n    inst [15 or "15 minute"] value 0.25\n',
			stderr: '',
		});
	});

	test('-f of a singular metric: three spaces, then " value "', () => {
		expect(renderMetricBlock({
			...byName(textCases, 'hinv.ncpu'), show: {fetch: true}, values: ok([-1, 2]),
		}).stdout).toBe('\nhinv.ncpu\n    value 2\n');
		expect(renderMetricBlock({
			...byName(textCases, 'kernel.uname.release'), show: {fetch: true}, values: ok([undefined, '6.18.44-fc-v669']),
		}).stdout).toBe('\nkernel.uname.release\n    value "6.18.44-fc-v669"\n');
	});

	test('-dfmtT disk.dev.read: desc, help, then values (docs/pcp.md#pminfo-output)', () => {
		expect(renderMetricBlock({
			...byName(textCases, 'disk.dev.read'),
			show: {
				desc: true, fetch: true, pmid: true, oneline: true, help: true,
			},
			values: ok([0, 75_109n]),
			instanceNames: new Map([[0, 'vda']]),
		}).stdout).toBe(`
disk.dev.read PMID: 60.0.4 [per-disk read operations]
    Data Type: 64-bit unsigned int  InDom: 60.1 0xf000001
    Semantics: counter  Units: count
Help:
Cumulative number of disk read operations since system boot time (subject
to counter wrap).
    inst [0 or "vda"] value 75109
`);
	});

	test('the negative values of docs/pcp.md#pminfo-output', () => {
		const cases: Array<[number, number | bigint, string]> = [[0, -9999, '-9999'], [2, -9997n, '-9997'], [5, -9999, '-9999'], [4, -9996, '-9996']];
		for (const [type, value, printed] of cases) {
			expect(renderMetricBlock({
				name: 'm', pmid: 1, show: {fetch: true}, desc: pcpDesc('m', 1, type, 3, indomNull), values: ok([-1, value]),
			}).stdout).toBe(`\nm\n    value ${printed}\n`);
		}
	});
});

describe('one line per metric: -m, -M, -t and no flags', () => {
	const ncpu = byName(textCases, 'hinv.ncpu');
	test('shapes', () => {
		expect(renderMetricBlock({...ncpu, show: {pmid: true}}).stdout).toBe('hinv.ncpu PMID: 60.0.32\n');
		expect(renderMetricBlock({...ncpu, show: {pmidLong: true}}).stdout).toBe('hinv.ncpu PMID: 60.0.32 = 251658272 = 0xf000020\n');
		expect(renderMetricBlock({...ncpu, show: {oneline: true}}).stdout).toBe('hinv.ncpu [number of CPUs in the system]\n');
		expect(renderMetricBlock({...ncpu, show: {pmid: true, oneline: true}}).stdout).toBe('hinv.ncpu PMID: 60.0.32 [number of CPUs in the system]\n');
		expect(renderMetricBlock({...ncpu, show: {}}).stdout).toBe('hinv.ncpu\n');
		expect(render(textCases.slice(0, 2), {oneline: true})).toBe('kernel.all.load [1, 5 and 15 minute load average]\nhinv.ncpu [number of CPUs in the system]\n');
	});

	test('-MtT puts the one-line text on its own indented line', () => {
		expect(renderMetricBlock({
			...ncpu, show: {pmidLong: true, oneline: true, help: true},
		}).stdout).toBe('\nhinv.ncpu PMID: 60.0.32 = 251658272 = 0xf000020\n    [number of CPUs in the system]\nHelp:\nnumber of CPUs in the system\n');
	});

	test('-m and -t need no descriptor, so a missing one is not an error', () => {
		expect(renderMetricBlock({
			name: 'x.y', pmid: pmIdBuild(1, 2, 3), show: {pmid: true, oneline: true}, oneline: 'why',
		}).stdout).toBe('x.y PMID: 1.2.3 [why]\n');
	});

	test('text lookup errors', () => {
		expect(renderMetricBlock({
			name: 'sample.long.one', pmid: sample(10), show: {pmid: true, oneline: true}, onelineError: notAvailable,
		}).stdout).toBe(`sample.long.one PMID: 29.0.10 One-line Help: Error: ${notAvailable}\n`);
		expect(renderMetricBlock({
			name: 'sample.long.one', pmid: sample(10), show: {pmidLong: true, oneline: true}, onelineError: notAvailable,
		}).stdout).toBe(`sample.long.one PMID: 29.0.10 = 121634826 = 0x740000a One-line Help: Error: ${notAvailable}\n`);
		expect(renderMetricBlock({
			name: 'sample.long.one', pmid: sample(10), show: {help: true}, helpError: notAvailable,
		}).stdout).toBe(`\nsample.long.one\nFull Help: Error: ${notAvailable}\n`);
	});

	test('-I prints the InDom as a number too', () => {
		expect(renderMetricBlock({...byName(textCases, 'kernel.all.load'), show: {fullIndom: true}}).stdout)
			.toBe('\nkernel.all.load\n    Data Type: float  InDom: 60.2 = 251658242 = 0xf000002\n    Semantics: instant  Units: none\n');
	});
});

describe('help text rules', () => {
	test('renderHelp', () => {
		expect(renderHelp('a\nb\n\n\n')).toBe('Help:\na\nb\n');
		expect(renderHelp('a\n\nb')).toBe('Help:\na\n\nb\n');
		expect(renderHelp('')).toBe('Help: <empty entry>\n');
		expect(renderHelp('\n\n')).toBe('Help: <empty entry>\n');
		expect(renderHelp(undefined)).toBe('Help: <empty entry>\n');
		expect(renderHelp(undefined, 'No PMCD agent for domain of request')).toBe('Full Help: Error: No PMCD agent for domain of request\n');
	});

	test('libpcp falls back to the one-line text when the help is empty or fails', () => {
		expect(needsOnelineFallback('text')).toBe(false);
		expect(needsOnelineFallback('')).toBe(true);
		expect(needsOnelineFallback(undefined, 'err')).toBe(true);
		expect(resolveHelp({text: 'long'}, {text: 'short'})).toEqual({help: 'long'});
		expect(resolveHelp({text: ''}, {text: 'short'})).toEqual({help: 'short'});
		expect(resolveHelp({error: 'e1'}, {text: 'short'})).toEqual({help: 'short'});
		expect(resolveHelp({error: 'e1'}, {error: 'e2'})).toEqual({helpError: 'e2'});
		expect(resolveHelp({text: ''}, {text: ''})).toEqual({help: ''});
		expect(resolveHelp({error: 'e1'})).toEqual({helpError: 'e1'});
	});
});

describe('failures inside a block', () => {
	const load = byName(textCases, 'kernel.all.load');
	test('pmLookupDesc failure: one line, no blank line, block skipped', () => {
		expect(renderMetricBlock({
			name: 'sample.bad.unknown', pmid: 1, show: {fetch: true, help: true}, descError: 'Unknown or illegal metric identifier',
		}).stdout).toBe('sample.bad.unknown: pmLookupDesc: Unknown or illegal metric identifier\n');
	});

	test('-T alone does not look up the descriptor', () => {
		expect(renderMetricBlock({
			name: 'sample.bad.unknown', pmid: 1, show: {help: true}, helpError: notAvailable, descError: 'x',
		}).stdout).toBe(`\nsample.bad.unknown\nFull Help: Error: ${notAvailable}\n`);
	});

	test('a failed batch fetch prints only "NAME: pmFetch: msg"', () => {
		expect(renderMetricBlock({
			...load, show: {fetch: true, desc: true}, fetchError: 'Timeout waiting for a response from PMCD',
		}).stdout).toBe('kernel.all.load: pmFetch: Timeout waiting for a response from PMCD\n');
	});

	test('unknown instances, with and without an instance list', () => {
		const values = ok([1, 0.5], [7, 0.25]);
		expect(renderValues(values, load.desc, new Map([[1, '1 minute']]))).toBe('    inst [1 or "1 minute"] value 0.5\npmNameIndom: indom=60.2 inst=7: Unknown or illegal instance identifier\n    inst [7] value 0.25\n');
		// Without an instance list, the names carried by the values are used.
		expect(renderValues({status: 'ok', values: [{instance: 1, name: 'one', value: 1}]}, load.desc)).toBe('    inst [1 or "one"] value 1\n');
		// A failed indom lookup (empty list): every instance is unknown.
		expect(renderValues(ok([1, 1]), load.desc, new Map())).toBe('pmNameIndom: indom=60.2 inst=1: Unknown or illegal instance identifier\n    inst [1] value 1\n');
	});

	test('no values, numval errors, and an empty ok list', () => {
		expect(renderValues({status: 'novalues'}, load.desc)).toBe('No value(s) available!\n');
		expect(renderValues({status: 'error', code: -12_389, message: 'Try again. Information not currently available'}, load.desc)).toBe('Error: Try again. Information not currently available\n');
		expect(renderValues({status: 'ok', values: []}, load.desc)).toBe('No value(s) available!\n');
	});

	test('values of a descriptor without an indom (other protocols) keep their instances', () => {
		const generic: MetricDesc = {
			name: 'icinga.perf', type: 'double', semantics: 'instant', units: unitsFromWord(0), unitsText: 'none',
		};
		expect(renderValues({status: 'ok', values: [{instance: 0, name: 'rta', value: 0.5}, {instance: 1, value: 2}, {value: 3}]}, generic))
			.toBe('    inst [0 or "rta"] value 0.5\n    inst [1] value 2\n    value 3\n');
	});

	test('values without a descriptor print by their JS type', () => {
		expect(renderValues(ok([undefined, 1.5], [undefined, 'a'], [undefined, 3n]), undefined)).toBe('    value 1.5\n    value "a"\n    value 3\n');
	});
});

describe('-v, -l, InDom arguments and listings', () => {
	test('-v reports only problems (real pminfo -v output)', () => {
		const verify = (name: string) => renderMetricBlock({...byName(sampleCases, name), show: {verify: true, desc: true, fetch: true}}).stdout;
		expect(verify('sample.bad.novalues')).toBe('sample.bad.novalues: No value(s) available\n');
		expect(verify('sample.bad.nosupport')).toBe('sample.bad.nosupport: Not Supported\n');
		expect(verify('sample.needprofile')).toBe('sample.needprofile: Explicit instance identifier(s) required\n');
		expect(verify('sample.long.million')).toBe('');
		expect(verify('sample.bad.unknown')).toBe('sample.bad.unknown: pmLookupDesc: Unknown or illegal metric identifier\n');
	});

	test('-l (captures/plain-pminfo-l.txt)', () => {
		const labels = '{"agent":"linux","domainname":"localdomain","hostname":"vm","machineid":"3d1219c7c4c5404aaa1f6d2a48adfda4"}';
		expect(renderMetricBlock({
			...byName(textCases, 'hinv.ncpu'), show: {labels: true}, labels, values: ok([-1, 2]),
		}).stdout).toBe(`\nhinv.ncpu\n    labels ${labels}\n`);
		expect(renderMetricBlock({
			...byName(textCases, 'kernel.all.load'),
			show: {labels: true},
			labels,
			instanceLabels: [{instance: 1, name: '1 minute', labels}, {instance: 5, labels}],
		}).stdout).toBe(`\nkernel.all.load\n    labels ${labels}\n    inst [1 or "1 minute"] labels ${labels}\n    inst [5 or "DISAPPEARED"] labels ${labels}\n`);
	});

	test('InDom arguments (real pminfo -T 60.2, -tI 60.2, -Mt 60.2)', () => {
		const indom = pmInDomBuild(60, 2);
		const oneline = 'load averages for 1, 5, and 15 minutes';
		expect(renderInDomBlock({indom, show: {help: true}, help: oneline})).toBe(`\nInDom: 60.2 0xf000002\nHelp:\n${oneline}\n`);
		expect(renderInDomBlock({indom, show: {oneline: true, fullIndom: true}, oneline})).toBe(`\nInDom: 60.2 = 251658242 = 0xf000002\n    [${oneline}]\n`);
		expect(renderInDomBlock({indom, show: {oneline: true, pmidLong: true}, oneline})).toBe(`\nInDom: 60.2 0xf000002 [${oneline}]\n`);
		expect(renderInDomBlock({indom, show: {oneline: true}, onelineError: notAvailable})).toBe(`\nInDom: 60.2 0xf000002 One-line Help: Error: ${notAvailable}\n`);
		expect(renderInDomBlock({indom, show: {verify: true}})).toBe('');
	});

	test('names only, and the stdout/stderr error lines', () => {
		expect(renderNameList(['hinv.ncpu', 'kernel.all.load'])).toBe('hinv.ncpu\nkernel.all.load\n');
		expect(renderNameList([''])).toBe('PMNS appears to be empty!\n');
		expect(argumentErrorLine('no.such.metric', 'Unknown metric name')).toBe('Error: no.such.metric: Unknown metric name\n');
		expect(argumentErrorLine('60.0.999', 'Unknown or illegal metric identifier')).toBe('Error: 60.0.999: Unknown or illegal metric identifier\n');
		expect(connectErrorLine('127.0.0.1:44499', 'Connection refused')).toBe('pminfo: Cannot connect to PMCD on host "127.0.0.1:44499": Connection refused\n');
		expect(lookupNameErrorLine('a.b', 'Unknown metric name')).toBe('a.b: pmLookupName: Unknown metric name\n');
		expect(traverseErrorLine('IPC protocol failure')).toBe('Error: IPC protocol failure\n');
	});

	test('renderDesc', () => {
		expect(renderDesc(byName(textCases, 'mem.physmem').desc!)).toBe('    Data Type: 64-bit unsigned int  InDom: PM_INDOM_NULL 0xffffffff\n    Semantics: discrete  Units: Kbyte\n');
		const generic: MetricDesc = {
			name: 'zabbix.key', type: 'double', semantics: 'counter', units: unitsFromWord(0x1f_00_30_00), unitsText: 'byte / sec',
		};
		expect(renderDesc(generic)).toBe('    Data Type: double  InDom: PM_INDOM_NULL 0xffffffff\n    Semantics: counter  Units: byte / sec\n');
	});
});

describe.skipIf(!existsSync(pminfoPath))('against the real pminfo and pmcd', () => {
	let peer: PmcdPeer;
	beforeAll(async () => {
		peer = await startPmcd('plain');
	});
	afterAll(async () => {
		await peer?.stop();
	});

	test('pminfo -dfm over pmdasample matches renderMetricBlocks', async () => {
		const names = sampleCases.map(({metric}) => metric.name);
		const real = await runPminfo(['-h', peer.address, '-dfm', ...names]);
		expect(real.stderr).toBe('');
		expect(real.code).toBe(0);
		expect(real.stdout).toBe(render(sampleCases, {desc: true, fetch: true, pmid: true}));
	});

	test('pminfo -dmtT over linux and pmcd metrics matches', async () => {
		const names = textCases.map(({metric}) => metric.name);
		const real = await runPminfo(['-h', peer.address, '-dmtT', ...names]);
		expect(real.stderr).toBe('');
		expect(real.stdout).toBe(render(textCases, {
			desc: true, pmid: true, oneline: true, help: true,
		}));
	});

	test('pminfo -m, -M, -t and -MtT shapes match', async () => {
		const ncpu = byName(textCases, 'hinv.ncpu');
		for (const [flag, show] of [['-m', {pmid: true}], ['-M', {pmidLong: true}], ['-t', {oneline: true}], ['-MtT', {pmidLong: true, oneline: true, help: true}], ['-tT', {oneline: true, help: true}]] as const) {
			const real = await runPminfo(['-h', peer.address, flag, 'hinv.ncpu']);
			expect(real.stdout).toBe(renderMetricBlock({...ncpu, show}).stdout);
		}
	});

	test('pminfo -v, an InDom argument and an unknown name match', async () => {
		const verifyNames = ['sample.bad.novalues', 'sample.bad.nosupport', 'sample.needprofile', 'sample.long.million', 'sample.bad.unknown'];
		const verified = await runPminfo(['-h', peer.address, '-v', ...verifyNames]);
		expect(verified.stdout).toBe(render(verifyNames.map(name => ({metric: byName(sampleCases, name)})), {verify: true}));

		const indom = await runPminfo(['-h', peer.address, '-tIT', '60.2']);
		const oneline = 'load averages for 1, 5, and 15 minutes';
		expect(indom.stdout).toBe(renderInDomBlock({
			indom: pmInDomBuild(60, 2), show: {oneline: true, fullIndom: true, help: true}, oneline, help: oneline,
		}));

		const unknown = await runPminfo(['-h', peer.address, '-f', 'no.such.metric']);
		expect(unknown).toMatchObject({stdout: '', stderr: argumentErrorLine('no.such.metric', 'Unknown metric name'), code: 1});
	});
});
