/** The Icinga 2 REST API, always over TLS. Data and lazy imports only (../shared/descriptor.ts). */
import {directTlsDescriptor} from '../shared/descriptor.js';

export const icinga = directTlsDescriptor('icinga', 5665, 'Icinga 2 REST API', async () => {
	const {openIcinga} = await import('./open.js');
	return openIcinga;
});
