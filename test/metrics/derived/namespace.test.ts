import {describe, expect, it} from 'vitest';
import {loadConfigText, newRegistry} from '../../../source/metrics/derived/config.js';
import {
	derivedByName, derivedByPmid, derivedChildren, derivedHelpText, derivedTraverse, PM_ERR_TEXT,
} from '../../../source/metrics/derived/namespace.js';
import {makePmid} from '../../../source/metrics/derived/types.js';

const registry = newRegistry();
loadConfigText(registry, 'x.conf', `disk.dev.await = 1
disk.dev.util = 2
disk.dev.util(oneline) = busy
disk.dm.await = 3
disk.dm.await(oneline) = short
disk.dm.await(helptext) = long
kernel.cpu.util.user = 4
`);
const fails = (metric: {name: string}) => metric.name === 'disk.dev.util';

describe('derived metrics in the namespace', () => {
	it('traverses by prefix in registration order, without metrics that fail to bind', () => {
		expect(derivedTraverse(registry, 'disk', fails)).toEqual(['disk.dev.await', 'disk.dm.await']);
		expect(derivedTraverse(registry, 'disk.dev.await', fails)).toEqual(['disk.dev.await']);
		expect(derivedTraverse(registry, 'dis', fails)).toEqual([]);
		expect(derivedTraverse(registry, '', fails)).toEqual(['event.flags', 'event.missed', 'disk.dev.await', 'disk.dm.await', 'kernel.cpu.util.user']);
	});

	it('lists children with leaf status, none for a leaf', () => {
		expect(derivedChildren(registry, 'disk', fails)).toEqual([{name: 'dev', leaf: false}, {name: 'dm', leaf: false}]);
		expect(derivedChildren(registry, 'disk.dev', () => false)).toEqual([{name: 'await', leaf: true}, {name: 'util', leaf: true}]);
		expect(derivedChildren(registry, 'disk.dev.await', fails)).toBeUndefined();
		expect(derivedChildren(registry, 'nothing', fails)).toBeUndefined();
	});

	it('finds metrics by name and PMID', () => {
		expect(derivedByName(registry, 'disk.dm.await')?.pmid).toBe(makePmid(511, 0, 5));
		expect(derivedByPmid(registry, makePmid(511, 0, 1))?.name).toBe('event.flags');
	});

	it('answers help like __dmhelptext', () => {
		const metric = (name: string) => derivedByName(registry, name)!;
		expect(derivedHelpText(metric('disk.dm.await'), 'help')).toEqual({text: 'long'});
		expect(derivedHelpText(metric('disk.dev.util'), 'help')).toEqual({text: 'busy'});
		expect(derivedHelpText(metric('disk.dev.util'), 'help', true)).toEqual({error: PM_ERR_TEXT});
		expect(derivedHelpText(metric('disk.dev.await'), 'oneline')).toEqual({error: PM_ERR_TEXT});
		expect(derivedHelpText(metric('event.flags'), 'oneline')).toEqual({text: 'Flags for event records'});
	});
});
