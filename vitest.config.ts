import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts', 'test/**/*.test.tsx', 'source/**/*.test.ts', 'source/**/*.test.tsx'],
		env: {FORCE_COLOR: '0'},
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// Real collectors are started per test file; keep files from fighting over CPUs.
		fileParallelism: true,
		maxWorkers: 2,
	},
});
