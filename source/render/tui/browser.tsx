/**
 * The `/` metric browser: the collector's names as a tree (Enter or → opens a node, ← or
 * Backspace goes up), typing searches every name, the selected name's help text below, Enter on a
 * name adds its pane; Esc closes. Sampling goes on meanwhile (the controller loads the names and
 * help texts: live/interact.ts). Props plus the cursor's own state.
 */
import {useEffect, useRef, useState} from 'react';
import {
	Box, Text, useInput, type Key,
} from 'ink';
import {splitKeys} from './keys.js';
import {childrenAt, search, type BrowseItem} from './browse-tree.js';
import {clip} from './pane.js';
import {
	paneKey, type Action, type BrowserState, type HelpEntry,
} from './state.js';

export type BrowserProps = Readonly<{
	browser: BrowserState;
	helpTexts: Readonly<Record<string, HelpEntry>>;
	/** Metrics already shown (marked in the list). */
	shown: readonly string[];
	width: number;
	height: number;
	active: boolean;
	dispatch: (action: Action) => void;
}>;

/** Lines for the selected name's help text. */
const helpRoom = 4;
/** Characters of a search (a metric name or a Zabbix key with parameters). */
const maxQuery = 512;

type View = {path: string[]; query: string; selected: number};

/** What the list shows for a view: a node's children, or the names matching the search. */
function viewItems(browser: BrowserState, view: View): {searching: boolean; found?: ReturnType<typeof search>; items: BrowseItem[]; index: number} {
	const searching = view.query !== '';
	const found = searching ? search(browser.entries, view.query) : undefined;
	const items = found ? found.items : childrenAt(browser.entries, view.path);
	return {
		searching, ...(found ? {found} : {}), items, index: Math.min(view.selected, Math.max(0, items.length - 1)),
	};
}

export function Browser({
	browser, helpTexts, shown, width, height, active, dispatch,
}: BrowserProps) {
	const [view, setView] = useState<View>({path: [], query: '', selected: 0});
	// Keys read the latest view, not the one of the last render: a paste and Enter can arrive
	// before React has re-registered the input handler.
	const latest = useRef(view);
	const update = (next: Partial<View>) => {
		latest.current = {...latest.current, ...next};
		setView(latest.current);
	};

	const names = useRef(browser);
	useEffect(() => {
		names.current = browser;
	}, [browser]);
	const {path, query} = view;
	const {searching, found, items, index} = viewItems(browser, view);
	const item = items[index];
	const chosen = item?.name;

	useEffect(() => {
		if (chosen !== undefined && active) {
			dispatch({type: 'help-request', host: browser.host, metric: chosen});
		}
	}, [chosen, browser.host, active, dispatch]);

	const add = (name: string) => {
		dispatch({type: 'metric-add', name, host: browser.host});
		dispatch({type: 'browse-close'});
	};

	const onKey = (input: string, key: Key) => {
		const now = latest.current;
		const current = viewItems(names.current, now);
		const here = current.items[current.index];
		const last = Math.max(0, current.items.length - 1);
		if (key.escape) {
			dispatch({type: 'browse-close'});
		} else if (key.upArrow || key.pageUp) {
			update({selected: Math.max(0, current.index - (key.pageUp ? 10 : 1))});
		} else if (key.downArrow || key.pageDown) {
			update({selected: Math.min(last, current.index + (key.pageDown ? 10 : 1))});
		} else if (key.return || (key.rightArrow && !current.searching)) {
			if (here?.name !== undefined && key.return) {
				add(here.name);
			} else if (here && here.name === undefined) {
				update({path: here.path, query: '', selected: 0});
			} else if (!here && current.searching && key.return) {
				// Nothing listed matches (a Zabbix key with parameters): the typed name as it is.
				add(now.query);
			}
		} else if ((key.leftArrow || key.backspace || key.delete) && !current.searching) {
			if (now.path.length > 0) {
				const parent = now.path.slice(0, -1);
				const from = now.path.at(-1);
				const back = childrenAt(names.current.entries, parent).findIndex(candidate => candidate.name === undefined && candidate.label === from);
				update({path: parent, selected: Math.max(0, back)});
			}
		} else if (key.backspace || key.delete) {
			update({query: [...now.query].slice(0, -1).join(''), selected: 0});
		} else if (input && !key.ctrl && !key.meta && !key.tab) {
			// Printable text only; a paste arrives as one string.
			const typed = [...input].filter(char => char >= ' ' && char !== '\u007F').join('');
			if (typed !== '') {
				update({query: [...`${now.query}${typed}`].slice(0, maxQuery).join(''), selected: 0});
			}
		}
	};

	useInput((input, key) => {
		for (const [one, oneKey] of splitKeys(input, key)) {
			onKey(one, oneKey);
		}
	}, {isActive: active});

	const inner = Math.max(10, width - 4);
	const help = chosen === undefined ? undefined : helpTexts[paneKey(browser.host, chosen)];
	let helpText = '';
	if (item && item.name === undefined) {
		helpText = `${item.leaves} name(s) below ${item.path.join(' › ')}: Enter or → to open`;
	} else if (help?.status === 'ok') {
		helpText = help.text ?? '';
	} else if (help?.status === 'loading') {
		helpText = 'loading the help text…';
	} else if (chosen !== undefined) {
		helpText = '(the collector gives no help text for this name)';
	}

	const helpLines = helpText.split('\n').slice(0, helpRoom);
	// Border 2, title 1, search 1, note 1, help rule 1, help lines, footer 1.
	const room = Math.max(1, height - 2 - 1 - 1 - (browser.note || browser.truncated ? 1 : 0) - 1 - helpRoom - 1);
	const first = Math.max(0, Math.min(index - Math.floor(room / 2), items.length - room));
	const visible = items.slice(first, first + room);
	const shownSet = new Set(shown);
	let status = '';
	if (browser.status === 'loading') {
		status = 'loading the names…';
	} else if (browser.status === 'error') {
		status = 'cannot list the names';
	} else if (found) {
		status = `${found.matched} match(es)${found.matched > found.items.length ? `, the first ${found.items.length} shown` : ''}`;
	} else {
		status = `${items.length} here · ${browser.entries.length} name(s) in all`;
	}

	return (
		<Box flexDirection='column' width={width} height={height} borderStyle='round' borderColor='cyan' paddingX={1} overflow='hidden'>
			<Text wrap='truncate-end'>
				<Text bold color='cyan'>Add a metric</Text>
				<Text color='blue'> from {browser.host}</Text>
				<Text dimColor>  {status}</Text>
			</Text>
			<Text wrap='truncate-end'>
				<Text color='yellow'>search: </Text>
				<Text>{query}</Text>
				<Text inverse> </Text>
				<Text dimColor>{searching ? '' : `   ${path.length === 0 ? '(top)' : path.join(' › ')}`}</Text>
			</Text>
			{browser.note || browser.truncated
				? <Text color='yellow' wrap='truncate-end'>{browser.note ?? ''}{browser.truncated ? `${browser.note ? ' · ' : ''}more names than secmon lists: search narrows them` : ''}</Text>
				: null}
			{visible.map((candidate, position) => {
				const at = first + position === index;
				const leaf = candidate.name !== undefined;
				const mark = leaf && shownSet.has(candidate.name!) ? ' (shown)' : '';
				const text = leaf ? candidate.label : `${candidate.label} ▸ ${candidate.leaves}`;
				return (
					<Text key={`${candidate.path.join('\u0000')}${leaf ? '' : '/'}`} inverse={at} {...(leaf ? {} : {color: 'blue'})} wrap='truncate-end'>
						{clip(`${at ? '›' : ' '} ${text}${mark}`, inner)}
					</Text>
				);
			})}
			{visible.length === 0 && browser.status !== 'loading'
				? <Text dimColor wrap='truncate-end'>{searching ? 'no listed name matches: Enter adds the typed name as it is' : (browser.status === 'error' ? '' : 'nothing here')}</Text>
				: null}
			<Box flexGrow={1}/>
			<Text dimColor>{'─'.repeat(inner)}</Text>
			{helpLines.map((line, position) => (
				// Lines of one text, never reordered.
				// eslint-disable-next-line react/no-array-index-key
				<Text key={position} wrap='truncate-end' dimColor={help?.status !== 'ok'}>{line === '' ? ' ' : line}</Text>
			))}
			<Text dimColor wrap='truncate-end'>type to search · ↑/↓ move · Enter add (or open) · ←/Backspace up · Esc close</Text>
		</Box>
	);
}
