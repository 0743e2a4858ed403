#!/usr/bin/env node
/**
 * Entry point: flags, environment, mode choice and exit codes — nothing else.
 * React/Ink are imported lazily, only when a terminal UI or prompt is needed, so
 * `--json` and piped runs start close to bare Node (DESIGN.md "React only in the TUI").
 */
import process from 'node:process';
import {isatty} from 'node:tty';
import type {Writable} from 'node:stream';
import {
	errorJson, exitCodes, formatError, SecmonError,
} from './errors.js';
import {mainFlags} from './main-flags.js';
import {parseSimpleArgv} from './simple-argv.js';
import {makePlan, normalizeArgv, type Flags} from './plan.js';

export type Io = {stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv};

type Subcommand = (argv: string[], io: Io) => Promise<number>;

/** Subcommands are loaded on demand so that each path pays only for what it uses. */
const subcommands: Record<string, () => Promise<Subcommand>> = {
	serve: async () => (await import('./serve/command.js')).serveCommand,
	'zabbix-get': async () => (await import('./commands/zabbix-get.js')).zabbixGetCommand,
	pki: async () => (await import('./commands/pki.js')).pkiCommand,
	enroll: async () => (await import('./commands/enroll.js')).enrollCommand,
	certs: async () => (await import('./commands/certs.js')).certsCommand,
	verify: async () => (await import('./commands/verify.js')).verifyCommand,
};

async function main(argv: string[], io: Io): Promise<number> {
	const first = argv[0];
	if (first !== undefined && first in subcommands) {
		const command = await subcommands[first]!();
		return command(argv.slice(1), io);
	}

	const jsonRequested = argv.includes('--json');
	try {
		const normalized = normalizeArgv(argv);
		// The plain form without meow (start-up, simple-argv.ts); meow for everything else.
		const cli = parseSimpleArgv(normalized, mainFlags) ?? (await import('./main-meow.js')).parseMain(normalized);
		const flags = cli.flags as unknown as Flags;
		if ((argv.includes('-s') || argv.includes('--samples')) // Meow turns an unparsable number into null silently (ecosystem.md §2.4).
			&& (flags.samples === null || flags.samples === undefined)) {
			throw new SecmonError('USAGE', 'invalid --samples value', 'Give a whole number of samples, e.g. -s 5.');
		}

		const plan = makePlan(cli.input, flags, {
			env: io.env,
			stdinIsTty: isatty(0),
			stdoutIsTty: process.stdout.isTTY,
		});
		for (const notice of plan.notices) {
			io.stderr.write(`${notice}\n`);
		}

		const {run} = await import('./commands/run.js');
		return await run(plan, io);
	} catch (error) {
		if (jsonRequested) {
			io.stdout.write(JSON.stringify(errorJson(error)) + '\n');
		}

		io.stderr.write(formatError(error) + '\n');
		return error instanceof SecmonError ? error.exitCode : exitCodes.failure;
	}
}

// No top-level await: the build is CommonJS (rolldown.config.js explains why).
void main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env}).then(code => {
	process.exitCode = code;
});
