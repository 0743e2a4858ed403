/**
 * The trust-on-first-use prompt (docs/design.md#trust-prompt: shows SHA-256 and SHA-1, subject, issuer, SANs,
 * validity; the default is No). Props only: it knows nothing of sockets or the store.
 * Keys: y = trust and save, o = accept once, n / Esc = no, arrows + Enter to choose, Enter at the
 * start = No. Pasting (or typing) the full SHA-256 and pressing Enter counts as yes, as in OpenSSH.
 */
import {useLayoutEffect, useRef, useState} from 'react';
import {
	Box, Text, useInput, useStdin,
} from 'ink';
import {normalizeFingerprint} from '../../security/certificate.js';
import {validityNote} from '../../security/messages.js';
import {formatTarget} from '../../security/store.js';
import type {PromptAnswer, TrustQuestion} from '../../security/types.js';

export type TrustPromptProps = Readonly<{
	question: TrustQuestion;
	onAnswer: (answer: PromptAnswer) => void;
	/** For tests: the time validity warnings are computed against. */
	now?: Date;
}>;

const choices: Array<{answer: PromptAnswer; label: string; key: string}> = [
	{answer: 'save', label: 'Yes, trust and save', key: 'y'},
	{answer: 'once', label: 'Accept once (this run only)', key: 'o'},
	{answer: 'reject', label: 'No', key: 'n'},
];

const defaultChoice = 2; // No

const answerText: Record<PromptAnswer, string> = {
	save: '✔ Trusted and saved.',
	once: '✔ Accepted for this run only.',
	reject: '✘ Not trusted.',
};

/** 32 bytes as two lines of 16, easier to compare by eye than one 95-character line. */
function fingerprintRows(sha256: string): string[] {
	const bytes = sha256.split(':');
	return bytes.length > 16 ? [bytes.slice(0, 16).join(':'), bytes.slice(16).join(':')] : [sha256];
}

function Field({label, children, color}: Readonly<{label: string; children: string; color?: string}>) {
	return (
		<Box>
			<Box width={10} flexShrink={0}>
				<Text dimColor>{label}</Text>
			</Box>
			<Text {...(color ? {color} : {})}>{children}</Text>
		</Box>
	);
}

function TypedFingerprint({typed, sha256}: Readonly<{typed: string; sha256: string}>) {
	return (
		<>
			<Text>Fingerprint: {typed}</Text>
			{matches(typed, sha256) ? <Text color='green'>✔ matches this certificate: press Enter to trust and save</Text> : null}
		</>
	);
}

/** Does what the user typed match the certificate? undefined while it is not a fingerprint yet. */
function matches(typed: string, sha256: string): boolean {
	try {
		return normalizeFingerprint(typed) === sha256;
	} catch {
		return false;
	}
}

export function TrustPrompt({question, onAnswer, now}: TrustPromptProps) {
	const {isRawModeSupported} = useStdin();
	// Refs hold the live values: several key events can arrive before React re-renders.
	const selectedRef = useRef(defaultChoice);
	const typedRef = useRef('');
	const [selected, setSelected] = useState(defaultChoice);
	const [typed, setTyped] = useState('');
	const [note, setNote] = useState<string | undefined>();
	const [answer, setAnswer] = useState<PromptAnswer | undefined>();
	const answered = useRef(false);
	const cert = question.certificate;

	const select = (value: number) => {
		selectedRef.current = Math.max(0, Math.min(choices.length - 1, value));
		setSelected(selectedRef.current);
	};

	const type = (value: string) => {
		typedRef.current = value;
		setTyped(value);
	};

	const finish = (value: PromptAnswer) => {
		if (answered.current) {
			return;
		}

		answered.current = true;
		setAnswer(value);
	};

	// Report after the answer is on screen, so a caller that unmounts at once leaves the final frame.
	const reported = useRef(false);
	useLayoutEffect(() => {
		if (answer !== undefined && !reported.current) {
			reported.current = true;
			onAnswer(answer);
		}
	}, [answer, onAnswer]);

	const submit = (text: string) => {
		if (text.trim() === '') {
			finish(choices[selectedRef.current]?.answer ?? 'reject');
			return;
		}

		if (matches(text, cert.sha256)) {
			finish('save');
			return;
		}

		type('');
		setNote('That is not the SHA-256 fingerprint of this certificate. Type y, o or n, or paste the fingerprint again.');
	};

	useInput((input, key) => {
		if (answered.current) {
			return;
		}

		if (key.ctrl && input === 'c') {
			finish('reject');
			return;
		}

		const {current} = typedRef;
		if (key.return) {
			submit(current);
			return;
		}

		if (key.escape) {
			if (current === '') {
				finish('reject');
			} else {
				type('');
			}

			return;
		}

		if (key.backspace || key.delete) {
			type(current.slice(0, -1));
			return;
		}

		if (key.upArrow || key.leftArrow) {
			select(selectedRef.current - 1);
			return;
		}

		if (key.downArrow || key.rightArrow || key.tab) {
			select(selectedRef.current + 1);
			return;
		}

		if (input === '') {
			return;
		}

		// A single y/o/n when nothing has been typed is a choice; anything else is fingerprint text.
		const shortcut = current === '' && input.length === 1 ? choices.find(choice => choice.key === input.toLowerCase()) : undefined;
		if (shortcut) {
			finish(shortcut.answer);
			return;
		}

		// A paste may end with Enter.
		const newline = input.search(/[\r\n]/v);
		const text = current + (newline === -1 ? input : input.slice(0, newline));
		setNote(undefined);
		if (newline === -1) {
			type(text);
		} else {
			submit(text);
		}
	}, {isActive: isRawModeSupported && answer === undefined});

	const validity = validityNote(cert, now);
	const [sha256First, sha256Second] = fingerprintRows(cert.sha256);
	return (
		<Box flexDirection='column' borderStyle='round' borderColor='yellow' paddingX={1}>
			<Text bold>
				The authenticity of collector <Text color='cyan'>{formatTarget(question.target)}</Text> can&apos;t be established.
			</Text>
			<Field label='Reason' color='yellow'>{question.reason}</Field>
			<Field label='Subject'>{cert.subject}</Field>
			<Field label='Issuer'>{`${cert.issuer}${cert.selfSigned ? ' (self-signed)' : ''}`}</Field>
			<Field label='Names'>{cert.subjectAltNames.length > 0 ? cert.subjectAltNames.join(', ') : '(none)'}</Field>
			<Field label='Valid' {...(validity.level === 'ok' ? {} : {color: validity.level === 'error' ? 'red' : 'yellow'})}>
				{validity.text}
			</Field>
			<Box>
				<Box width={10} flexShrink={0}>
					<Text dimColor>SHA-256</Text>
				</Box>
				<Box flexDirection='column'>
					<Text bold>{sha256First}</Text>
					{sha256Second ? <Text bold>{sha256Second}</Text> : null}
				</Box>
			</Box>
			<Field label='SHA-1'>{cert.sha1}</Field>
			<Box marginTop={1} flexDirection='column'>
				{answer === undefined
					? (
						<>
							<Text>Trust this collector? Compare the SHA-256 with what its administrator gave you.</Text>
							{choices.map((choice, index) => (
								<Text key={choice.answer} {...(index === selected ? {color: 'cyan'} : {})}>
									{index === selected ? '❯ ' : '  '}
									{choice.label} ({choice.key})
								</Text>
							))}
							<Text dimColor>Enter chooses (default: No) · ↑/↓ to move · or paste the SHA-256 fingerprint and press Enter</Text>
							{typed === '' ? null : <TypedFingerprint typed={typed} sha256={cert.sha256}/>}
							{note ? <Text color='red'>{note}</Text> : null}
						</>
					)
					: (
						<Text color={answer === 'reject' ? 'red' : 'green'}>
							{answerText[answer]}
						</Text>
					)}
			</Box>
		</Box>
	);
}
