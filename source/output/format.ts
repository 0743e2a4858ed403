/**
 * The output seam (readme "Architecture"): one format per run, chosen in plan.ts, and one sink
 * per format that writes what the jobs produce — samples, failures and notices. The jobs
 * (commands/run.ts, live/) never ask which format it is; they hand their data to the sink.
 * A new format is a sink module in this folder, its name in `Format` and a line in `sinks`.
 */
import type {Writable} from 'node:stream';
import type {MetricDesc, Sample} from '../metrics/model.js';
import type {AgentFacts} from '../metrics/source.js';
import type {TlsFacts} from '../security/types.js';
import type {Show} from '../plan.js';
import type {At} from './report.js';

/**
 * pminfo: pminfo's text, byte for byte (one shot); text: plain text blocks per sample (pmval-like,
 * for pipes and logs); json: NDJSON, one object per metric per sample; tui: the Ink panes
 * (live/panes.ts), which write as `text` wherever a stream is needed instead (CI logs).
 */
export type Format = 'pminfo' | 'text' | 'json' | 'tui';

/** Where samples come from (a MetricSource is one). */
export type Origin = {
	/** "host:port" as the user named it. */
	readonly target: string;
	readonly host: string;
	readonly port: number;
	/** TLS facts, or undefined for a plain connection. */
	readonly tls: TlsFacts | undefined;
	/** How the collector answered its last request (Zabbix), read at each sample. */
	readonly answeredWith?: AgentFacts | undefined;
	/** pmproxy's ?hostspec=, when one was named: two such collectors share host and port. */
	readonly hostspec?: string | undefined;
};

/** Live sampling: `late` when the answer came after the next round had begun (live/stream.ts). */
export type SampleMeta = {late?: boolean};

export type Sink = {
	readonly format: Format;
	/**
	 * The stream of samples from one collector: each call writes one sample (descriptors by
	 * name). One per collector, because a format may keep state between samples (text: rates).
	 */
	collector(origin: Origin): (sample: Sample, descs: ReadonlyMap<string, MetricDesc>, meta?: SampleMeta) => void;
	/**
	 * Live sampling: `origin` missed the round scheduled at `scheduled` (still answering the one
	 * before; live/stream.ts). Formats without a way to say it leave it out.
	 */
	missed?(origin: Origin, scheduled: Date): void;
	/** Before a collector's one-shot output when several collectors are asked (pminfo: `== host ==`). */
	heading(display: string): void;
	/** Reports a failure (of the collector `at`, when given) and returns its exit code. */
	error(error: unknown, at?: At): number;
	/** A warning or note for the user (never on stdout: stdout is the data). */
	notice(text: string): void;
};

export type SinkOptions = {
	/** pminfo: what to show beside values. */
	show: Show;
	/** text: counters as raw values instead of rates (-r). */
	raw: boolean;
	/** json: the live job's counters carry rates beside raw values (absent: one shot). */
	job?: 'pminfo' | 'live';
};

export type SinkIo = {stdout: Writable; stderr: Writable};

type SinkFactory = (io: SinkIo, options: SinkOptions) => Sink;

/** Loaded on demand, so that a run pays only for its own format. */
const sinks: Record<Format, () => Promise<SinkFactory>> = {
	pminfo: async () => (await import('./pminfo.js')).pminfoSink,
	text: async () => (await import('./text.js')).textSink,
	json: async () => (await import('./json.js')).jsonSink,
	// The panes draw from live/panes.ts; a stream in their place (CI) is plain text.
	tui: async () => (await import('./text.js')).textSink,
};

export async function openSink(format: Format, io: SinkIo, options: SinkOptions): Promise<Sink> {
	return (await sinks[format]())(io, options);
}
