/**
 * Client certificates for Icinga 2: those enrolled with `secmon enroll` live in the secmon home,
 * per collector. Passwords come from a file, never argv (../shared/password-file.ts).
 */
import {existsSync} from 'node:fs';
import path from 'node:path';
import {pinFileName} from '../../security/store.js';
import type {Target} from '../../security/types.js';

export type EnrolledPaths = {
	dir: string;
	key: string;
	cert: string;
	/** The Icinga CA certificate the master sent with the signed one. */
	ca: string;
	/** Key and self-signed certificate of a request the master has not signed yet. */
	pendingKey: string;
	pendingCert: string;
};

/** `<home>/icinga/<host>_<port>/` (the same escaping as the trust store's pin files). */
export function enrolledPaths(home: string, target: Target): EnrolledPaths {
	const dir = path.join(home, 'icinga', pinFileName(target).replace(/\.json$/, ''));
	return {
		dir,
		key: path.join(dir, 'client.key'),
		cert: path.join(dir, 'client.crt'),
		ca: path.join(dir, 'ca.crt'),
		pendingKey: path.join(dir, 'pending.key'),
		pendingCert: path.join(dir, 'pending.crt'),
	};
}

/** The enrolled certificate for `target`, if `secmon enroll` stored one. */
export function enrolledCertificate(home: string, target: Target): {cert: string; key: string} | undefined {
	const paths = enrolledPaths(home, target);
	return existsSync(paths.cert) && existsSync(paths.key) ? {cert: paths.cert, key: paths.key} : undefined;
}
