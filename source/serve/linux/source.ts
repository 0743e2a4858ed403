/**
 * The linux metric source: reads only the /proc files a fetch needs, once per
 * fetch, and keeps pmdaCache-like instance ids for disks, interfaces and
 * filesystems. All file reads are async, so a slow /proc or a hung statfs on
 * one mount does not block the event loop that serves other clients.
 */
import {readFile, realpath, statfs} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {pcpError, PcpCodeError} from '../errors.js';
import type {
	ClientContext, FetchOutcome, Instance, MetricSource,
} from '../types.js';
import {InstanceCache} from './instances.js';
import {
	linuxDomain, linuxIndom, linuxIndoms, linuxMetrics, loadInstances,
	type Filesystem, type LinuxMetric, type Snapshot, type SnapshotPart, type Uname,
} from './metrics.js';
import {
	keepsDeviceName, parseDiskstats, parseLoadavg, parseMeminfo, parseMounts, parseNetDev, parseStat, parseUptime,
} from './parsers.js';

/** proc_stat.c WAITIO_SLOP: iowait may go backwards by a little; hold the last value instead. */
const waitioSlop = 1000n;

/** A statfs() that has not answered after this long is treated as "instance unavailable" (e.g. a dead NFS server). */
const statfsTimeoutMs = 2000;

export type LinuxSourceOptions = {
	/** Root of the /proc and /sys trees to read (tests point it at fixtures); default "/". */
	root?: string;
};

export class LinuxSource implements MetricSource {
	readonly domain = linuxDomain;
	readonly agent = 'linux';
	readonly metrics = linuxMetrics;
	readonly indoms = linuxIndoms;
	/** /proc is the same for every client: one read serves all within the window (server.ts sharedFetch). */
	readonly shared = true;
	private readonly byPmid = new Map<number, LinuxMetric>(linuxMetrics.map(metric => [metric.pmid, metric]));
	private readonly root: string;
	private readonly diskCache = new InstanceCache();
	private readonly netCache = new InstanceCache();
	private readonly filesysCache = new InstanceCache();
	private previousWait = 0n;

	constructor(options: LinuxSourceOptions = {}) {
		this.root = options.root ?? '/';
	}

	async instances(indom: number, _client: ClientContext): Promise<Instance[]> {
		switch (indom) {
			case linuxIndom.load: {
				return [...loadInstances];
			}

			case linuxIndom.disk: {
				await this.samplePart('disks', {}).catch(failed);
				return this.diskCache.list();
			}

			case linuxIndom.netdev: {
				await this.samplePart('netdev', {}).catch(failed);
				return this.netCache.list();
			}

			case linuxIndom.filesys: {
				// Listing the indom needs /proc/self/mounts only, not statfs.
				const mounts = await this.mounts().catch(failed);
				this.filesysCache.refresh(mounts.map(mount => mount.device));
				return this.filesysCache.list();
			}

			default: {
				throw pcpError('INDOM');
			}
		}
	}

	async fetch(pmids: readonly number[], _client: ClientContext): Promise<Map<number, FetchOutcome>> {
		const wanted = pmids.map(id => this.byPmid.get(id)).filter(metric => metric !== undefined);
		const parts = new Set(wanted.map(metric => metric.part));
		const {snapshot, failures} = await this.sample(parts);
		const result = new Map<number, FetchOutcome>();
		for (const id of pmids) {
			const metric = this.byPmid.get(id);
			if (!metric) {
				result.set(id, {error: pcpError('PMID').code});
				continue;
			}

			const failure = failures.get(metric.part);
			result.set(id, failure === undefined ? metric.sample(snapshot) : {error: failure});
		}

		return result;
	}

	/** Read the requested parts in parallel; a part that fails becomes a per-metric error code. */
	async sample(parts: ReadonlySet<SnapshotPart>): Promise<{snapshot: Snapshot; failures: Map<SnapshotPart, number>}> {
		const snapshot: Snapshot = {};
		const failures = new Map<SnapshotPart, number>();
		await Promise.all([...parts].map(async part => {
			try {
				await this.samplePart(part, snapshot);
			} catch (error) {
				failures.set(part, errnoCode(error));
			}
		}));
		return {snapshot, failures};
	}

	private async samplePart(part: SnapshotPart, snapshot: Snapshot): Promise<void> {
		switch (part) {
			case 'loadavg': {
				snapshot.loadavg = parseLoadavg(await this.read('proc/loadavg'));
				break;
			}

			case 'stat': {
				const stat = parseStat(await this.read('proc/stat'));
				const previous = this.previousWait;
				if (previous > 0n && stat.all.wait < previous && stat.all.wait > previous - waitioSlop) {
					stat.all.wait = previous;
				} else {
					this.previousWait = stat.all.wait;
				}

				snapshot.stat = stat;
				break;
			}

			case 'meminfo': {
				snapshot.meminfo = parseMeminfo(await this.read('proc/meminfo'));
				break;
			}

			case 'disks': {
				const disks = parseDiskstats(await this.read('proc/diskstats'));
				const ids = this.diskCache.refresh(disks.map(disk => disk.name));
				snapshot.disks = disks.map((disk, index) => ({...disk, inst: ids[index]!.inst}));
				break;
			}

			case 'netdev': {
				const interfaces = parseNetDev(await this.read('proc/net/dev'));
				const ids = this.netCache.refresh(interfaces.map(entry => entry.name));
				snapshot.netdev = interfaces.map((entry, index) => ({...entry, inst: ids[index]!.inst}));
				break;
			}

			case 'filesys': {
				snapshot.filesys = await this.filesystems();
				break;
			}

			case 'uptime': {
				snapshot.uptime = parseUptime(await this.read('proc/uptime'));
				break;
			}

			case 'uname': {
				snapshot.uname = await this.uname();
				break;
			}
		}
	}

	private async read(relative: string): Promise<string> {
		return readFile(path.join(this.root, relative), 'utf8');
	}

	/** Mounts in the filesys indom, with the device name resolved as filesys.c does, repeats dropped. */
	private async mounts(): Promise<Array<{device: string; path: string}>> {
		const mounts = parseMounts(await this.read('proc/self/mounts'));
		const result: Array<{device: string; path: string}> = [];
		const seen = new Set<string>();
		for (const mount of mounts) {
			let {device} = mount;
			if (!keepsDeviceName(device) && this.root === '/') {
				// filesys.c: realpath() resolves /dev/root and symlinks; keep the name when it fails.
				device = await realpath(device).catch(() => device);
			}

			if (!seen.has(device)) {
				seen.add(device);
				result.push({device, path: mount.path});
			}
		}

		return result;
	}

	/** statfs each mount; one that fails or hangs is left out (the PMDA answers PM_ERR_INST for it). */
	private async filesystems(): Promise<Filesystem[]> {
		const mounts = await this.mounts();
		const ids = this.filesysCache.refresh(mounts.map(mount => mount.device));
		const results = await Promise.all(mounts.map(async (mount, index): Promise<Filesystem | undefined> => {
			const stats = await withTimeout(statfs(path.join(this.root, mount.path), {bigint: true}), statfsTimeoutMs).catch(() => undefined);
			if (!stats) {
				return undefined;
			}

			return {
				...ids[index]!, blocks: stats.blocks, bfree: stats.bfree, bsize: stats.bsize,
			};
		}));
		return results.filter(entry => entry !== undefined).toSorted((a, b) => a.inst - b.inst);
	}

	private async uname(): Promise<Uname> {
		// os.type()/os.release() are uname(2)'s sysname and release; nodename is os.hostname().
		return {sysname: os.type(), nodename: os.hostname(), release: os.release()};
	}
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<undefined>(resolve => {
		timer = setTimeout(() => {
			resolve(undefined);
		}, ms);
		timer.unref();
	});
	try {
		return await Promise.race([promise, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/** A failed /proc read while listing an instance domain becomes an ERROR PDU with its errno. */
function failed(error: unknown): never {
	throw new PcpCodeError(errnoCode(error));
}

/** A failed read as a PCP per-metric error: negative errno (libpcp prints it with strerror). */
function errnoCode(error: unknown): number {
	if (error instanceof Error && 'errno' in error && typeof error.errno === 'number' && error.errno < 0) {
		return error.errno;
	}

	return pcpError('AGAIN').code;
}
