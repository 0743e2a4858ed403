/**
 * Text that changes every sample (values, sparklines, clock, round-trip time) at a fixed width.
 *
 * Ink 6.8 caches the size of every distinct string it lays out in module-level maps that are never
 * emptied (build/measure-text.js, and build/wrap-text.js for truncated text). A monitor shows new
 * strings every second, so its memory grew without bound (bench/tui.mjs; 8 KiB per 20-pane
 * sample in a soak test). A Cell lays out a placeholder of spaces (one string per width, cached
 * once) and puts the real text in at output time with <Transform>, which Ink applies after layout.
 * A CellLine does the same for a whole line of styled pieces (a pane's row, a status line) in one
 * Ink node, which costs less CPU per frame than a node per piece.
 */
import {memo} from 'react';
import {Box, Text, Transform} from 'ink';
import stringWidth from 'string-width';

/**
 * Columns are counted as Ink counts them (string-width: CJK and emoji take two, combining marks
 * none; Ink's Output advances by string-width for every grapheme it writes), so that a line cut to
 * a pane's width is that wide on the terminal.
 *
 * What secmon draws itself (ASCII, Latin-1, punctuation such as "…" and "·", arrows, box drawing,
 * the sparkline's blocks) is one column a UTF-16 unit and never joins a neighbour into one
 * grapheme (test/render/tui/cell.test.tsx checks every character of these ranges against
 * string-width): such text is measured and cut by its length, without string-width's grapheme
 * segmentation, which it does for everything but printable ASCII.
 */
const narrowText = /^[\u0020-\u007E\u00A0-\u00AC\u00AE-\u00FF\u2010-\u2027\u2030-\u205E\u2190-\u21FF\u2500-\u25FC]*$/v;
const segmenter = new Intl.Segmenter();

/** True if every character of `text` is one column wide on its own (see narrowText). */
export function isNarrow(text: string): boolean {
	return narrowText.test(text);
}

/** A tab (a status line message can hold one) is drawn as one space: string-width gives it none. */
function untab(text: string): string {
	return text.includes('\t') ? text.replaceAll('\t', ' ') : text;
}

/** Display columns of `text`, as Ink counts them. */
export function columnsOf(text: string): number {
	return narrowText.test(text) ? text.length : stringWidth(text);
}

/** The graphemes of `text` that fit in `width` columns, padded with spaces to exactly `width` (a wide one that would straddle the edge becomes a space). */
function cutTo(text: string, width: number): string {
	if (narrowText.test(text)) {
		return text.slice(0, width).padEnd(width);
	}

	let out = '';
	let used = 0;
	for (const {segment} of segmenter.segment(text)) {
		const columns = stringWidth(segment);
		if (used + columns > width) {
			break;
		}

		out += segment;
		used += columns;
	}

	return out + ' '.repeat(width - used);
}

/** `text` cut or padded to exactly `width` display columns; a cut is marked with "…". */
export function fit(raw: string, width: number, align: 'left' | 'right' = 'left'): string {
	const text = untab(raw);
	const used = columnsOf(text);
	if (used > width) {
		return width <= 0 ? '' : `${cutTo(text, width - 1)}…`;
	}

	const pad = ' '.repeat(width - used);
	return align === 'left' ? text + pad : pad + text;
}

/** Replace the run of placeholder spaces in a rendered line (colour codes around it stay). */
export function fillPlaceholder(line: string, text: string): string {
	const match = / +/v.exec(line);
	if (!match) {
		return line;
	}

	return line.slice(0, match.index) + overlay(match[0], text) + line.slice(match.index + match[0].length);
}

export type CellProps = Readonly<{
	text: string;
	width: number;
	align?: 'left' | 'right';
	color?: string;
	bold?: boolean;
	dim?: boolean;
	inverse?: boolean;
}>;

/** Must be the child of a <Box>, not of a <Text> (inside a Text the transform would be measured too). */
export function Cell({
	text, width, align, color, bold, dim, inverse,
}: CellProps) {
	if (width <= 0) {
		return null;
	}

	const shown = fit(text, width, align);
	return (
		<Transform transform={line => fillPlaceholder(line, shown)}>
			<Text {...(color ? {color} : {})} bold={bold === true} dimColor={dim === true} inverse={inverse === true}>
				{' '.repeat(width)}
			</Text>
		</Transform>
	);
}

/** A piece of a one-line row with its style. */
export type Segment = {text: string; color?: string; inverse?: boolean; bold?: boolean; dim?: boolean};

/** The segments that fit in `width` display columns; the last one that does not fit is cut with "…" (tabs become spaces). */
export function fitSegments(segments: readonly Segment[], width: number): Segment[] {
	const out: Segment[] = [];
	let left = width;
	for (const segment of segments) {
		const text = untab(segment.text);
		const columns = columnsOf(text);
		if (columns <= left) {
			out.push(text === segment.text ? segment : {...segment, text});
			left -= columns;
			continue;
		}

		if (left > 0) {
			out.push({...segment, text: fit(text, left)});
		}

		break;
	}

	return out;
}

export type CellLineProps = Readonly<{segments: readonly Segment[]; width: number}>;

/** An escape sequence (CSI, as chalk writes for colours and styles) at the start of the rest of a line. */
const escapeSequence = /\u001B\[[\u0030-\u003F]*[\u0020-\u002F]*[\u0040-\u007E]/y;

/**
 * `line` with its visible characters replaced, in order, by those of `text` (the escape sequences
 * around and between them stay): a placeholder of styled spaces becomes the text in those styles.
 * Characters of the line past the end of `text` stay as they are; `text` past the line's end is dropped.
 * Each grapheme of `text` takes as many of the line's cells as its display width (a wide one that
 * would not fit in the cells left becomes a space), a tab one, a zero-width one none (it is dropped:
 * Ink's Output would give it a column the terminal does not).
 */
export function overlay(line: string, text: string): string {
	if (narrowText.test(text)) {
		return overlayNarrow(line, text);
	}

	const pieces: Array<{grapheme: string; columns: number}> = [];
	for (const {segment} of segmenter.segment(text)) {
		const columns = segment === '\t' ? 1 : stringWidth(segment);
		if (columns > 0) {
			pieces.push({grapheme: columns === 1 && segment === '\t' ? ' ' : segment, columns});
		}
	}

	let cellsLeft = stringWidth(line);
	let out = '';
	let next = 0;
	let skip = 0;
	let index = 0;
	while (index < line.length) {
		if (line.codePointAt(index) === 0x1B) {
			escapeSequence.lastIndex = index;
			const match = escapeSequence.exec(line);
			if (match) {
				out += match[0];
				index += match[0].length;
				continue;
			}
		}

		const char = String.fromCodePoint(line.codePointAt(index)!);
		index += char.length;
		cellsLeft--;
		if (skip > 0) {
			// The second column of a wide grapheme written before.
			skip--;
			continue;
		}

		const piece = pieces[next];
		if (piece === undefined) {
			out += char;
		} else if (piece.columns > cellsLeft + 1) {
			out += ' ';
			next = pieces.length;
		} else {
			out += piece.grapheme;
			skip = piece.columns - 1;
			next++;
		}
	}

	return out;
}

/** overlay() for narrow text (see narrowText): one UTF-16 unit a cell. */
function overlayNarrow(line: string, text: string): string {
	let out = '';
	let next = 0;
	let index = 0;
	while (index < line.length) {
		if (line.codePointAt(index) === 0x1B) {
			escapeSequence.lastIndex = index;
			const match = escapeSequence.exec(line);
			if (match) {
				out += match[0];
				index += match[0].length;
				continue;
			}
		}

		const char = String.fromCodePoint(line.codePointAt(index)!);
		out += next < text.length ? text[next] : char;
		next++;
		index += char.length;
	}

	return out;
}

/**
 * One line of styled segments, cut to `width` columns, as one Ink text node: each segment a run of
 * placeholder spaces in its style (one string per combination of widths and styles, so Ink's
 * caches stay bounded, see above), the characters put in at output time. One node instead of a
 * Box and a Cell per segment: Ink lays out, clips and writes each node of every frame.
 */
function CellLineNodes({segments, width}: CellLineProps) {
	const fitted = fitSegments(segments, width);
	const text = fitted.map(segment => segment.text).join('');
	return (
		<Box flexDirection='row' height={1} flexShrink={0}>
			<Transform transform={line => overlay(line, text)}>
				<Text>
					{fitted.map((segment, index) => (
						<Text
							// Segments never reorder: the index is a stable key.
							// eslint-disable-next-line react/no-array-index-key
							key={index}
							{...(segment.color ? {color: segment.color} : {})}
							bold={segment.bold === true}
							dimColor={segment.dim === true}
							inverse={segment.inverse === true}
						>
							{' '.repeat(columnsOf(segment.text))}
						</Text>
					))}
				</Text>
			</Transform>
		</Box>
	);
}

function sameSegments(a: CellLineProps, b: CellLineProps): boolean {
	return a.width === b.width
		&& a.segments.length === b.segments.length
		&& a.segments.every((segment, index) => {
			const other = b.segments[index]!;
			return segment.text === other.text && segment.color === other.color && segment.bold === other.bold && segment.dim === other.dim && segment.inverse === other.inverse;
		});
}

/**
 * Rendered again only when its text or styles change: a row whose value and sparkline stay the
 * same (an idle disk, a flat gauge) costs React and Ink's reconciler nothing at that sample.
 */
export const CellLine = memo(CellLineNodes, sameSegments);
