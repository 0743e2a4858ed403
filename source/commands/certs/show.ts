/**
 * `secmon certs show`: the full details of a pin or CA, with its PEM.
 */
import {colorWanted, paintProblem} from '../../color.js';
import type {Io} from '../../io.js';
import {exitCodes, formatError} from '../../errors.js';
import {spkiPin} from '../../security/certificate.js';
import {secmonHome} from '../../security/home.js';
import {validityNote} from '../../security/messages.js';
import {TrustStore} from '../../security/store.js';
import {safeJson} from '../../safe-text.js';
import {parseArgs} from '../../argv/args.js';
import {
	findMatches, nothingMatches, parseSelector, usage,
} from './selector.js';
import {
	caEntry, entryJson, loadAll, pinEntry, trustedLine, type Entry,
} from './entries.js';

function showLines(entry: Entry, now: Date, color: boolean): string[] {
	const {info} = entry;
	const note = validityNote(info, now);
	return [
		`${entry.label}  (${entry.kind === 'pin' ? 'pinned collector' : 'trusted CA'})`,
		`  Subject:       ${info.subject}`,
		`  Issuer:        ${info.issuer}${info.selfSigned ? ' (self-signed)' : ''}`,
		`  Names (SAN):   ${info.subjectAltNames.length > 0 ? info.subjectAltNames.join(', ') : '(none)'}`,
		`  Serial:        ${info.serialNumber}`,
		`  Valid:         ${paintProblem(note.text, note.level, color)}`,
		`  SHA-256:       ${info.sha256}`,
		`  SHA-1:         ${info.sha1}`,
		`  SPKI SHA-256:  ${info.spkiSha256}`,
		`  SPKI pin:      ${spkiPin(info)}  (curl --pinnedpubkey, secmon --fingerprint)`,
		`  Trusted:       ${trustedLine(entry)}`,
		`  File:          ${entry.file}`,
		...info.pem.trimEnd().split('\n'),
	];
}

export async function runShow(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs show', argv, {json: {type: 'boolean'}});
	if (input.length !== 1) {
		throw usage('secmon certs show needs one HOST[:PORT], SHA-256 fingerprint or CA name', 'e.g. secmon certs show collector:44321 (see them all with: secmon certs list)');
	}

	const selector = parseSelector(input[0]!);
	const store = new TrustStore(secmonHome(io.env));
	const {pins, problems, cas} = loadAll(store);
	const matches = findMatches(selector, pins, cas);
	const entries = [...matches.pins.map(pin => pinEntry(store, pin)), ...matches.cas.map(ca => caEntry(ca))];
	if (entries.length === 0) {
		for (const problem of problems) {
			io.stderr.write(`${formatError(problem.error)}\n`);
		}

		throw nothingMatches(selector, store);
	}

	const now = new Date();
	if (flags.json) {
		io.stdout.write(safeJson(entries.map(entry => entryJson(entry, now, true))) + '\n');
	} else {
		io.stdout.write(entries.map(entry => showLines(entry, now, colorWanted(io.stdout, io.env)).join('\n')).join('\n\n') + '\n');
	}

	return exitCodes.ok;
}
