/**
 * The two contracts every layer above the codecs shares, in a leaf module (it imports only types):
 * where a command writes (`Io`), and what a protocol session may ask of the front end
 * (`SessionHooks`: the trust prompt, warnings, the command line for re-run hints).
 */
import type {Writable} from 'node:stream';
import type {Shutdown} from './process-exit.js';
import type {Ask} from './security/types.js';

/** `shutdown`: signals and a closed stdout (process-exit.ts); absent when a test calls a command directly. */
export type Io = {stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv; shutdown?: Shutdown};

export type SessionHooks = {
	/** Shown the trust prompt when a collector is new (interactive runs only). */
	ask?: Ask;
	/** Non-fatal warnings (plain-text connections, key file modes, pin notices). */
	warn: (message: string) => void;
	env: NodeJS.ProcessEnv;
	/** How the user ran us, for "re-run with --fingerprint …" hints. */
	argv?: readonly string[];
};
