/**
 * Saved sets' names (pure, shared by the panes' `s` dialog and `secmon sets`): a name is a key in
 * the sets file and appears in commands the user types, so it is short, printable and safe in a
 * shell without quotes.
 */

/** Letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters. */
const setName = /^[A-Za-z\d][\w.\-]{0,63}$/v;

export const setNameRule = 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters';

/** Undefined when `name` is a valid set name, else what is wrong with it. */
export function setNameProblem(name: string): string | undefined {
	if (name === '') {
		return 'a set needs a name';
	}

	return setName.test(name) ? undefined : `"${name}" is not a set name: use ${setNameRule}`;
}
