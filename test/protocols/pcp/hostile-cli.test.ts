/**
 * The CLI (dist/cli.cjs) against a hostile pmcd in this process: it greets, answers the name,
 * descriptor and text requests as pmcd would, and answers the fetch with a HIGHRES_RESULT stamped
 * sec = 1e13. Both --json and text mode end with a PROTOCOL error (exit 1), never INTERNAL.
 */
import net from 'node:net';
import {
	afterAll, beforeAll, describe, expect, test,
} from 'vitest';
import {
	FEATURE, PM_ERR, PM_INDOM_NULL, PM_SEM, PM_TYPE,
} from '../../../source/protocols/pcp/constants.js';
import {
	decodePdu, encodeDesc, encodeError, encodeGreeting, encodeHighresResult, encodeIds, encodeNames,
} from '../../../source/protocols/pcp/pdu.js';
import {PduReader} from '../../../source/protocols/pcp/reader.js';
import {runSecmon, tempHome} from '../../helpers/secmon.js';

const pmid = 0x0c_00_00_01;
let server: net.Server;
let port: number;
let home: {dir: string; remove: () => void};

function answer(pdu: Buffer): Buffer | undefined {
	const decoded = decodePdu(pdu);
	switch (decoded.kind) {
		case 'traverse': {
			return encodeNames([decoded.name], [0]);
		}

		case 'names': {
			return encodeIds(0, [pmid]);
		}

		case 'descReq': {
			return encodeDesc({
				pmid, type: PM_TYPE.U32, indom: PM_INDOM_NULL, sem: PM_SEM.INSTANT, units: {
					dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
				},
			});
		}

		case 'highresFetch': {
			return encodeHighresResult({
				sec: 1e13, nsec: 0, vsets: [{
					pmid, status: 'ok', valfmt: 0, values: [{inst: -1, type: PM_TYPE.U32, value: 4}],
				}],
			});
		}

		case 'creds':
		case 'profile': {
			return undefined;
		}

		default: {
			return encodeError(PM_ERR.PMID);
		}
	}
}

beforeAll(async () => {
	home = tempHome();
	server = net.createServer(socket => {
		socket.on('error', () => undefined);
		const reader = new PduReader();
		socket.write(encodeGreeting({features: FEATURE.HIGHRES}));
		socket.on('data', chunk => {
			for (const pdu of reader.push(chunk)) {
				const reply = answer(pdu);
				if (reply) {
					socket.write(reply);
				}
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	port = (server.address() as net.AddressInfo).port;
});

afterAll(() => {
	server?.close();
	home?.remove();
});

describe('a pmcd whose fetch answer is stamped sec = 1e13', () => {
	test('--json: a PROTOCOL error object naming the field, exit 1', async () => {
		const result = await runSecmon(['--json', '--secure', 'off', '-h', `127.0.0.1:${port}`, '-s', '1', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(result.code).toBe(1);
		const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
		const error = lines.find(line => line['type'] === 'error');
		expect(error).toMatchObject({code: 'PROTOCOL', exitCode: 1});
		expect(error!['message']).toMatch(/sec 10000000000000 is not a time from 1970 to 9999/v);
		expect(result.stdout + result.stderr).not.toContain('Invalid time value');
	});

	test('text mode: the same error on stderr, exit 1', async () => {
		const result = await runSecmon(['--secure', 'off', '-h', `127.0.0.1:${port}`, '-s', '1', 'hinv.ncpu'], {env: {SECMON_HOME: home.dir}});
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/secmon: .*sec 10000000000000 is not a time from 1970 to 9999/v);
		expect(result.stderr).not.toContain('INTERNAL');
		expect(result.stderr).not.toContain('Invalid time value');
	});
});
