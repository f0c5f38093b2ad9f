// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** What code in Temporal's workflow sandbox may not import at runtime (workflows/ and domain/). */
const sandboxPaths = [
  ...nodeBuiltins.map((name) => ({
    name,
    message: 'Workflow sandbox code must not use Node built-ins.',
    allowTypeImports: true,
  })),
  { name: 'openai', message: 'The LLM call belongs in an activity.', allowTypeImports: true },
  { name: 'exceljs', message: 'Excel I/O belongs in sheets/ and activities/.', allowTypeImports: true },
  ...['@temporalio/worker', '@temporalio/client', '@temporalio/activity'].map((name) => ({
    name,
    message: 'Not available inside the workflow sandbox.',
    allowTypeImports: true,
  })),
];
const sandboxPatterns = [
  { group: ['**/lib/**', '../lib/*'], message: 'lib/ is Node-only plumbing.', allowTypeImports: true },
  ...['activities', 'sheets', 'jobs', 'worker', 'api', 'cli', 'simulator'].map((room) => ({
    group: [`**/${room}/**`, `../${room}/*`],
    message: `${room}/ runs outside the workflow sandbox: import its types only.`,
    allowTypeImports: true,
  })),
];

/** The type-checked rules' settings, for the TypeScript sources and the web page alike. */
const typedRules = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/consistent-type-imports': 'error',
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: typedRules,
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox, and so does every domain/ module it imports at
    // runtime: no I/O, no Node, no side-effect libraries (type imports are fine: they vanish when compiled).
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: sandboxPaths, patterns: sandboxPatterns },
      ],
    },
  },
  {
    // domain/ is pure: not even Temporal's workflow API (workflows call it, not the other way round).
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: sandboxPaths,
          patterns: [
            ...sandboxPatterns,
            { group: ['@temporalio/*'], message: 'domain/ is pure: no Temporal.', allowTypeImports: true },
            {
              group: ['../*', '!../domain/*'],
              message: 'domain/ imports only domain/.',
              allowTypeImports: false,
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
  {
    // The web page: ES modules the browser loads as they are (no build step), type-checked with their own
    // tsconfig (the DOM, no Node), so linted with type information as the TypeScript sources are. As there,
    // TypeScript checks every name against its libraries (no-undef off, as typescript-eslint advises).
    files: ['api/public/**/*.js'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...typedRules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.\\.?/)',
              message:
                'The browser loads modules by URL, with no build step: import a relative file (./x.js).',
            },
          ],
        },
      ],
    },
  },
);
