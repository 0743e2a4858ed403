/** The `?` screen: keys, and what the status line means. Props only. */
import {Box, Text} from 'ink';

const keys: Array<[string, string]> = [
	['q', 'quit (Ctrl+C too)'],
	['p', 'pause / resume sampling'],
	['r', 'counters as rates per second ↔ raw counter values'],
	['+ / -', 'sample less / more often'],
	['Tab / Shift+Tab', 'next / previous pane'],
	['arrows', 'move between panes (up/down by grid row; they stop at the edges)'],
	['Enter', 'zoom the focused pane: every instance, min/avg/max, help (Esc back)'],
	['/', 'browse the collector\'s names, search, Enter adds a pane'],
	['d', 'remove the focused pane\'s metric (from every host)'],
	['s', 'save hosts, metrics and interval as a set (secmon --set NAME)'],
	['?  Esc', 'show / hide this help'],
];

const legend: Array<[string, string]> = [
	['CA-verified', 'the certificate chains to a trusted CA and names this host'],
	['pinned', 'the certificate matches the one saved earlier for this host:port'],
	['accepted once', 'trusted for this run only; you will be asked again next time'],
	['PLAIN TEXT', 'no TLS: anyone on the path can read and change the values'],
];

export type HelpOverlayProps = Readonly<{intervalMs: number; raw: boolean; paused: boolean}>;

export function HelpOverlay({intervalMs, raw, paused}: HelpOverlayProps) {
	return (
		<Box flexDirection='column' borderStyle='round' borderColor='cyan' paddingX={1}>
			<Text bold>secmon — keys</Text>
			{keys.map(([key, text]) => (
				<Text key={key}>
					<Text color='cyan'>{key.padEnd(16)}</Text>
					{text}
				</Text>
			))}
			<Text> </Text>
			<Text bold>Status line</Text>
			{legend.map(([key, text]) => (
				<Text key={key}>
					<Text color={key === 'PLAIN TEXT' ? 'red' : 'green'}>{key.padEnd(16)}</Text>
					{text}
				</Text>
			))}
			<Text> </Text>
			<Text dimColor>
				Now: every {intervalMs >= 1000 ? `${intervalMs / 1000} s` : `${intervalMs} ms`}, {raw ? 'raw counters' : 'counters as rates'}{paused ? ', paused' : ''}. A collector that goes away is retried (1, 2, 4… 30 s); a changed certificate stops it.
			</Text>
		</Box>
	);
}
