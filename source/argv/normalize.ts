/**
 * pminfo's and pmval's short-flag habits, rewritten into the main flag table's spelling
 * before either parser (simple-argv.ts, main-meow.ts) sees the command line.
 */
import {looksLikeDuration} from '../duration.js';
import {mainFlags} from './main-flags.js';
import {kebab} from './simple-argv.js';

/** -f → --fetch, -M → --pmid-long …: the table's boolean short flags, which pminfo lets one group. */
const shortBooleans = new Map<string, string>(Object.entries(mainFlags).flatMap(([name, flag]) => (
	flag.type === 'boolean' && 'shortFlag' in flag ? [[flag.shortFlag, '--' + kebab(name)] as const] : []
)));
// -t is pminfo's one-line help in a group (pmval's interval takes a value, so never grouped).
shortBooleans.set('t', '--oneline');

/** The flags that take a value (`-h HOST`, `--samples N`): the argument after one is not a metric. */
const takesValue = new Set(Object.entries(mainFlags).flatMap(([name, flag]) => (
	flag.type === 'boolean' ? [] : ['--' + kebab(name), ...('shortFlag' in flag ? ['-' + flag.shortFlag] : [])]
)));

/** Whether the command line names a metric or a saved set (an argument no flag takes), besides argv[skip]. */
function namesMetrics(argv: string[], skip: number): boolean {
	for (let i = 0; i < argv.length; i++) {
		const argument = argv[i]!;
		if (argument === '--' || argument === '--set' || argument.startsWith('--set=')) {
			return true;
		}

		if (takesValue.has(argument)) {
			i++;
		} else if (i !== skip && !argument.startsWith('-')) {
			return true;
		}
	}

	return false;
}

/**
 * pminfo and pmval both claim `-t`: pminfo's is "one-line help" (boolean), pmval's
 * takes an interval. A duration always starts with a digit and a metric name never
 * does, so `-t 2` is an interval and `-t name` is help. An InDom (`-t 60.2`) is also a
 * number: it is pminfo's InDom when the line names nothing to sample. Also expands
 * pminfo-style groups such as `-dfmtT`.
 */
export function normalizeArgv(argv: string[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const argument = argv[i]!;
		if (argument === '--') {
			out.push(...argv.slice(i));
			break;
		}

		// pminfo's and pmval's -V (version) and -? (usage).
		if (argument === '-V' || argument === '-?') {
			out.push(argument === '-V' ? '--version' : '--help');
			continue;
		}

		if (argument === '-t') {
			const next = argv[i + 1];
			const inDom = next !== undefined && /^\d+\.\d+$/.test(next) && !namesMetrics(argv, i + 1);
			if (next !== undefined && looksLikeDuration(next) && !inDom) {
				out.push('--interval', next);
				i++;
			} else {
				out.push('--oneline');
			}

			continue;
		}

		const group = argument.length > 2 && argument.startsWith('-') ? argument.slice(1) : '';
		if (group !== '' && [...group].every(c => shortBooleans.has(c))) {
			for (const c of group) {
				out.push(shortBooleans.get(c)!);
			}

			continue;
		}

		out.push(argument);
	}

	return out;
}
