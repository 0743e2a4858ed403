/**
 * `secmon certs …`: show and manage what the user trusts — the pinned collectors
 * (`<home>/known_collectors`, store.ts) and the trusted CAs (`<home>/cas`, trusted-cas.ts) — the
 * way `certutil -L/-A/-D` does for an NSS database, plus `import-nss` so that moving from pminfo
 * (whose NSS era saved accepted certificates in ~/.pki/nssdb) loses no trust.
 * argv is what follows "certs" on the command line. This module dispatches; each subcommand is
 * its own module beside it (list, show, trust-ca, remove, export, import-nss).
 */
import type {Io} from '../../io.js';
import {exitCodes} from '../../errors.js';
import {expiryWarningDays} from '../../security/expiry.js';
import {reportError} from '../../output/report.js';
import {runList} from './list.js';
import {runShow} from './show.js';
import {runTrustCa} from './trust-ca.js';
import {runRemove} from './remove.js';
import {runExport} from './export.js';
import {runImportNss} from './import-nss.js';

export const certsHelp = `
Usage
  $ secmon certs list [--json]
  $ secmon certs show HOST[:PORT]|FINGERPRINT|CA-NAME [--json]
  $ secmon certs trust-ca FILE [--name NAME] [--fingerprint SHA256]
  $ secmon certs remove HOST[:PORT]|FINGERPRINT|CA-NAME
  $ secmon certs export HOST[:PORT]|FINGERPRINT|CA-NAME [--out FILE] [--force]
  $ secmon certs import-nss [DIR] [--port N] [--dry-run]

  list        every pinned collector and trusted CA: host:port or CA name, subject, SHA-256,
              expiry (days left; under ${expiryWarningDays} days is highlighted), when and how it was trusted
  show        full details of a pin or CA, with its subjectAltNames and PEM. HOST without a
              port shows every pin of that host
  trust-ca    trust a CA for every collector whose certificate it signed (chain and host name
              are checked, no pin needed): the way one CA serves many collectors. With
              --fingerprint, only a CA with that SHA-256 (or sha256//… public-key pin) is added
  remove      forget a pin (the next connection asks again) or stop trusting a CA; HOST:PORT
              also forgets that the collector spoke TLS (do this when it really turned TLS off)
  export      the PEM certificate, to stdout or --out FILE
  import-nss  import what PCP's pminfo (NSS era) accepted into DIR (default ~/.pki/nssdb), read
              with certutil (libnss3-tools): certificates trusted as peers (P) become pins for
              the host:port in their nickname, else for each name in their subjectAltName at
              --port (default 44321, pmcd's); trusted CAs (C) become trusted CAs

Options
  --json        machine-readable output (list, show)
  --name NAME   trust-ca: the CA's name (default its CN)
  --fingerprint SHA256
                trust-ca: the CA's SHA-256 as its owner gave it (or its sha256//BASE64
                public-key pin); a CA file that does not match is refused (exit 3)
  --out FILE    export: write here instead of stdout; --force replaces an existing file
  --port N      import-nss: the port for pins derived from subjectAltNames (default 44321)
  --dry-run     import-nss: show what would be imported, change nothing

The store is ~/.pki/secmon (SECMON_HOME moves it). Exit codes: 0 ok, 1 failure or nothing
matched, 2 usage.
`;

const runners: Record<string, (argv: string[], io: Io) => Promise<number>> = {
	list: runList,
	show: runShow,
	'trust-ca': runTrustCa,
	remove: runRemove,
	export: runExport,
	'import-nss': runImportNss,
};

export async function certsCommand(argv: string[], io: Io): Promise<number> {
	const [subcommand, ...rest] = argv;
	if (subcommand === undefined || subcommand === '--help' || subcommand === 'help' || subcommand === '-h') {
		(subcommand === undefined ? io.stderr : io.stdout).write(certsHelp.replace(/^\n/v, ''));
		return subcommand === undefined ? exitCodes.usage : exitCodes.ok;
	}

	const runner = runners[subcommand];
	if (!runner) {
		io.stderr.write(`secmon: unknown certs command "${subcommand}"\nchoose one of: ${Object.keys(runners).join(', ')} (see: secmon certs --help)\n`);
		return exitCodes.usage;
	}

	if (rest.includes('--help')) {
		io.stdout.write(certsHelp.replace(/^\n/v, ''));
		return exitCodes.ok;
	}

	const json = rest.includes('--json');
	try {
		return await runner(rest, io);
	} catch (error) {
		return reportError(io, error, {json});
	}
}
