#!/usr/bin/env node
/**
 * ANSI screen (tmux capture-pane -p -e) → SVG, for the readme screenshot. Handles what tmux
 * emits: SGR reset/bold/dim/italic/underline/inverse, 16 colours, 256 colours and truecolour.
 * Every cell sits on a fixed grid (textLength), so box drawing lines up whatever the font.
 *
 *   node bench/ansi-svg.mjs screen.ansi media/secmon-tui.svg [--title TEXT] [--trim]
 */
import {readFileSync, writeFileSync} from 'node:fs';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

// A dark palette (close to GitHub's dark terminal colours), indices 0-15.
const palette16 = [
	'#1e1e1e',
	'#e5534b',
	'#57ab5a',
	'#c69026',
	'#539bf5',
	'#b083f0',
	'#39c5cf',
	'#c9d1d9',
	'#636e7b',
	'#ff938a',
	'#6bc46d',
	'#daaa3f',
	'#6cb6ff',
	'#dcbdfb',
	'#56d4dd',
	'#ffffff',
];
const defaultFg = '#c9d1d9';
const defaultBg = '#0d1117';

function color256(n) {
	if (n < 16) {
		return palette16[n];
	}

	if (n < 232) {
		const v = n - 16;
		const level = x => (x === 0 ? 0 : 55 + (x * 40));
		const hex = x => level(x).toString(16).padStart(2, '0');
		return `#${hex(Math.floor(v / 36))}${hex(Math.floor(v / 6) % 6)}${hex(v % 6)}`;
	}

	const grey = (8 + ((n - 232) * 10)).toString(16).padStart(2, '0');
	return `#${grey}${grey}${grey}`;
}

function rgb(r, g, b) {
	return `#${[r, g, b].map(x => Number(x).toString(16).padStart(2, '0')).join('')}`;
}

const initial = () => ({
	fg: undefined, bg: undefined, bold: false, dim: false, italic: false, underline: false, inverse: false,
});

/** Attribute changes by SGR code (colours are handled separately). */
const attributes = {
	0: style => Object.assign(style, initial()),
	1(style) {
		style.bold = true;
	},
	2(style) {
		style.dim = true;
	},
	3(style) {
		style.italic = true;
	},
	4(style) {
		style.underline = true;
	},
	7(style) {
		style.inverse = true;
	},
	22(style) {
		style.bold = false;
		style.dim = false;
	},
	23(style) {
		style.italic = false;
	},
	24(style) {
		style.underline = false;
	},
	27(style) {
		style.inverse = false;
	},
	39(style) {
		style.fg = undefined;
	},
	49(style) {
		style.bg = undefined;
	},
};

function applySgr(style, parameters) {
	const codes = parameters === '' ? [0] : parameters.split(';').map(Number);
	for (let i = 0; i < codes.length; i++) {
		const code = codes[i];
		if (code in attributes) {
			attributes[code](style);
		} else if (code >= 30 && code <= 37) {
			style.fg = palette16[code - 30];
		} else if (code >= 40 && code <= 47) {
			style.bg = palette16[code - 40];
		} else if (code >= 90 && code <= 97) {
			style.fg = palette16[code - 90 + 8];
		} else if (code >= 100 && code <= 107) {
			style.bg = palette16[code - 100 + 8];
		} else if (code === 38 || code === 48) {
			const key = code === 38 ? 'fg' : 'bg';
			if (codes[i + 1] === 5) {
				style[key] = color256(codes[i + 2]);
				i += 2;
			} else if (codes[i + 1] === 2) {
				style[key] = rgb(codes[i + 2], codes[i + 3], codes[i + 4]);
				i += 4;
			}
		}
	}
}

/** Parse the screen into rows of cells {char, style}. */
export function parseAnsi(text) {
	const rows = [];
	const style = initial();
	for (const line of text.replace(/\n$/v, '').split('\n')) {
		const cells = [];
		for (let i = 0; i < line.length;) {
			if (line[i] === '\u001B') {
				const match = /^\u001B\[([\d;]*)([A-Za-z])/v.exec(line.slice(i));
				if (match?.[2] === 'm') {
					applySgr(style, match[1]);
				}

				i += match ? match[0].length : 1;
				continue;
			}

			const char = String.fromCodePoint(line.codePointAt(i));
			cells.push({char, style: {...style}});
			i += char.length;
		}

		rows.push(cells);
	}

	return rows;
}

function escapeXml(text) {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function resolved(style) {
	const fg = style.fg ?? defaultFg;
	const {bg} = style;
	return style.inverse ? {fg: bg ?? defaultBg, bg: fg} : {fg, bg};
}

function blank(row) {
	return row.every(cell => cell.char === ' ' && !cell.style.bg && !cell.style.inverse);
}

/** @param {string} text  @param {{columns?: number; title?: string; trim?: boolean}} options */
export function ansiToSvg(text, options = {}) {
	const rows = parseAnsi(text);
	// Blank rows at the bottom of the terminal carry nothing: keep one.
	while (options.trim && rows.length > 1 && blank(rows.at(-1)) && blank(rows.at(-2))) {
		rows.pop();
	}

	const columns = options.columns ?? Math.max(...rows.map(r => r.length));
	const cw = 8.4;
	const lh = 18;
	const pad = 14;
	const top = options.title ? 34 : pad;
	const width = Math.ceil((columns * cw) + (2 * pad));
	const height = Math.ceil((rows.length * lh) + top + pad);
	const out = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace" font-size="14">`,
		`<rect width="100%" height="100%" rx="8" fill="${defaultBg}"/>`,
	];
	if (options.title) {
		out.push(
			'<circle cx="20" cy="17" r="6" fill="#ff5f56"/><circle cx="40" cy="17" r="6" fill="#ffbd2e"/><circle cx="60" cy="17" r="6" fill="#27c93f"/>',
			`<text x="${width / 2}" y="22" fill="#8b949e" text-anchor="middle" font-size="13">${escapeXml(options.title)}</text>`,
		);
	}

	for (const [y, cells] of rows.entries()) {
		const baseline = top + (y * lh) + 13;
		// Backgrounds first, then text runs of one style.
		for (const [x, cell] of cells.entries()) {
			const {bg} = resolved(cell.style);
			if (bg) {
				out.push(`<rect x="${(pad + (x * cw)).toFixed(1)}" y="${top + (y * lh)}" width="${(cw + 0.3).toFixed(1)}" height="${lh}" fill="${bg}"/>`);
			}
		}

		let x = 0;
		while (x < cells.length) {
			const {style} = cells[x];
			const key = JSON.stringify(style);
			let end = x;
			let run = '';
			while (end < cells.length && JSON.stringify(cells[end].style) === key) {
				run += cells[end].char;
				end++;
			}

			if (run.trim() !== '') {
				const {fg} = resolved(style);
				const svgAttributes = [
					`x="${(pad + (x * cw)).toFixed(1)}"`,
					`y="${baseline}"`,
					`fill="${fg}"`,
					`textLength="${((end - x) * cw).toFixed(1)}"`,
					'lengthAdjust="spacingAndGlyphs"',
					'xml:space="preserve"',
				];
				if (style.bold) {
					svgAttributes.push('font-weight="bold"');
				}

				if (style.dim) {
					svgAttributes.push('opacity="0.6"');
				}

				if (style.italic) {
					svgAttributes.push('font-style="italic"');
				}

				if (style.underline) {
					svgAttributes.push('text-decoration="underline"');
				}

				out.push(`<text ${svgAttributes.join(' ')}>${escapeXml(run)}</text>`);
			}

			x = end;
		}
	}

	out.push('</svg>');
	return out.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const [input, output] = process.argv.slice(2);
	if (!input || !output) {
		process.stderr.write('usage: node bench/ansi-svg.mjs SCREEN.ansi OUT.svg [--title TEXT] [--trim]\n');
		process.exit(2);
	}

	const titleAt = process.argv.indexOf('--title');
	const title = titleAt === -1 ? undefined : process.argv[titleAt + 1];
	writeFileSync(output, ansiToSvg(readFileSync(input, 'utf8'), {title, trim: process.argv.includes('--trim')}));
}
