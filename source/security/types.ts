/**
 * Contracts of the security layer. Trust knows nothing of protocols or React:
 * it takes a certificate chain, a target and the store, and returns a decision.
 * Prompting is a callback injected by the front end (Ink prompt, or refusal).
 */

/** enforce: TLS required; relaxed: TLS when offered, plain otherwise (said visibly); off: plain. */
export type SecureMode = 'enforce' | 'relaxed' | 'off';

export type SecureModeSource = 'flag' | 'SECMON_SECURE_SOCKETS' | 'PCP_SECURE_SOCKETS' | 'scheme' | 'default';

/** What a certificate looks like to a person deciding whether to trust it. */
export type CertificateInfo = {
	/** SHA-256 of the DER, uppercase colon-separated hex (as openssl x509 -fingerprint prints). */
	sha256: string;
	/** SHA-1 of the DER, same format. */
	sha1: string;
	/** SHA-256 of the SubjectPublicKeyInfo DER, base64 (curl --pinnedpubkey style). */
	spkiSha256: string;
	/** RFC 4514-ish one line, e.g. "CN=collector, O=secmon". */
	subject: string;
	issuer: string;
	/** e.g. ["DNS:collector", "IP Address:127.0.0.1"] */
	subjectAltNames: string[];
	validFrom: Date;
	validTo: Date;
	serialNumber: string;
	selfSigned: boolean;
	pem: string;
	/** Public key type and size (security/floor.ts). Absent in a CertificateInfo built by hand. */
	publicKey?: PublicKeyFacts;
	/** Signature algorithm, e.g. "sha256WithRSAEncryption" (security/floor.ts). */
	signatureAlgorithm?: string;
};

/** A public key as the cryptographic floor sees it. */
export type PublicKeyFacts = {
	/** node:crypto asymmetricKeyType: 'rsa', 'rsa-pss', 'ec', 'dsa', 'ed25519', … */
	type: string;
	/** RSA modulus or EC curve size. */
	bits?: number;
	/** EC curve, OpenSSL name (e.g. "prime256v1", "secp224r1"). */
	curve?: string;
};

/** How a connection came to be trusted; shown in status lines and --json. */
export type TrustBasis
	= | 'ca' // chain verified against --ca-file (or system roots) and host name matched
		| 'pinned' // matched an existing pin in the store
		| 'fingerprint' // matched --fingerprint given on the command line (and was pinned)
		| 'accepted' // accepted at the prompt and saved
		| 'accepted-once' // accepted at the prompt for this run only
		| 'accept-new' // --accept-new saved it without asking
		| 'psk'; // Zabbix pre-shared key: the agent proved it holds the key (no certificate at all)

export type PromptAnswer = 'save' | 'once' | 'reject';

/** What the front end is asked to show (docs/design.md#trust-prompt: it shows SHA-256, SHA-1, subject, issuer, SANs, validity). */
export type TrustQuestion = {
	target: Target;
	certificate: CertificateInfo;
	/** Why the certificate is not already trusted, e.g. "self-signed", "issuer not trusted: unable to get local issuer certificate". */
	reason: string;
};

export type Ask = (question: TrustQuestion) => Promise<PromptAnswer>;

export type Target = {
	/** Host as the user typed it (no brackets for IPv6). */
	host: string;
	port: number;
};

/** A pinned collector certificate, one file per host:port in the store. */
export type Pin = {
	host: string;
	port: number;
	sha256: string;
	sha1: string;
	spkiSha256: string;
	subject: string;
	issuer: string;
	notAfter: string;
	/** ISO timestamp */
	pinnedAt: string;
	pinnedBy: 'prompt' | 'accept-new' | 'fingerprint' | 'import-nss';
	/** ISO timestamp of the last renewal with the same key (trust.ts), if any; pinnedAt stays the first pinning. */
	renewedAt?: string;
	pem: string;
};

/** The TLS facts a session reports (status lines, --json "tls" object). */
export type TlsFacts = {
	version: string;
	cipher: string;
	basis: TrustBasis;
	sha256: string;
	sha1: string;
	subject: string;
	validTo: Date;
};
