import {pmcdInterop} from './pmcd-interop.js';

pmcdInterop('rsa2048');
