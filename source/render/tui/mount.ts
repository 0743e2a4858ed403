/**
 * Drawing the panes: the only module that loads ink and react for live sampling, and only once
 * it has chosen React's production build. The controller (live/panes.ts) owns the store and the
 * collectors; this draws the store on the alternate screen and hands key answers back.
 */
import process from 'node:process';
import type {PromptAnswer} from '../../security/types.js';
import type {Size} from './app.js';
import type {Store} from './state.js';

const enterAltScreen = '\u001B[?1049h\u001B[H';
const leaveAltScreen = '\u001B[?1049l';
/** DECTCEM: Ink hides the cursor while it draws and shows it again when unmounted. */
const showCursor = '\u001B[?25h';

export type Panes = {
	/** Ink unmounted, the normal screen back, and with `keepFrame` the last frame drawn on it (as pmval's output stays). */
	unmount(options: {keepFrame: boolean}): Promise<void>;
};

export type PaneDrawer = {
	/** Switches to the alternate screen and draws the store until unmount. */
	mount(options: {store: Store; stdout: NodeJS.WriteStream; onAnswer: (id: number, answer: PromptAnswer) => void}): Panes;
	/** What a forced exit writes when the panes could not be unmounted in time (process-exit.ts). */
	readonly restoreScreen: string;
};

/**
 * @param color whether the panes may colour (color.ts colorWanted: NO_COLOR, FORCE_COLOR, TERM=dumb).
 */
export async function loadPanes({color}: {color: boolean}): Promise<PaneDrawer> {
	// Ink colours (and draws bold, dim and inverse) through chalk, which reads FORCE_COLOR once, when
	// it is loaded (chalk/source/vendor/supports-color), and knows nothing of NO_COLOR: without colour
	// it is told so before Ink loads it, and every style is dropped (words say what colour did).
	if (!color) {
		process.env['FORCE_COLOR'] = '0';
	}

	// React's development build records a performance.measure() entry per changed component per
	// render, which Node keeps forever (RSS grew ~15 MiB/min with 20 panes, bench/tui.mjs) and costs
	// ~60% more CPU. Ship the production build unless the user asked for another NODE_ENV.
	process.env['NODE_ENV'] ??= 'production';
	// No JSX in this module: a static react/jsx-runtime import would load React's development build
	// before the line above, and a development jsx-runtime with a production React renders nothing.
	// Ink before the components: the CommonJS build hands them the Ink loaded here (rolldown.config.js).
	const [{render, renderToString}, {createElement}] = await Promise.all([import('ink'), import('react')]);
	const {App, LiveApp} = await import('./app.js');
	/** The screen as it was at the end, for the normal screen: no blank lines at its foot. */
	function lastFrame(store: Store, size: Size): string {
		const ignore = () => undefined;
		// Drawn once: no keys, no prompt to answer.
		const frame = renderToString(createElement(App, {
			state: store.getState(), dispatch: ignore, onAnswer: ignore, size,
		}), {columns: size.columns});
		const text = frame.replace(/\s+$/v, '');
		return text === '' ? '' : `${text}\n`;
	}

	return {
		restoreScreen: showCursor + leaveAltScreen,
		mount({store, stdout, onAnswer}) {
			stdout.write(enterAltScreen);
			const instance = render(
				createElement(LiveApp, {store, clearOnResize: true, onAnswer}),
				{
					stdout, stdin: process.stdin, stderr: process.stderr, exitOnCtrlC: false, patchConsole: true,
				},
			);
			return {
				async unmount({keepFrame}) {
					instance.unmount();
					await instance.waitUntilExit().catch(() => undefined);
					stdout.write(leaveAltScreen);
					if (keepFrame) {
						stdout.write(lastFrame(store, {columns: stdout.columns || 100, rows: stdout.rows || 40}));
					}
				},
			};
		},
	};
}
