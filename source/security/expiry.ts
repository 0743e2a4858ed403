/**
 * Certificate expiry warnings (issue 6, after Checkmk's certificate-expiry check): a collector whose
 * certificate expires in under 30 days, or has expired, is named on normal runs, so the renewal
 * happens before the day it stops working (kubeadm's one-year certificates locked admins out
 * without warning: docs/design.md#certificate-expiry). Pure functions: the caller decides where the text goes.
 */
import {formatDate} from './messages.js';
import type {CertificateInfo, TlsFacts} from './types.js';

/** Certificates with fewer days left than this are warned about. */
export const expiryWarningDays = 30;

const dayMs = 24 * 60 * 60 * 1000;

/** What expiry needs to know: CertificateInfo, TlsFacts and Pin-derived objects all fit. */
export type ExpiryFacts = Pick<CertificateInfo, 'validTo'> & Partial<Pick<CertificateInfo, 'subject' | 'validFrom'>>;

export type ExpiryState = 'ok' | 'expiring' | 'expired' | 'not-yet-valid' | 'unknown';

export type Expiry = {
	state: ExpiryState;
	/** Whole days until validTo (rounded down); negative once expired; NaN when unknown. */
	daysLeft: number;
	validTo: Date;
};

export function expiryOf(cert: ExpiryFacts, now: Date = new Date()): Expiry {
	const {validTo} = cert;
	const left = validTo.getTime() - now.getTime();
	if (Number.isNaN(left)) {
		return {state: 'unknown', daysLeft: Number.NaN, validTo};
	}

	const daysLeft = Math.floor(left / dayMs);
	if (left < 0) {
		return {state: 'expired', daysLeft, validTo};
	}

	if (cert.validFrom !== undefined && cert.validFrom.getTime() > now.getTime()) {
		return {state: 'not-yet-valid', daysLeft, validTo};
	}

	return {state: daysLeft < expiryWarningDays ? 'expiring' : 'ok', daysLeft, validTo};
}

/** "in 9 days", "in 1 day", "within a day"; "3 days ago", "1 day ago", "today". */
export function relativeDays(expiry: Pick<Expiry, 'daysLeft' | 'validTo'>, now: Date = new Date()): string {
	const left = expiry.validTo.getTime() - now.getTime();
	if (Number.isNaN(left)) {
		return 'at an unknown date';
	}

	if (left >= 0) {
		const days = Math.floor(left / dayMs);
		return days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`;
	}

	const ago = Math.floor(-left / dayMs);
	return ago === 0 ? 'less than a day ago' : `${ago} day${ago === 1 ? '' : 's'} ago`;
}

/**
 * The warning for a certificate that expires in under 30 days or has expired, else undefined.
 * `where` names the collector ("collector:44321"); without it the text says "the collector".
 */
export function expiryWarning(cert: ExpiryFacts, now: Date = new Date(), where?: string): string | undefined {
	const expiry = expiryOf(cert, now);
	const whose = `the certificate of ${where ?? 'the collector'}${cert.subject ? ` (${cert.subject})` : ''}`;
	const check = where === undefined ? '' : `; details: secmon verify --host ${where}`;
	if (expiry.state === 'expiring') {
		return `secmon: warning: ${whose} expires ${relativeDays(expiry, now)}, on ${formatDate(expiry.validTo)}; `
			+ `renew it on the collector before then, or connections will be refused${check}`;
	}

	if (expiry.state === 'expired') {
		return `secmon: warning: ${whose} EXPIRED ${relativeDays(expiry, now)}, on ${formatDate(expiry.validTo)}; `
			+ `renew it on the collector${check}`;
	}

	return undefined;
}

/**
 * Warn about the certificate of a session that just connected (normal fetch and TUI runs).
 * An expired certificate that is trusted because it is pinned was already reported by the trust
 * decision (trust.ts), so it is not reported twice.
 */
export function warnIfExpiring(facts: TlsFacts | undefined, where: string, warn: (message: string) => void, now: Date = new Date()): void {
	if (facts === undefined) {
		return;
	}

	if (facts.basis === 'pinned' && facts.validTo.getTime() < now.getTime()) {
		return;
	}

	const warning = expiryWarning(facts, now, where);
	if (warning !== undefined) {
		warn(warning);
	}
}
