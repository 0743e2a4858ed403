/**
 * Waiting on the panes' store in tests that drive a live runner against real collectors: resolves
 * with the first state the predicate accepts (checked at once and on every change), or rejects
 * after `timeoutMs` with `what` and the test's own picture of the state, so a hang says where.
 */
import type {MonitorState, Store} from '../../source/render/tui/state.js';

export async function waitForState(
	store: Store,
	what: string,
	predicate: (state: MonitorState) => boolean,
	timeoutMs: number,
	picture: (state: MonitorState) => string,
): Promise<MonitorState> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			off();
			reject(new Error(`timed out waiting for ${what}${picture(store.getState())}`));
		}, timeoutMs);
		const check = () => {
			if (predicate(store.getState())) {
				clearTimeout(timer);
				off();
				resolve(store.getState());
			}
		};

		const off = store.subscribe(check);
		check();
	});
}
