import {X509Certificate} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {
	decode,
	decodeNameDer,
	displayDn,
	encode,
	encodeName,
	nameOids,
	pemBlocks,
	pemEncode,
	readChildren,
	readTlv,
	time,
	zabbixDn,
} from '../../source/pki/der.js';
import {certificateParts} from '../../source/pki/x509.js';
import {run} from './helpers.js';

describe('time', () => {
	it('uses UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
		const utc = encode(time(new Date('2049-12-31T23:59:59.900Z')));
		expect(utc[0]).toBe(0x17);
		expect(utc.subarray(2).toString('latin1')).toBe('491231235959Z');
		const generalized = encode(time(new Date('2050-01-01T00:00:00Z')));
		expect(generalized[0]).toBe(0x18);
		expect(generalized.subarray(2).toString('latin1')).toBe('20500101000000Z');
	});
});

describe('names', () => {
	const name = [
		[{oid: nameOids.DC, value: 'test'}],
		[{oid: nameOids.DC, value: 'secmon'}],
		[{oid: nameOids.O, value: 'Acme, Inc.'}],
		[{oid: nameOids.OU, value: 'Dev'}, {oid: nameOids.OU, value: 'Ops'}],
		[{oid: nameOids.CN, value: 'agent #1 Ünïcode'}],
		[{oid: nameOids.emailAddress, value: 'ops@example.com'}],
	];

	it('round-trips through DER with the right string types', () => {
		const der = encode(encodeName(name));
		expect(decodeNameDer(der)).toEqual(name);
		// DC and e-mail are IA5String (0x16), the rest UTF8String (0x0c).
		const hex = der.toString('hex');
		expect(hex).toContain(`16${'04'}${Buffer.from('test').toString('hex')}`);
		expect(hex).toContain(`0c${'0a'}${Buffer.from('Acme, Inc.').toString('hex')}`);
	});

	it('prints the DN as Zabbix compares it (docs/zabbix.md#issuer-and-subject)', () => {
		expect(zabbixDn(name)).toBe('EMAIL=ops@example.com,CN=agent #1 Ünïcode,OU=Dev,O=Acme\\, Inc.,DC=secmon,DC=test');
		expect(zabbixDn([[{oid: nameOids.CN, value: 'secmon CA'}]])).toBe('CN=secmon CA');
		expect(zabbixDn([[{oid: nameOids.CN, value: ' #lead+trail '}]])).toBe('CN=\\ #lead\\+trail\\ ');
	});

	it('prints a readable DN in encoding order', () => {
		expect(displayDn(name)).toBe('DC=test, DC=secmon, O=Acme\\, Inc., OU=Dev + OU=Ops, CN=agent #1 Ünïcode, emailAddress=ops@example.com');
	});
});

describe('DER slicing and PEM', () => {
	it('reads TLVs with long-form lengths and finds PEM blocks', () => {
		const long = encode(encodeName([[{oid: nameOids.CN, value: 'x'.repeat(300)}]]));
		const outer = readTlv(long, 0);
		expect(outer.end).toBe(long.length);
		expect(long[1]).toBe(0x82);
		expect(readChildren(long, outer)).toHaveLength(1);
		expect(() => readTlv(long.subarray(0, 10), 0)).toThrow(/truncated/);
		const pem = pemEncode('CERTIFICATE', long);
		expect(pem.split('\n').every(line => line.length <= 64)).toBe(true);
		const blocks = pemBlocks(`junk\n${pem}more\r\n${pemEncode('PRIVATE KEY', Buffer.from([1, 2, 3]))}`);
		expect(blocks.map(block => block.type)).toEqual(['CERTIFICATE', 'PRIVATE KEY']);
		expect(blocks[0]!.der.equals(long)).toBe(true);
		expect(decode(blocks[0]!.der).value).toHaveLength(1);
	});

	it('matches what zabbix_get printed for an odd openssl-made subject (docs/zabbix.md#issuer-and-subject)', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-pki-dn-'));
		try {
			const subject = '/C=LV/ST=Riga/L=Riga/O=Acme, Inc./OU=Ops+OU=Dev/CN=agent #1/emailAddress=ops@example.com/serialNumber=42/title=T/GN=G/SN=S/UID=u1';
			const result = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-multivalue-rdn', '-subj', subject, '-keyout', path.join(dir, 'k'), '-out', path.join(dir, 'c'), '-days', '1']);
			expect(result.code, result.stderr).toBe(0);
			const certificate = new X509Certificate(readFileSync(path.join(dir, 'c')));
			const {subject: subjectDer} = certificateParts(certificate);
			expect(zabbixDn(decodeNameDer(subjectDer))).toBe('UID=u1,surName=S,givenName=G,title=T,serialNumber=42,EMAIL=ops@example.com,CN=agent #1,OU=Dev,O=Acme\\, Inc.,L=Riga,ST=Riga,C=LV');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
