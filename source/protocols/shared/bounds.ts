/**
 * Every byte count a peer controls has a limit; crossing one ends the exchange with the same
 * kind of error for every protocol: PROTOCOL (exit 1), naming the collector and the limit.
 */
import {SecmonError} from '../../errors.js';

/** 65536 → "64 KiB", 1048576 → "1 MiB", 1000 → "1000 bytes". */
export function sizeText(bytes: number): string {
	for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
		if (bytes >= size && bytes % size === 0) {
			return `${bytes / size} ${unit}`;
		}
	}

	return `${bytes} bytes`;
}

/**
 * "Icinga 2 at H:P sent response headers over 64 KiB; secmon stops there".
 * @param who "Icinga 2 at host:port"
 * @param what "response headers", "an event-stream line", …
 */
export function limitError(who: string, what: string, limit: number, hint: string, unit?: string): SecmonError {
	return new SecmonError('PROTOCOL', `${who} sent ${what} over ${unit === undefined ? sizeText(limit) : `${limit} ${unit}`}; secmon stops there`, hint);
}
