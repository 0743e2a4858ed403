/**
 * Text shared by every front end (Ink prompt, plain stderr, --json error objects), modelled on
 * OpenSSH's wording (docs/design.md#trust-on-first-use): a new collector "can't be established", a changed one gets
 * the @@@ banner with a copy-pasteable fix.
 */
import {paintProblem} from '../color.js';
import {fingerprintArgument} from './certificate.js';
import {formatTarget} from './store.js';
import type {
	CertificateInfo, Pin, Target, TrustQuestion,
} from './types.js';

const dayMs = 24 * 60 * 60 * 1000;

/** "2036-11-20 23:31:29 UTC" */
export function formatDate(date: Date): string {
	if (Number.isNaN(date.getTime())) {
		return 'unknown date';
	}

	return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/v, ' UTC');
}

export type ValidityNote = {level: 'ok' | 'warn' | 'error'; text: string};

/** Validity in words; 'warn' under 30 days left, 'error' when expired or not yet valid. */
export function validityNote(cert: Pick<CertificateInfo, 'validFrom' | 'validTo'>, now: Date = new Date()): ValidityNote {
	const range = `${formatDate(cert.validFrom)} → ${formatDate(cert.validTo)}`;
	const left = cert.validTo.getTime() - now.getTime();
	if (left < 0) {
		return {level: 'error', text: `${range} (EXPIRED ${Math.max(1, Math.floor(-left / dayMs))} day(s) ago)`};
	}

	if (cert.validFrom.getTime() > now.getTime()) {
		return {level: 'error', text: `${range} (NOT YET VALID: check the clocks)`};
	}

	const days = Math.floor(left / dayMs);
	if (days < 30) {
		return {level: 'warn', text: `${range} (expires in ${days} day(s))`};
	}

	return {level: 'ok', text: `${range} (${days} days left)`};
}

/** The reason a CA-signed certificate does not fit the name secmon connected to. */
export function nameMismatchReason(cert: Pick<CertificateInfo, 'subjectAltNames' | 'subject'>, host: string): string {
	const names = cert.subjectAltNames.length > 0 ? cert.subjectAltNames.join(', ') : `${cert.subject} (no subjectAltName)`;
	return `certificate is for ${names}, not ${host}`;
}

/** A validity note on a terminal: red when expired or not yet valid, yellow when close. */
function paintValidity(note: ValidityNote, color: boolean): string {
	return paintProblem(note.text, note.level, color);
}

/** The detail lines of a trust question (also what a plain-text prompt prints). */
export function promptLines(question: TrustQuestion, now: Date = new Date(), color = false): string[] {
	const cert = question.certificate;
	return [
		`The authenticity of collector ${formatTarget(question.target)} can't be established.`,
		`Reason:   ${question.reason}`,
		`Subject:  ${cert.subject}`,
		`Issuer:   ${cert.issuer}${cert.selfSigned ? ' (self-signed)' : ''}`,
		`Names:    ${cert.subjectAltNames.length > 0 ? cert.subjectAltNames.join(', ') : '(none)'}`,
		`Valid:    ${paintValidity(validityNote(cert, now), color)}`,
		`SHA-256:  ${cert.sha256}`,
		`SHA-1:    ${cert.sha1}`,
	];
}

/** The question itself, for a plain-text (non-Ink) prompt. */
export const promptQuestion = 'Trust this collector? [y] yes, save it / [o] once / [N] no / or paste its SHA-256: ';

/** Said after a pin is saved (OpenSSH: "Permanently added … to the list of known hosts."). */
export function pinnedNotice(target: Target, cert: Pick<CertificateInfo, 'sha256'>, file: string): string {
	return `Permanently added ${formatTarget(target)} (SHA-256 ${cert.sha256}) to the known collectors (${file}).`;
}

function bannerLine(text: string, width: number): string {
	const inner = width - 2;
	const left = Math.floor((inner - text.length) / 2);
	return `@${' '.repeat(Math.max(1, left))}${text}${' '.repeat(Math.max(1, inner - text.length - left))}@`;
}

/** First line of the CERT_CHANGED error (what `secmon: …` and --json show first), then the banner. */
export function changedSummary(target: Target): string {
	return `the certificate of collector ${formatTarget(target)} has CHANGED since it was pinned; connection refused (possible interception)`;
}

/**
 * The refusal shown when a pinned collector presents a different certificate (OpenSSH's
 * warn_changed_key). Body of SecmonError('CERT_CHANGED'); `changedHint` is its hint.
 */
export function changedBanner(options: {target: Target; pin: Pin; current: CertificateInfo; pinFile: string; now?: Date; notRenewal?: string}): string {
	const {target, pin, current, pinFile} = options;
	const now = options.now ?? new Date();
	const title = `WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR ${formatTarget(target)}`;
	const width = Math.max(72, title.length + 8);
	const rule = '@'.repeat(width);
	const oldExpiry = new Date(pin.notAfter);
	const oldExpired = oldExpiry.getTime() < now.getTime();
	const lines = [
		rule,
		bannerLine(title, width),
		rule,
		'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
		'Someone could be intercepting your connection right now (man-in-the-middle attack).',
		'It is also possible that the collector\'s certificate was replaced (renewal, reinstall).',
		'',
		`Pinned certificate:    SHA-256 ${pin.sha256}`,
		`  pinned ${formatDate(new Date(pin.pinnedAt))} (${pinHow(pin.pinnedBy)})${pin.renewedAt ? `, renewed ${formatDate(new Date(pin.renewedAt))}` : ''}, subject ${pin.subject}`,
		`  valid until ${formatDate(oldExpiry)}${oldExpired ? ' (EXPIRED: a renewal is one possible explanation)' : ''}`,
		`Presented certificate: SHA-256 ${current.sha256}`,
		`  subject ${current.subject}, issuer ${current.issuer}${current.selfSigned ? ' (self-signed)' : ''}`,
		`  valid ${validityNote(current, now).text}`,
	];
	if (pin.spkiSha256 === current.spkiSha256) {
		// trust.ts notARenewal says which condition of a renewal failed.
		lines.push(options.notRenewal?.startsWith('same key')
			? `  (${options.notRenewal}: not accepted as a renewal)`
			: '  (same public key as the pinned certificate: it was re-issued with the same key)');
	}

	lines.push(
		`Pin file: ${pinFile}`,
		'The connection was refused; nothing was sent to the collector.',
	);
	return lines.join('\n');
}

/** How a pin came to be, in words (certs list/show, the changed-certificate banner). */
export function pinHow(pinnedBy: Pin['pinnedBy']): string {
	switch (pinnedBy) {
		case 'import-nss': {
			return 'imported from an NSS database';
		}

		case 'prompt': {
			return 'accepted at the prompt';
		}

		case 'accept-new': {
			return 'by --accept-new';
		}

		case 'fingerprint': {
			return 'by --fingerprint';
		}
	}
}

export function changedHint(options: {target: Target; current: CertificateInfo; rerunCommand?: string}): string {
	const where = formatTarget(options.target);
	const command = options.rerunCommand ?? `secmon --host ${where} …`;
	return [
		'If you did not expect a change, do not connect: ask the collector\'s administrator for its',
		'SHA-256 fingerprint (on the collector: openssl x509 -noout -fingerprint -sha256 -in CERT).',
		'If the change is expected, either remove the old pin and re-run your command (you will be asked again):',
		`  secmon certs remove ${where}`,
		'or, after checking the new fingerprint out of band, replace the pin in one step:',
		`  ${command} --fingerprint ${fingerprintArgument(options.current.sha256)}`,
	].join('\n');
}

/**
 * The refusal for an unknown certificate when nobody can be asked (non-interactive). Message shows
 * both fingerprints; hint gives the exact commands that would trust it.
 */
export function untrustedMessage(options: {target: Target; certificate: CertificateInfo; reason: string; rerunCommand?: string}): {message: string; hint: string} {
	const {target, certificate, reason} = options;
	const where = formatTarget(target);
	const command = options.rerunCommand ?? `secmon --host ${where} …`;
	return {
		message: [
			`the certificate of collector ${where} is not trusted (${reason})`,
			`  subject ${certificate.subject}, issuer ${certificate.issuer}`,
			`  SHA-256 ${certificate.sha256}`,
			`  SHA-1   ${certificate.sha1}`,
		].join('\n'),
		hint: [
			'secmon does not trust a new collector without asking, and cannot ask here (no terminal).',
			'Check the SHA-256 fingerprint out of band (on the collector: openssl x509 -noout -fingerprint -sha256 -in CERT), then pin it:',
			`  ${command} --fingerprint ${fingerprintArgument(certificate.sha256)}`,
			'or accept whatever certificate the collector presents now (trust on first use; changes are still refused later):',
			`  ${command} --accept-new`,
			'or give the CA that signed it with --ca-file CA.pem.',
		].join('\n'),
	};
}
