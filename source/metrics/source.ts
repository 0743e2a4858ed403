import type {TlsFacts} from '../security/types.js';
import type {MetricDesc, Sample} from './model.js';

/**
 * One open, verified session to a collector, as every front end sees it
 * (docs/design.md#metric-model: describe(names) → MetricDesc[]; fetch() → Sample). Each protocol
 * implements it; renderers and the sampler know nothing else.
 */
export type MetricSource = {
	/** "host:port" for display. */
	readonly target: string;
	readonly host: string;
	readonly port: number;
	/** TLS facts, or undefined for a plain connection. */
	readonly tls: TlsFacts | undefined;
	/**
	 * Resolve user-given names (non-leaf names expand) into descriptors; unknown names are reported,
	 * not thrown. Each call adds to what fetch() samples (DerivedSource describes its operands in a
	 * second call); it never forgets what an earlier call described.
	 */
	describe(names: string[]): Promise<{descs: MetricDesc[]; errors: Array<{name: string; message: string}>}>;
	/** One sample of every described metric. */
	fetch(): Promise<Sample>;
	close(): void;
};
