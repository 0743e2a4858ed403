/** @type {import('xo').FlatXoConfig} */
const config = [
	{
		ignores: ['dist/**', 'bench/results/**', 'media/**'],
	},
	{
		react: true,
		prettier: false,
		space: false,
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
			'complexity': 'off',
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
		},
	},
];

export default config;
