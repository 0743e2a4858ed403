/**
 * `secmon certs trust-ca`: trust a CA for every collector it signed (optionally only with the
 * SHA-256 its owner gave, as `step ca bootstrap --fingerprint` does).
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import type {Io} from '../../io.js';
import {exitCodes, SecmonError} from '../../errors.js';
import {
	describeCertificate, fingerprintArgument, isSpkiPin, matchesFingerprint, normalizeFingerprint, spkiPin, splitPemBundle,
} from '../../security/certificate.js';
import {expiryOf} from '../../security/expiry.js';
import {secmonHome} from '../../security/home.js';
import {formatDate, validityNote} from '../../security/messages.js';
import {TrustStore} from '../../security/store.js';
import {addTrustedCa, isCaCertificate} from '../../security/trusted-cas.js';
import type {CertificateInfo} from '../../security/types.js';
import {parseArgs} from '../../argv/args.js';
import {stringFlag, usage} from './selector.js';

export async function runTrustCa(argv: string[], io: Io): Promise<number> {
	const {input, flags} = parseArgs('certs trust-ca', argv, {name: {type: 'string'}, fingerprint: {type: 'string'}});
	if (input.length !== 1) {
		throw usage('secmon certs trust-ca needs one file with the CA certificate (PEM)', 'e.g. secmon certs trust-ca /etc/pcp/tls/ca.crt --name "monitoring CA"');
	}

	const file = path.resolve(input[0]!);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		throw new SecmonError('USAGE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Check the path and its permissions');
	}

	const blocks = splitPemBundle(text);
	if (blocks.length === 0) {
		throw new SecmonError('USAGE', `${file} holds no PEM certificate`, 'Give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----); convert DER with: openssl x509 -inform der -in CA.der -out CA.pem');
	}

	const name = stringFlag(flags, 'name');
	if (name !== undefined && blocks.length > 1) {
		throw usage(`${file} holds ${blocks.length} certificates; --name names only one`, 'Trust them without --name (each is named by its CN), or split the file');
	}

	const now = new Date();
	const infos = blocks.map(block => describeCertificate(block));
	const checked = stringFlag(flags, 'fingerprint') !== undefined;
	checkCaFingerprint(file, infos, stringFlag(flags, 'fingerprint'));
	for (const [index, info] of infos.entries()) {
		if (!isCaCertificate(blocks[index]!)) {
			throw new SecmonError(
				'CERT_INVALID',
				`${file}: ${info.subject} is not a CA certificate (no basicConstraints CA:TRUE); nothing was trusted`,
				'To trust one collector\'s own certificate, pin it instead:\n'
				+ `  secmon --host HOST:PORT --fingerprint ${fingerprintArgument(info.sha256)}`,
			);
		}

		const expiry = expiryOf(info, now);
		if (expiry.state === 'expired') {
			throw new SecmonError(
				'CERT_INVALID',
				`the CA certificate ${info.subject} in ${file} expired on ${formatDate(info.validTo)}; nothing was trusted`,
				'An expired CA verifies no collector. Get the renewed CA certificate from its owner',
			);
		}
	}

	const store = new TrustStore(secmonHome(io.env));
	for (const info of infos) {
		const {ca, replaced} = addTrustedCa(store, info.pem, {
			...(name === undefined ? {} : {name}), how: 'trust-ca', source: file, now,
		});
		const note = validityNote(info, now);
		io.stdout.write(`${replaced ? 'Still trusting' : 'Trusted'} the CA "${ca.name}"\n`
			+ `  subject  ${info.subject}\n`
			+ `  SHA-256  ${info.sha256}\n`
			+ `  valid    ${note.text}\n`
			+ (checked ? '  checked  matches --fingerprint\n' : '')
			+ `  saved    ${ca.file}\n`);
		if (note.level !== 'ok') {
			io.stderr.write(`secmon: warning: the CA certificate "${ca.name}" ${note.text}\n`);
		}
	}

	io.stdout.write('secmon now trusts every collector whose certificate this CA signed and whose name matches it; no pin is needed.\n'
		+ (checked ? '' : 'Check the SHA-256 above with the CA\'s owner: whoever holds its key can pose as any collector to you.\n')
		+ `Undo with: secmon certs remove "${name ?? addTrustedNameHint(infos)}"\n`);
	return exitCodes.ok;
}

/**
 * `--fingerprint`: a CA file fetched over an untrusted path is trusted only if it is the CA its
 * owner named, as `step ca bootstrap --fingerprint` does (smallstep cli, command/ca/bootstrap.go).
 */
function checkCaFingerprint(file: string, infos: CertificateInfo[], fingerprint: string | undefined): void {
	if (fingerprint === undefined) {
		return;
	}

	const expected = normalizeFingerprint(fingerprint);
	if (infos.length !== 1) {
		throw usage(`${file} holds ${infos.length} certificates; --fingerprint names only one`, 'Split the file so that it holds the one CA certificate the fingerprint belongs to');
	}

	const info = infos[0]!;
	if (matchesFingerprint(expected, info)) {
		return;
	}

	const spki = isSpkiPin(expected);
	throw new SecmonError(
		'CERT_INVALID',
		`the CA certificate in ${file} (${info.subject}) does not match --fingerprint; nothing was trusted\n`
		+ (spki
			? `  expected public-key pin ${expected}\n  actual   public-key pin ${spkiPin(info)}\n  actual   SHA-256        ${info.sha256}`
			: `  expected SHA-256 ${expected}\n  actual   SHA-256 ${info.sha256}`),
		'Someone may have replaced the file on its way to you. Get the CA certificate again over a path you trust, and compare its\n'
		+ `SHA-256 with its owner (on the CA: openssl x509 -noout -fingerprint -sha256 -in ${path.basename(file)})`,
		{exitCode: exitCodes.untrusted},
	);
}

function addTrustedNameHint(infos: CertificateInfo[]): string {
	return infos.length === 1 ? (/(?:^|, )CN=([^,]+)/v.exec(infos[0]!.subject)?.[1] ?? infos[0]!.sha256) : 'NAME';
}
