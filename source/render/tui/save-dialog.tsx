/**
 * The `s` dialog: a name for the current hosts, metrics, interval and thresholds as a saved set
 * (`secmon --set NAME` opens it again). Enter saves (live/interact.ts writes it; nothing is
 * written on exit), Esc cancels. Props plus the typed name.
 */
import {useRef, useState} from 'react';
import {
	Box, Text, useInput, type Key,
} from 'ink';
import {setNameProblem} from '../../sets/name.js';
import {splitKeys} from './keys.js';
import type {Action, MonitorState} from './state.js';

/** Ids for save requests (the controller answers with the same id). */
let saveIds = 0;

export type SaveDialogProps = Readonly<{
	state: MonitorState;
	width: number;
	active: boolean;
	dispatch: (action: Action) => void;
}>;

export function SaveDialog({
	state, width, active, dispatch,
}: SaveDialogProps) {
	const [name, setName] = useState('');
	const [problem, setProblem] = useState<string | undefined>();
	// Keys read the latest name, not the last render's (typed text and Enter may come together).
	const typedName = useRef('');
	const rename = (next: string) => {
		typedName.current = next;
		setName(next);
		setProblem(undefined);
	};

	const onKey = (input: string, key: Key) => {
		const now = typedName.current;
		if (key.escape) {
			dispatch({type: 'save-cancel'});
		} else if (key.return) {
			const wrong = setNameProblem(now);
			if (wrong) {
				setProblem(wrong);
			} else {
				dispatch({type: 'save-set', id: ++saveIds, name: now});
			}
		} else if (key.backspace || key.delete) {
			rename([...now].slice(0, -1).join(''));
		} else if (input && !key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow) {
			const typed = [...input].filter(char => char > ' ' && char !== '\u007F').join('');
			rename([...`${now}${typed}`].slice(0, 64).join(''));
		}
	};

	useInput((input, key) => {
		for (const [one, oneKey] of splitKeys(input, key)) {
			onKey(one, oneKey);
		}
	}, {isActive: active});
	const interval = state.intervalMs >= 1000 ? `${state.intervalMs / 1000} s` : `${state.intervalMs} ms`;
	return (
		<Box flexDirection='column' borderStyle='round' borderColor='yellow' paddingX={1} width={width}>
			<Text wrap='truncate-end'>
				<Text bold>Save as set: </Text>
				<Text>{name}</Text>
				<Text inverse> </Text>
				<Text dimColor>   {state.hosts.length} host(s), {state.metrics.length} metric(s), every {interval} · Enter save · Esc cancel</Text>
			</Text>
			{problem ? <Text color='red' wrap='truncate-end'>{problem}</Text> : null}
		</Box>
	);
}
