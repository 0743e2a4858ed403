import {mkdtempSync, rmSync} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {
	killGroup, othersPort, runScript, trackPid, untrackPid,
} from './icinga.js';

/**
Real mon (Debian mon 1.3.6) behind stunnel4 requiring client certificates, via test/peers/mon.sh
(docs/icinga-livestatus-mon.md#mon). Services in group "local": ok-perf (OK, perfdata in its summary), load-perf
(check_load through a Nagios wrapper), broken (FAIL on purpose); every 2 s.
*/
export type MonPeer = {
	dir: string;
	plainPort: number;
	tlsPort: number;
	/** The server certificate names localhost and mon-server (no IP address). */
	caFile: string;
	clientCert: string;
	clientKey: string;
	selfSignedCert: string;
	selfSignedKey: string;
	/** From another CA. */
	foreignCert: string;
	foreignKey: string;
	monPid: number;
	stunnelPid: number;
	/** User "secmon" may enable/disable; its password. */
	user: 'secmon';
	password: 'secmon-secret';
	stop(): Promise<void>;
};

export async function startMon(): Promise<MonPeer> {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-mon-'));
	// The PKI (five RSA keys) is made once and shared: mon.sh makes it in DIR/tls when missing.
	const pkiDir = path.join(os.tmpdir(), `secmon-others-${process.getuid?.() ?? 'user'}`, 'mon-pki');
	await fs.mkdir(pkiDir, {recursive: true, mode: 0o700});
	await fs.symlink(pkiDir, path.join(dir, 'tls'));
	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		const plainPort = await othersPort();
		const tlsPort = await othersPort();
		const trapPort = await othersPort();
		try {
			const [monPid, stunnelPid] = (await runScript('mon.sh', ['start', dir, String(plainPort), String(tlsPort), String(trapPort)])).split(' ').map(Number) as [number, number];
			trackPid(monPid, () => {
				killGroup(stunnelPid);
				killGroup(monPid);
			});
			const file = (name: string) => path.join(dir, 'tls', name);
			let stopped = false;
			return {
				dir,
				plainPort,
				tlsPort,
				caFile: file('ca.crt'),
				clientCert: file('client.crt'),
				clientKey: file('client.key'),
				selfSignedCert: file('selfsigned.crt'),
				selfSignedKey: file('selfsigned.key'),
				foreignCert: file('foreign.crt'),
				foreignKey: file('foreign.key'),
				monPid,
				stunnelPid,
				user: 'secmon',
				password: 'secmon-secret',
				async stop() {
					if (stopped) {
						return;
					}

					stopped = true;
					await runScript('mon.sh', ['stop', dir]);
					untrackPid(monPid);
					rmSync(dir, {recursive: true, force: true});
				},
			};
		} catch (error) {
			lastError = error;
		}
	}

	rmSync(dir, {recursive: true, force: true});
	throw lastError;
}
