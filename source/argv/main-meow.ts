/**
 * The main command's help text and its meow parser: every command line that is not in the
 * plain form simple-argv.ts handles, and --help/--version. Loaded only then, so a plain
 * one-shot fetch does not load meow (core issue part 7).
 */
import meow from 'meow';
import {collectorsHelp} from '../protocols/registry.js';
import {SecmonError} from '../errors.js';
import {checkParsed, meowBasics} from './args.js';
import {mainFlags} from './main-flags.js';

export const helpText = `
Usage
  $ secmon [--host HOST]... -f METRIC...                               live panes in a terminal
  $ secmon [--host HOST]... [-fdmtTlFxv] [METRIC]...                 pminfo-style, one shot
  $ secmon [--host HOST]... [-t INTERVAL] [-s N] METRIC...            live panes (terminal), text or --json samples
  $ secmon pmval [-h HOST] [-s N] [-t INTERVAL] [-i INST] [-f N] [-r] METRIC   pmval's output
  $ secmon --set NAME                                                 a saved set (secmon sets --help)
  $ secmon serve | zabbix-get | pki | certs | verify | enroll | sets ...  see "secmon COMMAND --help"

Collectors (--host, repeatable)
${collectorsHelp()}

What to show (pminfo flags; a metric that is not a leaf expands to the leaves below it)
  -f, --fetch        values, like pminfo -f; alone in a terminal: the live panes
  --once             pminfo's one-shot text even in a terminal (-f --once: values once)
  -d, --desc         descriptor: type, instance domain, semantics, units
  -m, --pmid         PMID          -M, --pmid-long  PMID in decimal and hex too
  -t                 one-line help (when not followed by an interval)
  -T, --help-text    full help text
  -l, --labels       labels of each metric and instance (context, domain, indom, cluster,
                     item and instance labels merged, as pminfo -l)
  -F, --force        values, asking for every instance of an indom that needs a list
  -x, --events       values, and each event record with its parameters
  -v, --verify       fetch quietly: print only the metrics that have no values or fail
  --names            list the names below each METRIC (what pminfo does with no flag;
                     in a pipe that is the default). With no METRIC: every name.
  -c, --derived FILE derived metrics from FILE (or a directory, or a : list), after the
                     global ones ($PCP_DERIVED_CONFIG, else /var/lib/pcp/config/derived)

Live sampling (pmval-style)
  -t, --interval T   sample every T: 2, 500msec, 1min (default 1 sec)
  -s, --samples N    stop after N samples (default: until q)
  -r, --raw          show counters raw instead of as rates
  --json             NDJSON: one object per metric per sample; never prompts
  --warn METRIC=RANGE, --crit METRIC=RANGE   the panes colour METRIC's values past these
                     levels (Nagios ranges in the metric's units: 4 = above 4 or below 0,
                     10: = below 10, ~:90 = above 90, @5:10 = inside 5..10); repeatable
  --set NAME         hosts, metrics, interval and levels saved with s in the panes

Security (secure by default: TLS whenever the collector offers it, every certificate verified)
  --secure MODE      enforce (TLS required) | relaxed (TLS whenever offered; the default) |
                     off (plain text). Also from SECMON_SECURE_SOCKETS / PCP_SECURE_SOCKETS
                     (enforce, 1 or empty; relaxed; 0, off, no or false; anything else is an
                     error; the stricter wins). Unlike PCP, unset is not plain text. A collector
                     once read over verified TLS is never read in plain text again without
                     --secure off (secmon certs remove HOST:PORT forgets it).
  --ca-file FILE     trust exactly this CA (chain and host name are checked)
  --cert FILE --key FILE   client certificate for collectors that require one
  --fingerprint SHA256     trust the collector whose certificate has this fingerprint
                     (or sha256//BASE64, curl's public-key pin: whose key has this SHA-256)
  --accept-new       trust and save a collector seen for the first time (never a changed one)
  --psk-identity ID --psk-file FILE  Zabbix pre-shared key (the key only ever from a file)
  --password-file FILE   Icinga 2 / mon / pmproxy: USER:PASSWORD from a file (never on the command line)
  --servername NAME  name to verify in the certificate (reaching a collector by address or
                     through a tunnel; Icinga node and Checkmk site names)
  --query 'GET …'    Livestatus: send this query and print the answer (scripts)
  --timeout T        connect and request timeout (default 5 sec / 10 sec)
  --hosts-file FILE  more --host specs, one a line (# comments, blank lines); - reads stdin
  --parallel N       collectors asked at once (default 32); text output keeps --host order,
                     --json lines come as each collector answers; the exit code is the worst
  --ca-file, --fingerprint, --accept-new, --cert, --key and --servername imply TLS:
  a collector that offers none is refused (exit 5).
  Trusted collectors are saved in ~/.pki/secmon (SECMON_HOME moves it).

Exit codes
  0 ok   1 connection or runtime failure   2 usage
  3 certificate not trusted (or rejected)   4 certificate changed (possible interception)
  5 TLS required but not offered by the collector (or offered before: possible TLS stripping)
  130 SIGINT   143 SIGTERM   (a reader that closes the pipe early: 0, as pminfo)
`;

/**
 * `argv` as normalizeArgv (normalize.ts) left it. Misuse is a usage error in secmon's words
 * (checkParsed: the flag named, the nearest known one, a pointer to --help), not meow's bare
 * "Unknown flag" and its own exit.
 */
export function parseMain(argv: string[]) {
	let cli;
	try {
		cli = meow(helpText, {
			...meowBasics(import.meta.url),
			argv,
			allowUnknownFlags: true,
			helpIndent: 0,
			flags: mainFlags,
		});
	} catch (error) {
		throw new SecmonError('USAGE', (error as Error).message.replaceAll('`', ''), 'see: secmon --help');
	}

	checkParsed('', argv, mainFlags, cli);
	return cli;
}
