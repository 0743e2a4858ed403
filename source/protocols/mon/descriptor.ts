/** mon behind stunnel. Data and lazy imports only (../shared/descriptor.ts). */
import {directTlsDescriptor} from '../shared/descriptor.js';

export const mon = directTlsDescriptor('mon', 2583, 'mon behind stunnel', async () => {
	const {openMon} = await import('./open.js');
	return openMon;
});
