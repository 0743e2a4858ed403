const protocolsLayer = {
	group: ['**/render/**', '**/commands/**', '**/cli.js'],
	message: 'Protocols know nothing of output or commands: move the shared code down (metrics/, a protocol module) instead.',
};

// In protocols/X/: no import of protocols/Y/ (Y ≠ X, Y ≠ shared), as ../Y/… or ../../protocols/Y/….
// What two protocols share lives in protocols/shared/ (or security/ for TLS and trust), so a
// protocol folder can be read, changed or removed on its own (readme "Architecture").
const protocolFolder = {
	regex: String.raw`^(?:\.\./(?!\.\./)|\.\./\.\./protocols/)(?!shared/)[^/]+/`,
	message: 'A protocol does not import another protocol: move what both need to protocols/shared/ (or security/ for TLS and trust).',
};

/** @type {import('xo').FlatXoConfig} */
const config = [
	{
		ignores: ['dist/**', 'bench/results/**', 'media/**'],
	},
	{
		react: true,
		prettier: false,
		rules: {
			'react/react-in-jsx-scope': 'off',
			'unicorn/prevent-abbreviations': 'off',
			'no-bitwise': 'off',
			'unicorn/no-process-exit': 'off',
			'n/prefer-global/process': 'off',
			'n/prefer-global/buffer': 'off',
			'unicorn/prefer-top-level-await': 'off',
			'no-await-in-loop': 'off',
			'@typescript-eslint/no-restricted-types': 'off',
			'unicorn/no-null': 'off',
			'max-params': 'off',
			complexity: 'off',
			'max-depth': 'off',
			'unicorn/prefer-math-trunc': 'off',
			'unicorn/number-literal-case': 'off',
			'@typescript-eslint/naming-convention': 'off',
			'capitalized-comments': 'off',
			'no-control-regex': 'off',
			'unicorn/prefer-code-point': 'off',
			'@typescript-eslint/prefer-nullish-coalescing': 'off',
			'unicorn/no-array-callback-reference': 'off',
			'unicorn/prefer-string-raw': 'off',
			'no-warning-comments': 'off',
			'@typescript-eslint/class-literal-property-style': 'off',
			'unicorn/prefer-event-target': 'off',
			'unicorn/no-array-reduce': 'off',
			'no-useless-return': 'off',
			'unicorn/prefer-ternary': 'off',
			'require-unicode-regexp': 'off',
			'@stylistic/no-mixed-operators': 'off',
			'unicorn/no-await-expression-member': 'off',
			'@typescript-eslint/strict-void-return': 'off',
			'@typescript-eslint/member-ordering': 'off',
			'@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
			'@stylistic/max-len': 'off',
			'@typescript-eslint/no-unsafe-type-assertion': 'off',
		},
	},
	// The data flow (readme "Architecture"): argv → plan → protocol → security → metrics → output.
	// Imports against it are errors, so the layering stays as the readme draws it.
	{
		files: ['source/protocols/**'],
		rules: {
			'no-restricted-imports': ['error', {patterns: [protocolsLayer]}],
		},
	},
	{
		files: ['source/protocols/*/**'],
		rules: {
			'no-restricted-imports': ['error', {patterns: [protocolsLayer, protocolFolder]}],
		},
	},
	{
		files: ['source/security/**'],
		rules: {
			'no-restricted-imports': ['error', {
				patterns: [{
					group: ['../*', '!../errors.js', '!../safe-text.js', '!../shell.js', '!../color.js', '!../pki', '../pki/*', '!../pki/tlv.js'],
					message: 'The security layer imports only errors.ts and leaf helpers (safe-text.ts, shell.ts, color.ts, pki/tlv.ts): protocols and front ends call it, not the other way round.',
				}],
			}],
		},
	},
	{
		files: ['source/metrics/**'],
		rules: {
			'no-restricted-imports': ['error', {
				patterns: [{
					group: ['**/commands/**', '**/cli.js'],
					message: 'The metric model never imports commands or the entry point.',
				}],
			}],
		},
	},
	{
		// Commands and the live controller (live/) drive; render/ only draws and hands keys back.
		files: ['source/render/**'],
		rules: {
			'no-restricted-imports': ['error', {
				paths: ['node:net', 'node:tls', 'node:dgram', 'node:http', 'node:https', 'node:http2'].map(name => ({
					name,
					message: 'Renderers know nothing of sockets (docs/design.md#layering-rules): they get MetricDesc and Sample.',
				})),
				patterns: [{
					group: ['**/commands/**', '**/cli.js', '**/live/**'],
					message: 'Renderers never import commands, the live controller or the entry point: those call render/, not the other way round.',
				}, {
					group: ['**/sources.js', '**/connect.js', '**/security/tls.js', '**/protocols/*/client.js', '**/protocols/*/open.js'],
					message: 'Renderers know nothing of sockets (docs/design.md#layering-rules): they get MetricDesc and Sample.',
				}],
			}],
		},
	},
	{
		// The live controller (live/) drives the panes through their store's type; only live/panes.ts,
		// which mounts the Ink app, loads render/ code. What both need (time counters, thresholds)
		// lives in metrics/.
		files: ['source/live/!(panes).ts'],
		rules: {
			'@typescript-eslint/no-restricted-imports': ['error', {
				// Xo's own list, kept.
				paths: ['error', 'domain', 'freelist', 'smalloc', 'punycode', 'sys', 'querystring', 'colors'],
				patterns: [{
					group: ['**/render/**'],
					allowTypeImports: true,
					message: 'The live controller does not load render/ code (only live/panes.ts mounts the app): move what both need to metrics/.',
				}],
			}],
		},
	},
];

export default config;
