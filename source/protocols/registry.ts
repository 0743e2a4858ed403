/**
 * The collectors secmon speaks to, one line each; the first is the default when `--host` has no
 * scheme. target.ts (schemes, default ports), sources.ts (openers), `secmon --help` and
 * `secmon verify` read this list. Adding a collector: its folder with a descriptor.ts
 * (shared/descriptor.ts), one line here, and its tests. Descriptors are data and lazy imports,
 * so loading this list loads no protocol's code.
 */
import {icinga} from './icinga/descriptor.js';
import {livestatus} from './livestatus/descriptor.js';
import {mon} from './mon/descriptor.js';
import {pcp} from './pcp/descriptor.js';
import {pmproxy} from './pmproxy/descriptor.js';
import type {ProtocolDescriptor} from './shared/descriptor.js';
import {zabbix} from './zabbix/descriptor.js';

export const protocols = [pcp, zabbix, icinga, livestatus, mon, pmproxy] as const;

/** Collectors secmon speaks to, chosen by the URL scheme of `--host` (default pcp). */
export type Protocol = (typeof protocols)[number]['name'];

export const defaultProtocol: Protocol = protocols[0].name;

export function descriptorFor(protocol: Protocol): ProtocolDescriptor<Protocol> {
	return protocols.find(descriptor => descriptor.name === protocol)!;
}

/** The protocol a URL scheme chooses, or undefined for a scheme no collector has. */
export function protocolOfScheme(scheme: string): Protocol | undefined {
	return protocols.find(descriptor => descriptor.schemes.includes(scheme))?.name;
}

/** Every scheme, in registry order: pcp, pcps, zabbix, … */
export const schemes: readonly string[] = protocols.flatMap(descriptor => descriptor.schemes);

/** The "Collectors" lines of `secmon --help`, the left column padded as the other sections are. */
export function collectorsHelp(): string {
	return protocols.flatMap(descriptor => descriptor.help).map(([what, text]) => `  ${what.padEnd(37)} ${text}`).join('\n');
}
