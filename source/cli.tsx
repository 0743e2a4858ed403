#!/usr/bin/env node
/**
 * Entry point: flags, environment, mode choice and exit codes — nothing else.
 * React/Ink are imported lazily, only when a terminal UI or prompt is needed, so
 * `--json` and piped runs start close to bare Node (docs/design.md#layering-rules: React only in the TUI).
 */
import process from 'node:process';
import {isatty} from 'node:tty';
import {exitCodes} from './errors.js';
import {parseMainArgv} from './argv/main.js';
import {makePlan} from './plan.js';
import type {Io} from './io.js';
import {Shutdown} from './process-exit.js';
import {reportError} from './output/report.js';

/** `shutdown`: signals and a closed stdout (process-exit.ts); absent when a test calls a command directly. */

type Subcommand = (argv: string[], io: Io) => Promise<number>;

/** Subcommands are loaded on demand so that each path pays only for what it uses. */
const subcommands: Record<string, () => Promise<Subcommand>> = {
	async serve() {
		const {serveCommand} = await import('./serve/command.js');
		return async (argv, io) => {
			// Closes its listeners on a stop, then exits 0 as pmcd does after SIGTERM.
			const release = io.shutdown?.hold({stopIsNormal: true});
			try {
				return await serveCommand(argv, io, io.shutdown ? {signal: io.shutdown.signal} : {});
			} finally {
				release?.();
			}
		};
	},
	'zabbix-get': async () => (await import('./commands/zabbix-get.js')).zabbixGetCommand,
	pki: async () => (await import('./commands/pki.js')).pkiCommand,
	enroll: async () => (await import('./commands/enroll.js')).enrollCommand,
	certs: async () => (await import('./commands/certs/command.js')).certsCommand,
	verify: async () => (await import('./commands/verify.js')).verifyCommand,
	pmval: async () => (await import('./commands/pmval.js')).pmvalCommand,
	sets: async () => (await import('./commands/sets.js')).setsCommand,
};

async function main(argv: string[], io: Io): Promise<number> {
	const first = argv[0];
	if (first !== undefined && Object.hasOwn(subcommands, first)) {
		const command = await subcommands[first]!();
		return command(argv.slice(1), io);
	}

	const jsonRequested = argv.includes('--json');
	try {
		let {input, flags} = await parseMainArgv(argv);
		// --hosts-file's hosts count as given on the command line: they replace a set's hosts.
		if (flags.hostsFile !== undefined) {
			const {readHostsFile} = await import('./argv/hosts-file.js');
			flags.host = [...flags.host, ...await readHostsFile(flags.hostsFile, process.stdin)];
		}

		let setInterval: number | undefined;
		if (flags.set !== undefined) {
			// A saved set (sets/apply.ts), loaded only when asked for.
			const {applySet} = await import('./sets/apply.js');
			({input, flags, intervalMs: setInterval} = applySet(flags.set, input, flags, io.env));
		}

		const made = makePlan(input, flags, {
			env: io.env,
			stdinIsTty: isatty(0),
			stdoutIsTty: process.stdout.isTTY,
		});
		const plan = setInterval === undefined ? made : {...made, intervalMs: setInterval};
		for (const notice of plan.notices) {
			io.stderr.write(`${notice}\n`);
		}

		const {run} = await import('./commands/run.js');
		return await run(plan, io);
	} catch (error) {
		if (io.shutdown?.stopping) {
			// A consequence of the stop (a session closed under a request): nothing to report.
			return exitCodes.ok;
		}

		return reportError(io, error, {json: jsonRequested});
	}
}

// Before anything else: a signal or a closed stdout ends every command (process-exit.ts).
const shutdown = new Shutdown({stdout: process.stdout, stderr: process.stderr});
// No top-level await: the build is CommonJS (rolldown.config.js explains why).
void main(process.argv.slice(2), {
	stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown,
}).then(code => {
	shutdown.finish(code);
});
