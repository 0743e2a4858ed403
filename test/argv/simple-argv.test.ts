/**
 * The plain-form parser must agree with meow on every command line it accepts, and leave
 * every other one to meow (source/argv/simple-argv.ts).
 */
import {describe, expect, it} from 'vitest';
import {parseZabbixGetWithMeow, zabbixGetFlags} from '../../source/commands/zabbix-get.js';
import {mainFlags} from '../../source/argv/main-flags.js';
import {parseMain} from '../../source/argv/main-meow.js';
import {normalizeArgv} from '../../source/argv/normalize.js';
import {parseSimpleArgv} from '../../source/argv/simple-argv.js';

// Flags, values and metric names, including the forms the simple parser must refuse.
const vocabulary = [
	...'--json -f --fetch -d --desc -m --pmid -M --pmid-long -T --help-text -r --raw --names --once --oneline --accept-new -t -fd -dfm'.split(' '),
	...'-h --host --secure --ca-file --cert --key --fingerprint --psk-identity --psk-file --password-file --servername --query --timeout --interval -s --samples'.split(' '),
	...'kernel.all.load hinv.ncpu disk.dev.read 127.0.0.1:44321 pcps://collector [::1]:4000 enforce relaxed off /tmp/ca.pem AB:CD:EF'.split(' '),
	...'2 500msec 10 0 -1 true false a=b -- - --host=collector --secure=enforce --no-json --json=false --caFile -x --bogus -hf'.split(' '),
	'',
	'x y',
	'GET hosts',
	'\u00FCn\u00EFcode.metric',
];

function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
		return state / 2_147_483_648;
	};
}

describe('parseSimpleArgv', () => {
	it('gives the same input and flags as meow on every command line it accepts', () => {
		const next = random(20_261_124);
		let accepted = 0;
		let refused = 0;
		for (let line = 0; line < 4000; line++) {
			const length = Math.floor(next() * 7);
			const argv = Array.from({length}, () => vocabulary[Math.floor(next() * vocabulary.length)]!);
			const normalized = normalizeArgv(argv);
			const simple = parseSimpleArgv(normalized, mainFlags);
			if (simple === undefined) {
				refused++;
				continue;
			}

			accepted++;
			const meow = parseMain(normalized);
			expect({argv, input: simple.input}).toEqual({argv, input: meow.input});
			expect({argv, flags: simple.flags}).toEqual({argv, flags: {...meow.flags}});
		}

		// Both branches are exercised broadly: a parser that refused everything would pass above.
		expect(accepted).toBeGreaterThan(800);
		expect(refused).toBeGreaterThan(800);
	});

	it('gives the same input and flags as meow for zabbix-get (every flag repeatable, aliases left to meow)', async () => {
		const zabbixVocabulary = [
			...'-s -p -k -I -t -h -V --host --port --key --source-address --timeout --tls-connect --tls-ca-file --tls-crl-file'.split(' '),
			...'--tls-agent-cert-issuer --tls-server-cert-issuer --tls-agent-cert-subject --tls-cert-file --tls-key-file'.split(' '),
			...'--tls-psk-identity --tls-psk-identity-file --tls-psk-file --tls-cipher --fingerprint --secure --connections'.split(' '),
			...'--accept-new --help --version agent.ping system.cpu.load[all,avg1] 127.0.0.1 10050 psk cert unencrypted'.split(' '),
			...'3 true false -- - --key=agent.ping --no-accept-new -x --bogus -kk /tmp/agent.psk CN=x,O=y'.split(' '),
			'',
			'vfs.file.exists[/etc/hostname]',
			'key with spaces',
		];
		const flags = zabbixGetFlags();
		const next = random(10_050);
		let accepted = 0;
		for (let line = 0; line < 3000; line++) {
			const argv = Array.from({length: Math.floor(next() * 8)}, () => zabbixVocabulary[Math.floor(next() * zabbixVocabulary.length)]!);
			const simple = parseSimpleArgv(argv, flags);
			if (simple === undefined) {
				continue;
			}

			accepted++;
			const meow = await parseZabbixGetWithMeow(argv, flags);
			expect({argv, input: simple.input, flags: simple.flags}).toEqual({argv, input: meow.input, flags: {...meow.flags}});
		}

		expect(accepted).toBeGreaterThan(500);
	});

	it('parses the usual one-shot command lines', () => {
		expect(parseSimpleArgv(['--json', '-h', 'collector:44321', '--secure', 'enforce', '-f', 'kernel.all.load', '--ca-file', '/tmp/ca.pem'], mainFlags)).toEqual({
			input: ['kernel.all.load'],
			flags: expect.objectContaining({
				json: true, fetch: true, host: ['collector:44321'], secure: 'enforce', caFile: '/tmp/ca.pem', desc: false, acceptNew: false,
			}) as unknown,
		});
		expect(parseSimpleArgv(['--host', 'a', '-h', 'b', 'x', 'y'], mainFlags)?.flags['host']).toEqual(['a', 'b']);
	});

	it('leaves every other form to meow', () => {
		for (const argv of [
			['--help'],
			['--version'],
			['--host=a'],
			['--no-json'],
			['--json', 'true'],
			['--json', '--json'],
			['--secure'],
			['--secure', '--json'],
			['--secure', 'a', '--secure', 'b'],
			['-s', '3'],
			['--', 'x'],
			['-'],
			[''],
			['--caFile', 'x'],
			['-fd'],
			['--bogus'],
			['-h', '-1'],
		]) {
			expect({argv, parsed: parseSimpleArgv(argv, mainFlags)}).toEqual({argv, parsed: undefined});
		}
	});
});
