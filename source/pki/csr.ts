/**
 * PKCS#10 requests (`secmon pki sign CSR`): parse, check the proof of possession (the request's
 * own signature, over the exact bytes sent), and issue a certificate for it. Only the subject, the
 * public key and the requested subjectAltName are taken from the request; what the certificate
 * may be used for is decided here (never a requested CA:TRUE).
 */
import {verify, type KeyObject} from 'node:crypto';
import {SecmonError} from '../errors.js';
import {type Ca} from './ca.js';
import {
	bytesOf,
	children,
	decode,
	decodeNameDer,
	displayDn,
	oidOf,
	pemBlocks,
	readChildren,
	readTlv,
	slice,
	tagClass,
	type Asn1,
	type Name,
} from './der.js';
import {
	assertAcceptablePublicKey,
	publicKeyFromSpki,
	verifiableSignatureAlgorithms,
	type SignatureAlgorithm,
} from './keys.js';
import {
	leafExtensions, leafValidity, type SignedCertificate, type Validity,
} from './issue.js';
import {
	buildCertificate,
	certificatePem,
	ipToString,
	parseCertificatePem,
	randomSerial,
	type CertificateUsage,
	type SubjectAltName,
} from './x509.js';

export type CertificationRequest = {
	subjectDer: Buffer;
	subject: Name;
	spki: Buffer;
	publicKey: KeyObject;
	/** subjectAltName from the extensionRequest attribute (DNS, IP, e-mail, URI; others are dropped). */
	sans: SubjectAltName[];
	signatureAlgorithm: SignatureAlgorithm;
};

const extensionRequestOid = '1.2.840.113549.1.9.14';
const subjectAltNameOid = '2.5.29.17';

function invalid(message: string, hint = 'make the request again, e.g.: openssl req -new -newkey rsa:2048 -nodes -keyout KEY -out CSR -subj /CN=NAME'): SecmonError {
	return new SecmonError('CERT_INVALID', message, hint);
}

function generalNames(node: Asn1): SubjectAltName[] {
	const result: SubjectAltName[] = [];
	for (const item of children(node)) {
		if (item.tagClass !== tagClass.context || item.constructed) {
			continue;
		}

		const bytes = bytesOf(item);
		switch (Number(item.type)) {
			case 1: {
				result.push({type: 'email', value: bytes.toString('latin1')});
				break;
			}

			case 2: {
				result.push({type: 'dns', value: bytes.toString('latin1')});
				break;
			}

			case 6: {
				result.push({type: 'uri', value: bytes.toString('latin1')});
				break;
			}

			case 7: {
				if (bytes.length === 4 || bytes.length === 16) {
					result.push({type: 'ip', value: ipToString(bytes)});
				}

				break;
			}

			default: {
				break;
			}
		}
	}

	return result;
}

/** SANs requested in the CRI attributes ([0] SET OF Attribute; extensionRequest holds Extensions). */
function requestedSans(attributes: Asn1 | undefined): SubjectAltName[] {
	for (const attribute of children(attributes)) {
		const [type, values] = children(attribute);
		if (oidOf(type) !== extensionRequestOid) {
			continue;
		}

		for (const extensions of children(values)) {
			for (const item of children(extensions)) {
				const [id, ...rest] = children(item);
				const value = rest.at(-1);
				if (oidOf(id) === subjectAltNameOid && value) {
					return generalNames(decode(bytesOf(value)));
				}
			}
		}
	}

	return [];
}

/** Parses a PEM (or DER) PKCS#10 request and verifies its signature. */
export function parseCsr(input: string | Buffer): CertificationRequest {
	let der: Buffer;
	// DER starts with a SEQUENCE tag; anything else is read as text that should hold a PEM block.
	if (typeof input === 'string' || input[0] !== 0x30) {
		const text = typeof input === 'string' ? input : input.toString('latin1');
		const block = pemBlocks(text).find(item => item.type === 'CERTIFICATE REQUEST' || item.type === 'NEW CERTIFICATE REQUEST');
		if (!block) {
			const other = pemBlocks(text)[0];
			throw invalid(other
				? `expected a certificate request (BEGIN CERTIFICATE REQUEST), found "${other.type}"`
				: 'no certificate request found (expected "-----BEGIN CERTIFICATE REQUEST-----")');
		}

		der = block.der;
	} else {
		der = input;
	}

	let cri: Buffer;
	let criFields: ReturnType<typeof readChildren>;
	let signatureAlgorithmNode: Asn1;
	let signatureBits: Buffer;
	try {
		const outer = readTlv(der, 0);
		if (outer.end !== der.length) {
			throw new Error('trailing bytes');
		}

		const [criTlv, algorithmTlv, signatureTlv] = readChildren(der, outer);
		if (!criTlv || !algorithmTlv || !signatureTlv) {
			throw new Error('missing fields');
		}

		cri = slice(der, criTlv);
		criFields = readChildren(der, criTlv);
		signatureAlgorithmNode = decode(slice(der, algorithmTlv));
		signatureBits = der.subarray(signatureTlv.contentStart, signatureTlv.end);
	} catch (error) {
		throw invalid(`the certificate request is not valid DER (${(error as Error).message})`);
	}

	const [versionTlv, subjectTlv, spkiTlv, attributesTlv] = criFields;
	if (!versionTlv || !subjectTlv || !spkiTlv) {
		throw invalid('the certificate request lacks a subject or public key');
	}

	const algorithmOid = oidOf(children(signatureAlgorithmNode)[0]);
	const algorithm = verifiableSignatureAlgorithms.find(item => item.oid === algorithmOid);
	if (!algorithm) {
		throw invalid(
			`the certificate request is signed with an algorithm secmon does not accept (OID ${algorithmOid ?? '?'}; SHA-1, MD5 and RSA-PSS are refused)`,
			'make the request again with SHA-256 or better, e.g.: openssl req -new -sha256 -key KEY -out CSR -subj /CN=NAME',
		);
	}

	const spki = slice(der, spkiTlv);
	let publicKey: KeyObject;
	try {
		publicKey = publicKeyFromSpki(spki);
	} catch (error) {
		throw invalid(`cannot read the public key of the certificate request (${(error as Error).message})`);
	}

	assertAcceptablePublicKey(publicKey, 'the certificate request');
	if (signatureBits[0] !== 0) {
		throw invalid('the certificate request signature is malformed');
	}

	// Proof of possession: the requester signed exactly these CRI bytes with the key it asks us to certify.
	let valid = false;
	try {
		valid = verify(algorithm.hash, cri, publicKey, signatureBits.subarray(1));
	} catch {
		valid = false;
	}

	if (!valid) {
		throw invalid(
			'the signature of the certificate request does not verify: it was altered, or not signed with the key it contains',
			'ask the requester for a fresh request; never sign a request whose signature fails',
		);
	}

	const subjectDer = slice(der, subjectTlv);
	let subject: Name;
	let sans: SubjectAltName[];
	try {
		subject = decodeNameDer(subjectDer);
		sans = attributesTlv?.tag === 0xA0 ? requestedSans(decode(slice(der, attributesTlv))) : [];
	} catch (error) {
		throw invalid(`cannot read the subject or extensions of the certificate request (${(error as Error).message})`);
	}

	return {
		subjectDer, subject, spki, publicKey, sans, signatureAlgorithm: algorithm,
	};
}

export type SignCsrOptions = Validity & {
	ca: Ca;
	csrPem: string | Buffer;
	usage?: CertificateUsage;
};

export type SignedRequest = SignedCertificate & {request: CertificationRequest; chainPem: string};

export async function signCsr(options: SignCsrOptions): Promise<SignedRequest> {
	const request = parseCsr(options.csrPem);
	if (request.subject.length === 0) {
		throw invalid('the certificate request has an empty subject', 'make the request with a subject, e.g. -subj /CN=NAME');
	}

	const {notBefore, notAfter, notes} = leafValidity(options.ca, options);
	const der = buildCertificate({
		serial: randomSerial(),
		issuer: options.ca.parts.subject,
		subject: request.subjectDer,
		notBefore,
		notAfter,
		spki: request.spki,
		extensions: leafExtensions(options.ca, request.spki, options.usage ?? 'server', request.sans, request.publicKey.asymmetricKeyType),
		signingKey: options.ca.key,
	});
	const pem = certificatePem(der);
	if (request.sans.length === 0) {
		notes.push(`the request asked for no subjectAltName; TLS clients that check host names will not match "${displayDn(request.subject)}" (secmon issue adds the CN as a name)`);
	}

	return {
		request,
		certificatePem: pem,
		certificate: parseCertificatePem(pem, 'the new certificate'),
		chainPem: options.ca.certificatePem,
		notes,
	};
}
