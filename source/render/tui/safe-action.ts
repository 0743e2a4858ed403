/**
 * What reaches the panes from a collector — metric and instance names, help text, string values,
 * error texts, notices — made inert for the terminal (source/safe-text.ts) as it enters the
 * store, so no component can draw a collector's escape sequence. Names are escaped the same way
 * wherever they appear, so descriptors and samples still match.
 */
import type {MetricDesc, MetricValues, Sample} from '../../metrics/model.js';
import {safeText} from '../../safe-text.js';
import type {Action} from './state.js';

function safeDesc(desc: MetricDesc): MetricDesc {
	return {
		...desc,
		name: safeText(desc.name),
		unitsText: safeText(desc.unitsText),
		...(desc.oneline === undefined ? {} : {oneline: safeText(desc.oneline)}),
	};
}

function safeResult(result: MetricValues): MetricValues {
	switch (result.status) {
		case 'ok': {
			return {
				status: 'ok',
				values: result.values.map(value => ({
					...value,
					...(value.name === undefined ? {} : {name: safeText(value.name)}),
					value: typeof value.value === 'string' ? safeText(value.value) : value.value,
				})),
			};
		}

		case 'error': {
			return {...result, message: safeText(result.message)};
		}

		case 'novalues': {
			return result;
		}
	}
}

function safeSample(sample: Sample): Sample {
	return {
		...sample,
		target: safeText(sample.target),
		metrics: sample.metrics.map(metric => ({name: safeText(metric.name), result: safeResult(metric.result)})),
	};
}

export function safeAction(action: Action): Action {
	switch (action.type) {
		case 'connected': {
			return {
				...action,
				descs: action.descs.map(desc => safeDesc(desc)),
				missing: action.missing.map(({name, message}) => ({name: safeText(name), message: safeText(message)})),
			};
		}

		case 'described': {
			return {
				...action,
				descs: action.descs.map(desc => safeDesc(desc)),
				missing: action.missing.map(({name, message}) => ({name: safeText(name), message: safeText(message)})),
			};
		}

		case 'browse-names': {
			return {
				...action,
				entries: action.entries.map(entry => ({name: safeText(entry.name), path: entry.path.map(part => safeText(part))})),
				...(action.note === undefined ? {} : {note: safeText(action.note)}),
			};
		}

		case 'browse-failed': {
			return {...action, message: safeText(action.message)};
		}

		case 'help-text': {
			return action.text === undefined ? action : {...action, text: safeText(action.text, {multiline: true})};
		}

		case 'sample': {
			return {...action, sample: safeSample(action.sample)};
		}

		case 'disconnected': {
			return {...action, reason: safeText(action.reason)};
		}

		case 'stopped': {
			return {
				...action,
				message: safeText(action.message, {multiline: true}),
				...(action.hint === undefined ? {} : {hint: safeText(action.hint, {multiline: true})}),
			};
		}

		case 'notice': {
			return {...action, text: safeText(action.text, {multiline: true})};
		}

		case 'prompt-open': {
			return {...action, question: {...action.question, reason: safeText(action.question.reason)}};
		}

		default: {
			return action;
		}
	}
}
