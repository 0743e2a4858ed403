#!/usr/bin/env node
/**
 * Entry point: flags, environment, mode choice and exit codes — nothing else.
 * React/Ink are imported lazily, only when a terminal UI or prompt is needed, so
 * `--json` and piped runs start close to bare Node (DESIGN.md "React only in the TUI").
 */
import process from 'node:process';
import {isatty} from 'node:tty';
import type {Writable} from 'node:stream';
import meow from 'meow';
import {
	errorJson, exitCodes, formatError, SecmonError,
} from './errors.js';
import {meowBasics} from './commands/args.js';
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

export const helpText = `
Usage
  $ secmon [--host HOST]... [-f] [-d] [-m] [-t] [-T] [METRIC]...      pminfo-style, one shot
  $ secmon [--host HOST]... [-t INTERVAL] [-s N] METRIC...            live panes (terminal), text or --json samples
  $ secmon serve | zabbix-get | pki | certs | verify | enroll ...     see "secmon COMMAND --help"

Collectors (--host, repeatable)
  host, host:port, [v6]:port            PCP pmcd (default port 44321)
  pcp://host[:port]  pcps://host[:port] PCP; pcps:// means --secure enforce
  zabbix://host[:port]                  Zabbix agent (10050)
  icinga://host[:port]                  Icinga 2 REST API (5665)
  livestatus://host[:port]              Checkmk Livestatus behind TLS (6557)
  mon://host[:port]                     mon behind stunnel (2583)

What to show (pminfo flags; a metric that is not a leaf expands to the leaves below it)
  -f, --fetch        values, like pminfo -f
  -d, --desc         descriptor: type, instance domain, semantics, units
  -m, --pmid         PMID          -M, --pmid-long  PMID in decimal and hex too
  -t                 one-line help (when not followed by an interval)
  -T, --help-text    full help text
  --names            list the names below each METRIC (what pminfo does with no flag;
                     in a pipe that is the default). With no METRIC: every name.

Live sampling (pmval-style)
  -t, --interval T   sample every T: 2, 500msec, 1min (default 1 sec)
  -s, --samples N    stop after N samples (default: until q)
  -r, --raw          show counters raw instead of as rates
  --json             NDJSON: one object per metric per sample; never prompts

Security (secure by default: every certificate is verified)
  --secure MODE      enforce | relaxed | off. Default from SECMON_SECURE_SOCKETS,
                     then PCP_SECURE_SOCKETS (enforce, 1 or empty = enforce), then off
  --ca-file FILE     trust exactly this CA (chain and host name are checked)
  --cert FILE --key FILE   client certificate for collectors that require one
  --fingerprint SHA256     trust the collector whose certificate has this fingerprint
  --accept-new       trust and save a collector seen for the first time (never a changed one)
  --psk-identity ID --psk-file FILE  Zabbix pre-shared key (the key only ever from a file)
  --password-file FILE   Icinga 2 / mon: USER:PASSWORD from a file (never on the command line)
  --servername NAME  name to verify in the certificate (Icinga node or Checkmk site name)
  --query 'GET …'    Livestatus: send this query and print the answer (scripts)
  --timeout T        connect and request timeout (default 5 sec / 10 sec)
  Trusted collectors are saved in ~/.pki/secmon (SECMON_HOME moves it).

Exit codes
  0 ok   1 connection or runtime failure   2 usage
  3 certificate not trusted (or rejected)   4 certificate changed (possible interception)
  5 TLS required but not offered by the collector
`;

function parseMain(argv: string[]) {
	return meow(helpText, {
		...meowBasics(import.meta.url),
		argv: normalizeArgv(argv),
		allowUnknownFlags: false,
		helpIndent: 0,
		flags: {
			host: {type: 'string', shortFlag: 'h', isMultiple: true},
			fetch: {type: 'boolean', shortFlag: 'f'},
			desc: {type: 'boolean', shortFlag: 'd'},
			pmid: {type: 'boolean', shortFlag: 'm'},
			pmidLong: {type: 'boolean', shortFlag: 'M'},
			oneline: {type: 'boolean'},
			helpText: {type: 'boolean', shortFlag: 'T'},
			interval: {type: 'string'},
			samples: {type: 'number', shortFlag: 's'},
			raw: {type: 'boolean', shortFlag: 'r'},
			names: {type: 'boolean'},
			json: {type: 'boolean'},
			secure: {type: 'string'},
			caFile: {type: 'string'},
			cert: {type: 'string'},
			key: {type: 'string'},
			fingerprint: {type: 'string'},
			pskIdentity: {type: 'string'},
			pskFile: {type: 'string'},
			passwordFile: {type: 'string'},
			servername: {type: 'string'},
			query: {type: 'string'},
			acceptNew: {type: 'boolean'},
			timeout: {type: 'string'},
		},
	});
}

async function main(argv: string[], io: Io): Promise<number> {
	const first = argv[0];
	if (first !== undefined && first in subcommands) {
		const command = await subcommands[first]!();
		return command(argv.slice(1), io);
	}

	const jsonRequested = argv.includes('--json');
	try {
		const cli = parseMain(argv);
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
