/**
 * The derived-metric registry of one run, loaded once as pminfo loads it
 * (docs/pcp.md#derived-configuration): the global configuration, then the -c/--derived files.
 * With -c the diagnostics print at once (pminfo prints them while parsing its options); without,
 * when the first connection succeeds (pminfo loads the global configuration then).
 */
import {loadDerivedMetrics, type DerivedRegistry} from './config.js';
import {lazyCheck} from './lazy-check.js';

export type DerivedSetup = {
	registry: DerivedRegistry;
	/** Call when a connection succeeded: prints the diagnostics not printed yet. */
	connected: () => void;
};

let loaded: {key: string; setup: DerivedSetup} | undefined;

export function derivedSetup(options: {env: NodeJS.ProcessEnv; derived: string[]}, say: (text: string) => void): DerivedSetup {
	const key = JSON.stringify([options.env['PCP_DERIVED_CONFIG'], options.env['PCP_VAR_DIR'], options.derived]);
	if (loaded?.key === key) {
		return loaded.setup;
	}

	// Expressions lazy-check.ts can vouch for are parsed when first used.
	const registry = loadDerivedMetrics({
		env: options.env, extra: options.derived, program: 'secmon', check: lazyCheck(),
	});
	let pending = registry.diagnostics.join('');
	const connected = () => {
		if (pending !== '') {
			say(pending);
			pending = '';
		}
	};

	if (options.derived.length > 0) {
		connected();
	}

	loaded = {key, setup: {registry, connected}};
	return loaded.setup;
}
