/**
 * The whole screen: a header, one status line per collector, the trust prompt when one is waiting
 * (the panes of the other collectors keep updating below it), stopped-collector alerts, and the
 * grid of panes. App is props-only; LiveApp connects it to the store the runners feed.
 */
import {useEffect, useReducer, useSyncExternalStore} from 'react';
import {
	Box, Text, useInput, useStdin, useStdout, type Key,
} from 'ink';
import {validityNote} from '../../security/messages.js';
import type {PromptAnswer, TrustQuestion} from '../../security/types.js';
import {splitKeys} from './keys.js';
import {Browser} from './browser.js';
import {CellLine, type Segment} from './cell.js';
import {HelpOverlay} from './help-overlay.js';
import {layoutPanes} from './layout.js';
import {Pane, type PaneNotice} from './pane.js';
import {SaveDialog} from './save-dialog.js';
import {
	panesOf, paneKey, zoomOf, type Action, type HostState, type MonitorState, type Store,
} from './state.js';
import {StatusLine, clockTime, retryText} from './status-line.js';
import {paneTroubleText} from './trouble.js';
import {TrustPrompt} from './trust-prompt.js';
import {Zoom} from './zoom.js';

/** Ids for browser requests (the controller answers with the same id). */
let browseIds = 0;

/** Keys that are one action whatever the state. */
const simpleKeys: Partial<Record<string, Action>> = {
	q: {type: 'quit'},
	p: {type: 'toggle-pause'},
	' ': {type: 'toggle-pause'},
	r: {type: 'toggle-raw'},
	'+': {type: 'interval', direction: 1},
	'=': {type: 'interval', direction: 1},
	'-': {type: 'interval', direction: -1},
	_: {type: 'interval', direction: -1},
	'?': {type: 'toggle-help'},
	h: {type: 'toggle-help'},
	s: {type: 'save-open'},
};

/** The action of a one-action key; own keys only, so an input such as "constructor" finds nothing of Object's. */
export function simpleAction(input: string): Action | undefined {
	return Object.hasOwn(simpleKeys, input) ? simpleKeys[input] : undefined;
}

export type Size = {columns: number; rows: number};

/**
 * Lines the trust prompt will take at this width (its box, wrapped fields, choices, and room for
 * a note), so that the panes below it get the rest of the screen.
 */
export function promptHeight(question: TrustQuestion, width: number): number {
	const inner = Math.max(10, width - 4);
	const field = Math.max(10, inner - 10);
	const lines = (text: string, room: number) => Math.max(1, Math.ceil([...text].length / room));
	const cert = question.certificate;
	const fields = [
		question.reason,
		cert.subject,
		`${cert.issuer}${cert.selfSigned ? ' (self-signed)' : ''}`,
		cert.subjectAltNames.join(', ') || '(none)',
		validityNote(cert).text,
		cert.sha256.slice(0, 47),
		cert.sha256.slice(48),
		cert.sha1,
	];
	return 2 // border
		+ lines(`The authenticity of collector ${question.target.host}:${question.target.port} can't be established.`, inner)
		+ fields.reduce((sum, text) => sum + lines(text, field), 0)
		+ 1 // margin
		+ lines('Trust this collector? Compare the SHA-256 with what its administrator gave you.', inner)
		+ 3 // choices
		+ lines('Enter chooses (default: No) · ↑/↓ to move · or paste the SHA-256 fingerprint and press Enter', inner)
		+ 2; // typed fingerprint and note
}

/**
 * The terminal size, read from the stream at every render (never stale), and a re-render on
 * resize for the rows. With `clearOnResize` (full screen, alternate buffer) the screen is wiped
 * and the current frame drawn again once the resizing settles: Ink's first render after a resize
 * still has the old layout, and a terminal that re-wraps lines (tmux does) leaves pieces of it
 * that Ink cannot erase by counting lines.
 */
export function useTerminalSize(fixed?: Size, clearOnResize = false): Size {
	const {stdout, write} = useStdout();
	// Only to render again: the size itself is read live.
	const [, rerender] = useReducer((count: number) => count + 1, 0);
	const isFixed = fixed !== undefined;
	useEffect(() => {
		if (isFixed) {
			return;
		}

		let settle: NodeJS.Timeout | undefined;
		const onResize = () => {
			rerender();
			if (clearOnResize) {
				clearTimeout(settle);
				// Ink erases what it knows, writes this, then redraws its latest frame from the top.
				settle = setTimeout(() => {
					write('\u001B[2J\u001B[3J\u001B[H');
				}, 150);
			}
		};

		stdout.on('resize', onResize);
		return () => {
			clearTimeout(settle);
			stdout.off('resize', onResize);
		};
	}, [stdout, write, isFixed, clearOnResize]);
	return fixed ?? {columns: stdout.columns || 100, rows: stdout.rows || 40};
}

function paneNotice(host: HostState, now: number): PaneNotice | undefined {
	if (host.phase === 'stopped' && host.stop) {
		return {text: paneTroubleText(host.stop), color: 'red'};
	}

	if (host.phase === 'disconnected') {
		return {text: `disconnected · ${retryText(host.retryAt, now)} · ${host.lastError?.message ?? 'connection lost'}`, color: 'red'};
	}

	if (host.phase === 'connecting' && host.everConnected) {
		return {text: 'reconnecting…', color: 'yellow'};
	}

	return undefined;
}

/** One line for the footer: "secmon: " dropped, the collector named once. */
export function noticeText(notice: {host?: string; text: string}): string {
	const text = notice.text.split('\n')[0]!.replace(/^secmon: /v, '');
	return notice.host && !text.includes(notice.host) ? `${notice.host}: ${text}` : text;
}

function intervalText(ms: number): string {
	if (ms < 1000) {
		return `${ms} ms`;
	}

	return ms < 60_000 ? `${ms / 1000} s` : `${ms / 60_000} min`;
}

function Header({state, width}: Readonly<{state: MonitorState; width: number}>) {
	const last = Math.max(0, ...state.hosts.map(host => host.lastSampleAt ?? 0));
	const segments: Segment[] = [
		{text: 'secmon', bold: true, color: 'cyan'},
		{text: ` every ${intervalText(state.intervalMs)} · ${state.raw ? 'raw counters' : 'counters as rates/s'}`},
	];
	if (last > 0) {
		segments.push({text: ` · ${clockTime(last)}`, dim: true});
	}

	if (state.paused) {
		segments.push({
			text: ' PAUSED ', inverse: true, bold: true, color: 'yellow',
		});
	}

	segments.push({text: '   ? help · q quit · Enter zoom · / add · d remove · s save · p pause · r raw · +/- interval', dim: true});
	// Cells: the sample time changes every second (see cell.tsx).
	return <CellLine segments={segments} width={width}/>;
}

/** A stopped host's whole warning and hint (Enter on its pane), in the panes' place, cut to `height` lines. */
function Alert({host, width, height}: Readonly<{host: HostState; width: number; height: number}>) {
	const stop = host.stop!;
	const lines = [...stop.message.split('\n'), ...(stop.hint ? stop.hint.split('\n') : [])];
	const room = Math.max(1, height - 4);
	const shown = lines.length > room ? [...lines.slice(0, room - 1), `… ${lines.length - room + 1} more lines (printed in full when secmon ends)`] : lines;
	return (
		<Box flexDirection='column' borderStyle='round' borderColor='red' paddingX={1} width={width}>
			<Text bold color='red'>{host.id} stopped (exit {stop.exitCode}) · Esc or Enter: back to the panes</Text>
			{shown.map((line, index) => (
				// Lines of a fixed text: the index is a stable key.
				// eslint-disable-next-line react/no-array-index-key
				<Text key={index} wrap='truncate-end' {...(index < stop.message.split('\n').length ? {color: 'red'} : {})}>{line === '' ? ' ' : line}</Text>
			))}
		</Box>
	);
}

export type AppProps = Readonly<{
	state: MonitorState;
	dispatch: (action: Action) => void;
	onAnswer: (id: number, answer: PromptAnswer) => void;
	/** Fixed size (tests); default: the terminal's, following resizes. */
	size?: Size;
	/** Wipe the screen on resize (the full-screen program; see useTerminalSize). */
	clearOnResize?: boolean;
}>;

export function App({
	state, dispatch, onAnswer, size: fixedSize, clearOnResize,
}: AppProps) {
	const size = useTerminalSize(fixedSize, clearOnResize === true);
	const {isRawModeSupported} = useStdin();
	const panes = panesOf(state);
	const focusIndex = state.focus === undefined ? -1 : panes.findIndex(pane => pane.key === state.focus);
	const prompt = state.prompts[0];
	const {columns: width} = size;

	// Lines left for the panes: one below the screen height, so Ink never takes the clear-screen path.
	let height = size.rows - 1 - 1 - state.hosts.length;
	if (prompt) {
		height -= promptHeight(prompt.question, width) + (state.prompts.length > 1 ? 1 : 0);
	}

	const notice = state.notices.at(-1);
	if (notice) {
		height -= 1;
	}

	if (state.saving) {
		height -= 4;
	}

	const hostById = new Map(state.hosts.map(host => [host.id, host]));
	const details = state.details === undefined ? undefined : hostById.get(state.details);
	const focusedHost = focusIndex === -1 ? undefined : hostById.get(panes[focusIndex]!.host);
	const asking = new Set(state.prompts.map(p => p.host));
	const layout = layoutPanes({
		width,
		height: Math.max(0, height),
		wants: panes.map(pane => {
			const host = hostById.get(pane.host);
			const noticeLines = host ? (paneNotice(host, state.now)?.text.split('\n').length ?? 0) : 0;
			return (pane.status === 'ok' ? pane.rows.length : 1) + noticeLines;
		}),
		focus: focusIndex,
	});

	const zoomed = state.zoom === undefined ? undefined : zoomOf(state, state.zoom);
	const dialog = state.browser !== undefined || state.saving;

	const onKey = (input: string, key: Key) => {
		if (key.ctrl && input === 'c') {
			dispatch({type: 'quit'});
			return;
		}

		if (dialog) {
			// The browser and the save dialog take every other key.
			return;
		}

		const simple = simpleAction(input);
		if (simple) {
			dispatch(simple);
		} else if (key.return) {
			if (details) {
				dispatch({type: 'details'});
			} else if (focusedHost?.stop) {
				// A stopped host's pane: its whole warning (issue 17 part 9); other panes zoom.
				dispatch({type: 'details', host: focusedHost.id});
			} else {
				dispatch({type: 'zoom'});
			}
		} else if (input === 'd') {
			// The reducer picks the pane (zoomed or focused) from the latest state.
			dispatch({type: 'metric-remove'});
		} else if (input === '/') {
			dispatch({type: 'browse-open', id: ++browseIds});
		} else if (key.escape) {
			dispatch({type: state.help ? 'close-help' : (details ? 'details' : 'zoom-close')});
		} else if (zoomed) {
			// Arrows scroll the zoomed pane (zoom.tsx).
		} else if (key.tab) {
			dispatch({type: 'focus-move', delta: key.shift ? -1 : 1});
		} else {
			// Arrows move in the grid and stop at its edges (no wrap).
			const delta = (key.rightArrow ? 1 : 0) - (key.leftArrow ? 1 : 0) + (key.downArrow ? layout.columns : 0) - (key.upArrow ? layout.columns : 0);
			if (delta !== 0) {
				dispatch({type: 'focus-grid', delta, columns: layout.columns});
			}
		}
	};

	useInput((input, key) => {
		for (const [one, oneKey] of splitKeys(input, key)) {
			onKey(one, oneKey);
			if (one === '/' || one === 's') {
				// The browser or the save dialog takes the keys after this one (from its next render).
				break;
			}
		}
	}, {isActive: isRawModeSupported && prompt === undefined});

	const showHost = state.hosts.length > 1;
	const keysOn = isRawModeSupported && prompt === undefined;
	const overlayKeys = keysOn && !state.saving;
	let overlay: React.JSX.Element | undefined;
	if (details?.stop && !state.help) {
		overlay = <Alert host={details} width={width} height={Math.max(0, height)}/>;
	} else if (state.browser) {
		overlay = (
			<Browser
				key={state.browser.id}
				browser={state.browser}
				helpTexts={state.helpTexts}
				shown={state.metrics}
				width={width}
				height={Math.max(8, height)}
				active={overlayKeys}
				dispatch={dispatch}
			/>
		);
	} else if (zoomed) {
		const {pane} = zoomed;
		overlay = (
			<Zoom
				key={pane.key}
				pane={pane}
				rows={zoomed.rows}
				{...(zoomed.desc?.oneline === undefined ? {} : {oneline: zoomed.desc.oneline})}
				{...(state.helpTexts[paneKey(pane.host, pane.metric)] ? {help: state.helpTexts[paneKey(pane.host, pane.metric)]} : {})}
				width={width}
				height={Math.max(8, height)}
				active={overlayKeys}
			/>
		);
	}

	return (
		// Without a fixed size the root is as wide as Ink's (the terminal's, never stale mid-resize).
		<Box flexDirection='column' {...(fixedSize ? {width} : {})}>
			<Header state={state} width={width}/>
			{state.hosts.map(host => <StatusLine key={host.id} host={host} now={state.now} asking={asking.has(host.id)} width={width}/>)}
			{prompt
				? (
					<Box flexDirection='column'>
						<TrustPrompt
							key={prompt.id}
							question={prompt.question}
							onAnswer={answer => {
								onAnswer(prompt.id, answer);
							}}
						/>
						{state.prompts.length > 1 ? <Text color='yellow'>{state.prompts.length - 1} more collector(s) waiting for a trust decision</Text> : null}
					</Box>
				)
				: null}
			{state.saving
				? <SaveDialog state={state} width={width} active={keysOn} dispatch={dispatch}/>
				: null}
			{overlay}
			{overlay
				? null
				: (state.help
					? <HelpOverlay intervalMs={state.intervalMs} raw={state.raw} paused={state.paused}/>
					: layout.rows.map(row => (
						<Box key={row.panes[0]} flexDirection='row' height={row.height}>
							{row.panes.map(index => {
								const pane = panes[index]!;
								const host = hostById.get(pane.host);
								const note = host ? paneNotice(host, state.now) : undefined;
								return (
									<Pane
										key={pane.key}
										pane={pane}
										width={layout.paneWidth}
										height={row.height}
										focused={index === focusIndex}
										showHost={showHost}
										{...(note ? {notice: note} : {})}
									/>
								);
							})}
						</Box>
					)))}
			{!overlay && !state.help && layout.rows.length > 0 && (layout.hiddenBefore > 0 || layout.hiddenAfter > 0)
				? (
					<Text dimColor>
						panes {layout.hiddenBefore + 1}–{panes.length - layout.hiddenAfter} of {panes.length} · Tab/arrows to see the others
					</Text>
				)
				: null}
			{!overlay && !state.help && layout.rows.length === 0 && panes.length > 0 && height > 0
				? <Text dimColor wrap='truncate-end'>{panes.length} pane(s) do not fit on this screen: make the terminal taller</Text>
				: null}
			{notice ? <Text dimColor wrap='truncate-end'>{noticeText(notice)}</Text> : null}
		</Box>
	);
}

/** App fed by a store (the live program); re-renders when the store changes. */
export function LiveApp({
	store, onAnswer, size, clearOnResize,
}: Readonly<{store: Store; onAnswer: AppProps['onAnswer']; size?: Size; clearOnResize?: boolean}>) {
	const state = useSyncExternalStore(store.subscribe, store.getState);
	return <App state={state} dispatch={store.dispatch} clearOnResize={clearOnResize === true} onAnswer={onAnswer} {...(size ? {size} : {})}/>;
}
