import {describe, expect, it} from 'vitest';
import {noUnits} from '../../../source/metrics/model.js';
import {safeAction} from '../../../source/render/tui/safe-action.js';

describe('safeAction: collector text is inert before it reaches the panes', () => {
	it('escapes names, help, instance names, string values and errors, consistently', () => {
		const name = 'm\u001B]0;x';
		const connected = safeAction({
			type: 'connected',
			host: 'h:1',
			at: 0,
			tls: undefined,
			descs: [{
				name, type: 'string', semantics: 'instant', units: noUnits, unitsText: 'none', oneline: 'a\u009Bb',
			}],
			missing: [{name: 'n\u202E', message: 'Unknown\u001B[2J'}],
		});
		expect(connected).toMatchObject({
			descs: [{name: String.raw`m\x1b]0;x`, oneline: String.raw`a\x9bb`}],
			missing: [{name: String.raw`n\u202e`, message: String.raw`Unknown\x1b[2J`}],
		});
		const sample = safeAction({
			type: 'sample',
			host: 'h:1',
			at: 0,
			rttMs: 1,
			sample: {
				target: 'h:1',
				timestamp: new Date(0),
				metrics: [
					{name, result: {status: 'ok', values: [{instance: 1, name: 'i\u001B]0;', value: 'v\u0007'}, {value: 3}]}},
					{name: 'e', result: {status: 'error', code: -1, message: 'bad\u009B'}},
				],
			},
		});
		expect(sample).toMatchObject({
			sample: {
				metrics: [
					{name: String.raw`m\x1b]0;x`, result: {values: [{name: String.raw`i\x1b]0;`, value: String.raw`v\x07`}, {value: 3}]}},
					{result: {message: String.raw`bad\x9b`}},
				],
			},
		});
	});

	it('keeps line breaks in multi-line texts (the stop banner) and leaves key presses alone', () => {
		expect(safeAction({
			type: 'stopped', host: 'h', at: 0, exitCode: 4, message: 'a\nb\u001B[2J', hint: 'c\u202E',
		})).toMatchObject({message: 'a\nb\\x1b[2J', hint: String.raw`c\u202e`});
		const key = {type: 'toggle-pause'} as const;
		expect(safeAction(key)).toBe(key);
	});
});
