/**
 * The main job, once the Plan is made: open a verified session per collector and
 * hand the data to one renderer. No React here: the TUI is imported only when
 * the output is a terminal.
 */
import process from 'node:process';
import {type Io, type SessionHooks} from '../io.js';
import {openPcp} from '../protocols/pcp/open.js';
import {
	errorJson, exitCodes, formatError, SecmonError,
} from '../errors.js';
import type {Plan} from '../plan.js';
import type {Ask} from '../security/types.js';
import type {HostSpec} from '../target.js';
import {argumentErrorLine, renderMetricBlock} from '../render/pminfo.js';
import {openSource} from '../sources.js';
import {safeJson, stderrWarn, terminalSafe} from '../safe-text.js';
import {withDefaultCollector} from './embedded.js';
import {pminfoOn} from './pminfo.js';

/** Ink is loaded only when a prompt must really be shown. */
const inkAsk: Ask = async question => {
	const {askWithInk} = await import('../render/tui/ask.js');
	return askWithInk(question);
};

function hooksFor(io: Io): SessionHooks {
	return {
		ask: inkAsk, warn: stderrWarn(io.stderr), env: io.env, argv: process.argv.slice(2),
	};
}

function worst(a: number, b: number): number {
	return Math.max(a, b);
}

async function runPminfo(plan: Plan, io: Io): Promise<number> {
	const hooks = hooksFor(io);
	let status: number = exitCodes.ok;
	const {targets} = plan;
	for (const target of targets) {
		if (targets.length > 1 && !plan.json) {
			io.stdout.write(`\n== ${target.display} ==\n`);
		}

		if (target.protocol !== 'pcp') {
			status = worst(status, await runGeneric(target, plan, io, hooks));
			continue;
		}

		let session;
		try {
			session = await openPcp(target, plan, hooks);
		} catch (error) {
			status = worst(status, report(error, target, plan, io));
			continue;
		}

		try {
			const {metricLine} = plan.json ? await import('../render/ndjson.js') : {metricLine: undefined};
			const code = await pminfoOn(session.client, plan.metrics, plan.show, {
				// pminfo's output: the collector's exact bytes for scripts, inert on a terminal.
				stdout: terminalSafe(io.stdout),
				stderr: terminalSafe(io.stderr),
				...(metricLine === undefined
					? {}
					: {
						json({name, desc, result}, timestamp) {
							const source = {host: target.host, port: target.port, tls: session.tls ?? null};
							io.stdout.write(metricLine({
								metric: name, timestamp, desc, result, source,
							}) + '\n');
						},
					}),
			});
			status = worst(status, code);
		} catch (error) {
			status = worst(status, report(error, target, plan, io));
		} finally {
			session.client.close();
		}
	}

	return status;
}

function report(error: unknown, target: HostSpec, plan: Plan, io: Io): number {
	if (plan.json) {
		io.stdout.write(safeJson({...errorJson(error), host: target.host, port: target.port}) + '\n');
	}

	io.stderr.write(formatError(error) + '\n');
	return error instanceof SecmonError ? error.exitCode : exitCodes.failure;
}

/**
 * Collectors other than PCP in pminfo mode: one sample of the named metrics,
 * printed the way pminfo -f prints values (or as NDJSON with --json).
 */
async function runGeneric(target: HostSpec, plan: Plan, io: Io, hooks: SessionHooks): Promise<number> {
	let source;
	try {
		source = await openSource(target, plan, hooks);
	} catch (error) {
		return report(error, target, plan, io);
	}

	try {
		let status: number = exitCodes.ok;
		const {descs, errors} = await source.describe(plan.metrics);
		for (const {name, message} of errors) {
			terminalSafe(io.stderr)(argumentErrorLine(name, message));
			status = exitCodes.failure;
		}

		if (descs.length === 0) {
			return status;
		}

		const sample = await source.fetch();
		const byName = new Map(descs.map(d => [d.name, d]));
		const {metricLine} = plan.json ? await import('../render/ndjson.js') : {metricLine: undefined};
		for (const {name, result} of sample.metrics) {
			const desc = byName.get(name);
			if (metricLine) {
				const where = {host: source.host, port: source.port, tls: source.tls ?? null};
				io.stdout.write(metricLine({
					metric: name, timestamp: sample.timestamp, desc, result, source: where,
				}) + '\n');
			} else {
				terminalSafe(io.stdout)(renderMetricBlock({
					name, show: {
						...plan.show, fetch: true, pmid: false, pmidLong: false,
					}, pmid: 0, desc, values: result, oneline: desc?.oneline,
				}).stdout);
			}
		}

		return status;
	} catch (error) {
		return report(error, target, plan, io);
	} finally {
		source.close();
	}
}

export async function run(plan: Plan, io: Io): Promise<number> {
	return withDefaultCollector(plan, io, async plan => runOn(plan, io));
}

async function runOn(plan: Plan, io: Io): Promise<number> {
	if (plan.query !== undefined) {
		const target = plan.targets[0];
		if (plan.targets.length !== 1 || target?.protocol !== 'livestatus') {
			throw new SecmonError('USAGE', '--query needs exactly one livestatus:// --host', 'Example: secmon --host livestatus://site:6557 --ca-file ca.pem --query \'GET hosts\'');
		}

		const {runLivestatusQuery} = await import('../protocols/livestatus/query.js');
		return runLivestatusQuery(target, plan, hooksFor(io), plan.query, io);
	}

	switch (plan.output) {
		case 'pminfo': {
			return runPminfo(plan, io);
		}

		default: {
			const {runLive} = await import('./live.js');
			return runLive(plan, io, hooksFor(io));
		}
	}
}

