import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'appsscript/dist/**', 'airtable-scripts/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // A hub a newcomer reads (docs/architecture.md): no file over 400 lines, no function over 80, blank
  // lines and comments not counted. A longer one says why at its top, with an eslint-disable for it.
  {
    files: ['server/**/*.ts'],
    ignores: ['server/store/migrations.ts'], // generated-like data: one migration after another, never edited
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  // The command-line tool prints to the terminal: that is its job.
  { files: ['server/cli.ts', 'server/commands/**/*.ts'], rules: { 'no-console': 'off' } },
  { files: ['bench/**', 'test/**'], rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' } },
  // The add-on's sidebar code runs in the browser (Sidebar.html).
  { files: ['appsscript/src/sidebar/**'], languageOptions: { globals: { ...globals.browser } } },
);
