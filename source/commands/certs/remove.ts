/**
 * `secmon certs remove`: forget a pin (and the TLS memory of that collector) or a trusted CA.
 */
import type {Io} from '../../io.js';
import {exitCodes} from '../../errors.js';
import {secmonHome} from '../../security/home.js';
import {formatTarget, TrustStore} from '../../security/store.js';
import {removeTrustedCa, type TrustedCa} from '../../security/trusted-cas.js';
import type {Pin} from '../../security/types.js';
import {parseArgs} from '../../argv/args.js';
import {
	findMatches, nothingMatches, parseSelector, usage,
} from './selector.js';
import {loadAll} from './entries.js';

export async function runRemove(argv: string[], io: Io): Promise<number> {
	const {input} = parseArgs('certs remove', argv, {});
	if (input.length !== 1) {
		throw usage('secmon certs remove needs one HOST:PORT, SHA-256 fingerprint or CA name', 'e.g. secmon certs remove collector:44321 (see them all with: secmon certs list)');
	}

	const selector = parseSelector(input[0]!);
	const store = new TrustStore(secmonHome(io.env));
	let pins: Pin[] = [];
	let cas: TrustedCa[] = [];
	if (selector.host !== undefined && selector.port !== undefined) {
		// Exactly HOST:PORT, as every refusal prints it: works even when the pin file is corrupt.
		const target = {host: selector.host, port: selector.port};
		let sha256 = '';
		try {
			sha256 = `SHA-256 ${store.get(target)?.sha256 ?? '?'}, `;
		} catch {
			// A corrupt pin file is removed all the same: that is what the refusal told the user to do.
		}

		// Its TLS memory goes too: this is the documented way on when a collector really turned TLS off.
		const forgotTls = store.forgetTls(target) ? ` Forgot that it spoke TLS (${store.tlsPath(target)}).` : '';
		if (store.remove(target)) {
			io.stdout.write(`Removed the pin for ${formatTarget(target)} (${sha256}${store.pinPath(target)}).${forgotTls}\n`
				+ 'The next connection to it will ask (or refuse without a terminal) as for a new collector.\n');
			return exitCodes.ok;
		}

		if (forgotTls) {
			io.stdout.write(`Forgot that ${formatTarget(target)} spoke TLS (${store.tlsPath(target)}); it had no pin.\n`);
			return exitCodes.ok;
		}
	} else {
		({pins, cas} = loadAll(store));
	}

	const matches = findMatches(selector, pins, cas);
	if (matches.pins.length === 0 && matches.cas.length === 0) {
		throw nothingMatches(selector, store);
	}

	if (selector.fingerprint === undefined && (matches.pins.length > 1 || (matches.pins.length > 0 && matches.cas.length > 0))) {
		const names = [...matches.pins.map(pin => formatTarget(pin)), ...matches.cas.map(ca => `CA "${ca.name}"`)];
		throw usage(`"${selector.text}" matches ${names.length} entries: ${names.join(', ')}; nothing was removed`, 'Name one: secmon certs remove HOST:PORT (or its SHA-256 fingerprint, which removes every entry with that certificate)');
	}

	for (const pin of matches.pins) {
		store.remove(pin);
		io.stdout.write(`Removed the pin for ${formatTarget(pin)} (SHA-256 ${pin.sha256}).\n`);
	}

	for (const ca of matches.cas) {
		removeTrustedCa(store, ca);
		io.stdout.write(`Removed the trusted CA "${ca.name}" (SHA-256 ${ca.info.sha256}); collectors it signed are no longer trusted through it (their pins, if any, stay).\n`);
	}

	return exitCodes.ok;
}
