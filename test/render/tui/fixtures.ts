/** Descriptors and samples shaped like the ones a real pmcd gives (units as pmUnits). */
import type {MetricDesc, Sample} from '../../../source/metrics/model.js';
import type {TlsFacts, TrustQuestion} from '../../../source/security/types.js';

const none = {
	dimSpace: 0, dimTime: 0, dimCount: 0, scaleSpace: 0, scaleTime: 0, scaleCount: 0,
};

export const loadDesc: MetricDesc = {
	name: 'kernel.all.load', type: 'float', semantics: 'instant', units: none, unitsText: 'none',
};

/** Kbyte, instant: 22020096 Kbyte is 21.0 GiB. */
export const freeDesc: MetricDesc = {
	name: 'mem.util.free', type: 'u64', semantics: 'instant', units: {...none, dimSpace: 1, scaleSpace: 1}, unitsText: 'Kbyte',
};

/** count, counter: shown as /s. */
export const readDesc: MetricDesc = {
	name: 'disk.dev.read', type: 'u64', semantics: 'counter', units: {...none, dimCount: 1}, unitsText: 'count',
};

export function sampleAt(seconds: number, values: {load?: [number, number, number]; free?: number; reads?: Record<string, number>}): Sample {
	const metrics: Sample['metrics'] = [];
	if (values.load) {
		metrics.push({
			name: 'kernel.all.load',
			result: {
				status: 'ok',
				values: [
					{instance: 1, name: '1 minute', value: values.load[0]},
					{instance: 5, name: '5 minute', value: values.load[1]},
					{instance: 15, name: '15 minute', value: values.load[2]},
				],
			},
		});
	}

	if (values.free !== undefined) {
		metrics.push({name: 'mem.util.free', result: {status: 'ok', values: [{instance: -1, value: BigInt(values.free)}]}});
	}

	if (values.reads) {
		metrics.push({
			name: 'disk.dev.read',
			result: {
				status: 'ok',
				values: Object.entries(values.reads).map(([name, value], index) => ({instance: index, name, value: BigInt(value)})),
			},
		});
	}

	return {target: 'collector:44321', timestamp: new Date(Date.UTC(2026, 10, 24, 12, 0, seconds)), metrics};
}

export const tlsFacts: TlsFacts = {
	version: 'TLSv1.3',
	cipher: 'TLS_AES_256_GCM_SHA384',
	basis: 'pinned',
	sha256: '56:50:80:86:FB:2C:18:3E:25:F7:A0:DD:CF:13:82:0F:AC:7B:9D:FB:E0:06:32:58:AC:6E:AF:F5:A7:30:BF:98',
	sha1: '5B:4A:28:BA:56:DD:B3:0A:01:44:F1:84:AC:D3:85:7A:B1:7F:F2:F9',
	subject: 'CN=collector',
	validTo: new Date('2036-11-20T23:36:07Z'),
};

export const question: TrustQuestion = {
	target: {host: 'collector', port: 44_321},
	reason: 'issuer not trusted: unknown CA',
	certificate: {
		sha256: tlsFacts.sha256,
		sha1: tlsFacts.sha1,
		spkiSha256: 'AAAA',
		subject: 'CN=collector',
		issuer: 'CN=secmon test CA',
		subjectAltNames: ['DNS:collector'],
		validFrom: new Date('2026-11-23T23:36:07Z'),
		validTo: new Date('2036-11-20T23:36:07Z'),
		serialNumber: '01',
		selfSigned: false,
		pem: '',
	},
};
