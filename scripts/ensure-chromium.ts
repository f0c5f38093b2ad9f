/**
 * Run by npm before the tests (`pretest`): makes sure the browser test finds Chromium (CHROMIUM_PATH, else
 * Debian's /usr/bin/chromium), installing Debian's package with apt-get when it is missing and this user is
 * root or has passwordless sudo; otherwise says the command to run. It never stops the other tests: when
 * Chromium cannot be had, the browser test alone fails, saying why. `--dry-run` prints the plan only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findOnPath } from '../lib/executables.js';
import { chromiumTarget, planChromium } from './chromium.js';

const dryRun = process.argv.includes('--dry-run');
const chromiumPath = process.env.CHROMIUM_PATH;
const present = existsSync(chromiumTarget(chromiumPath));
const root = process.getuid?.() === 0;
const aptGet = !present && (await findOnPath('apt-get')) !== undefined;
const passwordlessSudo =
  !present &&
  !root &&
  aptGet &&
  (await findOnPath('sudo')) !== undefined &&
  spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

const plan = planChromium({ chromiumPath, present, root, passwordlessSudo, aptGet });

if (plan.action === 'present') {
  process.stdout.write(`Chromium: ${plan.path}\n`);
} else if (plan.action === 'fail') {
  warn(plan.message);
} else {
  const shown = plan.commands.map((command) => command.join(' ')).join(' && ');
  if (dryRun) {
    process.stdout.write(`Chromium missing at ${plan.path}; would run: ${shown}\n`);
  } else {
    process.stderr.write(
      `Chromium missing at ${plan.path}: installing Debian's chromium for the browser test (takes a while): ${shown}\n`,
    );
    for (const [command = '', ...args] of plan.commands) {
      const result = spawnSync(command, args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (result.status !== 0) {
        const why =
          result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit ${result.status}`);
        warn(`Failed (${why}): ${[command, ...args].join(' ')}`);
        process.exit(0);
      }
    }
    if (existsSync(plan.path)) process.stdout.write(`Chromium: ${plan.path}\n`);
    else warn(`apt-get installed chromium but ${plan.path} is still missing.`);
  }
}

/** Chromium is missing: the browser test will fail and say so; the other tests run all the same. */
function warn(message: string): void {
  process.stderr.write(`${message}\nThe browser test will fail without it; the other tests run.\n`);
}
