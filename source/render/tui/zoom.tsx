/**
 * One pane on the whole screen (Enter on the focused pane, Esc back): every instance (↑/↓ scroll
 * when they do not fit), the value now, min/avg/max since the first sample, the whole history
 * the panes keep (historyLength samples), and the metric's help text. Props only (plus the scroll
 * position).
 */
import {useState} from 'react';
import {Box, Text, useInput} from 'ink';
import {Cell, columnsOf, fit} from './cell.js';
import {levelColor} from './pane.js';
import {sparkline} from './sparkline.js';
import {
	alignLevels, historyLength, type HelpEntry, type ZoomRow, type PaneModel,
} from './state.js';

export type ZoomProps = Readonly<{
	pane: PaneModel;
	rows: readonly ZoomRow[];
	/** The collector's one-line help (from describe) and the longer text fetched for the zoom. */
	oneline?: string;
	help?: HelpEntry;
	width: number;
	height: number;
	/** Keys on (off while a trust prompt has them). */
	active: boolean;
}>;

/** Lines of the help text shown above the table (the rest is cut with a note). */
const helpLines = 6;

function wrap(text: string, width: number): string[] {
	const out: string[] = [];
	for (const paragraph of text.split('\n')) {
		let line = '';
		for (const word of paragraph.split(/\s+/v).filter(Boolean)) {
			if (line !== '' && [...line].length + 1 + [...word].length > width) {
				out.push(line);
				line = '';
			}

			line = line === '' ? word : `${line} ${word}`;
		}

		out.push(line);
	}

	while (out.length > 0 && out.at(-1) === '') {
		out.pop();
	}

	return out;
}

function modeText(pane: PaneModel): string {
	if (pane.semantics === 'counter') {
		return pane.rate ? 'counter, as rate/s' : 'counter, raw';
	}

	return pane.semantics ?? '';
}

export function Zoom({
	pane, rows, oneline, help, width, height, active,
}: ZoomProps) {
	const [offset, setOffset] = useState(0);
	const inner = Math.max(10, width - 4);
	let helpText = oneline ?? '';
	if (help?.status === 'ok' && help.text) {
		helpText = help.text;
	} else if (help?.status === 'loading' && helpText === '') {
		helpText = 'loading the help text…';
	}

	const wrapped = helpText === '' ? ['(the collector gives no help text for this metric)'] : wrap(helpText, inner);
	const shownHelp = wrapped.length > helpLines ? [...wrapped.slice(0, helpLines - 1), `… ${wrapped.length - helpLines + 1} more line(s)`] : wrapped;
	// Border 2, title 1, help, blank 1, table header 1, footer 1.
	const room = Math.max(1, height - 2 - 1 - shownHelp.length - 1 - 1 - 1);
	const maxOffset = Math.max(0, rows.length - room);
	const first = Math.min(offset, maxOffset);
	const visible = alignLevels(rows.slice(first, first + room));

	useInput((_input, key) => {
		// From the latest offset (several keys may come before the next render).
		const step = (key.downArrow ? 1 : 0) - (key.upArrow ? 1 : 0) + (key.pageDown ? room : 0) - (key.pageUp ? room : 0);
		if (step !== 0) {
			setOffset(previous => Math.max(0, Math.min(maxOffset, Math.min(previous, maxOffset) + step)));
		}
	}, {isActive: active});

	const nameWidth = Math.min(24, Math.max(8, ...rows.map(row => columnsOf(row.name))));
	const widestValue = Math.max(9, ...alignLevels(rows).flatMap(row => [row.text, row.min, row.avg, row.max].map(text => columnsOf(text))));
	// Name and four values within the inner width (a long value is cut with "…" by its Cell): a
	// row wider than that would be squeezed by Ink's layout, its cells wrapped onto the next row.
	const valueWidth = Math.max(1, Math.min(widestValue, Math.floor((inner - nameWidth - 1) / 4) - 1));
	const spark = Math.max(0, Math.min(historyLength, inner - nameWidth - (4 * (valueWidth + 1)) - 2));
	const units = pane.unitsText && pane.unitsText !== 'none' ? pane.unitsText : '';
	// A utilisation pane's values are in %: its label says of what (as the pane's title).
	const details = pane.percent ? pane.percent.label : [modeText(pane), units].filter(Boolean).join(', ');
	const samples = Math.max(0, ...rows.map(row => row.samples));
	const header = `${fit('instance', nameWidth)} ${fit('now', valueWidth, 'right')} ${fit('min', valueWidth, 'right')} ${fit('avg', valueWidth, 'right')} ${fit('max', valueWidth, 'right')}  ${spark > 0 ? `last ${Math.min(spark, historyLength)} samples` : ''}`;
	return (
		<Box flexDirection='column' width={width} height={height} borderStyle='double' borderColor='cyan' paddingX={1} overflow='hidden'>
			<Text wrap='truncate-end'>
				<Text bold color='cyan'>{pane.metric}</Text>
				<Text color='blue'> @ {pane.host}</Text>
				<Text dimColor>{details === '' ? '' : `  ${details}`} · min/avg/max over {samples} sample(s)</Text>
			</Text>
			{shownHelp.map((line, index) => (
				// Lines of one text, never reordered.
				// eslint-disable-next-line react/no-array-index-key
				<Text key={index} wrap='truncate-end' dimColor={help?.status !== 'ok'}>{line === '' ? ' ' : line}</Text>
			))}
			<Text> </Text>
			<Text bold wrap='truncate-end'>{header}</Text>
			{pane.status === 'ok'
				? visible.map(row => (
					<Box key={row.key} height={1} flexShrink={0}>
						<Text>{`${fit(row.name === '' ? '(value)' : row.name, nameWidth)} `}</Text>
						<Cell bold text={row.text} width={valueWidth} align='right' {...(row.level ? {color: levelColor[row.level]} : {})}/>
						<Text> </Text>
						<Cell text={row.min} width={valueWidth} align='right'/>
						<Text> </Text>
						<Cell text={row.avg} width={valueWidth} align='right'/>
						<Text> </Text>
						<Cell text={row.max} width={valueWidth} align='right'/>
						{spark > 0 ? <Text>  </Text> : null}
						<Cell text={sparkline(row.history, spark)} width={spark} color='green'/>
					</Box>
				))
				: <Text dimColor wrap='truncate-end'>{pane.message ?? (pane.status === 'waiting' ? 'waiting for the first sample…' : 'no values')}</Text>}
			<Text dimColor wrap='truncate-end'>
				{rows.length > visible.length ? `instances ${first + 1}–${first + visible.length} of ${rows.length} · ↑/↓ PgUp/PgDn scroll · ` : ''}Esc back · d remove this metric
			</Text>
		</Box>
	);
}
