/**
 * What the panes' keys ask of the collectors and the disk, answered beside the sampling: the
 * metric browser's names (`/`), help texts (zoom, browser), and `s` (save the set). Each request
 * is a store field the app sets; this answers it with an action. The sessions are the runners'
 * (live/runner.ts): PCP, mon and Livestatus serialise requests on their connection, Icinga and
 * Zabbix open one per request, so sampling goes on meanwhile.
 */
import type {MetricSource} from '../metrics/source.js';
import {parseRange, type Thresholds} from '../metrics/thresholds.js';
import type {Plan} from '../plan.js';
import type {Store} from '../render/tui/state.js';

export type SaveSet = (name: string) => Promise<string>;

function message(error: unknown): string {
	return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/^secmon: /v, '');
}

/**
 * Answers the store's requests until the returned function is called. `session(host)` is the
 * runner's open source (undefined while it is away: the request waits for it); `save` writes a
 * set and returns what to tell the user.
 */
export function serveRequests(store: Store, session: (host: string) => MetricSource | undefined, save: SaveSet): () => void {
	let browsing: number | undefined;
	const asked = new Set<string>();
	let saving: number | undefined;
	let closed = false;
	const dispatch: Store['dispatch'] = action => {
		if (!closed) {
			store.dispatch(action);
		}
	};

	const check = () => {
		const state = store.getState();
		const {browser} = state;
		if (browser?.status === 'loading' && browsing !== browser.id) {
			const source = session(browser.host);
			if (source) {
				browsing = browser.id;
				const {id} = browser;
				if (source.listNames) {
					source.listNames().then(list => {
						dispatch({
							type: 'browse-names', id, entries: list.entries, truncated: list.truncated, ...(list.note === undefined ? {} : {note: list.note}),
						});
					}, (error: unknown) => {
						dispatch({type: 'browse-failed', id, message: `cannot list the names of ${browser.host}: ${message(error)}`});
					});
				} else {
					dispatch({type: 'browse-failed', id, message: `${browser.host} cannot list its names: type a name and press Enter`});
				}
			}
		}

		for (const [key, entry] of Object.entries(state.helpTexts)) {
			if (entry.status !== 'loading' || asked.has(key)) {
				continue;
			}

			const space = key.indexOf(' ');
			const host = key.slice(0, space);
			const metric = key.slice(space + 1);
			const source = session(host);
			if (!source) {
				continue;
			}

			asked.add(key);
			if (!source.helpText) {
				dispatch({
					type: 'help-text', host, metric, text: undefined,
				});
				continue;
			}

			source.helpText(metric).then(text => {
				dispatch({
					type: 'help-text', host, metric, text,
				});
			}, () => {
				dispatch({
					type: 'help-text', host, metric, text: undefined,
				});
			});
		}

		const request = state.saveRequest;
		if (request && saving !== request.id) {
			saving = request.id;
			save(request.name).then(text => {
				dispatch({type: 'notice', at: Date.now(), text});
			}, (error: unknown) => {
				dispatch({type: 'notice', at: Date.now(), text: `set ${request.name} not saved: ${message(error)}`});
			}).finally(() => {
				dispatch({type: 'save-done', id: request.id});
			});
		}
	};

	const unsubscribe = store.subscribe(check);
	check();
	return () => {
		closed = true;
		unsubscribe();
	};
}

/** The plan's --warn/--crit texts (checked by plan.ts) as the ranges the panes compare with. */
export function panesThresholds(levels: Plan['thresholds']): Record<string, Thresholds> {
	// No prototype: metric names are the user's text (see plan.ts thresholdFlags).
	const out = Object.create(null) as Record<string, Thresholds>;
	for (const [metric, {warn, crit}] of Object.entries(levels)) {
		const parsed = {warn: warn === undefined ? undefined : parseRange(warn), crit: crit === undefined ? undefined : parseRange(crit)};
		out[metric] = {...(parsed.warn ? {warn: parsed.warn} : {}), ...(parsed.crit ? {crit: parsed.crit} : {})};
	}

	return out;
}

/**
 * `s`: the hosts as typed, the metrics and interval now, and the plan's levels, as a named set
 * in the secmon home (sets/store.ts). Only ever on this explicit request.
 */
export function setSaver(plan: Plan, env: NodeJS.ProcessEnv, store: Store): SaveSet {
	return async name => {
		const [{saveSet}, {secmonHome}] = await Promise.all([import('../sets/store.js'), import('../security/home.js')]);
		const state = store.getState();
		saveSet(secmonHome(env), name, {
			hosts: plan.hosts,
			metrics: state.metrics,
			intervalMs: state.intervalMs,
			...(Object.keys(plan.thresholds).length === 0 ? {} : {thresholds: plan.thresholds}),
		});
		return `saved set ${name} (${plan.hosts.length} host(s), ${state.metrics.length} metric(s), every ${state.intervalMs} ms): secmon --set ${name} opens it`;
	};
}
