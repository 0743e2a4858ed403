import {describe, expect, test} from 'vitest';
import {layoutPanes} from '../../../source/render/tui/layout.js';

describe('layoutPanes', () => {
	test('as many columns as fit, rows as tall as their tallest pane', () => {
		const layout = layoutPanes({
			width: 120, height: 30, wants: [3, 1, 1, 8], focus: -1,
		});
		expect(layout).toMatchObject({
			columns: 3, paneWidth: 40, hiddenBefore: 0, hiddenAfter: 0,
		});
		expect(layout.rows).toEqual([{panes: [0, 1, 2], height: 6}, {panes: [3], height: 11}]);
	});

	test('re-flows when the terminal narrows or widens', () => {
		const wants = [1, 1, 1, 1];
		expect(layoutPanes({
			width: 80, height: 40, wants, focus: -1,
		}).columns).toBe(2);
		expect(layoutPanes({
			width: 50, height: 40, wants, focus: -1,
		}).columns).toBe(1);
		expect(layoutPanes({
			width: 200, height: 40, wants, focus: -1,
		})).toMatchObject({columns: 4, paneWidth: 50});
	});

	test('short screens shrink tall rows first, evenly, never below the top 8 of a large instance domain', () => {
		const layout = layoutPanes({
			width: 40, height: 30, wants: [20, 20, 1], focus: -1,
		});
		expect(layout.rows.map(r => r.height)).toEqual([13, 13, 4]);
		expect(layout.rows.reduce((sum, r) => sum + r.height, 0)).toBeLessThanOrEqual(30);
		expect(layoutPanes({
			width: 40, height: 20, wants: [20, 20, 1], focus: -1,
		}).rows.map(r => r.height)).toEqual([19]);
	});

	test('small instance domains stay whole: 12 panes at 80x24, kernel.all.load keeps its 3 rows', () => {
		// 24 lines less the header, one status line and the page line.
		const wants = [3, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1];
		const layout = layoutPanes({
			width: 80, height: 22, wants, focus: -1,
		});
		expect(layout.rows[0]).toEqual({panes: [0, 1], height: 6});
		expect(layout.hiddenAfter).toBeGreaterThan(0);
		for (let focus = 0; focus < wants.length; focus++) {
			const page = layoutPanes({
				width: 80, height: 22, wants, focus,
			});
			for (const row of page.rows) {
				expect(row.height).toBeGreaterThanOrEqual(3 + Math.max(...row.panes.map(index => wants[index]!)));
			}

			expect(page.rows.flatMap(row => row.panes)).toContain(focus);
		}
	});

	test('too many panes: a page of grid rows that holds the focused pane', () => {
		const wants = Array.from({length: 20}, () => 3);
		const first = layoutPanes({
			width: 80, height: 13, wants, focus: -1,
		});
		expect(first.columns).toBe(2);
		// 12 lines after the page line: 2 grid rows of 3 instances each.
		expect(first.rows.map(r => r.panes)).toEqual([[0, 1], [2, 3]]);
		expect(first.rows.every(r => r.height === 6)).toBe(true);
		expect(first).toMatchObject({hiddenBefore: 0, hiddenAfter: 16});

		const later = layoutPanes({
			width: 80, height: 13, wants, focus: 15,
		});
		expect(later.rows.map(r => r.panes)).toEqual([[12, 13], [14, 15]]);
		expect(later).toMatchObject({hiddenBefore: 12, hiddenAfter: 4});
	});

	test('no room for even one pane: none, all counted as hidden', () => {
		expect(layoutPanes({
			width: 80, height: 4, wants: [1, 1, 1, 1], focus: 0,
		})).toMatchObject({rows: [], hiddenBefore: 0, hiddenAfter: 4});
	});

	test('no panes, no rows', () => {
		expect(layoutPanes({
			width: 80, height: 10, wants: [], focus: -1,
		}).rows).toEqual([]);
	});
});
