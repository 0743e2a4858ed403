/** `npm run fuzz` runs fuzz/all.fuzz.ts through vitest (which runs the TypeScript sources as they are). */
import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['fuzz/**/*.fuzz.ts'],
		testTimeout: 0,
		hookTimeout: 60_000,
		// Print findings and the totals as they come, not collected per test.
		disableConsoleIntercept: true,
		maxWorkers: 1,
	},
});
