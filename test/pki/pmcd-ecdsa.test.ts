import {pmcdInterop} from './pmcd-interop.js';

pmcdInterop('ecdsa-p256');
