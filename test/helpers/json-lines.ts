/**
 * Every `--json` line the tests see is checked against its schema in docs/schema/ (issue 16 part
 * 4): runSecmon calls checkJsonOutput for each run with --json, and the in-process command tests
 * call it on what they captured. A line that does not match fails the test that produced it.
 */
import {validateAgainst} from './json-schema.js';

/** The schema of a command's --json lines: by its subcommand (and certs' own subcommand). */
export function schemaFor(args: readonly string[]): string {
	switch (args[0]) {
		case 'zabbix-get': {
			return 'zabbix-get.json';
		}

		case 'verify': {
			return 'verify.json';
		}

		case 'enroll': {
			return 'enroll.json';
		}

		case 'sets': {
			return args[1] === 'show' ? 'sets-show.json' : (args[1] === 'list' ? 'sets-list.json' : 'error.json');
		}

		case 'certs': {
			return args[1] === 'show' ? 'certs-show.json' : (args[1] === 'list' ? 'certs-list.json' : 'error.json');
		}

		default: {
			return 'secmon.json';
		}
	}
}

/**
 * Throws when a complete line of `stdout` is not JSON or does not match `schema` (a trailing
 * line without its newline is left alone: a killed run may end mid-line, which its own test
 * checks). Returns the parsed lines.
 */
export function checkJsonLines(stdout: string, schema: string): unknown[] {
	const complete = stdout.endsWith('\n') ? stdout : stdout.slice(0, stdout.lastIndexOf('\n') + 1);
	const values: unknown[] = [];
	for (const line of complete.split('\n').slice(0, -1)) {
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch {
			throw new Error(`--json printed a line that is not JSON: ${line.slice(0, 200)}`);
		}

		const problems = validateAgainst(value, schema);
		if (problems.length > 0) {
			throw new Error(`--json line does not match docs/schema/${schema}:\n  ${problems.slice(0, 10).join('\n  ')}\nline: ${line.slice(0, 2000)}`);
		}

		values.push(value);
	}

	return values;
}

/** For a run of `secmon ARGS`: checks stdout when ARGS ask for --json (else does nothing). */
export function checkJsonOutput(args: readonly string[], stdout: string): void {
	// --query prints Livestatus's own answer (its OutputFormat), not secmon's lines.
	if (args.includes('--json') && !args.includes('--query')) {
		checkJsonLines(stdout, schemaFor(args));
	}
}
