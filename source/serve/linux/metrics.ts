/**
 * The local Linux metrics of `secmon serve`, with exactly the names, PMIDs
 * (domain 60, the linux PMDA's cluster.item), types, semantics, units,
 * instance domains and help text of pmcd's linux PMDA in PCP 6.0.3
 * (/var/lib/pcp/pmdas/linux/help, checked against a real pmcd in
 * test/serve/linux.test.ts). Each entry names the /proc snapshot it needs and
 * how to turn that snapshot into values.
 */
import {noUnits, type Units, type Value} from '../../metrics/model.js';
import {
	indom, indomNull, instNull, pcpSem, pcpType, pmid,
	type FetchOutcome, type Instance, type ServedIndom, type ServedMetric,
} from '../types.js';
import type {
	CpuTimes, DiskStats, Loadavg, NetDevStats,
} from './parsers.js';

export const linuxDomain = 60;

/** Instance domains, serials as in the linux PMDA (indom.h). */
export const linuxIndom = {
	disk: indom(linuxDomain, 1),
	load: indom(linuxDomain, 2),
	netdev: indom(linuxDomain, 3),
	filesys: indom(linuxDomain, 5),
} as const;

export const linuxIndoms: readonly ServedIndom[] = [
	{indom: linuxIndom.disk, oneline: 'set of all disks', help: ''},
	{indom: linuxIndom.load, oneline: 'load averages for 1, 5, and 15 minutes', help: ''},
	{indom: linuxIndom.netdev, oneline: 'set of network interfaces', help: ''},
	{indom: linuxIndom.filesys, oneline: 'mounted block-device-backed filesystem', help: ''},
];

/** kernel.all.load instances: the id is the number of minutes. */
export const loadInstances: readonly Instance[] = [
	{inst: 1, name: '1 minute'},
	{inst: 5, name: '5 minute'},
	{inst: 15, name: '15 minute'},
];

export type Filesystem = Instance & {
	/** statfs f_blocks, f_bfree and f_bsize */
	blocks: bigint;
	bfree: bigint;
	bsize: bigint;
};

export type Uname = {sysname: string; nodename: string; release: string};

/** One sample of everything a fetch asked for; each part is read only when needed. */
export type Snapshot = {
	loadavg?: Loadavg;
	stat?: {all: CpuTimes; online: number};
	meminfo?: Map<string, bigint>;
	disks?: Array<DiskStats & {inst: number}>;
	netdev?: Array<NetDevStats & {inst: number}>;
	filesys?: Filesystem[];
	uptime?: number;
	uname?: Uname;
};

export type SnapshotPart = keyof Snapshot;

export type LinuxMetric = ServedMetric & {
	part: SnapshotPart;
	sample(snapshot: Snapshot): FetchOutcome;
};

const units = (partial: Partial<Units>): Units => ({...noUnits, ...partial});
const millisec = units({dimTime: 1, scaleTime: 2});
const sec = units({dimTime: 1, scaleTime: 3});
const kbyte = units({dimSpace: 1, scaleSpace: 1});
const byte = units({dimSpace: 1});
const count = units({dimCount: 1});

/** Linux USER_HZ: /proc/stat ticks are always 1/100 s on the architectures Node runs on. */
const userHz = 100n;

const single = (value: Value): FetchOutcome => ({values: [{inst: instNull, value}]});
const noValues: FetchOutcome = {values: []};

function need<T>(value: T | undefined): T {
	if (value === undefined) {
		throw new Error('internal: snapshot part was not sampled');
	}

	return value;
}

/** Help text as the PMDA's help file has it: lines joined by newlines, no trailing newline. */
const lines = (...text: string[]): string => text.join('\n');

type Spec = {name: string; item: number; oneline: string; help?: string};

/** proc_stat → milliseconds: `1000 * (double)ticks / hz`, exact in bigint for USER_HZ 100. */
function cpuMetric(spec: Spec & {field: keyof CpuTimes}): LinuxMetric {
	return {
		name: spec.name, pmid: pmid(linuxDomain, 0, spec.item), type: pcpType.u64, indom: indomNull, sem: pcpSem.counter, units: millisec,
		oneline: spec.oneline, help: spec.help ?? '', part: 'stat',
		sample: s => single(need(s.stat).all[spec.field] * 1000n / userHz),
	};
}

/** proc_meminfo: a field missing from /proc/meminfo gives "no values" (MEMINFO_VALID_VALUE). */
function memMetric(spec: Spec & {sem: number; compute: (m: Map<string, bigint>) => bigint | undefined}): LinuxMetric {
	return {
		name: spec.name, pmid: pmid(linuxDomain, 1, spec.item), type: pcpType.u64, indom: indomNull, sem: spec.sem, units: kbyte,
		oneline: spec.oneline, help: spec.help ?? '', part: 'meminfo',
		sample(s) {
			const value = spec.compute(need(s.meminfo));
			return value === undefined ? noValues : single(value);
		},
	};
}

function unameMetric(spec: Spec & {field: keyof Uname}): LinuxMetric {
	return {
		name: spec.name, pmid: pmid(linuxDomain, 12, spec.item), type: pcpType.string, indom: indomNull, sem: pcpSem.discrete, units: noUnits,
		oneline: spec.oneline, help: spec.help ?? '', part: 'uname',
		sample: s => single(need(s.uname)[spec.field]),
	};
}

function diskMetric(spec: Spec & {units: Units; value: (d: DiskStats) => bigint}): LinuxMetric {
	return {
		name: spec.name, pmid: pmid(linuxDomain, 0, spec.item), type: pcpType.u64, indom: linuxIndom.disk, sem: pcpSem.counter, units: spec.units,
		oneline: spec.oneline, help: spec.help ?? '', part: 'disks',
		sample: s => ({values: need(s.disks).map(d => ({inst: d.inst, value: spec.value(d)}))}),
	};
}

function netMetric(spec: Spec & {units: Units; value: (n: NetDevStats) => bigint}): LinuxMetric {
	return {
		name: spec.name, pmid: pmid(linuxDomain, 3, spec.item), type: pcpType.u64, indom: linuxIndom.netdev, sem: pcpSem.counter, units: spec.units,
		oneline: spec.oneline, help: spec.help ?? '', part: 'netdev',
		sample: s => ({values: need(s.netdev).map(n => ({inst: n.inst, value: spec.value(n)}))}),
	};
}

/** filesys.c: statfs blocks × f_bsize / 1024 (Kbytes), 64-bit integer arithmetic. */
function filesysMetric(spec: Spec & {sem: number; blocks: (f: Filesystem) => bigint}): LinuxMetric {
	return {
		name: spec.name, pmid: pmid(linuxDomain, 5, spec.item), type: pcpType.u64, indom: linuxIndom.filesys, sem: spec.sem, units: kbyte,
		oneline: spec.oneline, help: spec.help ?? '', part: 'filesys',
		sample: s => ({values: need(s.filesys).map(f => ({inst: f.inst, value: spec.blocks(f) * f.bsize / 1024n}))}),
	};
}

export const linuxMetrics: readonly LinuxMetric[] = [
	{
		name: 'kernel.all.load', pmid: pmid(linuxDomain, 2, 0), type: pcpType.float, indom: linuxIndom.load, sem: pcpSem.instant, units: noUnits,
		oneline: '1, 5 and 15 minute load average', help: '', part: 'loadavg',
		sample(s) {
			const load = need(s.loadavg);
			return {values: [{inst: 1, value: load[0]}, {inst: 5, value: load[1]}, {inst: 15, value: load[2]}]};
		},
	},
	cpuMetric({
		name: 'kernel.all.cpu.user', item: 20, field: 'user', oneline: 'total user CPU time from /proc/stat for all CPUs, including guest CPU time',
	}),
	cpuMetric({
		name: 'kernel.all.cpu.sys', item: 22, field: 'sys', oneline: 'total sys CPU time from /proc/stat for all CPUs',
	}),
	cpuMetric({
		name: 'kernel.all.cpu.idle', item: 23, field: 'idle', oneline: 'total idle CPU time from /proc/stat for all CPUs',
	}),
	cpuMetric({
		name: 'kernel.all.cpu.wait.total', item: 35, field: 'wait', oneline: 'total wait CPU time from /proc/stat for all CPUs',
	}),
	{
		name: 'hinv.ncpu', pmid: pmid(linuxDomain, 0, 32), type: pcpType.u32, indom: indomNull, sem: pcpSem.discrete, units: noUnits,
		oneline: 'number of CPUs in the system', help: '', part: 'stat',
		sample: s => single(need(s.stat).online),
	},
	memMetric({
		name: 'mem.physmem', item: 0, sem: pcpSem.discrete,
		oneline: 'total system memory metric reported by /proc/meminfo',
		help: lines(
			'The value of this metric corresponds to the "MemTotal" field',
			'reported by /proc/meminfo. Note that this does not necessarily',
			'correspond to actual installed physical memory - there may',
			'be areas of the physical address space mapped as ROM in',
			'various peripheral devices and the bios may be mirroring',
			'certain ROMs in RAM.',
		),
		compute: m => m.get('MemTotal'),
	}),
	memMetric({
		name: 'mem.util.used', item: 1, sem: pcpSem.instant,
		oneline: 'used memory metric from /proc/meminfo',
		help: 'Used memory is the difference between mem.physmem and mem.freemem.',
		compute(m) {
			const total = m.get('MemTotal');
			const free = m.get('MemFree');
			return total === undefined || free === undefined ? undefined : total - free;
		},
	}),
	memMetric({
		name: 'mem.util.free', item: 2, sem: pcpSem.instant,
		oneline: 'free memory metric from /proc/meminfo', help: 'Alias for mem.freemem.',
		compute: m => m.get('MemFree'),
	}),
	memMetric({
		name: 'mem.util.available', item: 58, sem: pcpSem.instant,
		oneline: 'available memory from /proc/meminfo',
		help: lines(
			'The amount of memory that is available for a new workload,',
			'without pushing the system into swap. Estimated from MemFree,',
			'Active(file), Inactive(file), and SReclaimable, as well as the "low"',
			'watermarks from /proc/zoneinfo.',
		),
		compute: m => m.get('MemAvailable'),
	}),
	memMetric({
		name: 'mem.util.cached', item: 5, sem: pcpSem.instant,
		oneline: 'page cache metric from /proc/meminfo',
		help: lines(
			'Memory used by the page cache, including buffered file data.',
			'This is in-memory cache for files read from the disk (the pagecache)',
			'but doesn\'t include SwapCached.',
		),
		compute: m => m.get('Cached'),
	}),
	memMetric({
		name: 'mem.util.bufmem', item: 4, sem: pcpSem.instant,
		oneline: 'I/O buffers metric from /proc/meminfo', help: 'Memory allocated for buffer_heads.',
		compute: m => m.get('Buffers'),
	}),
	unameMetric({
		name: 'kernel.uname.release', item: 0, field: 'release',
		oneline: 'release level of the running kernel',
		help: lines(
			'Release level of the running kernel as reported via the release[]',
			'value returned from uname(2) or uname -r.',
			'',
			'See also pmda.uname.',
		),
	}),
	unameMetric({
		name: 'kernel.uname.sysname', item: 2, field: 'sysname',
		oneline: 'name of the implementation of the operating system',
		help: lines(
			'Name of the implementation of the running operating system as reported',
			'by the sysname[] value returned from uname(2) or uname -s.  Usually',
			'"Linux".',
			'',
			'See also pmda.uname.',
		),
	}),
	unameMetric({
		name: 'kernel.uname.nodename', item: 4, field: 'nodename',
		oneline: 'host name of this node on the network',
		help: lines(
			'Name of this node on the network as reported by the nodename[]',
			'value returned from uname(2) or uname -n.  Usually a synonym for',
			'the host name.',
			'',
			'See also pmda.uname.',
		),
	}),
	{
		name: 'kernel.all.uptime', pmid: pmid(linuxDomain, 26, 0), type: pcpType.double, indom: indomNull, sem: pcpSem.instant, units: sec,
		oneline: 'time the current kernel has been running', help: '', part: 'uptime',
		sample: s => single(need(s.uptime)),
	},
	diskMetric({
		name: 'disk.dev.read', item: 4, units: count,
		oneline: 'per-disk read operations',
		help: lines('Cumulative number of disk read operations since system boot time (subject', 'to counter wrap).'),
		value: d => d.readIos,
	}),
	diskMetric({
		name: 'disk.dev.write', item: 5, units: count,
		oneline: 'per-disk write operations',
		help: lines('Cumulative number of disk write operations since system boot time (subject', 'to counter wrap).'),
		value: d => d.writeIos,
	}),
	// proc_partitions.c: sectors / 2 = Kbytes.
	diskMetric({
		name: 'disk.dev.read_bytes', item: 38, units: kbyte, oneline: 'per-disk count of bytes read', value: d => d.readSectors / 2n,
	}),
	diskMetric({
		name: 'disk.dev.write_bytes', item: 39, units: kbyte, oneline: 'per-disk count of bytes written', value: d => d.writeSectors / 2n,
	}),
	netMetric({
		name: 'network.interface.in.bytes', item: 0, units: byte,
		oneline: 'network recv read bytes from /proc/net/dev per network interface',
		help: lines('bytes column on the "Receive" side of /proc/net/dev (stats->rx_bytes counter in', 'rtnl_link_stats64)'),
		value: n => n.inBytes,
	}),
	netMetric({
		name: 'network.interface.in.packets', item: 1, units: count,
		oneline: 'network recv read packets from /proc/net/dev per network interface',
		help: lines('packets column on the "Receive" side of /proc/net/dev', '(stats->rx_packets counter in rtnl_link_stats64)'),
		value: n => n.inPackets,
	}),
	netMetric({
		name: 'network.interface.out.bytes', item: 8, units: byte,
		oneline: 'network send bytes from /proc/net/dev per network interface',
		help: lines('bytes column on the "Transmit" side of /proc/net/dev', '(stats->tx_bytes counter in rtnl_link_stats64)'),
		value: n => n.outBytes,
	}),
	netMetric({
		name: 'network.interface.out.packets', item: 9, units: count,
		oneline: 'network send packets from /proc/net/dev per network interface',
		help: lines('packets column on the "Transmit" side of /proc/net/dev', '(stats->tx_packets counter in rtnl_link_stats64)'),
		value: n => n.outPackets,
	}),
	filesysMetric({
		name: 'filesys.capacity', item: 1, sem: pcpSem.discrete, oneline: 'Total capacity of mounted filesystem (Kbytes)', blocks: f => f.blocks,
	}),
	filesysMetric({
		name: 'filesys.used', item: 2, sem: pcpSem.instant, oneline: 'Total space used on mounted filesystem (Kbytes)', blocks: f => f.blocks - f.bfree,
	}),
	filesysMetric({
		name: 'filesys.free', item: 3, sem: pcpSem.instant, oneline: 'Total space free on mounted filesystem (Kbytes)', blocks: f => f.bfree,
	}),
];
