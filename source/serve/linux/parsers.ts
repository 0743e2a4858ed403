/**
 * Pure parsers for the /proc files the built-in collector reads. Each one
 * follows the linux PMDA of PCP 6.0.3 (src/pmdas/linux/*.c) so that the values
 * and instance lists agree with a real pmcd on the same machine.
 * Counters are bigint: they are 64-bit in the PMDA and can exceed 2^53.
 */

export type Loadavg = [one: number, five: number, fifteen: number];

/** proc_loadavg.c: `sscanf("%f %f %f ...")`. */
export function parseLoadavg(text: string): Loadavg {
	const [one, five, fifteen] = text.trim().split(/\s+/v).map(Number);
	if (one === undefined || five === undefined || fifteen === undefined || [one, five, fifteen].some(value => !Number.isFinite(value))) {
		throw new Error(`unexpected /proc/loadavg contents: ${JSON.stringify(text.slice(0, 80))}`);
	}

	return [one, five, fifteen];
}

export type CpuTimes = {
	user: bigint;
	nice: bigint;
	sys: bigint;
	idle: bigint;
	wait: bigint;
	irq: bigint;
	sirq: bigint;
	steal: bigint;
	guest: bigint;
	guestNice: bigint;
};

export type Stat = {
	/** The aggregate `cpu ` line, in USER_HZ ticks. */
	all: CpuTimes;
	/** Number of `cpuN` lines: the online CPUs (proc_stat.c uses /proc/stat as the truth for online state). */
	online: number;
};

function toBigint(field: string | undefined): bigint {
	// The PMDA's sscanf leaves missing fields at zero (older kernels have fewer columns).
	if (field === undefined || !/^\d+$/v.test(field)) {
		return 0n;
	}

	return BigInt(field);
}

/** proc_stat.c: the `cpu ` line (ALLCPU_FMT) and the count of `cpuN` lines. */
export function parseStat(text: string): Stat {
	let all: CpuTimes | undefined;
	let online = 0;
	for (const line of text.split('\n')) {
		if (line.startsWith('cpu ')) {
			const f = line.trim().split(/\s+/v).slice(1).map(field => toBigint(field));
			const at = (index: number) => f[index] ?? 0n;
			all = {
				user: at(0), nice: at(1), sys: at(2), idle: at(3), wait: at(4), irq: at(5), sirq: at(6), steal: at(7), guest: at(8), guestNice: at(9),
			};
		} else if (/^cpu\d+\s/v.test(line)) {
			online++;
		}
	}

	if (!all) {
		throw new Error('unexpected /proc/stat contents: no "cpu " line');
	}

	// setup_cpu_indom: "sanity, surely there must be at least one CPU".
	return {all, online: Math.max(online, 1)};
}

/** proc_meminfo.c: `Name: value kB` lines; values in kB (lines without a unit are kept as-is). */
export function parseMeminfo(text: string): Map<string, bigint> {
	const result = new Map<string, bigint>();
	for (const line of text.split('\n')) {
		const match = /^([^:\s]+):\s+(\d+)/v.exec(line);
		if (match?.[1] && match[2]) {
			result.set(match[1], BigInt(match[2]));
		}
	}

	return result;
}

/*
 * Disk classification, copied from proc_partitions.c (_pm_ispartition,
 * _pm_isdisk, refresh_disk_indom). Only names classified as "disk" belong to
 * the disk.dev instance domain (60.1); partitions, dm-*, md*, zram*, loop*,
 * ram*, sr* and WWIDs go to other domains or nowhere.
 */
const isDigit = (char: string | undefined): boolean => char !== undefined && char >= '0' && char <= '9';
const isLoop = (name: string) => name.startsWith('loop');
const isRamdisk = (name: string) => name.startsWith('ram');
const isZram = (name: string) => name.startsWith('zram');
const isMd = (name: string) => name.startsWith('md');
const isDm = (name: string) => name.startsWith('dm-');
const isCdrom = (name: string) => name.startsWith('sr') && isDigit(name[2]);
const isXvmVolume = (name: string) => name.includes('xvm');
// "a disk unless there is a 'p' after the prefix", e.g. mmcblk0p6, nvme0n1p1, rbd7p1, nbd7p1.
const isWholeDevice = (prefix: string) => (name: string) => name.startsWith(prefix) && !name.slice(prefix.length).includes('p');
const isMmcDisk = isWholeDevice('mmcblk');
const isNvmeDrive = isWholeDevice('nvme');
const isCephRados = isWholeDevice('rbd');
const isNbd = isWholeDevice('nbd');
const isWwid = (name: string) => name.length === 18 && ['1', '2', '3'].includes(name[0] ?? '');

export function isPartitionName(name: string): boolean {
	const last = name.length - 1;
	if (name.includes('/')) {
		let p = last;
		while (p > 0 && isDigit(name[p])) {
			p--;
		}

		// No trailing digits: "wildly guess a disk" — which the PMDA returns as 1 (partition).
		return p === last ? true : name[p] === 'p';
	}

	return isDigit(name[last])
		&& !isLoop(name) && !isRamdisk(name) && !isMmcDisk(name) && !isNvmeDrive(name)
		&& !isCephRados(name) && !isZram(name) && !isNbd(name) && !isMd(name) && !isDm(name) && !isCdrom(name);
}

/** True when the linux PMDA puts this /proc/diskstats name into disk.dev (indom 60.1). */
export function isDiskName(name: string): boolean {
	// refresh_disk_indom checks dm and md first, then partitions, then disks.
	if (isDm(name) || isMd(name) || isPartitionName(name)) {
		return false;
	}

	return !isLoop(name) && !isRamdisk(name) && !isCdrom(name) && !isZram(name) && !isXvmVolume(name) && !isWwid(name);
}

export type DiskStats = {
	name: string;
	readIos: bigint;
	writeIos: bigint;
	readSectors: bigint;
	writeSectors: bigint;
};

/** proc_partitions.c refresh_diskstats: disks only, in file order. */
export function parseDiskstats(text: string): DiskStats[] {
	const disks: DiskStats[] = [];
	const seen = new Set<string>();
	for (const line of text.split('\n')) {
		// "skip heading": data lines start with a space (the major number is right-aligned).
		if (!line.startsWith(' ')) {
			continue;
		}

		const fields = line.trim().split(/\s+/v);
		const name = fields[2];
		if (fields.length < 7 || name === undefined || !isDiskName(name) || seen.has(name)) {
			continue;
		}

		seen.add(name);
		if (fields.length < 14) {
			// Old 2.6 partition format: major minor name rd_ios rd_sectors wr_ios wr_sectors.
			disks.push({
				name, readIos: toBigint(fields[3]), readSectors: toBigint(fields[4]), writeIos: toBigint(fields[5]), writeSectors: toBigint(fields[6]),
			});
		} else {
			disks.push({
				name, readIos: toBigint(fields[3]), readSectors: toBigint(fields[5]), writeIos: toBigint(fields[7]), writeSectors: toBigint(fields[9]),
			});
		}
	}

	return disks;
}

export type NetDevStats = {
	name: string;
	inBytes: bigint;
	inPackets: bigint;
	outBytes: bigint;
	outPackets: bigint;
};

/** proc_net_dev.c: every line with a ':' is an interface, in file order; counters 0, 1, 8, 9. */
export function parseNetDev(text: string): NetDevStats[] {
	const result: NetDevStats[] = [];
	for (const line of text.split('\n')) {
		const colon = line.indexOf(':');
		if (colon === -1) {
			continue;
		}

		const name = line.slice(0, colon).trim();
		const counters = line.slice(colon + 1).trim().split(/\s+/v);
		if (name === '' || result.some(entry => entry.name === name)) {
			continue;
		}

		result.push({
			name,
			inBytes: toBigint(counters[0]),
			inPackets: toBigint(counters[1]),
			outBytes: toBigint(counters[8]),
			outPackets: toBigint(counters[9]),
		});
	}

	return result;
}

export type Mount = {
	/** Device as written in /proc/mounts (the PMDA's instance name before realpath). */
	device: string;
	/** Mount point with /proc/mounts octal escapes (\040 …) decoded, for statfs. */
	path: string;
	type: string;
};

const skippedFsTypes = new Set(['proc', 'nfs', 'devfs', 'devpts', 'devtmpfs', 'squashfs', 'selinuxfs', 'securityfs', 'configfs', 'cgroup', 'sysfs']);

/** Decode the octal escapes the kernel writes for space, tab, newline and backslash in /proc/mounts. */
export function decodeMountField(field: string): string {
	return field.replaceAll(/\\([0-7]{3})/gv, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * filesys.c refresh_filesys: the mounts that belong to the filesys indom
 * (60.5), in file order. tmpfs goes to another indom; devices must start with
 * /dev unless mounted on /. The caller applies realpath() and drops repeats.
 */
export function parseMounts(text: string): Mount[] {
	const result: Mount[] = [];
	for (const line of text.split('\n')) {
		const [device, rawPath, type] = line.split(' ');
		if (!device || rawPath === undefined || type === undefined) {
			continue;
		}

		if (skippedFsTypes.has(type) || type.startsWith('auto') || type === 'tmpfs') {
			continue;
		}

		const path = decodeMountField(rawPath);
		if (!device.startsWith('/dev') && path !== '/') {
			continue;
		}

		result.push({device, path, type});
	}

	return result;
}

/** True when filesys.c keeps the device name as written (dm and md persistent names, RHBZ#1349932). */
export function keepsDeviceName(device: string): boolean {
	return device.startsWith('/dev/mapper') || device.startsWith('/dev/md');
}

/** proc_uptime.c: `sscanf("%lf %lf")`, the first field. */
export function parseUptime(text: string): number {
	const value = Number(text.trim().split(/\s+/v)[0]);
	if (!Number.isFinite(value)) {
		throw new TypeError(`unexpected /proc/uptime contents: ${JSON.stringify(text.slice(0, 80))}`);
	}

	return value;
}
