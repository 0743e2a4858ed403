/**
 * ASN.1/DER and PEM helpers for the PKI code. Encoding goes through node-forge's asn1 module
 * (binary strings); keys and signatures stay in node:crypto, because forge handles RSA only and
 * secmon also issues ECDSA certificates (docs/node.md#node-forge).
 */
import forge from 'node-forge';

const {asn1} = forge;

export type Asn1 = forge.asn1.Asn1;

export const tagClass = {
	universal: asn1.Class.UNIVERSAL,
	context: asn1.Class.CONTEXT_SPECIFIC,
} as const;

/** Universal tag numbers (X.680), as plain numbers so they compare with Asn1.type. */
export const tag = {
	boolean: 1,
	integer: 2,
	bitString: 3,
	octetString: 4,
	null: 5,
	oid: 6,
	utf8: 12,
	sequence: 16,
	set: 17,
	printable: 19,
	t61: 20,
	ia5: 22,
	utcTime: 23,
	generalizedTime: 24,
	universalString: 28,
	bmp: 30,
} as const;

export function toBinary(buffer: Uint8Array): string {
	return Buffer.from(buffer).toString('binary');
}

export function fromBinary(bytes: string): Buffer {
	return Buffer.from(bytes, 'binary');
}

export function sequence(children: Asn1[]): Asn1 {
	return asn1.create(tagClass.universal, tag.sequence, true, children);
}

export function set(children: Asn1[]): Asn1 {
	return asn1.create(tagClass.universal, tag.set, true, children);
}

export function oid(dotted: string): Asn1 {
	return asn1.create(tagClass.universal, tag.oid, false, asn1.oidToDer(dotted).getBytes());
}

export function nullValue(): Asn1 {
	return asn1.create(tagClass.universal, tag.null, false, '');
}

export function boolean(value: boolean): Asn1 {
	return asn1.create(tagClass.universal, tag.boolean, false, value ? '\u00FF' : '\u0000');
}

/** A non-negative INTEGER from a small number. */
export function integer(value: number): Asn1 {
	return asn1.create(tagClass.universal, tag.integer, false, asn1.integerToDer(value).getBytes());
}

/** An INTEGER whose content octets are given as is (the caller keeps it positive). */
export function integerBytes(bytes: Uint8Array): Asn1 {
	return asn1.create(tagClass.universal, tag.integer, false, toBinary(bytes));
}

export function octetString(bytes: Uint8Array): Asn1 {
	return asn1.create(tagClass.universal, tag.octetString, false, toBinary(bytes));
}

/** A BIT STRING with no unused bits (signatures, keys). */
export function bitString(bytes: Uint8Array): Asn1 {
	return namedBitString(0, bytes);
}

/** A BIT STRING whose last octet has `unusedBits` padding bits (named bit lists such as keyUsage). */
export function namedBitString(unusedBits: number, bytes: Uint8Array): Asn1 {
	return asn1.create(tagClass.universal, tag.bitString, false, String.fromCodePoint(unusedBits) + toBinary(bytes));
}

export function utf8String(value: string): Asn1 {
	return asn1.create(tagClass.universal, tag.utf8, false, forge.util.encodeUtf8(value));
}

/** Explicitly tagged [n] wrapper. */
export function explicit(tagNumber: number, child: Asn1): Asn1 {
	return asn1.create(tagClass.context, tagNumber, true, [child]);
}

/** Implicitly tagged primitive [n] with raw content octets. */
export function implicitPrimitive(tagNumber: number, bytes: Uint8Array | string): Asn1 {
	return asn1.create(tagClass.context, tagNumber, false, typeof bytes === 'string' ? bytes : toBinary(bytes));
}

/**
 * RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (docs/node.md#node-forge: a
 * 50-year certificate gets a GeneralizedTime notAfter, which OpenSSL and Node read correctly).
 */
export function time(date: Date): Asn1 {
	const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
	const year = whole.getUTCFullYear();
	if (year >= 1950 && year < 2050) {
		return asn1.create(tagClass.universal, tag.utcTime, false, asn1.dateToUtcTime(whole));
	}

	return asn1.create(tagClass.universal, tag.generalizedTime, false, asn1.dateToGeneralizedTime(whole));
}

export function encode(node: Asn1): Buffer {
	return fromBinary(asn1.toDer(node).getBytes());
}

/**
 * Strict DER parse of a whole buffer (trailing bytes are an error). forge 1.4 takes an options
 * object here (lib/asn1.js fromDer); @types/node-forge only knows the older boolean form.
 * decodeBitStrings is off so signatures and keys stay opaque bytes.
 */
export function decode(der: Uint8Array): Asn1 {
	return asn1.fromDer(toBinary(der), {strict: true, parseAllBytes: true, decodeBitStrings: false} as unknown as boolean);
}

export function oidOf(node: Asn1 | undefined): string | undefined {
	if (node?.tagClass !== tagClass.universal || Number(node.type) !== tag.oid || typeof node.value !== 'string') {
		return undefined;
	}

	return asn1.derToOid(node.value);
}

export function children(node: Asn1 | undefined): Asn1[] {
	return node && Array.isArray(node.value) ? node.value : [];
}

export function bytesOf(node: Asn1 | undefined): Buffer {
	return node && typeof node.value === 'string' ? fromBinary(node.value) : Buffer.alloc(0);
}

export {
	readChildren, readTlv, slice, type Tlv,
} from './tlv.js';

// ---------------------------------------------------------------------------------------------
// PEM

export function pemEncode(type: string, der: Uint8Array): string {
	const base64 = Buffer.from(der).toString('base64');
	const lines = base64.match(/.{1,64}/g) ?? [];
	return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

export type PemBlock = {type: string; der: Buffer; text: string};

/** Every PEM block in `text`, in order (other text between blocks is ignored). */
export function pemBlocks(text: string): PemBlock[] {
	const result: PemBlock[] = [];
	const pattern = /-{5}BEGIN ([A-Z\d ]+)-{5}\r?\n([\s\S]*?)-{5}END \1-{5}\r?\n?/g;
	for (const match of text.matchAll(pattern)) {
		const body = match[2]!;
		if (/^[A-Za-z-]+:/m.test(body)) {
			// RFC 1421 headers (Proc-Type: 4,ENCRYPTED …): keep it; callers reject it by type/content.
			result.push({type: `${match[1]!} (with headers)`, der: Buffer.alloc(0), text: match[0]});
			continue;
		}

		result.push({type: match[1]!, der: Buffer.from(body.replaceAll(/\s+/g, ''), 'base64'), text: match[0]});
	}

	return result;
}

// ---------------------------------------------------------------------------------------------
// Distinguished names

/** One attribute of a name: OID and decoded string value. */
export type NameAttribute = {oid: string; value: string};
/** A Name as RDNs in encoding order (most significant first); each RDN is a set of attributes. */
export type Name = NameAttribute[][];

export const nameOids = {
	C: '2.5.4.6',
	ST: '2.5.4.8',
	L: '2.5.4.7',
	O: '2.5.4.10',
	OU: '2.5.4.11',
	CN: '2.5.4.3',
	serialNumber: '2.5.4.5',
	SN: '2.5.4.4',
	GN: '2.5.4.42',
	title: '2.5.4.12',
	DC: '0.9.2342.19200300.100.1.25',
	UID: '0.9.2342.19200300.100.1.1',
	emailAddress: '1.2.840.113549.1.9.1',
} as const;

const shortNameByOid = new Map<string, string>(Object.entries(nameOids).map(([short, dotted]) => [dotted, short]));

/** Builds a Name: countries are PrintableString, DC and e-mail IA5String, the rest UTF8String (RFC 5280 §4.1.2.6). */
export function encodeName(name: Name): Asn1 {
	return sequence(name.map(rdn => set(rdn.map(attribute => {
		let value: Asn1;
		if (attribute.oid === nameOids.C) {
			value = asn1.create(tagClass.universal, tag.printable, false, attribute.value);
		} else if (attribute.oid === nameOids.DC || attribute.oid === nameOids.emailAddress) {
			value = asn1.create(tagClass.universal, tag.ia5, false, attribute.value);
		} else {
			value = utf8String(attribute.value);
		}

		return sequence([oid(attribute.oid), value]);
	}))));
}

function decodeString(node: Asn1): string {
	const bytes = bytesOf(node);
	switch (Number(node.type)) {
		case tag.utf8: {
			return bytes.toString('utf8');
		}

		case tag.bmp: {
			return bytes.swap16().toString('utf16le');
		}

		case tag.universalString: {
			let text = '';
			for (let i = 0; i + 3 < bytes.length; i += 4) {
				text += String.fromCodePoint(bytes.readUInt32BE(i));
			}

			return text;
		}

		default: {
			// PrintableString, IA5String, TeletexString (latin1 is the usual reading of T61).
			return bytes.toString('latin1');
		}
	}
}

export function decodeName(node: Asn1): Name {
	return children(node).map(rdn => children(rdn).map(atv => {
		const [type, value] = children(atv);
		const dotted = oidOf(type);
		if (!dotted || !value) {
			throw new Error('malformed name attribute');
		}

		return {oid: dotted, value: decodeString(value)};
	}));
}

export function decodeNameDer(der: Uint8Array): Name {
	return decodeName(decode(der));
}

/** The first value of an attribute type (e.g. the CN), or undefined. */
export function nameValue(name: Name, type: string): string | undefined {
	for (const rdn of name) {
		for (const attribute of rdn) {
			if (attribute.oid === type) {
				return attribute.value;
			}
		}
	}

	return undefined;
}

/** RFC 4514 §2.4 escaping of an attribute value. */
function escapeRfc4514(value: string): string {
	let escaped = value.replaceAll(/[\\,+"<>;=]/g, character => `\\${character}`).replaceAll('\u0000', '\\00');
	if (escaped.startsWith('#') || escaped.startsWith(' ')) {
		escaped = `\\${escaped}`;
	}

	if (escaped.endsWith(' ') && escaped.length > 1) {
		escaped = `${escaped.slice(0, -1)}\\ `;
	}

	return escaped;
}

/**
 * A DN exactly as Zabbix (GnuTLS build) prints and compares it (docs/zabbix.md#issuer-and-subject): RFC 4514 order
 * (last RDN first), "," without spaces, only the first value of a multi-valued RDN, GnuTLS names
 * (EMAIL, surName, givenName). Used for TLSServerCertIssuer/Subject and --tls-agent-cert-*.
 */
export function zabbixDn(name: Name): string {
	const zabbixNames: Record<string, string> = {emailAddress: 'EMAIL', SN: 'surName', GN: 'givenName'};
	return name.toReversed().filter(rdn => rdn.length > 0).map(rdn => {
		const first = rdn[0]!;
		const short = shortNameByOid.get(first.oid);
		const type = short === undefined ? first.oid : (zabbixNames[short] ?? short);
		return `${type}=${escapeRfc4514(first.value)}`;
	}).join(',');
}

/** A one-line DN for people, in encoding order: "O=secmon, CN=collector". */
export function displayDn(name: Name): string {
	return name.map(rdn => rdn.map(attribute => {
		const short = shortNameByOid.get(attribute.oid) ?? attribute.oid;
		return `${short}=${escapeRfc4514(attribute.value)}`;
	}).join(' + ')).join(', ');
}
