/**
 * Distinguished names the way Zabbix prints and compares them (docs/zabbix.md#issuer-and-subject, tls.c
 * zbx_x509_dn_gets/zbx_print_rdn_value, verified against zabbix_get 6.0.14 / GnuTLS 3.7.9):
 * RDNs in RFC 4514 order (last encoded first), "," with no spaces, GnuTLS attribute names
 * (EMAIL, surName, givenName, …; unknown types as dotted OIDs), only the FIRST value of a
 * multi-valued RDN, values as raw UTF-8 with `"+,;<>\` escaped anywhere, `#`/space escaped at
 * the start and space at the end. Issuer/subject pins are compared with an exact strcmp.
 *
 * An OpenSSL-built Zabbix prints X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
 * instead (OpenSSL short names, all values of a multi-valued RDN joined by "+"); a pin copied
 * from such an installation is accepted too (`matchesDn`), still byte-exact.
 *
 * The names are read from the certificate DER with a small parser, because Node's
 * X509Certificate.subject loses the RDN grouping and uses OpenSSL names.
 */
import {readChildren, readTlv, type Tlv} from '../../pki/tlv.js';

export type Ava = {oid: string; tag: number; value: Buffer};
/** One RDN = a SET of attribute type-and-value pairs, in DER order. */
export type Rdn = Ava[];
export type Name = Rdn[];

function decodeOid(bytes: Buffer): string {
	const parts: number[] = [];
	let value = 0;
	for (const byte of bytes) {
		value = (value * 128) + (byte & 0x7F);
		if ((byte & 0x80) === 0) {
			parts.push(value);
			value = 0;
		}
	}

	const first = parts.shift() ?? 0;
	const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
	return [...head, ...parts].join('.');
}

function parseName(der: Buffer, name: Tlv): Name {
	if (name.tag !== 0x30) {
		throw new Error('a Name is not a SEQUENCE');
	}

	return readChildren(der, name).map(set => {
		if (set.tag !== 0x31) {
			throw new Error('an RDN is not a SET');
		}

		return readChildren(der, set).map(pair => {
			const [type, value] = readChildren(der, pair);
			if (type?.tag !== 0x06 || !value) {
				throw new Error('bad AttributeTypeAndValue');
			}

			return {oid: decodeOid(der.subarray(type.contentStart, type.end)), tag: value.tag, value: der.subarray(value.contentStart, value.end)};
		});
	});
}

/** Issuer and subject of a DER certificate. Throws on malformed DER. */
export function certificateNames(der: Buffer): {issuer: Name; subject: Name} {
	const cert = readTlv(der, 0, der.length);
	const [tbs] = readChildren(der, cert);
	if (cert.tag !== 0x30 || tbs?.tag !== 0x30) {
		throw new Error('not an X.509 certificate');
	}

	const fields = readChildren(der, tbs);
	// [0] EXPLICIT version is optional (v1 certificates omit it).
	const base = fields[0]?.tag === 0xA0 ? 1 : 0;
	const issuer = fields[base + 2];
	const subject = fields[base + 4];
	if (!issuer || !subject) {
		throw new Error('truncated TBSCertificate');
	}

	return {issuer: parseName(der, issuer), subject: parseName(der, subject)};
}

/** GnuTLS 3.7 gnutls_x509_dn_oid_name() names (checked against zabbix_get output, docs/zabbix.md#issuer-and-subject). */
const gnutlsNames: Record<string, string> = {
	'2.5.4.3': 'CN',
	'2.5.4.4': 'surName',
	'2.5.4.5': 'serialNumber',
	'2.5.4.6': 'C',
	'2.5.4.7': 'L',
	'2.5.4.8': 'ST',
	'2.5.4.9': 'street',
	'2.5.4.10': 'O',
	'2.5.4.11': 'OU',
	'2.5.4.12': 'title',
	'2.5.4.13': 'description',
	'2.5.4.15': 'businessCategory',
	'2.5.4.17': 'postalCode',
	'2.5.4.20': 'telephoneNumber',
	'2.5.4.41': 'name',
	'2.5.4.42': 'givenName',
	'2.5.4.43': 'initials',
	'2.5.4.44': 'generationQualifier',
	'2.5.4.46': 'dnQualifier',
	'2.5.4.65': 'pseudonym',
	'0.9.2342.19200300.100.1.25': 'DC',
	'0.9.2342.19200300.100.1.1': 'UID',
	'1.2.840.113549.1.9.1': 'EMAIL',
	'1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionOfIncorporationLocalityName',
	'1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionOfIncorporationStateOrProvinceName',
	'1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionOfIncorporationCountryName',
	'1.3.6.1.5.5.7.9.1': 'dateOfBirth',
	'1.3.6.1.5.5.7.9.2': 'placeOfBirth',
	'1.3.6.1.5.5.7.9.3': 'gender',
	'1.3.6.1.5.5.7.9.4': 'countryOfCitizenship',
	'1.3.6.1.5.5.7.9.5': 'countryOfResidence',
};

/** OpenSSL short names (OBJ_nid2sn) for the same attributes, as XN_FLAG_RFC2253 prints them. */
const opensslNames: Record<string, string> = {
	'2.5.4.3': 'CN',
	'2.5.4.4': 'SN',
	'2.5.4.5': 'serialNumber',
	'2.5.4.6': 'C',
	'2.5.4.7': 'L',
	'2.5.4.8': 'ST',
	'2.5.4.9': 'street',
	'2.5.4.10': 'O',
	'2.5.4.11': 'OU',
	'2.5.4.12': 'title',
	'2.5.4.13': 'description',
	'2.5.4.15': 'businessCategory',
	'2.5.4.16': 'postalAddress',
	'2.5.4.17': 'postalCode',
	'2.5.4.20': 'telephoneNumber',
	'2.5.4.41': 'name',
	'2.5.4.42': 'GN',
	'2.5.4.43': 'initials',
	'2.5.4.44': 'generationQualifier',
	'2.5.4.46': 'dnQualifier',
	'2.5.4.65': 'pseudonym',
	'2.5.4.97': 'organizationIdentifier',
	'0.9.2342.19200300.100.1.25': 'DC',
	'0.9.2342.19200300.100.1.1': 'UID',
	'1.2.840.113549.1.9.1': 'emailAddress',
	'1.2.840.113549.1.9.2': 'unstructuredName',
	'1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
	'1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
	'1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** The string value of an AVA as UTF-8 (BMPString/UniversalString converted; others raw bytes). */
function valueText(ava: Ava): string {
	if (ava.tag === 0x1E) {
		// BMPString: UCS-2 big-endian
		const swapped = Buffer.from(ava.value);
		swapped.swap16();
		return swapped.toString('utf16le');
	}

	if (ava.tag === 0x1C) {
		// UniversalString: UCS-4 big-endian
		let text = '';
		for (let i = 0; i + 3 < ava.value.length; i += 4) {
			text += String.fromCodePoint(ava.value.readUInt32BE(i));
		}

		return text;
	}

	return ava.value.toString('utf8');
}

/**
 * zbx_print_rdn_value(): escape `"+,;<>\` anywhere, `#` or space at the start, space at the end.
 * Zabbix refuses NUL and other control characters; so do we (the pin can never match them).
 */
function escapeZabbix(value: string): string {
	let out = '';
	const chars = [...value];
	for (const [index, char] of chars.entries()) {
		const code = char.codePointAt(0)!;
		if (code === 0) {
			throw new Error('null byte in certificate, could be an attack');
		}

		if (code < 0x20 || code === 0x7F) {
			throw new Error('non-printable character in certificate');
		}

		if ('"+,;<>\\'.includes(char) || (char === ' ' && (index === 0 || index === chars.length - 1)) || (char === '#' && index === 0)) {
			out += '\\';
		}

		out += char;
	}

	return out;
}

/** The issuer or subject string a GnuTLS-built Zabbix prints and compares. Throws like Zabbix for control characters. */
export function formatDnZabbix(name: Name): string {
	return name
		.toReversed()
		.filter(rdn => rdn.length > 0)
		.map(rdn => {
			const ava = rdn[0]!;
			return `${gnutlsNames[ava.oid] ?? ava.oid}=${escapeZabbix(valueText(ava))}`;
		})
		.join(',');
}

function escapeOpenssl(value: string): string {
	let out = '';
	const chars = [...value];
	for (const [index, char] of chars.entries()) {
		const code = char.codePointAt(0)!;
		if (code < 0x20 || code === 0x7F) {
			out += `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
			continue;
		}

		if ('"+,;<>\\'.includes(char) || (char === ' ' && (index === 0 || index === chars.length - 1)) || (char === '#' && index === 0)) {
			out += '\\';
		}

		out += char;
	}

	return out;
}

function derHex(ava: Ava): string {
	const {length} = ava.value;
	const lengthBytes = length < 0x80 ? [length] : (length < 0x1_00 ? [0x81, length] : [0x82, length >> 8, length & 0xFF]);
	return '#' + Buffer.concat([Buffer.from([ava.tag, ...lengthBytes]), ava.value]).toString('hex').toUpperCase();
}

/**
 * The string an OpenSSL-built Zabbix prints: X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ESC_MSB), i.e.
 * RFC 4514 order, all values of a multi-valued RDN joined with "+" (in reverse DER order, as OpenSSL
 * prints them), unknown types as OID=#DER-hex.
 */
export function formatDnOpenssl(name: Name): string {
	return name
		.toReversed()
		.filter(rdn => rdn.length > 0)
		// XN_FLAG_DN_REV reverses the flat list of entries, so the values inside an RDN come out reversed too.
		.map(rdn => rdn.toReversed().map(ava => {
			const short = opensslNames[ava.oid];
			return short ? `${short}=${escapeOpenssl(valueText(ava))}` : `${ava.oid}=${derHex(ava)}`;
		}).join('+'))
		.join(',');
}

/** True when `required` equals the Zabbix (GnuTLS) form or the OpenSSL form of the name, byte for byte. */
export function matchesDn(name: Name, required: string): boolean {
	let zabbix: string | undefined;
	try {
		zabbix = formatDnZabbix(name);
	} catch {
		return false;
	}

	return zabbix === required || formatDnOpenssl(name) === required;
}

/**
 * zbx_verify_issuer_subject(): compares the peer certificate's issuer and subject with the required
 * strings (empty or undefined = not checked). Returns undefined when they match, else the message
 * zabbix_get prints: `issuer: peer: "…", required: "…", subject: peer: "…", required: "…"`.
 */
export function verifyIssuerSubject(der: Buffer, required: {issuer?: string; subject?: string}): string | undefined {
	const wantIssuer = required.issuer ?? '';
	const wantSubject = required.subject ?? '';
	if (wantIssuer === '' && wantSubject === '') {
		return undefined;
	}

	let names: {issuer: Name; subject: Name};
	try {
		names = certificateNames(der);
	} catch (error) {
		return `cannot read the peer certificate's names: ${(error as Error).message}`;
	}

	const parts: string[] = [];
	for (const [what, name, want] of [['issuer', names.issuer, wantIssuer], ['subject', names.subject, wantSubject]] as const) {
		if (want === '' || matchesDn(name, want)) {
			continue;
		}

		let shown: string;
		try {
			shown = formatDnZabbix(name);
		} catch (error) {
			return `${what}: ${(error as Error).message}`;
		}

		parts.push(`${what}: peer: "${shown}", required: "${want}"`);
	}

	return parts.length === 0 ? undefined : parts.join(', ');
}
