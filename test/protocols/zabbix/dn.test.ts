import {execFileSync} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {
	mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
	afterAll, beforeAll, describe, expect, it,
} from 'vitest';
import {
	certificateNames, formatDnOpenssl, formatDnZabbix, matchesDn, verifyIssuerSubject,
} from '../../../source/protocols/zabbix/dn.js';
import {
	runZabbixGet, stripZabbixPrefix, zabbixPeersInstalled, zabbixPort,
} from '../../helpers/zabbix.js';

// A subject with everything that differs between Node, OpenSSL and GnuTLS (docs/zabbix.md#issuer-and-subject):
// multi-valued RDN, EMAIL/surName/givenName names, escapes, leading '#', trailing space, UTF-8.
const oddSubject = '/DC=test/C=LV/ST=Riga/L=Riga/street=Main St 1/O=Acme, Inc./OU=Ops+OU=Dev/CN=#agent "1" <x> '
	+ '/emailAddress=ops@example.com/serialNumber=42/title=T/GN=G/SN=S/UID=u1/description=desc;x\\/y'
	+ '/postalCode=LV-1000/businessCategory=biz/generationQualifier=III/pseudonym=ps/dnQualifier=dq/name=nm/O= spaced/OU=Üñí';

// What zabbix_get 6.0.14 (GnuTLS 3.7.9) printed for that certificate (captured on this machine).
const oddZabbix = 'OU=Üñí,O=\\ spaced,name=nm,dnQualifier=dq,pseudonym=ps,generationQualifier=III,businessCategory=biz,'
	+ 'postalCode=LV-1000,description=desc\\;x/y,UID=u1,surName=S,givenName=G,title=T,serialNumber=42,EMAIL=ops@example.com,'
	+ 'CN=\\#agent \\"1\\" \\<x\\>\\ ,OU=Dev,O=Acme\\, Inc.,street=Main St 1,L=Riga,ST=Riga,C=LV,DC=test';

let dir: string;
const file = (name: string) => path.join(dir, name);

function openssl(args: string[]): string {
	return execFileSync('openssl', args, {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

beforeAll(() => {
	dir = mkdtempSync(path.join(os.tmpdir(), 'secmon-dn-'));
	// One RSA key for everything keeps this fast; GnuTLS (zabbix_get) needs RSA for its cert suites.
	openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'key.pem']);
	openssl(['req',
		'-x509',
		'-new',
		'-key',
		'key.pem',
		'-days',
		'2',
		'-subj',
		'/DC=test/DC=secmon/O=Secmon Test/CN=DN Test CA',
		'-addext',
		'basicConstraints=critical,CA:TRUE',
		'-addext',
		'keyUsage=critical,keyCertSign',
		'-out',
		'ca.pem']);
	writeFileSync(file('leaf.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n');
	const issue = (name: string, subject: string, extra: string[] = []) => {
		openssl(['req', '-new', '-key', 'key.pem', '-utf8', '-multivalue-rdn', '-subj', subject, ...extra, '-out', `${name}.csr`]);
		openssl(['x509',
			'-req',
			'-in',
			`${name}.csr`,
			'-CA',
			'ca.pem',
			'-CAkey',
			'key.pem',
			'-CAcreateserial',
			'-days',
			'2',
			'-extfile',
			'leaf.ext',
			'-out',
			`${name}.pem`]);
	};

	issue('odd', oddSubject);
	issue('plain', '/DC=test/DC=secmon/O=Secmon Test/OU=Agents/CN=agent.secmon.test');
	writeFileSync(file('unknown.cnf'), [
		'oid_section = oids',
		'[oids]',
		'myattr = 1.2.3.4.5',
		'[req]',
		'distinguished_name=dn',
		'prompt=no',
		'[dn]',
		'telephoneNumber=+371',
		'initials=I',
		'myattr=unknown oid',
		'organizationIdentifier=VATLV-1',
		'jurisdictionC=LV',
		'postalAddress=PA',
		'CN=x',
		'',
	].join('\n'));
	openssl(['req', '-new', '-key', 'key.pem', '-config', 'unknown.cnf', '-out', 'unknown.csr']);
	openssl(['x509',
		'-req',
		'-in',
		'unknown.csr',
		'-CA',
		'ca.pem',
		'-CAkey',
		'key.pem',
		'-CAcreateserial',
		'-days',
		'2',
		'-extfile',
		'leaf.ext',
		'-out',
		'unknown.pem']);
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

const der = (name: string) => new X509Certificate(readFileSync(file(`${name}.pem`))).raw;

describe('formatDnZabbix', () => {
	it('prints a plain DN like Zabbix (RFC 4514 order, no spaces)', () => {
		const names = certificateNames(der('plain'));
		expect(formatDnZabbix(names.subject)).toBe('CN=agent.secmon.test,OU=Agents,O=Secmon Test,DC=secmon,DC=test');
		expect(formatDnZabbix(names.issuer)).toBe('CN=DN Test CA,O=Secmon Test,DC=secmon,DC=test');
	});

	it('matches what zabbix_get printed for the odd certificate', () => {
		expect(formatDnZabbix(certificateNames(der('odd')).subject)).toBe(oddZabbix);
	});

	it('names unknown attributes by OID, as GnuTLS does', () => {
		// zabbix_get printed: CN=x,2.5.4.16=PA,jurisdictionOfIncorporationCountryName=LV,2.5.4.97=VATLV-1,1.2.3.4.5=unknown oid,initials=I,telephoneNumber=\+371
		expect(formatDnZabbix(certificateNames(der('unknown')).subject)).toBe('CN=x,2.5.4.16=PA,jurisdictionOfIncorporationCountryName=LV,'
			+ '2.5.4.97=VATLV-1,1.2.3.4.5=unknown oid,initials=I,telephoneNumber=\\+371');
	});

	it('refuses control characters like Zabbix does', () => {
		const name = [[{oid: '2.5.4.3', tag: 0x0C, value: Buffer.from('a\u0001b')}]];
		expect(() => formatDnZabbix(name)).toThrow('non-printable character');
		expect(() => formatDnZabbix([[{oid: '2.5.4.3', tag: 0x0C, value: Buffer.from('a\u0000b')}]])).toThrow('null byte');
		expect(matchesDn(name, 'CN=a\u0001b')).toBe(false);
	});

	it('decodes BMPString values', () => {
		const name = [[{oid: '2.5.4.3', tag: 0x1E, value: Buffer.from([0, 0x41, 0x00, 0xE9])}]];
		expect(formatDnZabbix(name)).toBe('CN=Aé');
	});
});

describe('formatDnOpenssl', () => {
	it.each(['odd', 'plain', 'unknown'])('equals openssl x509 -nameopt RFC2253,-esc_msb for %s', name => {
		const expected = openssl(['x509', '-in', `${name}.pem`, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']).trim().replace(/^subject=/, '');
		expect(formatDnOpenssl(certificateNames(der(name)).subject)).toBe(expected);
	});
});

describe('verifyIssuerSubject', () => {
	it('accepts the Zabbix form and the OpenSSL form, and nothing looser', () => {
		const odd = der('odd');
		expect(verifyIssuerSubject(odd, {subject: oddZabbix})).toBeUndefined();
		expect(verifyIssuerSubject(odd, {subject: formatDnOpenssl(certificateNames(odd).subject)})).toBeUndefined();
		expect(verifyIssuerSubject(odd, {issuer: 'CN=DN Test CA,O=Secmon Test,DC=secmon,DC=test'})).toBeUndefined();
		// Case, spaces after commas, and Node's multi-line form do not match (strcmp).
		expect(verifyIssuerSubject(odd, {issuer: 'cn=DN Test CA,O=Secmon Test,DC=secmon,DC=test'})).toContain('issuer: peer:');
		expect(verifyIssuerSubject(odd, {issuer: 'CN=DN Test CA, O=Secmon Test, DC=secmon, DC=test'})).toContain('issuer: peer:');
	});

	it('words a mismatch exactly like zabbix_get', () => {
		expect(verifyIssuerSubject(der('plain'), {issuer: 'CN=x', subject: 'CN=other'})).toBe('issuer: peer: "CN=DN Test CA,O=Secmon Test,DC=secmon,DC=test", required: "CN=x", '
			+ 'subject: peer: "CN=agent.secmon.test,OU=Agents,O=Secmon Test,DC=secmon,DC=test", required: "CN=other"');
		expect(verifyIssuerSubject(der('plain'), {subject: 'CN=other'})).toMatch(/^subject: peer: /);
		expect(verifyIssuerSubject(der('plain'), {})).toBeUndefined();
	});

	it('reports malformed DER instead of throwing', () => {
		expect(verifyIssuerSubject(Buffer.from([0x30, 0x05, 0x01]), {subject: 'CN=x'})).toContain('cannot read');
	});
});

describe.runIf(zabbixPeersInstalled())('against the real zabbix_get', () => {
	it.each(['odd', 'plain', 'unknown'])('formats the %s subject and issuer exactly as zabbix_get does', async name => {
		const server = tls.createServer({cert: readFileSync(file(`${name}.pem`)), key: readFileSync(file('key.pem')), maxVersion: 'TLSv1.2'}, socket => {
			socket.end();
		});
		server.on('tlsClientError', () => undefined);
		const port = await zabbixPort();
		await new Promise<void>(resolve => {
			server.listen(port, '127.0.0.1', resolve);
		});
		try {
			const result = await runZabbixGet(['-s',
				'127.0.0.1',
				'-p',
				String(port),
				'-k',
				'agent.ping',
				'--tls-connect',
				'cert',
				'--tls-ca-file',
				file('ca.pem'),
				'--tls-cert-file',
				file('plain.pem'),
				'--tls-key-file',
				file('key.pem'),
				'--tls-agent-cert-issuer',
				'I',
				'--tls-agent-cert-subject',
				'S']);
			const match = /issuer: peer: "(.*)", required: "I", subject: peer: "(.*)", required: "S"/.exec(stripZabbixPrefix(result.stderr));
			expect(match, result.stderr).not.toBeNull();
			const names = certificateNames(der(name));
			expect(formatDnZabbix(names.issuer)).toBe(match![1]);
			expect(formatDnZabbix(names.subject)).toBe(match![2]);
		} finally {
			server.close();
		}
	});
});
