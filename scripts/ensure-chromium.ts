/**
 * Run by npm before the tests (`pretest`): makes sure the browser test finds Chromium (CHROMIUM_PATH, else
 * Debian's /usr/bin/chromium), installing Debian's package with apt-get when it is missing and this user is
 * root or has passwordless sudo; otherwise says the command to run. It never stops the other tests: when
 * Chromium cannot be had, the browser test alone fails, saying why. `--dry-run` prints the plan only.
 */
import { existsSync } from 'node:fs';
import { ensureAptPackage } from './apt-install.js';
import { CHROMIUM_PACKAGE, chromiumTarget, planChromium } from './chromium.js';

const chromiumPath = process.env.CHROMIUM_PATH;
const target = chromiumTarget(chromiumPath);

await ensureAptPackage({
  pkg: CHROMIUM_PACKAGE,
  find: () => Promise.resolve(existsSync(target) ? target : undefined),
  plan: (facts) => planChromium({ ...facts, chromiumPath }),
  dryRun: process.argv.includes('--dry-run'),
});
