/** Quoting the user's own command line back to them, in hints such as "re-run with --fingerprint …". */
export function shellQuote(argument: string): string {
	return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll('\'', '\'\\\'\'')}'`;
}

/** The user's own command line, for "re-run with --fingerprint …" hints. */
export function rerunCommand(argv: string[] | undefined): string | undefined {
	return argv === undefined ? undefined : ['secmon', ...argv.map(a => shellQuote(a))].join(' ');
}
