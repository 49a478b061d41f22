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
  // The command-line tool prints to the terminal: that is its job.
  { files: ['server/cli.ts'], rules: { 'no-console': 'off' } },
  { files: ['bench/**', 'test/**'], rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' } },
  // The add-on's sidebar code runs in the browser (Sidebar.html).
  { files: ['appsscript/src/sidebar/**'], languageOptions: { globals: { ...globals.browser } } },
);
