/**
 * Context labels, as pmcd 6.0.3 builds them for `pminfo -l`:
 * {"domainname":…, "hostname":…, "machineid":…}. pmcd says "localdomain"
 * when the kernel's NIS domain name is unset ("(none)").
 */
import {readFile} from 'node:fs/promises';
import os from 'node:os';

export async function defaultContextLabels(): Promise<Record<string, string>> {
	const read = async (file: string) => readFile(file, 'utf8').then(text => text.trim(), () => '');
	const [domain, machineId] = await Promise.all([read('/proc/sys/kernel/domainname'), read('/etc/machine-id')]);
	const labels: Record<string, string> = {
		domainname: domain === '' || domain === '(none)' ? 'localdomain' : domain,
		hostname: os.hostname(),
	};
	if (/^[\da-f]{32}$/v.test(machineId)) {
		labels['machineid'] = machineId;
	}

	return labels;
}
