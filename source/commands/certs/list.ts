/**
 * `secmon certs list`: every pinned collector and trusted CA, with expiry highlighted.
 */
import {colorWanted} from '../../color.js';
import type {Io} from '../../io.js';
import {exitCodes, formatError} from '../../errors.js';
import {expiryOf} from '../../security/expiry.js';
import {secmonHome} from '../../security/home.js';
import {TrustStore} from '../../security/store.js';
import {safeJson} from '../../safe-text.js';
import {parseArgs} from '../../argv/args.js';
import {usage} from './selector.js';
import {
	caEntry, entryJson, expiryText, loadAll, pinEntry, trustedLine, type Entry,
} from './entries.js';

export async function runList(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs list', argv, {json: {type: 'boolean'}});
	if (input.length > 0) {
		throw usage(`secmon certs list takes no arguments, got: ${input.join(' ')}`, 'to look at one entry: secmon certs show HOST:PORT');
	}

	const store = new TrustStore(secmonHome(io.env));
	const now = new Date();
	const {pins, problems, cas} = loadAll(store);
	const pinEntries = pins.map(pin => pinEntry(store, pin));
	const caEntries = cas.map(ca => caEntry(ca));
	if (flags.json) {
		io.stdout.write(safeJson({
			home: store.home,
			pins: pinEntries.map(entry => entryJson(entry, now, false)),
			cas: caEntries.map(entry => entryJson(entry, now, false)),
			problems: problems.map(problem => ({file: problem.file, message: problem.error.message, hint: problem.error.hint ?? null})),
		}) + '\n');
		return problems.length > 0 ? exitCodes.failure : exitCodes.ok;
	}

	const color = colorWanted(io.stdout, io.env);
	const lines: string[] = [];
	const block = (entry: Entry) => {
		lines.push(
			`  ${entry.label}`,
			`    subject  ${entry.info.subject}`,
			`    SHA-256  ${entry.info.sha256}`,
			`    expires  ${expiryText(expiryOf(entry.info, now), color, now)}`,
			`    trusted  ${trustedLine(entry)}`,
		);
	};

	if (pinEntries.length === 0 && caEntries.length === 0 && problems.length === 0) {
		io.stdout.write(`No pinned collectors and no trusted CAs in ${store.home}.\n`
			+ 'A collector is pinned when you first trust it (at the prompt, with --accept-new or --fingerprint);\n'
			+ 'trust a CA for all the collectors it signs with: secmon certs trust-ca CA.pem\n');
		return exitCodes.ok;
	}

	lines.push(`Pinned collectors (${pinEntries.length}), in ${store.knownDir}:`);
	for (const entry of pinEntries) {
		block(entry);
	}

	if (pinEntries.length === 0) {
		lines.push('  (none)');
	}

	lines.push(`Trusted CAs (${caEntries.length}), in ${store.casDir}:`);
	for (const entry of caEntries) {
		block(entry);
	}

	if (caEntries.length === 0) {
		lines.push('  (none: only the system CAs; add one with secmon certs trust-ca CA.pem)');
	}

	io.stdout.write(lines.join('\n') + '\n');
	for (const problem of problems) {
		io.stderr.write(`${formatError(problem.error)}\n`);
	}

	return problems.length > 0 ? exitCodes.failure : exitCodes.ok;
}
