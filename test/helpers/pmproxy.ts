import {execFile} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {isRunning, peerPki, type PeerPki} from './pmcd.js';
import {freePort} from './ports.js';

/**
A real Debian pmproxy on 127.0.0.1 via test/peers/pmproxy.sh, in front of a pmcd (docs/pmproxy.md#a-private-pmproxy).
plain: HTTP only. tls: HTTPS (and HTTP) with server.pem. tls-wrongname, tls-rotated: the other
certificates of the test PKI. require: TLS with a client certificate required. custom: the
caller's DIR/pmproxy.conf and DIR/tls.conf.
*/
export type PmproxyMode = 'plain' | 'tls' | 'tls-wrongname' | 'tls-rotated' | 'require' | 'custom';

export type PmproxyPeer = PeerPki & {
	port: number;
	dir: string;
	pid: number;
	/** Stops pmproxy and starts it again on the same port, in another mode. */
	restart(mode: PmproxyMode): Promise<void>;
	stop(): Promise<void>;
};

const script = fileURLToPath(new URL('../peers/pmproxy.sh', import.meta.url));
const started = new Set<number>();
process.on('exit', () => {
	for (const pid of started) {
		try {
			process.kill(pid, 'SIGTERM');
		} catch {
			// Gone.
		}
	}
});

async function run(args: string[], env: Record<string, string>): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile('bash', [script, ...args], {timeout: 60_000, env: {...process.env, ...env}}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`pmproxy.sh ${args.join(' ')} failed:\n${stderr.trim()}`));
				return;
			}

			resolve(stdout.trim());
		});
	});
}

/**
Starts pmproxy in `mode`, reading the pmcd on `pmcdPort` by default. `dir`: a directory the
caller prepared (custom mode); otherwise a new temporary one. Always `await peer.stop()`.
*/
export async function startPmproxy(mode: PmproxyMode, pmcdPort: number, options: {dir?: string} = {}): Promise<PmproxyPeer> {
	const pki = await peerPki();
	const port = await freePort();
	const dir = options.dir ?? await fs.mkdtemp(path.join(os.tmpdir(), `secmon-pmproxy-${mode}-`));
	const start = async (startMode: PmproxyMode) => {
		const pid = Number((await run(['start', startMode, String(port), dir, String(pmcdPort)], {SECMON_TEST_CERTS: pki.dir})).split('\n').at(-1));
		started.add(pid);
		return pid;
	};

	const peer: PmproxyPeer = {
		...pki,
		port,
		dir,
		pid: await start(mode),
		async restart(next) {
			if (isRunning(peer.pid)) {
				await run(['stop', dir], {});
			}

			started.delete(peer.pid);
			peer.pid = await start(next);
		},
		async stop() {
			if (isRunning(peer.pid)) {
				await run(['stop', dir], {}).catch(() => undefined);
			}

			started.delete(peer.pid);
			if (options.dir === undefined) {
				await fs.rm(dir, {recursive: true, force: true});
			}
		},
	};
	return peer;
}
