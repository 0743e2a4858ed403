/**
 * Security flags that several commands share, one table each, so that they are spelled, typed
 * and parsed alike wherever they appear.
 */
import type {SimpleFlag} from './simple-argv.js';

/** How a client trusts the server it connects to (readme: Trust): `secmon enroll` and `secmon pmval`. */
export const serverTrustFlags = {
	caFile: {type: 'string'},
	servername: {type: 'string'},
	fingerprint: {type: 'string'},
	acceptNew: {type: 'boolean'},
	timeout: {type: 'string'},
} as const satisfies Record<string, SimpleFlag>;

/** A certificate and its private key, PEM files: the client's for `secmon pmval`, the collector's for `secmon serve`. */
export const certificateFlags = {
	cert: {type: 'string'},
	key: {type: 'string'},
} as const satisfies Record<string, SimpleFlag>;
