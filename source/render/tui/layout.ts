/**
 * Where the panes go (pure, so that re-flowing on resize is testable): as many columns as fit at
 * `minPaneWidth`, grid rows as tall as their tallest pane wants, shrunk evenly when the screen is
 * short but never below the whole of a small instance domain (`wholeUpTo`); when that does not
 * fit, one page of grid rows around the focused pane.
 */

/** A pane narrower than this cannot show name, value and sparkline side by side. */
export const minPaneWidth = 36;
/** Border (2) and title (1) around a pane's rows. */
export const paneChrome = 3;
/** The smallest useful pane: chrome plus one row. */
export const minPaneHeight = paneChrome + 1;
/** Instance domains up to this size are always shown whole (a page holds fewer panes instead); larger ones show at least their top this many. */
export const wholeUpTo = 8;

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
	const grid: Array<{panes: number[]; need: number; least: number}> = [];
	for (let first = 0; first < count; first += columns) {
		const panes: number[] = [];
		let need = minPaneHeight;
		for (let index = first; index < Math.min(first + columns, count); index++) {
			panes.push(index);
			need = Math.max(need, paneChrome + Math.max(1, input.wants[index] ?? 1));
		}

		// A small instance domain is never cut to its top values: the row keeps room for all of it.
		grid.push({panes, need, least: Math.min(need, paneChrome + wholeUpTo)});
	}

	let visible = grid;
	let hiddenBefore = 0;
	let hiddenAfter = 0;
	let height = Math.max(0, input.height);
	if (grid.reduce((sum, row) => sum + row.least, 0) > height) {
		// Paging: one line for "panes x–y of n".
		height -= 1;
		if (height < minPaneHeight) {
			// Not even one pane fits (a small terminal with a prompt open): none, rather than a garbled screen.
			return {
				columns, paneWidth, rows: [], hiddenBefore: 0, hiddenAfter: count,
			};
		}

		// Pages of whole grid rows, each as many as fit at their least height (a row taller than the page gets the page).
		const pages: Array<typeof grid> = [];
		let page: typeof grid = [];
		let used = 0;
		for (const row of grid) {
			const least = Math.min(row.least, height);
			if (page.length > 0 && used + least > height) {
				pages.push(page);
				page = [];
				used = 0;
			}

			page.push({...row, least});
			used += least;
		}

		pages.push(page);
		const focusRow = input.focus < 0 ? 0 : Math.floor(input.focus / columns);
		let index = 0;
		let before = 0;
		for (let rowsBefore = 0; index < pages.length - 1 && rowsBefore + pages[index]!.length <= focusRow; index++) {
			rowsBefore += pages[index]!.length;
			before += pages[index]!.reduce((sum, row) => sum + row.panes.length, 0);
		}

		visible = pages[index]!;
		hiddenBefore = before;
		hiddenAfter = count - hiddenBefore - visible.reduce((sum, row) => sum + row.panes.length, 0);
	}

	return {
		columns, paneWidth, rows: fit(visible, height), hiddenBefore, hiddenAfter,
	};
}

/** Heights for grid rows: all they need if it fits, else a common cap (never below a row's least) plus leftovers in order. */
function fit(grid: Array<{panes: number[]; need: number; least: number}>, height: number): GridRow[] {
	const total = grid.reduce((sum, row) => sum + row.need, 0);
	if (total <= height) {
		return grid.map(({panes, need}) => ({panes, height: need}));
	}

	const capped = (row: {need: number; least: number}, cap: number) => Math.max(row.least, Math.min(row.need, cap));
	let cap = minPaneHeight;
	const tallest = Math.max(...grid.map(row => row.need));
	for (let candidate = tallest; candidate >= minPaneHeight; candidate--) {
		if (grid.reduce((sum, row) => sum + capped(row, candidate), 0) <= height) {
			cap = candidate;
			break;
		}
	}

	let left = height - grid.reduce((sum, row) => sum + capped(row, cap), 0);
	return grid.map(row => {
		const extra = Math.max(0, Math.min(left, row.need - capped(row, cap)));
		left -= extra;
		return {panes: row.panes, height: capped(row, cap) + extra};
	});
}
