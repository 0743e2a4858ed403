/** Every fuzz target, in the order `npm run fuzz` runs them. */
import type {Target} from '../runner.js';
import {icingaHttpTarget, perfdataTarget} from './icinga.js';
import {pcpPduTarget, pcpReaderTarget} from './pcp.js';
import {livestatusTarget, monTarget} from './streams.js';
import {zabbixFrameTarget} from './zabbix.js';

export const targets: Target[] = [
	pcpPduTarget,
	pcpReaderTarget,
	zabbixFrameTarget,
	livestatusTarget,
	monTarget,
	perfdataTarget,
	icingaHttpTarget,
];
