/**
 * Where the panes go (pure, so that re-flowing on resize is testable): as many columns as fit at
 * `minPaneWidth`, grid rows as tall as their tallest pane wants, shrunk evenly when the screen is
 * short; when even the smallest panes do not fit, one page of grid rows around the focused pane.
 */

/** A pane narrower than this cannot show name, value and sparkline side by side. */
export const minPaneWidth = 36;
/** Border (2) and title (1) around a pane's rows. */
export const paneChrome = 3;
/** The smallest useful pane: chrome plus one row. */
export const minPaneHeight = paneChrome + 1;

export type GridRow = {
	/** Indices into the pane list. */
	panes: number[];
	/** Height of every pane in this row, borders included. */
	height: number;
};

export type Layout = {
	columns: number;
	paneWidth: number;
	rows: GridRow[];
	/** Panes on earlier / later pages (a "panes 13–24 of 40" line is shown when either is > 0). */
	hiddenBefore: number;
	hiddenAfter: number;
};

/**
 * @param width columns available
 * @param height lines available for the panes (and the page line when paging)
 * @param wants rows each pane would like to show (instances, or 1 for a message)
 * @param focus index of the focused pane, -1 for none
 */
export function layoutPanes(input: {width: number; height: number; wants: readonly number[]; focus: number}): Layout {
	const count = input.wants.length;
	const width = Math.max(1, input.width);
	const columns = Math.max(1, Math.min(count, Math.floor(width / minPaneWidth)));
	const paneWidth = Math.floor(width / columns);
	const grid: Array<{panes: number[]; need: number}> = [];
	for (let first = 0; first < count; first += columns) {
		const panes: number[] = [];
		let need = minPaneHeight;
		for (let index = first; index < Math.min(first + columns, count); index++) {
			panes.push(index);
			need = Math.max(need, paneChrome + Math.max(1, input.wants[index] ?? 1));
		}

		grid.push({panes, need});
	}

	let visible = grid;
	let hiddenBefore = 0;
	let hiddenAfter = 0;
	let height = Math.max(0, input.height);
	if (grid.length * minPaneHeight > height) {
		// Paging: one line for "panes x–y of n".
		height -= 1;
		if (height < minPaneHeight) {
			// Not even one pane fits (a small terminal with a prompt open): none, rather than a garbled screen.
			return {
				columns, paneWidth, rows: [], hiddenBefore: 0, hiddenAfter: count,
			};
		}

		const perPage = Math.max(1, Math.floor(height / minPaneHeight));
		const focusRow = input.focus < 0 ? 0 : Math.floor(input.focus / columns);
		const page = Math.floor(Math.min(focusRow, grid.length - 1) / perPage);
		visible = grid.slice(page * perPage, (page + 1) * perPage);
		hiddenBefore = page * perPage * columns;
		hiddenAfter = count - hiddenBefore - visible.reduce((sum, row) => sum + row.panes.length, 0);
	}

	return {
		columns, paneWidth, rows: fit(visible, height), hiddenBefore, hiddenAfter,
	};
}

/** Heights for grid rows: all they need if it fits, else a common cap plus leftovers in order. */
function fit(grid: Array<{panes: number[]; need: number}>, height: number): GridRow[] {
	const total = grid.reduce((sum, row) => sum + row.need, 0);
	if (total <= height) {
		return grid.map(({panes, need}) => ({panes, height: need}));
	}

	let cap = minPaneHeight;
	const tallest = Math.max(...grid.map(row => row.need));
	for (let candidate = tallest; candidate >= minPaneHeight; candidate--) {
		if (grid.reduce((sum, row) => sum + Math.min(row.need, candidate), 0) <= height) {
			cap = candidate;
			break;
		}
	}

	let left = height - grid.reduce((sum, row) => sum + Math.min(row.need, cap), 0);
	return grid.map(({panes, need}) => {
		const extra = Math.max(0, Math.min(left, need - cap));
		left -= extra;
		return {panes, height: Math.min(need, cap) + extra};
	});
}
