import type net from 'node:net';
import {noUnits} from '../../source/metrics/model.js';
import {PcpServer} from '../../source/serve/server.js';
import {
	indom, indomNull, pcpSem, pcpType, pmid, type MetricSource,
} from '../../source/serve/types.js';

/**
A pmcd that lies with terminal escape sequences, on secmon serve's own PCP server (the same codec
real pmcd clients are tested against): a string value that sets the window title and clears the
screen, instance names with a one-byte CSI, a right-to-left override and a dangling OSC, and help
text with a colour sequence. Plain text, loopback only.
*/
export const hostileText = {
	value: 'ok\u001B]0;PWNED\u0007\u001B[2JZZ',
	instances: ['one\u009B2Jx', 'evil\u202Etxt.exe', 'cut\u001B]0;'],
	help: 'help\u001B[31mRED\u001B[0m',
} as const;

/** The raw sequences a test must never find in what reached the terminal. */
export const rawSequences = ['\u001B]0;PWNED', '\u001B[2JZZ', '\u009B2J', '\u202E', '\u001B[31mRED', 'cut\u001B]0;'];

const domain = 99;
const stringPmid = pmid(domain, 0, 1);
const instPmid = pmid(domain, 0, 2);
const instDom = indom(domain, 1);

const source: MetricSource = {
	domain,
	agent: 'hostile',
	metrics: [
		{
			name: 'hostile.string', pmid: stringPmid, type: pcpType.string, indom: indomNull, sem: pcpSem.instant, units: noUnits, oneline: hostileText.help, help: hostileText.help,
		},
		{
			name: 'hostile.inst', pmid: instPmid, type: pcpType.u32, indom: instDom, sem: pcpSem.instant, units: noUnits, oneline: 'instances', help: '',
		},
	],
	indoms: [{indom: instDom, oneline: 'hostile instances', help: ''}],
	async instances() {
		return hostileText.instances.map((name, inst) => ({inst, name}));
	},
	async fetch(pmids) {
		return new Map(pmids.map(id => [id, id === stringPmid
			? {values: [{inst: -1, value: hostileText.value}]}
			: {values: hostileText.instances.map((_name, inst) => ({inst, value: inst + 1}))}]));
	},
};

export async function startHostilePmcd(): Promise<{address: string; close: () => Promise<void>}> {
	const server = new PcpServer({sources: [source], tls: {mode: 'off'}});
	const info: net.AddressInfo = await server.listen('127.0.0.1', 0);
	return {
		address: `127.0.0.1:${info.port}`,
		async close() {
			await server.close();
		},
	};
}
