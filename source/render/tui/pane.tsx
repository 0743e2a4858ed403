/**
 * One metric on one collector: a title, then a row per instance (name, scaled value, sparkline).
 * Instances in the collector's order; only when they do not fit (a large instance domain: the
 * layout keeps small ones whole) the largest values, and the title says "top N of M by value".
 * Props only.
 */
import {Box, Text} from 'ink';
import {CellLine, columnsOf, fit} from './cell.js';
import {alignLevels, type PaneModel, type RowModel} from './state.js';
import {sparkline} from './sparkline.js';

export type PaneNotice = {text: string; color: string};

/** A value past its warning or critical threshold (the word after it says so without colour). */
export const levelColor = {warning: 'yellow', critical: 'red'} as const;

export type PaneProps = Readonly<{
	pane: PaneModel;
	/** Outer size, borders included. */
	width: number;
	height: number;
	focused: boolean;
	/** Show the collector in the title (more than one --host). */
	showHost: boolean;
	/** Lines about the collector (disconnected, retry time, stopped and its fix), one per \n. */
	notice?: PaneNotice;
}>;

/** At most `max` rows: all in collector order when they fit, else the largest values first (top-N). */
export function selectRows(rows: readonly RowModel[], max: number): RowModel[] {
	if (rows.length <= max) {
		return [...rows];
	}

	const ranked = rows.toSorted((a, b) => (b.value ?? Number.NEGATIVE_INFINITY) - (a.value ?? Number.NEGATIVE_INFINITY));
	return ranked.slice(0, Math.max(0, max));
}

/** Cut to `width` display columns, marking the cut with "…". */
export function clip(text: string, width: number): string {
	if (width <= 0) {
		return '';
	}

	return columnsOf(text) <= width ? text : fit(text, width);
}

/** Cut to `width` characters in the middle ("127.0…:46103"): both ends of a host:port tell hosts apart. */
export function clipMiddle(text: string, width: number): string {
	const chars = [...text];
	if (chars.length <= width) {
		return text;
	}

	if (width <= 1) {
		return width === 1 ? '…' : '';
	}

	const head = Math.ceil((width - 1) / 2);
	return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (width - 1 - head)).join('')}`;
}

/** `text` in lines of at most `width` characters, broken at spaces (a longer word is split). */
export function wrapWords(text: string, width: number): string[] {
	const lines: string[] = [];
	let line = '';
	for (const word of text.split(' ')) {
		const candidate = line === '' ? word : `${line} ${word}`;
		if ([...candidate].length <= width) {
			line = candidate;
			continue;
		}

		if (line !== '') {
			lines.push(line);
		}

		let rest = [...word];
		const room = Math.max(1, width);
		while (rest.length > room) {
			lines.push(rest.slice(0, room).join(''));
			rest = rest.slice(room);
		}

		line = rest.join('');
	}

	lines.push(line);
	return lines;
}

export type TitleParts = {metric: string; top: string; host: string; details: string};

function partsLength(parts: TitleParts): number {
	return [parts.metric, parts.top, parts.host, parts.details].reduce((sum, text) => sum + [...text].length, 0);
}

/**
 * The title in `width` columns: metric, "top N of M by value", "@ host", then mode and units. When
 * narrow the host is shortened first (then dropped), then the mode; the units and the metric stay
 * (the metric is cut last).
 */
export function paneTitle(pane: PaneModel, shown: number, showHost: boolean, width: number): TitleParts {
	const units = pane.unitsText && pane.unitsText !== 'none' && pane.unitsText !== '' ? pane.unitsText : '';
	const mode = modeLabel(pane);
	const details = pane.percent ? pane.percent.label : [mode, units].filter(Boolean).join(', ');
	const shortDetails = pane.percent ? '%' : units;
	const top = pane.rows.length > shown ? ` top ${shown} of ${pane.rows.length} by value` : '';
	const spaced = (text: string) => (text === '' ? '' : `  ${text}`);
	const parts: TitleParts = {
		metric: pane.metric, top, host: showHost ? ` @ ${pane.host}` : '', details: spaced(details),
	};
	if (partsLength(parts) <= width) {
		return parts;
	}

	if (showHost) {
		const room = width - partsLength({...parts, host: ''}) - 3;
		parts.host = room >= 6 ? ` @ ${clipMiddle(pane.host, room)}` : '';
		if (partsLength(parts) <= width) {
			return parts;
		}
	}

	parts.details = spaced(shortDetails);
	if (partsLength(parts) <= width) {
		return parts;
	}

	parts.top = top === '' ? '' : ` top ${shown}/${pane.rows.length}`;
	if (partsLength(parts) <= width) {
		return parts;
	}

	parts.metric = clip(pane.metric, Math.max(1, width - partsLength({...parts, metric: ''})));
	return parts;
}

function modeLabel(pane: PaneModel): string {
	switch (pane.semantics) {
		case 'counter': {
			return pane.rate ? 'rate/s' : 'raw counter';
		}

		case 'discrete': {
			return 'discrete';
		}

		case 'instant': {
			return 'instant';
		}

		default: {
			return '';
		}
	}
}

type Columns = {name: number; value: number; spark: number};

/** Column widths for the rows inside `inner` characters. */
export function rowColumns(rows: readonly RowModel[], inner: number): Columns {
	const longestValue = Math.max(1, ...rows.map(row => columnsOf(row.text)));
	const value = Math.min(Math.max(8, longestValue), Math.max(1, inner - 2));
	const longestName = Math.max(0, ...rows.map(row => columnsOf(row.name)));
	if (longestName === 0) {
		const spark = inner - value - 1;
		return spark >= 4 ? {name: 0, value, spark} : {name: 0, value: Math.min(inner, longestValue), spark: 0};
	}

	const name = Math.min(longestName, Math.max(6, Math.floor((inner - value - 2) * 0.4)));
	// "name  value sparkline"
	const spark = inner - name - value - 3;
	if (spark >= 4) {
		return {name, value, spark};
	}

	return {name: Math.max(1, inner - value - 2), value, spark: 0};
}

function messageColor(pane: PaneModel): string | undefined {
	return pane.status === 'error' || pane.status === 'missing' ? 'red' : undefined;
}

function messageText(pane: PaneModel): string {
	switch (pane.status) {
		case 'waiting': {
			if (pane.hostPhase === 'stopped') {
				return 'no values: the collector stopped';
			}

			return pane.hostPhase === 'connected' ? 'waiting for the first sample…' : 'connecting…';
		}

		case 'missing': {
			return `not available: ${pane.message ?? 'unknown metric'}`;
		}

		case 'error': {
			return `error: ${pane.message ?? 'unknown error'}`;
		}

		default: {
			return pane.message ?? 'no values';
		}
	}
}

export function Pane({pane, width, height, focused, showHost, notice}: PaneProps) {
	const inner = Math.max(1, width - 4);
	const noticeLines = notice ? notice.text.split('\n').flatMap(line => wrapWords(line, inner)) : [];
	const capacity = Math.max(0, height - 3 - noticeLines.length);
	const rows = alignLevels(selectRows(pane.rows, Math.max(1, capacity)));
	const columns = rowColumns(rows, inner);
	const away = pane.hostPhase !== 'connected';
	const title = paneTitle(pane, rows.length, showHost, inner);
	let borderColor = 'gray';
	if (focused) {
		borderColor = 'cyan';
	} else if (pane.hostPhase === 'disconnected' || pane.hostPhase === 'stopped') {
		borderColor = 'red';
	}

	// Only vertical clipping: every line is cut to the inner width already (title and notices by
	// Ink's truncate-end, rows to exactly `inner` display columns by fit/fitSegments, which count
	// CJK and emoji as two columns as Ink and the terminal do, see cell.tsx), and Ink clips
	// horizontally by slicing every line written inside the box again, frame after frame (a tenth
	// of the CPU per sample, 20 panes).
	return (
		<Box
			flexDirection='column'
			width={width}
			height={height}
			borderStyle={focused ? 'double' : 'round'}
			borderColor={borderColor}
			paddingX={1}
			flexShrink={0}
			overflowY='hidden'
		>
			<Text wrap='truncate-end'>
				<Text bold {...(focused ? {color: 'cyan'} : {})}>{title.metric}</Text>
				{title.top === '' ? null : <Text color='yellow'>{title.top}</Text>}
				{title.host === '' ? null : <Text color='blue'>{title.host}</Text>}
				<Text dimColor>{title.details}</Text>
			</Text>
			{noticeLines.map(line => <Text key={line} color={notice!.color} wrap='truncate-end'>{line}</Text>)}
			{pane.status === 'ok' && capacity > 0
				? rows.map(row => (
					// One CellLine a row: the value and sparkline change every sample (see cell.tsx).
					<CellLine
						key={row.key}
						width={inner}
						segments={[
							...(columns.name > 0 ? [{text: `${fit(row.name, columns.name)}  `, dim: away}] : []),
							{
								text: fit(row.text, columns.value, 'right'), bold: !away, dim: away, ...(row.level ? {color: levelColor[row.level]} : {}),
							},
							...(columns.spark > 0 ? [{text: ' '}, {text: fit(sparkline(row.history, columns.spark, pane.axis), columns.spark), color: away ? 'gray' : 'green'}] : []),
						]}
					/>
				))
				: (capacity > 0 ? <Text wrap='truncate-end' dimColor={messageColor(pane) === undefined} {...(messageColor(pane) ? {color: messageColor(pane)} : {})}>{messageText(pane)}</Text> : null)}
		</Box>
	);
}
