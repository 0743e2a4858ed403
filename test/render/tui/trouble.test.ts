import {describe, expect, test} from 'vitest';
import {
	fixCommand, paneTroubleText, stopCause, troubleText,
} from '../../../source/render/tui/trouble.js';

describe('a stopped host in a line', () => {
	test('the fix is the first command of the refusal\'s hint', () => {
		// security/messages.ts changedHint
		const changed = {
			exitCode: 4,
			message: '@@@@\n@ WARNING: COLLECTOR CERTIFICATE HAS CHANGED FOR c:1 @\n@@@@',
			hint: 'If the change is expected, either remove the old pin and re-run your command (you will be asked again):\n  secmon certs remove c:1\nor, after checking the new fingerprint out of band, replace the pin in one step:\n  secmon --host c:1 … --fingerprint AB',
		};
		expect(fixCommand(changed)).toBe('secmon certs remove c:1');
		expect(stopCause(changed)).toBe('certificate CHANGED (possible interception)');
		expect(troubleText(changed)).toBe('fix: secmon certs remove c:1 · certificate CHANGED (possible interception) · Enter on its pane: the full warning');
		expect(paneTroubleText(changed)).toBe('✖ STOPPED: certificate CHANGED\nfix: secmon certs remove c:1 · Enter: why');
		// security/store.ts: the command inline, with an alternative in brackets.
		expect(fixCommand({exitCode: 1, message: 'x', hint: 'Remove it with: secmon certs remove c:1 (or: rm \'/h/x\')'})).toBe('secmon certs remove c:1');
	});

	test('a refused downgrade (exit 5); no hint: the cause only; an unknown stop: its first line that says something', () => {
		const downgrade = {
			exitCode: 5,
			message: 'c:1 was read over verified TLS before, but now it offers none; refusing to read it in plain text',
			hint: 'If TLS was really turned off on the collector, make secmon forget it:\n  secmon certs remove c:1\nTo read it in plain text for this run only (not encrypted, not authenticated):\n  secmon --host c:1 --secure off …',
		};
		expect(fixCommand(downgrade)).toBe('secmon certs remove c:1');
		expect(stopCause(downgrade)).toBe('TLS refused or missing (possible TLS stripping)');
		expect(fixCommand({exitCode: 1, message: 'x'})).toBeUndefined();
		expect(troubleText({exitCode: 2, message: 'secmon: c:1 knows none of the metrics asked for\nmore'})).toBe('c:1 knows none of the metrics asked for · Enter on its pane: the full warning');
	});
});
