import {mkdtempSync, rmSync} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {
	killGroup, othersPort, runScript, startIcinga, trackPid, untrackPid, type IcingaPeer,
} from './icinga.js';

/**
Livestatus over TLS laid out like a Checkmk site (docs/icinga-livestatus-mon.md#checkmk-tls): Icinga 2's livestatus feature
(plain, loopback) behind stunnel with the site CA, via test/peers/livestatus.sh. `tlsPort` checks
only the server (Checkmk's live-tls); `mtlsPort` also requires a client certificate from the site CA.
*/
export type LivestatusPeer = {
	icinga: IcingaPeer;
	/** stunnel's directory (stunnel.conf, stunnel.log). */
	dir: string;
	/** Plain Livestatus (Icinga's listener). */
	plainPort: number;
	tlsPort: number;
	mtlsPort: number;
	/** The site name: the site certificate is issued for it only (CN/SAN "secmon"). */
	siteName: 'secmon';
	/** Checkmk's etc/ssl/ca.pem: the CA key and certificate in one file. */
	caPem: string;
	/** Checkmk's var/ssl/ca-certificates.crt. */
	trustStore: string;
	clientCert: string;
	clientKey: string;
	/** A client certificate from an unrelated CA. */
	foreignCert: string;
	foreignKey: string;
	stunnelPid: number;
	stop(): Promise<void>;
};

async function sitePki(): Promise<string> {
	const dir = path.join(os.tmpdir(), `secmon-others-${process.getuid?.() ?? 'user'}`, 'livestatus-pki');
	await fs.mkdir(dir, {recursive: true, mode: 0o700});
	await runScript('livestatus.sh', ['pki', dir]);
	return dir;
}

export async function startLivestatus(): Promise<LivestatusPeer> {
	const pkiDir = await sitePki();
	const icinga = await startIcinga({livestatus: true});
	const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-livestatus-'));
	// stunnel.sh reads the PKI from DIR: share the cached one.
	for (const name of ['site', 'client', 'pki.done']) {
		await fs.symlink(path.join(pkiDir, name), path.join(dir, name));
	}

	try {
		let lastError: unknown;
		for (let attempt = 0; attempt < 3; attempt++) {
			const tlsPort = await othersPort();
			const mtlsPort = await othersPort();
			try {
				const stunnelPid = Number(await runScript('livestatus.sh', ['start', dir, String(icinga.livestatusPort), String(tlsPort), String(mtlsPort)]));
				trackPid(stunnelPid, () => {
					killGroup(stunnelPid);
				});
				const file = (name: string) => path.join(pkiDir, name);
				let stopped = false;
				return {
					icinga,
					dir,
					plainPort: icinga.livestatusPort!,
					tlsPort,
					mtlsPort,
					siteName: 'secmon',
					caPem: file('site/etc/ssl/ca.pem'),
					trustStore: file('site/var/ssl/ca-certificates.crt'),
					clientCert: file('client/secmon-client.crt'),
					clientKey: file('client/secmon-client.key'),
					foreignCert: file('client/foreign-client.crt'),
					foreignKey: file('client/foreign-client.key'),
					stunnelPid,
					async stop() {
						if (stopped) {
							return;
						}

						stopped = true;
						await runScript('livestatus.sh', ['stop', dir]);
						untrackPid(stunnelPid);
						rmSync(dir, {recursive: true, force: true});
						await icinga.stop();
					},
				};
			} catch (error) {
				lastError = error;
			}
		}

		throw lastError;
	} catch (error) {
		rmSync(dir, {recursive: true, force: true});
		await icinga.stop();
		throw error;
	}
}
