/**
 * Keys as the panes handle them, one at a time. Ink hands a run of plain characters that arrive
 * in one read as a single input ("\t\r" for Tab then Enter typed quickly or over a slow link, a
 * pasted name followed by Enter): split it into the keys it is, so none is lost.
 */
import type {Key} from 'ink';

const none: Key = {
	upArrow: false,
	downArrow: false,
	leftArrow: false,
	rightArrow: false,
	pageDown: false,
	pageUp: false,
	home: false,
	end: false,
	return: false,
	escape: false,
	ctrl: false,
	shift: false,
	tab: false,
	backspace: false,
	delete: false,
	meta: false,
	super: false,
	hyper: false,
	capsLock: false,
	numLock: false,
};

/** The keys of one input: itself when it is one key or a special one, else one per character (Tab, Enter, Backspace named). */
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
	const chars = [...input];
	if (chars.length <= 1 || Object.values(key).some(Boolean)) {
		return [[input, key]];
	}

	return chars.map(char => {
		switch (char) {
			case '\t': {
				return ['', {...none, tab: true}];
			}

			case '\r':
			case '\n': {
				return ['', {...none, return: true}];
			}

			case '\u007F':
			case '\b': {
				return ['', {...none, backspace: true}];
			}

			default: {
				return [char, none];
			}
		}
	});
}
