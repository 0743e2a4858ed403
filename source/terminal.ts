/**
 * Facts about the terminal that choose what secmon draws (a leaf module: plan.ts, the panes and
 * the prompts use it).
 */

/** Ink's own test (is-in-ci): CI or CONTINUOUS_INTEGRATION set and not "0"/"false". */
export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
	const set = (name: string) => env[name] !== undefined && env[name] !== '0' && env[name] !== 'false';
	return set('CI') || set('CONTINUOUS_INTEGRATION');
}
