/**
 * `secmon certs export`: a pinned or trusted certificate as PEM, to stdout or a file.
 */
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import type {Io} from '../../io.js';
import {exitCodes, SecmonError} from '../../errors.js';
import {describeCertificate} from '../../security/certificate.js';
import {secmonHome} from '../../security/home.js';
import {formatTarget, TrustStore} from '../../security/store.js';
import {parseArgs} from '../../argv/args.js';
import {
	findMatches, nothingMatches, parseSelector, stringFlag, usage,
} from './selector.js';
import {loadAll} from './entries.js';

export async function runExport(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs export', argv, {out: {type: 'string'}, force: {type: 'boolean'}});
	if (input.length !== 1) {
		throw usage('secmon certs export needs one HOST:PORT, SHA-256 fingerprint or CA name', 'e.g. secmon certs export collector:44321 --out collector.pem');
	}

	const selector = parseSelector(input[0]!);
	const store = new TrustStore(secmonHome(io.env));
	const {pins, cas} = loadAll(store);
	const matches = findMatches(selector, pins, cas);
	const pems = [...new Set([...matches.pins.map(pin => describeCertificate(pin.pem).pem), ...matches.cas.map(ca => ca.info.pem)])];
	if (pems.length === 0) {
		throw nothingMatches(selector, store);
	}

	if (pems.length > 1) {
		const names = [...matches.pins.map(pin => formatTarget(pin)), ...matches.cas.map(ca => `CA "${ca.name}"`)];
		throw usage(`"${selector.text}" matches ${names.length} different certificates: ${names.join(', ')}`, 'Name one: secmon certs export HOST:PORT');
	}

	const pem = pems[0]!;
	const out = stringFlag(flags, 'out');
	if (out === undefined) {
		io.stdout.write(pem);
		return exitCodes.ok;
	}

	const file = path.resolve(out);
	try {
		// A certificate is public: 0644 like any .pem; never replace a file unless asked to.
		writeFileSync(file, pem, {mode: 0o644, flag: flags.force ? 'w' : 'wx'});
	} catch (error) {
		const {code} = (error as NodeJS.ErrnoException);
		if (code === 'EEXIST') {
			throw new SecmonError('USAGE', `${file} exists; nothing was written`, 'Choose another --out file, or add --force to replace it');
		}

		throw new SecmonError('USAGE', `cannot write ${file} (${code ?? String(error)})`, 'Check the directory and its permissions', {exitCode: exitCodes.failure});
	}

	io.stdout.write(`Wrote ${file} (SHA-256 ${describeCertificate(pem).sha256}).\n`);
	return exitCodes.ok;
}
