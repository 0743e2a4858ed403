/**
 * With no --host, secmon does the main job against its own collector (issue 5),
 * the way pminfo's default `local:` context needs no set-up: `secmon serve`'s
 * collector starts in-process on an ephemeral loopback port with TLS required,
 * and is queried through the same secure path — its CA verifies the certificate
 * (chain and host name) exactly as --ca-file would.
 */
import type {Io} from '../io.js';
import type {Plan} from '../plan.js';
import {secmonHome} from '../security/home.js';
import {parseHostSpec} from '../target.js';

export async function withDefaultCollector(plan: Plan, io: Io, job: (plan: Plan) => Promise<number>): Promise<number> {
	if (plan.targets.length > 0) {
		return job(plan);
	}

	const {startEmbeddedCollector} = await import('../serve/command.js');
	const collector = await startEmbeddedCollector({home: secmonHome(io.env)});
	try {
		const target = parseHostSpec(`pcps://${collector.host}:${collector.port}`);
		const embedded: Plan = {
			...plan,
			targets: [target],
			security(spec) {
				// The user's own flags (timeouts, --json, interactive) still apply; trust comes from the collector's CA.
				return {
					...plan.security(spec), mode: 'enforce', modeSource: 'default', caFile: collector.caFile, fingerprint: undefined, rememberTls: false,
				};
			},
		};
		return await job(embedded);
	} finally {
		await collector.close();
	}
}
