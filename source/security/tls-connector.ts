/**
 * A connector for collectors that speak TLS from the first byte (Icinga 2, Livestatus and mon
 * behind stunnel): one session may open several TLS connections (HTTP keep-alive breaking, the
 * Icinga event stream) without asking the user twice about the same certificate; a name mismatch
 * hints at --servername.
 */
import type tls from 'node:tls';
import {SecmonError} from '../errors.js';
import {connectTls, type TlsOptions} from './tls.js';
import type {TlsFacts} from './types.js';

/**
 * Icinga node certificates name the node and Checkmk site certificates the site, not the host
 * (docs/icinga-livestatus-mon.md#api-authentication, docs/icinga-livestatus-mon.md#checkmk-tls): a name mismatch says how to check against that name instead.
 */
export function withServernameHint(error: unknown, options: Pick<TlsOptions, 'servername'>): unknown {
	if (error instanceof SecmonError && error.code === 'CERT_INVALID' && options.servername === undefined && error.message.includes('certificate is for ')) {
		return new SecmonError(
			error.code,
			error.message,
			`${error.hint ?? ''}\nIcinga 2 node and Checkmk site certificates carry the node or site name: to check the certificate against that name while connecting to this address, give --servername NAME (or SECMON_SERVERNAME=NAME).`.trim(),
			{cause: error, exitCode: error.exitCode},
		);
	}

	return error;
}

/**
 * Opens TLS connections to one collector. The first goes through the whole trust decision; later
 * ones must present the same certificate: one trusted at the prompt "for this run only" is taken
 * again without a second prompt, any other certificate is refused (a pin mismatch stays loud).
 */
export class TlsConnector {
	facts: TlsFacts | undefined;
	readonly options: TlsOptions;
	readonly clientCert: boolean;

	constructor(options: TlsOptions) {
		this.options = options;
		this.clientCert = options.cert !== undefined;
	}

	async open(): Promise<tls.TLSSocket> {
		const first = this.facts;
		if (first === undefined) {
			try {
				const {stream, facts} = await connectTls(this.options);
				this.facts = facts;
				return stream;
			} catch (error) {
				throw withServernameHint(error, this.options);
			}
		}

		const {stream} = await connectTls({
			...this.options,
			// Warnings (key file mode, expiry) were shown for the first connection.
			onWarning() {
				// Shown once.
			},
			async ask(question) {
				return question.certificate.sha256 === first.sha256 ? 'once' : 'reject';
			},
		});
		return stream;
	}
}
