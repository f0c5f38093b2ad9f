#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a checkout (no build step); the production image, which has
// no sources and no tsx, runs the compiled dist/ instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(`${root}cli/main.ts`)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}
