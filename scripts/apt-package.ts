/**
 * What to do when a test needs a Debian package that is missing: use it, install it with apt-get (as root or
 * with passwordless sudo), or say which command to run. Pure: scripts/apt-install.ts gathers the facts and
 * runs the plan; scripts/chromium.ts and scripts/pspp.ts describe their package.
 */

export const APT_UPDATE = ['apt-get', 'update'];

/** A Debian package a test needs, described for the plan's commands and messages. */
export interface AptPackage {
  /** Shown in messages: `Chromium`, `pspp`. */
  title: string;
  /** The Debian package name. */
  package: string;
  /** Where the program is looked for, as a message says it: `at /usr/bin/chromium`, `on the PATH`. */
  lookedFor: string;
  /** The path apt-get installs it to. */
  installedPath: string;
  /** Who needs it, as a sentence start: `The browser test drives Debian's chromium`. */
  neededBy: string;
  /** The tests that fail without it: `the browser test`. */
  usedBy: string;
  /** Another way to provide it, if any: `set CHROMIUM_PATH to a Chromium binary`. */
  alternative?: string;
}

export interface AptFacts {
  /** The program is already where the test will look. */
  present: boolean;
  root: boolean;
  /** `sudo -n true` succeeds. */
  passwordlessSudo: boolean;
  aptGet: boolean;
}

export type AptPlan =
  | { action: 'present' }
  | { action: 'install'; path: string; commands: string[][] }
  | { action: 'fail'; message: string };

export function aptInstallCommand(pkg: AptPackage): string[] {
  return ['apt-get', 'install', '-y', '--no-install-recommends', pkg.package];
}

export function planAptPackage(pkg: AptPackage, facts: AptFacts): AptPlan {
  if (facts.present) return { action: 'present' };
  const manual = `${APT_UPDATE.join(' ')} && ${aptInstallCommand(pkg).join(' ')}`;
  if (!facts.aptGet) {
    return {
      action: 'fail',
      message:
        `${pkg.title} not found ${pkg.lookedFor} and apt-get is not available to install it. ${pkg.neededBy}: ` +
        `install it${pkg.alternative ? `, or ${pkg.alternative}` : ''}.`,
    };
  }
  if (!facts.root && !facts.passwordlessSudo) {
    return {
      action: 'fail',
      message:
        `${pkg.title} not found ${pkg.lookedFor}. ${pkg.neededBy}; install it as root: ${manual}` +
        `${pkg.alternative ? ` (or ${pkg.alternative})` : ''}.`,
    };
  }
  const prefix = facts.root ? [] : ['sudo', '-n'];
  return {
    action: 'install',
    path: pkg.installedPath,
    commands: [APT_UPDATE, aptInstallCommand(pkg)].map((command) => [...prefix, ...command]),
  };
}
