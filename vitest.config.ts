import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts', 'test/**/*.test.tsx', 'source/**/*.test.ts', 'source/**/*.test.tsx'],
		// Component tests render Ink frames: a CI variable in the environment must not switch Ink
		// to its write-the-last-frame-only mode. The e2e tests set CI themselves where they test it.
		env: {FORCE_COLOR: '0', CI: 'false'},
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// Real collectors are started per test file; keep files from fighting over CPUs.
		fileParallelism: true,
		maxWorkers: 2,
	},
});
