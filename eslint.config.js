import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'docs/api/**',
      'test/interop/build/**',
      'test/samples/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        DOMException: 'readonly',
        queueMicrotask: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Promises left unhandled, or passed where a callback's result is ignored, lose their
    // rejections: type information tells them apart. The types come from one program over every
    // linted file (tsconfig.eslint.json): the project service would look for a tsconfig.json
    // beside each file, and those of the packages hold src alone (tests are in
    // tsconfig.test.json); and one program costs less than one per tsconfig.
    files: [
      'packages/*/src/**/*.ts',
      'packages/*/test/**/*.ts',
      'test/**/*.ts',
      'examples/**/*.ts',
    ],
    ignores: ['test/samples/preludes/**'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.eslint.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import each other as `./x.js`: resolve that to the `.ts` beside it.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      // A module that imports itself back runs with half its bindings undefined. Type-only
      // imports are erased from the output and so are not counted.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'zookeeper',
              message: 'Only packages/core/src/binding.ts may import the binding.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CommonJS program the packaging suite runs against the packed packages: require() is
    // what it tests.
    files: ['test/packaging/consumer/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['packages/core/src/binding.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Preludes declare what a docs fragment uses: nothing in them is used where they are.
    files: ['test/samples/preludes/**'],
    rules: {
      '@typescript-eslint/no-unused-vars': 'off',
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
);
