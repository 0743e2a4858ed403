/**
 * pminfo's -l (labels), -F (instances forced), -v (verify) and -x (event records) against
 * Debian's real pminfo 6.0.3 on the same real pmcd (issue 16 part 3): stdout, stderr and exit
 * status byte for byte, moving values and timestamps masked. Then a pmcd that lies about labels,
 * and one whose event records name thousands of parameter metrics.
 */
import net from 'node:net';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {
	FEATURE, PM_ERR, PM_INDOM_NULL, PM_LABEL, PM_SEM, PM_TYPE,
} from '../../source/protocols/pcp/constants.js';
import {
	decodePdu, encodeDesc, encodeDescs, encodeError, encodeGreeting, encodeHighresResult, encodeIds, encodeLabel, encodeNames, makeLabelSet,
} from '../../source/protocols/pcp/pdu.js';
import {maxEventParameterPmids} from '../../source/protocols/pcp/events.js';
import {PduReader} from '../../source/protocols/pcp/reader.js';
import {startPmcd, type PmcdPeer} from '../helpers/pmcd.js';
import {runPcpTool, runPminfo} from '../helpers/pminfo.js';
import {runSecmon, tempHome} from '../helpers/secmon.js';

let peer: PmcdPeer;
const home = tempHome();
const plainText = {PCP_SECURE_SOCKETS: '0', PCP_DERIVED_CONFIG: ''};

beforeAll(async () => {
	peer = await startPmcd('plain');
}, 60_000);

afterAll(async () => {
	await peer?.stop();
	home.remove();
});

const stamps = (text: string) => text.replaceAll(/\d\d:\d\d:\d\d\.\d+/g, 'HH:MM:SS');
/** Values of metrics that move between two runs keep their shape, not their digits. */
const moving = (text: string) => text.replaceAll(/( value )(-?[\d.e+-]+)$/gm, (_, head: string, value: string) => head + value.replaceAll(/\d+/g, 'N'));

async function both(args: string[], mask: (text: string) => string = text => text) {
	const ours = await runSecmon(['-h', peer.address, ...args], {env: {SECMON_HOME: home.dir, ...plainText}});
	const theirs = await runPminfo(['-h', peer.address, ...args], plainText);
	return {
		ours: {stdout: mask(ours.stdout), stderr: ours.stderr, code: ours.code},
		theirs: {stdout: mask(theirs.stdout), stderr: theirs.stderr, code: theirs.code},
	};
}

describe('secmon vs pminfo on a real pmcd', () => {
	it('-l: context, domain, indom, cluster, item and instance labels merged', async () => {
		const {ours, theirs} = await both(['-l', 'kernel.all.load', 'hinv.ncpu', 'sample.long.one', 'sample.colour', 'disk.dev.read', 'sample.bin', 'no.such.metric', '60.2']);
		expect(ours).toEqual(theirs);
		expect(theirs.stdout).toContain('    labels {"agent":"sample","cluster":"zero",');
		expect(theirs.stdout).toContain('    inst [0 or "vda"] labels {"agent":"linux","device_name":"vda",');
		expect(theirs.stdout).toContain('InDom: 60.2 0xf000002\n    labels {');
		expect(theirs.code).toBe(1);
	});

	it('-l with -d -f -t -T -m: labels in their place in the block', async () => {
		const {ours, theirs} = await both(['-dfltTm', 'sample.long', 'sample.colour', 'sample.darkness', 'sample.bad.unknown'], moving);
		expect(ours).toEqual(theirs);
	});

	it('-F: an indom pmcd will not enumerate is fetched with every instance named', async () => {
		const {ours, theirs} = await both(['-F', 'sample.needprofile', 'kernel.all.load', 'hinv.ncpu', 'sample.colour'], moving);
		expect(ours).toEqual(theirs);
		expect(theirs.stdout).toContain('inst [4 or "fat bald bastard"] value');
		const plain = await both(['-f', 'sample.needprofile']);
		expect(plain.ours).toEqual(plain.theirs);
		expect(plain.theirs.stdout).toContain('Error: Explicit instance identifier(s) required');
	});

	it('-v: only the metrics with no values, errors or no support; other flags ignored', async () => {
		const {ours, theirs} = await both(['-v', 'sample', 'kernel.all', '60.2']);
		expect(ours).toEqual(theirs);
		expect(theirs.stdout).toContain('sample.bad.nosupport: Not Supported\n');
		expect(theirs.stdout).toContain('sample.bad.unknown: pmLookupDesc: Unknown or illegal metric identifier\n');
		expect(theirs.stdout).not.toContain('kernel.all.load');
		const quiet = await both(['-v', '-f', '-l', '-T', 'sample.long', 'hinv.ncpu']);
		expect(quiet.ours).toEqual(quiet.theirs);
		expect(quiet.theirs).toEqual({stdout: '', stderr: '', code: 0});
	});

	it('-x: every event record with its flags, missed count and parameters, in each state', async () => {
		const events = ['sample.event.records', 'sample.event.highres_records', 'sample.event.no_indom_records', 'hinv.ncpu'];
		const states = async (run: () => Promise<{stdout: string; stderr: string; code: number | null}>) => {
			for (const metric of ['sample.event.reset', 'sample.event.reset_highres']) {
				expect((await runPcpTool('/usr/bin/pmstore', ['-h', peer.address, metric, '0'], plainText)).code).toBe(0);
			}

			const out: string[] = [];
			for (let state = 0; state < 8; state++) {
				const result = await run();
				out.push(`${stamps(result.stdout)}${result.stderr}rc=${result.code}`);
			}

			return out;
		};

		const ours = await states(async () => runSecmon(['-h', peer.address, '-x', ...events], {env: {SECMON_HOME: home.dir, ...plainText}}));
		const theirs = await states(async () => runPminfo(['-h', peer.address, '-x', ...events], plainText));
		expect(ours).toEqual(theirs);
		const all = theirs.join('');
		expect(all).toContain('    --- event record [0] timestamp HH:MM:SS flags 0x1a (start,id,parent) ---\n');
		expect(all).toContain('        ==> 7 missed event records\n');
		expect(all).toContain('    sample.event.param_aggregate (29.0.135)\n        value ');
	});
});

/** A pmcd whose labels are out of bounds: too long to merge, or too many in one set. */
async function lyingPmcd(labels: 'huge' | 'many'): Promise<{address: string; close: () => Promise<void>}> {
	const pmid = 0x0c_00_00_01;
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		const reader = new PduReader();
		socket.write(encodeGreeting({features: FEATURE.HIGHRES | FEATURE.LABELS}));
		socket.on('data', chunk => {
			for (const pdu of reader.push(chunk)) {
				const decoded = decodePdu(pdu);
				let reply: Buffer | undefined;
				switch (decoded.kind) {
					case 'traverse': {
						reply = encodeNames([decoded.name], [0]);
						break;
					}

					case 'names': {
						reply = encodeIds(0, [pmid]);
						break;
					}

					case 'descReq': {
						reply = encodeDesc({
							pmid, type: PM_TYPE.U32, indom: PM_INDOM_NULL, sem: PM_SEM.INSTANT, units: {
								dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
							},
						});
						break;
					}

					case 'highresFetch': {
						reply = encodeHighresResult({
							sec: 1_700_000_000, nsec: 0, vsets: [{
								pmid, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.U32, value: 4}],
							}],
						});
						break;
					}

					case 'labelReq': {
						const {type} = decoded.request;
						const big = labels === 'huge'
							? Object.fromEntries(Array.from({length: 10}, (_, i) => [`t${type}_${i}`, 'x'.repeat(4000)]))
							: Object.fromEntries(Array.from({length: 300}, (_, i) => [`l${i}`, i]));
						reply = type === PM_LABEL.ITEM || type === PM_LABEL.CLUSTER
							? encodeLabel({ident: pmid, type, sets: [makeLabelSet(-1, big, 0)]})
							: encodeLabel({ident: pmid, type, sets: [makeLabelSet(-1, {hostname: 'liar'}, 0)]});
						break;
					}

					case 'creds':
					case 'profile': {
						break;
					}

					default: {
						reply = encodeError(PM_ERR.PMID);
					}
				}

				if (reply) {
					socket.write(reply);
				}
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
}

describe('-l against a pmcd that lies about labels', () => {
	it('labels that merge past pminfo\'s 64 KiB buffer are a merge error, as pminfo says it', async () => {
		const liar = await lyingPmcd('huge');
		try {
			const result = await runSecmon(['-h', liar.address, '-l', 'lie.metric'], {env: {SECMON_HOME: home.dir, ...plainText}});
			expect(result.stderr).toBe('secmon: metric 48.0.1 labels merge failed: Argument list too long\n');
			expect(result.stdout).toBe('\nlie.metric\n');
			expect(result.code).toBe(0);
		} finally {
			await liar.close();
		}
	});

	it('a set of 300 labels (libpcp takes fewer than 255) ends the session naming the pmcd', async () => {
		const liar = await lyingPmcd('many');
		try {
			const result = await runSecmon(['-h', liar.address, '-l', 'lie.metric'], {env: {SECMON_HOME: home.dir, ...plainText}});
			expect(result.code).toBe(1);
			expect(result.stderr).toContain(liar.address);
			expect(result.stderr).toContain('300 labels');
			expect(result.stderr).not.toContain('INTERNAL');
		} finally {
			await liar.close();
		}
	});
});

/**
 * A pmcd whose event metric's one record names `count` parameter metrics, each a new PMID
 * (30.0.0, 30.0.1, …), counting what secmon asks about them.
 */
async function eventfulPmcd(count: number): Promise<{address: string; asked: {names: number[]; descIds: number[][]; descReqs: number[]}; close: () => Promise<void>}> {
	const pmid = 0x0c_00_00_01;
	const parameterPmid = (index: number) => ((30 << 22) | index) >>> 0;
	const asked = {names: [] as number[], descIds: [] as number[][], descReqs: [] as number[]};
	const units = {
		dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
	};
	const descOf = (id: number) => ({
		pmid: id, type: id === pmid ? PM_TYPE.EVENT : PM_TYPE.U32, indom: PM_INDOM_NULL, sem: PM_SEM.INSTANT, units,
	});
	const records = Buffer.alloc(4 + 16 + (count * 12));
	records.writeInt32BE(1, 0);
	records.writeInt32BE(1_700_000_000, 4);
	records.writeInt32BE(0, 8);
	records.writeUInt32BE(0, 12);
	records.writeInt32BE(count, 16);
	for (let index = 0; index < count; index++) {
		records.writeUInt32BE(parameterPmid(index), 20 + (index * 12));
		records.writeUInt32BE(((PM_TYPE.U32 << 24) | 8) >>> 0, 24 + (index * 12));
		records.writeUInt32BE(index, 28 + (index * 12));
	}

	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		const reader = new PduReader();
		socket.write(encodeGreeting({features: FEATURE.HIGHRES | FEATURE.DESCS}));
		socket.on('data', chunk => {
			for (const pdu of reader.push(chunk)) {
				const decoded = decodePdu(pdu);
				let reply: Buffer | undefined;
				switch (decoded.kind) {
					case 'traverse': {
						reply = encodeNames([decoded.name], [0]);
						break;
					}

					case 'names': {
						reply = encodeIds(0, [pmid]);
						break;
					}

					case 'ids': {
						const [id] = decoded.ids.pmids;
						asked.names.push(id!);
						reply = encodeNames([`param.p${id! & 0x3_ff}`]);
						break;
					}

					case 'descReq': {
						asked.descReqs.push(decoded.pmid);
						reply = encodeDesc(descOf(decoded.pmid));
						break;
					}

					case 'descIds': {
						asked.descIds.push(decoded.ids.pmids);
						reply = encodeDescs(decoded.ids.pmids.map(id => descOf(id)));
						break;
					}

					case 'highresFetch': {
						reply = encodeHighresResult({
							sec: 1_700_000_000, nsec: 0, vsets: [{
								pmid, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.EVENT, value: new Uint8Array(records)}],
							}],
						});
						break;
					}

					case 'creds':
					case 'profile': {
						break;
					}

					default: {
						reply = encodeError(PM_ERR.PMID);
					}
				}

				if (reply) {
					socket.write(reply);
				}
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
		asked,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
}

describe('-x against a pmcd whose event records name many parameter metrics', () => {
	it('the new parameters\' descriptors in one DESC_IDS, their names one PMNS_IDS each (all pmcd answers)', async () => {
		const peer = await eventfulPmcd(5);
		try {
			const result = await runSecmon(['-h', peer.address, '-x', 'lie.events'], {env: {SECMON_HOME: home.dir, ...plainText}});
			expect(result).toMatchObject({code: 0, stderr: ''});
			expect(result.stdout).toContain('    param.p4 (30.0.4)\n        value 4\n');
			const parameters = Array.from({length: 5}, (_, index) => ((30 << 22) | index) >>> 0);
			expect(peer.asked.descIds.filter(ids => ids.some(id => id >>> 22 === 30))).toEqual([parameters]);
			expect(peer.asked.names).toEqual(parameters);
			expect(peer.asked.descReqs).toEqual([]);
		} finally {
			await peer.close();
		}
	});

	it(`2000 distinct PMIDs: secmon asks about the first ${maxEventParameterPmids}, prints the others by PMID and says so once`, async () => {
		const peer = await eventfulPmcd(2000);
		try {
			const result = await runSecmon(['-h', peer.address, '-x', 'lie.events'], {env: {SECMON_HOME: home.dir, ...plainText}});
			expect(result.code).toBe(0);
			expect(result.stderr).toBe(`secmon: the event records name more than ${maxEventParameterPmids} parameter metrics; secmon asked pmcd about the first ${maxEventParameterPmids} and prints the others by PMID\n`);
			const last = maxEventParameterPmids - 1;
			expect(result.stdout).toContain(`    param.p${last} (30.0.${last})\n        value ${last}\n\tPMID: 30.0.${last + 1}\n\tpmLookupDesc: not asked (secmon: more than ${maxEventParameterPmids} parameter metrics)\n`);
			expect(result.stdout).toContain('\tPMID: 30.1.975\n\tpmLookupDesc: not asked'); // The 2000th: item 1999 is cluster 1, item 975
			const askedAbout = peer.asked.descIds.flat().filter(id => id >>> 22 === 30);
			expect(askedAbout).toHaveLength(maxEventParameterPmids);
			expect(peer.asked.descIds.filter(ids => ids.some(id => id >>> 22 === 30))).toHaveLength(1);
			expect(peer.asked.names).toHaveLength(maxEventParameterPmids);
		} finally {
			await peer.close();
		}
	});
});
