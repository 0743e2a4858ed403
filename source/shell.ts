/** Quoting the user's own command line back to them, in hints such as "re-run with --fingerprint …". */
export function shellQuote(argument: string): string {
	return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll('\'', '\'\\\'\'')}'`;
}

/**
 * The user's own command line, for "re-run with --fingerprint …" hints, so that it does the same
 * pasted into a fresh shell: when the secure mode came from the environment, `--secure MODE` is
 * added (before a `--`, after which everything is a metric name).
 */
export function rerunCommand(argv: readonly string[] | undefined, security?: {secureArgument?: string}): string | undefined {
	if (argv === undefined) {
		return undefined;
	}

	return remembered(argv, JSON.stringify(['rerun', security?.secureArgument]), () => buildRerun(argv, security));
}

/**
 * Hints built once per command line and kind: every collector of a run builds its own hints
 * before it connects, and with 100 `--host` arguments quoting the whole line per host was
 * ~0.2 ms of CPU each (issue 18's profile of a 100-collector fan-out). Only a frozen command line
 * is remembered (commands/hooks.ts freezes the one of the run), so a hint can never be stale.
 */
const rememberedHints = new WeakMap<readonly string[], Map<string, string>>();

function remembered(argv: readonly string[], kind: string, build: () => string): string {
	if (!Object.isFrozen(argv)) {
		return build();
	}

	let hints = rememberedHints.get(argv);
	if (!hints) {
		hints = new Map();
		rememberedHints.set(argv, hints);
	}

	let hint = hints.get(kind);
	if (hint === undefined) {
		hint = build();
		hints.set(kind, hint);
	}

	return hint;
}

function buildRerun(argv: readonly string[], security?: {secureArgument?: string}): string {
	const args = [...argv];
	const end = args.indexOf('--');
	const options = end === -1 ? args : args.slice(0, end);
	if (security?.secureArgument !== undefined && !options.some(a => a === '--secure' || a.startsWith('--secure='))) {
		args.splice(end === -1 ? args.length : end, 0, '--secure', security.secureArgument);
	}

	return ['secmon', ...args.map(a => shellQuote(a))].join(' ');
}

/** Options that imply TLS (plan.ts): a `--secure off` hint must drop them, or it would be a usage error. */
const tlsOnlyOptions = new Set(['--ca-file', '--fingerprint', '--cert', '--key', '--servername', '--psk-file', '--psk-identity']);

/**
 * The user's command line with the secure mode replaced by `--secure MODE` (and, for `relaxed` and
 * `off`, the options that imply TLS removed, or they would refuse plain text again), for hints such
 * as "to read it in plain text for this run only".
 */
export function rerunWithSecure(argv: readonly string[], mode: 'enforce' | 'relaxed' | 'off'): string {
	return remembered(argv, JSON.stringify(['secure', mode]), () => buildRerunWithSecure(argv, mode));
}

function buildRerunWithSecure(argv: readonly string[], mode: 'enforce' | 'relaxed' | 'off'): string {
	const end = argv.indexOf('--');
	const options = end === -1 ? argv : argv.slice(0, end);
	const kept: string[] = [];
	for (let i = 0; i < options.length; i++) {
		const argument = options[i]!;
		const name = argument.split('=')[0]!;
		if (name === '--secure' || (mode !== 'enforce' && tlsOnlyOptions.has(name))) {
			if (!argument.includes('=')) {
				i++;
			}

			continue;
		}

		if (mode !== 'enforce' && argument === '--accept-new') {
			continue;
		}

		kept.push(argument);
	}

	return rerunCommand([...kept, '--secure', mode, ...(end === -1 ? [] : argv.slice(end))])!;
}
