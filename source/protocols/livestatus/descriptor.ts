/** Checkmk Livestatus behind TLS (stunnel). Data and lazy imports only (../shared/descriptor.ts). */
import {directTlsDescriptor} from '../shared/descriptor.js';

export const livestatus = directTlsDescriptor('livestatus', 6557, 'Checkmk Livestatus behind TLS', async () => {
	const {openLivestatus} = await import('./open.js');
	return openLivestatus;
});
