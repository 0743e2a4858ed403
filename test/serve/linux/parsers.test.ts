import {describe, expect, test} from 'vitest';
import {
	decodeMountField, isDiskName, isPartitionName, parseDiskstats, parseLoadavg, parseMeminfo, parseMounts, parseNetDev, parseStat, parseUptime,
} from '../../../source/serve/linux/parsers.js';

describe('parseLoadavg', () => {
	test('reads the three averages', () => {
		expect(parseLoadavg('0.49 0.27 0.12 1/98 10650\n')).toEqual([0.49, 0.27, 0.12]);
	});

	test('rejects garbage', () => {
		expect(() => parseLoadavg('')).toThrow(/loadavg/v);
		expect(() => parseLoadavg('a b c')).toThrow(/loadavg/v);
	});
});

describe('parseStat', () => {
	const text = [
		'cpu  5793 0 3508 57235 431 0 80 22 0 0',
		'cpu0 2422 0 1384 29747 22 0 23 7 0 0',
		'cpu1 3371 0 2124 27487 408 0 57 14 0 0',
		'intr 331124 0 0 0',
		'ctxt 788149',
		'btime 1763940000',
		'',
	].join('\n');

	test('aggregate line and online CPUs', () => {
		const stat = parseStat(text);
		expect(stat.online).toBe(2);
		expect(stat.all).toEqual({
			user: 5793n, nice: 0n, sys: 3508n, idle: 57_235n, wait: 431n, irq: 0n, sirq: 80n, steal: 22n, guest: 0n, guestNice: 0n,
		});
	});

	test('old kernels with fewer columns leave the rest at zero, and a single CPU counts as one', () => {
		const stat = parseStat('cpu  1 2 3 4\n');
		expect(stat.all.idle).toBe(4n);
		expect(stat.all.wait).toBe(0n);
		expect(stat.online).toBe(1);
	});

	test('64-bit counters survive beyond 2^53', () => {
		expect(parseStat('cpu  18446744073709551615 0 0 0\n').all.user).toBe(18_446_744_073_709_551_615n);
	});

	test('no aggregate line is an error', () => {
		expect(() => parseStat('cpu0 1 2 3 4\n')).toThrow(/no "cpu " line/v);
	});
});

describe('parseMeminfo', () => {
	test('name → kB', () => {
		const info = parseMeminfo('MemTotal:       24684096 kB\nMemFree:        23973812 kB\nHugePages_Total:       0\nActive(file):     100 kB\n');
		expect(info.get('MemTotal')).toBe(24_684_096n);
		expect(info.get('MemFree')).toBe(23_973_812n);
		expect(info.get('HugePages_Total')).toBe(0n);
		expect(info.get('Active(file)')).toBe(100n);
		expect(info.has('MemAvailable')).toBe(false);
	});
});

describe('disk classification (proc_partitions.c)', () => {
	test.each([
		['vda', true],
		['sda', true],
		['hda', true],
		['xvda', true],
		['nvme0n1', true],
		['mmcblk0', true],
		['rbd0', true],
		['nbd3', true],
		['sda1', false],
		['vda2', false],
		['nvme0n1p1', false],
		['mmcblk0p6', false],
		['rbd7p1', false],
		['loop0', false],
		['ram0', false],
		['zram0', false],
		['sr0', false],
		['dm-0', false],
		['md0', false],
		['md127', false],
		['rd/c0d0', true],
		['rd/c0d0p1', false],
		['cciss/c0d0', true],
		['3600508b1001c6a5e', true],
		['3600508b1001c6a5ef', false],
	])('%s is a disk: %s', (name, expected) => {
		expect(isDiskName(name)).toBe(expected);
	});

	test('a name with a slash and no trailing digits is taken as a partition, as the PMDA does', () => {
		expect(isPartitionName('rd/disk')).toBe(true);
	});
});

describe('parseDiskstats', () => {
	const text = [
		'   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
		' 254       0 vda 49011 7710 1751298 8333 8675 37380 1636688 8326 0 6036 16983 3910 49 121880 271 1224 52',
		' 254       1 vda1 100 0 200 0 300 0 400 0 0 0 0',
		' 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
		'   8       0 sda 1 2 3 4 5 6 7 8 9 10 11',
		'   8      16 sdb 10 20 30 40',
		'  11       0 sr0 5 0 5 0 0 0 0 0 0 0 0',
		' 252       0 dm-0 1 0 1 0 1 0 1 0 0 0 0',
		'heading that does not start with a space',
		'',
	].join('\n');

	test('disks only, in file order, with the 2.6 fields', () => {
		const disks = parseDiskstats(text);
		expect(disks.map(d => d.name)).toEqual(['vda', 'sda', 'sdb']);
		expect(disks[0]).toEqual({
			name: 'vda', readIos: 49_011n, readSectors: 1_751_298n, writeIos: 8675n, writeSectors: 1_636_688n,
		});
		expect(disks[1]).toEqual({
			name: 'sda', readIos: 1n, readSectors: 3n, writeIos: 5n, writeSectors: 7n,
		});
	});

	test('the short (old partition) format maps rd_ios rd_sectors wr_ios wr_sectors', () => {
		expect(parseDiskstats(text)[2]).toEqual({
			name: 'sdb', readIos: 10n, readSectors: 20n, writeIos: 30n, writeSectors: 40n,
		});
	});
});

describe('parseNetDev', () => {
	const text = [
		'Inter-|   Receive                                                |  Transmit',
		' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
		'    lo:   82215     431    0    0    0     0          0         0    82215     431    0    0    0     0       0          0',
		'  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
		'  eth0:240356926    7563    0    0    0     0          0         0   919553    5624    0    0    0     0       0          0',
		'',
	].join('\n');

	test('every interface in file order, bytes/packets both ways', () => {
		const result = parseNetDev(text);
		expect(result.map(entry => entry.name)).toEqual(['lo', 'ifb0', 'eth0']);
		expect(result[2]).toEqual({
			name: 'eth0', inBytes: 240_356_926n, inPackets: 7563n, outBytes: 919_553n, outPackets: 5624n,
		});
	});
});

describe('parseMounts (filesys.c)', () => {
	const text = [
		'proc /proc proc rw,relatime 0 0',
		'sysfs /sys sysfs rw,relatime 0 0',
		'devtmpfs /dev devtmpfs rw,relatime 0 0',
		'tmpfs /dev/shm tmpfs rw,relatime 0 0',
		'/dev/vda / ext4 rw,relatime 0 0',
		'/dev/sdb1 /mnt/my\\040disk xfs rw 0 0',
		'server:/export /net nfs rw 0 0',
		'systemd-1 /auto autofs rw 0 0',
		'cgroup /sys/fs/cgroup/cpu cgroup rw 0 0',
		'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
		'/dev/mapper/vg-root /srv ext4 rw 0 0',
		'',
	].join('\n');

	test('block devices, and a non-/dev device only when mounted on /', () => {
		expect(parseMounts(text)).toEqual([
			{device: '/dev/vda', path: '/', type: 'ext4'},
			{device: '/dev/sdb1', path: '/mnt/my disk', type: 'xfs'},
			{device: '/dev/mapper/vg-root', path: '/srv', type: 'ext4'},
		]);
	});

	test('an overlay root is kept (device name as written)', () => {
		expect(parseMounts('overlay / overlay rw 0 0\n')).toEqual([{device: 'overlay', path: '/', type: 'overlay'}]);
	});

	test('octal escapes', () => {
		expect(decodeMountField('a\\040b\\011c\\134d')).toBe('a b\tc\\d');
	});
});

describe('parseUptime', () => {
	test('first field, seconds as double', () => {
		expect(parseUptime('338.07 572.35\n')).toBe(338.07);
		expect(() => parseUptime('x')).toThrow(/uptime/v);
	});
});
