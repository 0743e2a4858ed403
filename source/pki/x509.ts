/**
 * Builds and signs X.509 v3 certificates: the TBSCertificate is encoded with forge's asn1
 * module, the signature made by node:crypto (so RSA and ECDSA CA keys work alike).
 */
import {
	createHash,
	randomBytes,
	sign,
	X509Certificate,
	type KeyObject,
} from 'node:crypto';
import {isIP} from 'node:net';
import {SecmonError} from '../errors.js';
import {
	bitString,
	boolean,
	children,
	decode,
	encode,
	explicit,
	implicitPrimitive,
	integer,
	integerBytes,
	namedBitString,
	octetString,
	oid,
	oidOf,
	pemEncode,
	readChildren,
	readTlv,
	sequence,
	slice,
	time,
	type Asn1,
} from './der.js';
import {algorithmIdentifier, signatureAlgorithmFor} from './keys.js';

export const usages = ['server', 'client', 'both'] as const;
export type CertificateUsage = (typeof usages)[number];

/** A subjectAltName entry. */
export type SubjectAltName = {type: 'dns' | 'ip' | 'email' | 'uri'; value: string};

export type Extension = {oid: string; critical: boolean; value: Buffer};

const extensionOids = {
	subjectKeyIdentifier: '2.5.29.14',
	keyUsage: '2.5.29.15',
	subjectAltName: '2.5.29.17',
	basicConstraints: '2.5.29.19',
	authorityKeyIdentifier: '2.5.29.35',
	extKeyUsage: '2.5.29.37',
} as const;

const ekuOids = {serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2'} as const;

function extension(dotted: string, critical: boolean, value: Asn1): Extension {
	return {oid: dotted, critical, value: encode(value)};
}

export function basicConstraints(ca: boolean, pathLength?: number): Extension {
	const content: Asn1[] = [];
	if (ca) {
		content.push(boolean(true));
		if (pathLength !== undefined) {
			content.push(integer(pathLength));
		}
	}

	return extension(extensionOids.basicConstraints, true, sequence(content));
}

const keyUsageBits = {
	digitalSignature: 0,
	nonRepudiation: 1,
	keyEncipherment: 2,
	dataEncipherment: 3,
	keyAgreement: 4,
	keyCertSign: 5,
	cRLSign: 6,
} as const;

export type KeyUsageName = keyof typeof keyUsageBits;

/** keyUsage as a DER named BIT STRING (trailing zero bits dropped, X.690 §11.2.2). */
export function keyUsage(names: KeyUsageName[]): Extension {
	let byte = 0;
	for (const name of names) {
		byte |= 0x80 >> keyUsageBits[name];
	}

	let unused = 0;
	while (unused < 8 && (byte & (1 << unused)) === 0) {
		unused++;
	}

	return extension(extensionOids.keyUsage, true, byte === 0 ? namedBitString(0, Buffer.alloc(0)) : namedBitString(unused, Buffer.from([byte])));
}

export function extendedKeyUsage(usage: CertificateUsage): Extension {
	const list: string[] = [];
	if (usage !== 'client') {
		list.push(ekuOids.serverAuth);
	}

	if (usage !== 'server') {
		list.push(ekuOids.clientAuth);
	}

	return extension(extensionOids.extKeyUsage, false, sequence(list.map(dotted => oid(dotted))));
}

function ipBytes(address: string): Buffer {
	const family = isIP(address);
	if (family === 4) {
		return Buffer.from(address.split('.').map(Number));
	}

	if (family === 6) {
		// Expand "::" and an embedded IPv4 tail into 8 groups.
		let text = address;
		const v4 = /((?:\d+\.){3}\d+)$/.exec(text);
		if (v4) {
			const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
			text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
		}

		const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
		const headGroups = head ? head.split(':') : [];
		const tailGroups = tail ? tail.split(':') : [];
		const zeros = tail === undefined ? [] : Array.from({length: 8 - headGroups.length - tailGroups.length}, () => '0');
		const groups = [...headGroups, ...zeros, ...tailGroups];
		const buffer = Buffer.alloc(16);
		for (const [index, group] of groups.entries()) {
			buffer.writeUInt16BE(Number.parseInt(group, 16), index * 2);
		}

		return buffer;
	}

	throw new SecmonError('USAGE', `"${address}" is not an IP address`, 'write IP SANs as IP:127.0.0.1 or IP:::1');
}

export function ipToString(bytes: Uint8Array): string {
	if (bytes.length === 4) {
		return [...bytes].join('.');
	}

	const groups: string[] = [];
	for (let i = 0; i + 1 < bytes.length; i += 2) {
		groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
	}

	// Compress the longest run of zero groups (RFC 5952).
	let bestStart = -1;
	let bestLength = 0;
	for (let i = 0; i < groups.length;) {
		if (groups[i] !== '0') {
			i++;
			continue;
		}

		let j = i;
		while (j < groups.length && groups[j] === '0') {
			j++;
		}

		if (j - i > bestLength && j - i > 1) {
			bestStart = i;
			bestLength = j - i;
		}

		i = j;
	}

	if (bestStart < 0) {
		return groups.join(':');
	}

	return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

export function subjectAltName(names: SubjectAltName[]): Extension {
	return extension(extensionOids.subjectAltName, false, sequence(names.map(name => {
		switch (name.type) {
			case 'dns': {
				return implicitPrimitive(2, Buffer.from(name.value, 'ascii'));
			}

			case 'ip': {
				return implicitPrimitive(7, ipBytes(name.value));
			}

			case 'email': {
				return implicitPrimitive(1, Buffer.from(name.value, 'ascii'));
			}

			case 'uri': {
				return implicitPrimitive(6, Buffer.from(name.value, 'ascii'));
			}
		}

		throw new Error('unreachable');
	})));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: Uint8Array): Buffer {
	const outer = readTlv(spki, 0);
	const [, publicKeyBits] = readChildren(spki, outer);
	if (!publicKeyBits) {
		throw new Error('malformed SubjectPublicKeyInfo');
	}

	// Skip the unused-bits octet.
	return createHash('sha1').update(spki.subarray(publicKeyBits.contentStart + 1, publicKeyBits.end)).digest();
}

export function subjectKeyIdentifier(spki: Uint8Array): Extension {
	return extension(extensionOids.subjectKeyIdentifier, false, octetString(keyIdentifier(spki)));
}

export function authorityKeyIdentifier(issuerKeyId: Uint8Array): Extension {
	return extension(extensionOids.authorityKeyIdentifier, false, sequence([implicitPrimitive(0, issuerKeyId)]));
}

/** A positive 17-byte serial: 0x01 then 16 random bytes (docs/node.md#node-forge: keep serials positive). */
export function randomSerial(): Buffer {
	return Buffer.concat([Buffer.from([0x01]), randomBytes(16)]);
}

export type CertificateTemplate = {
	serial: Buffer;
	/** Exact DER of the issuer Name (copied from the CA certificate so it matches byte for byte). */
	issuer: Buffer;
	subject: Buffer;
	notBefore: Date;
	notAfter: Date;
	spki: Buffer;
	extensions: Extension[];
	signingKey: KeyObject;
};

/** Encodes, signs and returns the certificate as DER. */
export function buildCertificate(template: CertificateTemplate): Buffer {
	if (template.notAfter.getTime() <= template.notBefore.getTime()) {
		throw new SecmonError('USAGE', 'the certificate would expire before it becomes valid', 'check --days, --not-before and --not-after');
	}

	const algorithm = signatureAlgorithmFor(template.signingKey);
	const tbsParts: Asn1[] = [
		explicit(0, integer(2)),
		integerBytes(template.serial),
		algorithmIdentifier(algorithm),
		decode(template.issuer),
		sequence([time(template.notBefore), time(template.notAfter)]),
		decode(template.subject),
		decode(template.spki),
	];
	if (template.extensions.length > 0) {
		tbsParts.push(explicit(3, sequence(template.extensions.map(item => sequence([
			oid(item.oid),
			...(item.critical ? [boolean(true)] : []),
			octetString(item.value),
		])))));
	}

	const tbs = sequence(tbsParts);
	const signature = sign(algorithm.hash, encode(tbs), template.signingKey);
	return encode(sequence([tbs, algorithmIdentifier(algorithm), bitString(signature)]));
}

export function certificatePem(der: Uint8Array): string {
	return pemEncode('CERTIFICATE', der);
}

/** Raw DER pieces of a certificate that issuing needs: subject Name, SPKI, SKI if present. */
export type CertificateParts = {subject: Buffer; issuer: Buffer; spki: Buffer; subjectKeyId?: Buffer};

export function certificateParts(certificate: X509Certificate): CertificateParts {
	const der = certificate.raw;
	const outer = readTlv(der, 0);
	const [tbsTlv] = readChildren(der, outer);
	if (!tbsTlv) {
		throw new Error('malformed certificate');
	}

	const fields = readChildren(der, tbsTlv);
	// v1 certificates have no [0] version field.
	const offset = fields[0]?.tag === 0xA0 ? 1 : 0;
	const issuer = fields[offset + 2];
	const subject = fields[offset + 4];
	const spki = fields[offset + 5];
	if (!issuer || !subject || !spki) {
		throw new Error('malformed certificate');
	}

	let subjectKeyId: Buffer | undefined;
	const extensionsField = fields.find(field => field.tag === 0xA3);
	if (extensionsField) {
		const list = decode(slice(der, extensionsField));
		for (const item of children(children(list)[0])) {
			const [id, ...rest] = children(item);
			const value = rest.at(-1);
			if (value && oidOf(id) === extensionOids.subjectKeyIdentifier && typeof value.value === 'string') {
				const inner = decode(Buffer.from(value.value, 'binary'));
				if (typeof inner.value === 'string') {
					subjectKeyId = Buffer.from(inner.value, 'binary');
				}
			}
		}
	}

	return {
		subject: slice(der, subject),
		issuer: slice(der, issuer),
		spki: slice(der, spki),
		...(subjectKeyId ? {subjectKeyId} : {}),
	};
}

/** Parses a "DNS:x", "IP:x", "email:x", "URI:x" or bare (IP or DNS by shape) SAN argument. */
export function parseSan(text: string): SubjectAltName {
	const match = /^(dns|ip|ip address|email|uri):(.*)$/i.exec(text.trim());
	let type: SubjectAltName['type'];
	let value: string;
	if (match) {
		const prefix = match[1]!.toLowerCase();
		type = prefix === 'ip address' ? 'ip' : prefix as SubjectAltName['type'];
		value = match[2]!.trim();
	} else {
		value = text.trim();
		type = isIP(value.replaceAll(/^\[|]$/g, '')) ? 'ip' : 'dns';
	}

	if (type === 'ip') {
		value = value.replaceAll(/^\[|]$/g, '');
		if (!isIP(value)) {
			throw new SecmonError('USAGE', `--san ${text}: "${value}" is not an IP address`, 'write IP SANs as IP:127.0.0.1 or IP:::1');
		}

		value = ipToString(ipBytes(value));
	} else if (type === 'dns') {
		if (!isDnsName(value)) {
			throw new SecmonError(
				'USAGE',
				`--san ${text}: "${value}" is not a valid DNS name`,
				'use letters, digits, "-" and "." only (a leading "*." wildcard is allowed), e.g. --san DNS:collector.example.org',
			);
		}
	} else if (value === '' || /[^\u0021-\u007E]/.test(value)) {
		throw new SecmonError('USAGE', `--san ${text}: the value must be non-empty printable ASCII`, 'e.g. --san email:ops@example.org or --san URI:https://collector.example.org/');
	}

	return {type, value};
}

export function isDnsName(value: string): boolean {
	if (value.length === 0 || value.length > 253) {
		return false;
	}

	const labels = value.replace(/^\*\./, '').split('.');
	return labels.every(label => /^[A-Za-z\d](?:[A-Za-z\d-]{0,61}[A-Za-z\d])?$/.test(label) || /^\w$/.test(label));
}

/** The SANs secmon puts in by default: the CN itself when it is a host name or an IP address. */
export function defaultSans(cn: string): SubjectAltName[] {
	if (isIP(cn)) {
		return [{type: 'ip', value: ipToString(ipBytes(cn))}];
	}

	return isDnsName(cn) && !cn.startsWith('*') ? [{type: 'dns', value: cn}] : [];
}

export function formatSan(name: SubjectAltName): string {
	const prefixes = {
		dns: 'DNS', ip: 'IP', email: 'email', uri: 'URI',
	} as const;
	return `${prefixes[name.type]}:${name.value}`;
}

/** SANs of a parsed certificate, from Node's "DNS:x, IP Address:y" string. */
export function sansOf(certificate: X509Certificate): string[] {
	const text = certificate.subjectAltName;
	if (!text) {
		return [];
	}

	// Node prints IPv6 SANs uncompressed ("0:0:0:0:0:0:0:1"); show them as people write them.
	return text.split(', ').map(item => item.startsWith('IP Address:') && isIP(item.slice(11)) ? `IP:${ipToString(ipBytes(item.slice(11)))}` : item);
}

export function parseCertificatePem(pem: string, path: string): X509Certificate {
	try {
		return new X509Certificate(pem);
	} catch (error) {
		throw new SecmonError(
			'CERT_INVALID',
			`cannot read the certificate ${path}: ${(error as Error).message}`,
			`check that ${path} is a PEM certificate (it should start with "-----BEGIN CERTIFICATE-----")`,
			{cause: error},
		);
	}
}
