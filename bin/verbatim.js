#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a checkout (no build step); the production image, which has
// no sources and no tsx, runs the compiled dist/ instead.
import { existsSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

// npm runs a bin (`npx verbatim …`, `npm start`) as `sh -c '…'`, forwards SIGTERM and SIGINT to that shell
// only, and Debian's sh (dash) neither execs the command nor passes the signal on: `kill <npm pid>` ended npm
// and the shell, and left verbatim and its Temporal server running. Under npm, losing the parent shell is
// that stop request, so it is relayed as a SIGTERM (a stop already under way ignores it).
if (process.env.npm_lifecycle_event !== undefined && process.platform !== 'win32') {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  watch.unref();
}

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(`${root}cli/main.ts`)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}
