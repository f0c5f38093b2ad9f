/**
 * The side of scripts/apt-package.ts that touches the machine, shared by the `pretest` scripts that make sure
 * a test's Debian package is there (ensure-chromium.ts, ensure-pspp.ts): gather the facts, run the plan, and
 * never stop the other tests — when the package cannot be had, only the tests that need it fail, saying why.
 */
import { spawnSync } from 'node:child_process';
import { findOnPath } from '../lib/executables.js';
import type { AptFacts, AptPackage } from './apt-package.js';

type Plan =
  | { action: 'present' }
  | { action: 'install'; path: string; commands: string[][] }
  | { action: 'fail'; message: string };

export interface EnsureAptPackageOptions {
  pkg: AptPackage;
  /** Where the test will find the program now; undefined when it would not. */
  find: () => Promise<string | undefined>;
  plan: (facts: AptFacts) => Plan;
  /** Print the plan, change nothing. */
  dryRun: boolean;
}

export async function ensureAptPackage({
  pkg,
  find,
  plan: planFor,
  dryRun,
}: EnsureAptPackageOptions): Promise<void> {
  const found = await find();
  const present = found !== undefined;
  const root = process.getuid?.() === 0;
  const aptGet = !present && (await findOnPath('apt-get')) !== undefined;
  const passwordlessSudo =
    !present &&
    !root &&
    aptGet &&
    (await findOnPath('sudo')) !== undefined &&
    spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

  const plan = planFor({ present, root, passwordlessSudo, aptGet });
  const warn = (message: string): void => {
    const usedBy = pkg.usedBy.charAt(0).toUpperCase() + pkg.usedBy.slice(1);
    process.stderr.write(`${message}\n${usedBy} will fail without it; the other tests run.\n`);
  };

  if (plan.action === 'present') {
    process.stdout.write(`${pkg.title}: ${found}\n`);
    return;
  }
  if (plan.action === 'fail') {
    warn(plan.message);
    return;
  }
  const shown = plan.commands.map((command) => command.join(' ')).join(' && ');
  if (dryRun) {
    process.stdout.write(`${pkg.title} not found ${pkg.lookedFor}; would run: ${shown}\n`);
    return;
  }
  process.stderr.write(
    `${pkg.title} not found ${pkg.lookedFor}: installing Debian's ${pkg.package} for ${pkg.usedBy} ` +
      `(takes a while): ${shown}\n`,
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
      return;
    }
  }
  const installed = await find();
  if (installed !== undefined) process.stdout.write(`${pkg.title}: ${installed}\n`);
  else warn(`apt-get installed ${pkg.package} but ${pkg.title} is still not found ${pkg.lookedFor}.`);
}
