// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'bench/results/**', 'api/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node, no side-effect libraries.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflows must not use Node built-ins.',
              allowTypeImports: true,
            })),
            { name: 'openai', message: 'The LLM call belongs in an activity.', allowTypeImports: true },
            { name: 'exceljs', message: 'Excel I/O belongs in an activity.', allowTypeImports: true },
            {
              name: '@temporalio/worker',
              message: 'Not available inside the workflow sandbox.',
              allowTypeImports: true,
            },
            {
              name: '@temporalio/client',
              message: 'Not available inside the workflow sandbox.',
              allowTypeImports: true,
            },
            {
              name: '@temporalio/activity',
              message: 'Not available inside the workflow sandbox.',
              allowTypeImports: true,
            },
          ],
          patterns: [
            {
              group: ['**/lib/**', '../lib/*'],
              message: 'lib/ is Node-only plumbing.',
              allowTypeImports: true,
            },
            {
              group: ['**/activities/**', '../activities/*'],
              message: 'Import activity types only.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
);
