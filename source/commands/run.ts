/**
 * The main job, once the Plan is made: open a verified session per collector and
 * hand the data to the format's sink (output/format.ts). No React here: the TUI is
 * imported only when the output is a terminal.
 */
import {type Io, type SessionHooks} from '../io.js';
import {openPcp} from '../protocols/pcp/open.js';
import {exitCodes, SecmonError, worseExitCode} from '../errors.js';
import type {Plan} from '../plan.js';
import type {Ask} from '../security/types.js';
import {nameErrorResult} from '../metrics/source.js';
import type {HostSpec} from '../target.js';
import {argumentErrorLine} from '../render/pminfo.js';
import {openSource} from '../sources.js';
import {terminalSafe} from '../safe-text.js';
import {openSink, type Sink, type SinkIo} from '../output/format.js';
import {reportError} from '../output/report.js';
import {withDefaultCollector} from './embedded.js';
import {pminfoOn} from './pminfo.js';
import {inkAsk, sessionHooks} from './hooks.js';

function hooksFor(io: Io, sink: Sink, ask?: Ask): SessionHooks {
	return sessionHooks(io, sink.notice, ask);
}

/** A collector's own sink when several are asked (its slot of the ordered output). */
export type HostSinkOpener = (io: SinkIo, target: HostSpec) => Promise<Sink>;

/**
 * pminfo's job on every collector. Several are asked at once (--parallel, live/fanout.ts):
 * pminfo's and the text output stay in --host order, one collector after the other, JSON lines
 * come as each collector answers; one collector's failure, its setup's included, never stops the
 * others nor holds back their output, and the run exits with the worst code (errors.ts
 * worseExitCode). `openHostSink` is the per-collector setup (a test makes one fail).
 */
export async function runPminfo(plan: Plan, io: Io, sink: Sink, openHostSink: HostSinkOpener = async hostIo => openSink(plan.format, hostIo, plan)): Promise<number> {
	const {targets} = plan;
	const [{derivedSetup}, {DerivedPcpClient}] = await Promise.all([
		import('../metrics/derived/load.js'),
		import('../metrics/derived/pcp-client.js'),
	]);
	const derived = derivedSetup(plan, terminalSafe(io.stderr));
	const one = async (target: HostSpec, io: Io, sink: Sink, hooks: SessionHooks): Promise<number> => {
		if (target.protocol !== 'pcp' && target.protocol !== 'pmproxy') {
			return runGeneric(target, plan, io, hooks, sink);
		}

		let session;
		try {
			// pmproxy answers pminfo's calls too (commands/pmproxy-pmns.ts), so it prints as pminfo does.
			session = target.protocol === 'pcp'
				? await openPcp(target, plan, hooks).then(({client, tls}) => ({
					client,
					tls,
					close() {
						client.close();
					},
				}))
				: await import('./pmproxy-pmns.js').then(async ({openPmproxyPmns}) => openPmproxyPmns(target, plan, hooks));
		} catch (error) {
			return sink.error(error, target);
		}

		try {
			derived.connected();
			const client = new DerivedPcpClient(session.client, derived.registry, terminalSafe(io.stderr));
			const write = sink.format === 'pminfo'
				? undefined
				: sink.collector({
					target: target.display, host: target.host, port: target.port, tls: session.tls,
				});
			return await pminfoOn(client, plan.metrics, plan.show, {
				// pminfo's output: the collector's exact bytes for scripts, inert on a terminal.
				stdout: terminalSafe(io.stdout),
				stderr: terminalSafe(io.stderr),
				...(write === undefined
					? {}
					: {
						values({name, desc, result}, timestamp) {
							write({target: target.display, timestamp, metrics: [{name, result}]}, new Map(desc ? [[name, desc]] : []));
						},
					}),
			}, {host: target.host});
		} catch (error) {
			return sink.error(error, target);
		} finally {
			session.close();
		}
	};

	if (targets.length === 1) {
		return one(targets[0]!, io, sink, hooksFor(io, sink));
	}

	const {forEachBounded, OrderedOutput, oneAtATime} = await import('../live/fanout.js');
	const ask = oneAtATime(inkAsk);
	const ordered = sink.format === 'json' ? undefined : new OrderedOutput(io, targets.length);
	let status: number = exitCodes.ok;
	await forEachBounded(targets, plan.parallel, async (target, index) => {
		const hostIo = ordered ? {...io, ...ordered.io(index)} : io;
		// Everything per collector inside the try: a setup that throws is this collector's failure,
		// reported in its place, and its slot is finished so the later collectors' output follows.
		let hostSink: Sink | undefined;
		try {
			hostSink = ordered ? await openHostSink(hostIo, target) : sink;
			hostSink.heading(target.display);
			const code = await one(target, hostIo, hostSink, hooksFor(hostIo, hostSink, ask));
			status = worseExitCode(status, code);
		} catch (error) {
			status = worseExitCode(status, hostSink ? hostSink.error(error, target) : reportError(hostIo, error, {json: sink.format === 'json', at: target}));
		} finally {
			ordered?.finish(index);
		}
	});
	return status;
}

/**
 * Collectors other than PCP in pminfo mode: one sample of the named metrics,
 * printed the way pminfo -f prints values (or as NDJSON with --json).
 */
async function runGeneric(target: HostSpec, plan: Plan, io: Io, hooks: SessionHooks, sink: Sink): Promise<number> {
	let source;
	try {
		source = await openSource(target, plan, hooks);
	} catch (error) {
		return sink.error(error, target);
	}

	try {
		let status: number = exitCodes.ok;
		const {descs, errors} = await source.describe(plan.metrics);
		for (const {name, message} of errors) {
			terminalSafe(io.stderr)(argumentErrorLine(name, message));
			status = exitCodes.failure;
		}

		// --json: the unknown names are per-metric errors in the sample too (docs/schema/sample.json).
		const unknown = sink.format === 'json' ? errors.map(error => ({name: error.name, result: nameErrorResult(error)})) : [];
		if (descs.length === 0) {
			if (unknown.length > 0) {
				sink.collector(source)({target: source.target, timestamp: new Date(), metrics: unknown}, new Map());
			}

			return status;
		}

		const sample = await source.fetch();
		sink.collector(source)({...sample, metrics: [...sample.metrics, ...unknown]}, new Map(descs.map(d => [d.name, d])));
		return status;
	} catch (error) {
		return sink.error(error, target);
	} finally {
		source.close();
	}
}

export async function run(plan: Plan, io: Io): Promise<number> {
	return withDefaultCollector(plan, io, async plan => runOn(plan, io));
}

async function runOn(plan: Plan, io: Io): Promise<number> {
	const sink = await openSink(plan.format, io, plan);
	if (plan.query !== undefined) {
		const target = plan.targets[0];
		if (plan.targets.length !== 1 || target?.protocol !== 'livestatus') {
			throw new SecmonError('USAGE', '--query needs exactly one livestatus:// --host', 'Example: secmon --host livestatus://site:6557 --ca-file ca.pem --query \'GET hosts\'');
		}

		const {runLivestatusQuery} = await import('./query.js');
		return runLivestatusQuery(target, plan, hooksFor(io, sink), plan.query, io);
	}

	switch (plan.job) {
		case 'pminfo': {
			return runPminfo(plan, io, sink);
		}

		case 'live': {
			const {runLive} = await import('./live.js');
			return runLive(plan, io, hooksFor(io, sink), sink);
		}
	}
}
