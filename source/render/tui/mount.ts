/**
 * Drawing the panes: the only module that loads ink and react for live sampling, and only once
 * it has chosen React's production build. The controller (live/panes.ts) owns the store and the
 * collectors; this draws the store on the alternate screen and hands key answers back.
 */
import process from 'node:process';
import type {PromptAnswer} from '../../security/types.js';
import type {Store} from './state.js';

const enterAltScreen = '\u001B[?1049h\u001B[H';
const leaveAltScreen = '\u001B[?1049l';
/** DECTCEM: Ink hides the cursor while it draws and shows it again when unmounted. */
const showCursor = '\u001B[?25h';

export type Panes = {
	/** Ink unmounted, the normal screen back. */
	unmount(): Promise<void>;
};

export type PaneDrawer = {
	/** Switches to the alternate screen and draws the store until unmount. */
	mount(options: {store: Store; stdout: NodeJS.WriteStream; onAnswer: (id: number, answer: PromptAnswer) => void}): Panes;
	/** What a forced exit writes when the panes could not be unmounted in time (process-exit.ts). */
	readonly restoreScreen: string;
};

export async function loadPanes(): Promise<PaneDrawer> {
	// React's development build records a performance.measure() entry per changed component per
	// render, which Node keeps forever (RSS grew ~15 MiB/min with 20 panes, bench/tui.mjs) and costs
	// ~60% more CPU. Ship the production build unless the user asked for another NODE_ENV.
	process.env['NODE_ENV'] ??= 'production';
	// No JSX in this module: a static react/jsx-runtime import would load React's development build
	// before the line above, and a development jsx-runtime with a production React renders nothing.
	// Ink before the components: the CommonJS build hands them the Ink loaded here (rolldown.config.js).
	const [{render}, {createElement}] = await Promise.all([import('ink'), import('react')]);
	const {LiveApp} = await import('./app.js');
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
				async unmount() {
					instance.unmount();
					await instance.waitUntilExit().catch(() => undefined);
					stdout.write(leaveAltScreen);
				},
			};
		},
	};
}
