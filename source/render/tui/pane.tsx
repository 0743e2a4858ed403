/**
 * One metric on one collector: a title, then a row per instance (name, scaled value, sparkline).
 * When the instances do not fit, the largest values are shown (top-N). Props only.
 */
import {Box, Text} from 'ink';
import {Cell} from './cell.js';
import type {PaneModel, RowModel} from './state.js';
import {sparkline} from './sparkline.js';

export type PaneNotice = {text: string; color: string};

export type PaneProps = Readonly<{
	pane: PaneModel;
	/** Outer size, borders included. */
	width: number;
	height: number;
	focused: boolean;
	/** Show the collector in the title (more than one --host). */
	showHost: boolean;
	/** A line about the collector (disconnected, retry time, paused…). */
	notice?: PaneNotice;
}>;

/** At most `max` rows: all in collector order when they fit, else the largest values first. */
export function selectRows(rows: readonly RowModel[], max: number): RowModel[] {
	if (rows.length <= max) {
		return [...rows];
	}

	const ranked = rows.toSorted((a, b) => (b.value ?? Number.NEGATIVE_INFINITY) - (a.value ?? Number.NEGATIVE_INFINITY));
	return ranked.slice(0, Math.max(0, max));
}

/** Cut to `width` characters, marking the cut with "…". */
export function clip(text: string, width: number): string {
	if (width <= 0) {
		return '';
	}

	const chars = [...text];
	return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
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
	const longestValue = Math.max(1, ...rows.map(row => [...row.text].length));
	const value = Math.min(Math.max(8, longestValue), Math.max(1, inner - 2));
	const longestName = Math.max(0, ...rows.map(row => [...row.name].length));
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
	const capacity = Math.max(0, height - 3 - (notice ? 1 : 0));
	const rows = selectRows(pane.rows, Math.max(1, capacity));
	const columns = rowColumns(rows, inner);
	const away = pane.hostPhase !== 'connected';
	const mode = modeLabel(pane);
	const units = pane.unitsText && pane.unitsText !== 'none' && pane.unitsText !== '' ? pane.unitsText : '';
	const top = pane.rows.length > rows.length ? ` top ${rows.length} of ${pane.rows.length}` : '';
	const details = [mode, units].filter(Boolean).join(', ');
	let borderColor = 'gray';
	if (focused) {
		borderColor = 'cyan';
	} else if (pane.hostPhase === 'disconnected') {
		borderColor = 'red';
	}

	return (
		<Box
			flexDirection='column'
			width={width}
			height={height}
			borderStyle={focused ? 'double' : 'round'}
			borderColor={borderColor}
			paddingX={1}
			flexShrink={0}
			overflow='hidden'
		>
			<Text wrap='truncate-end'>
				<Text bold {...(focused ? {color: 'cyan'} : {})}>{pane.metric}</Text>
				{top === '' ? null : <Text color='yellow'>{top}</Text>}
				{showHost ? <Text color='blue'> @ {pane.host}</Text> : null}
				<Text dimColor>{details === '' ? '' : `  ${details}`}</Text>
			</Text>
			{notice ? <Text color={notice.color} wrap='truncate-end'>{notice.text}</Text> : null}
			{pane.status === 'ok' && capacity > 0
				? rows.map(row => (
					// Value and sparkline are Cells: they change every sample (see cell.tsx).
					<Box key={row.key} height={1} flexShrink={0}>
						{columns.name > 0 ? <Text dimColor={away}>{`${clip(row.name, columns.name).padEnd(columns.name)}  `}</Text> : null}
						<Cell text={row.text} width={columns.value} align='right' bold={!away} dim={away}/>
						{columns.spark > 0 ? <Text> </Text> : null}
						<Cell text={sparkline(row.history, columns.spark)} width={columns.spark} color={away ? 'gray' : 'green'}/>
					</Box>
				))
				: (capacity > 0 ? <Text wrap='truncate-end' dimColor={messageColor(pane) === undefined} {...(messageColor(pane) ? {color: messageColor(pane)} : {})}>{messageText(pane)}</Text> : null)}
		</Box>
	);
}
