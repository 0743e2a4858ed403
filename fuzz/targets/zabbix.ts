/**
 * Zabbix target: the ZBXD frame decoder of source/protocols/zabbix/frame.ts fed in random pieces,
 * then the response parsers; the piecewise answer must match decodeFrame over the whole input.
 * Its documented refusal is SecmonError (PROTOCOL, or PEER_ERROR for an empty answer).
 */
import {SecmonError} from '../../source/errors.js';
import {
	decodeFrame, FrameDecoder, formatLikeZabbixGet, parseResponse, type Frame,
} from '../../source/protocols/zabbix/frame.js';
import {zabbixFrames} from '../corpus.js';
import type {Target} from '../runner.js';
import {zabbixFormat} from './formats.js';

class DecoderMismatch extends Error {
	override name = 'DecoderMismatch';
}

function settle(action: () => Frame): Frame | SecmonError {
	try {
		return action();
	} catch (error) {
		if (error instanceof SecmonError) {
			return error;
		}

		throw error;
	}
}

export const zabbixFrameTarget: Target = {
	name: 'zabbix-frame',
	covers: 'source/protocols/zabbix/frame.ts (FrameDecoder, chunked; parseResponse)',
	corpus: zabbixFrames,
	format: zabbixFormat,
	run(input, pieces, rng) {
		const maxBytes = rng.pick([undefined, 1024, 16]);
		const piecewise = settle(() => {
			const decoder = new FrameDecoder({maxBytes});
			for (const piece of pieces) {
				decoder.push(piece);
			}

			return decoder.end();
		});
		const whole = settle(() => decodeFrame(input, {maxBytes}));
		const agree = piecewise instanceof SecmonError
			? whole instanceof SecmonError
			: !(whole instanceof SecmonError) && whole.data.equals(piecewise.data) && whole.wireBytes === piecewise.wireBytes;
		if (!agree) {
			throw new DecoderMismatch(`in pieces: ${piecewise instanceof SecmonError ? piecewise.message : 'a frame'}; whole: ${whole instanceof SecmonError ? whole.message : 'a frame'}`);
		}

		if (piecewise instanceof SecmonError) {
			throw piecewise;
		}

		parseResponse(piecewise.data);
		formatLikeZabbixGet(piecewise.data);
	},
	isOwn: error => error instanceof SecmonError,
};
