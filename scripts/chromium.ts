/**
 * Where the browser test (test/e2e/browser.test.ts) finds Chromium, and what to do when it is missing. Pure:
 * scripts/ensure-chromium.ts gathers the facts and runs the plan.
 */

/** Debian's package; the browser test's default when CHROMIUM_PATH is unset. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const APT_UPDATE = ['apt-get', 'update'];
export const APT_INSTALL_CHROMIUM = ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'];

export interface ChromiumFacts {
  /** CHROMIUM_PATH as the environment holds it. */
  chromiumPath: string | undefined;
  /** Whether the file the browser test will launch exists. */
  present: boolean;
  root: boolean;
  /** `sudo -n true` succeeds. */
  passwordlessSudo: boolean;
  aptGet: boolean;
}

export type ChromiumPlan =
  | { action: 'present'; path: string }
  | { action: 'install'; path: string; commands: string[][] }
  | { action: 'fail'; message: string };

/** The same rule as the browser test: CHROMIUM_PATH when set, else Debian's chromium. */
export function chromiumTarget(chromiumPath: string | undefined): string {
  return chromiumPath ?? DEBIAN_CHROMIUM;
}

export function planChromium(facts: ChromiumFacts): ChromiumPlan {
  const target = chromiumTarget(facts.chromiumPath);
  if (facts.present) return { action: 'present', path: target };
  if (facts.chromiumPath !== undefined) {
    return {
      action: 'fail',
      message:
        `CHROMIUM_PATH=${facts.chromiumPath}: no such file. The browser test launches that Chromium: ` +
        `fix the path, or unset CHROMIUM_PATH to use Debian's chromium at ${DEBIAN_CHROMIUM}.`,
    };
  }
  const manual = `${APT_UPDATE.join(' ')} && ${APT_INSTALL_CHROMIUM.join(' ')}`;
  if (!facts.aptGet) {
    return {
      action: 'fail',
      message:
        `Chromium not found at ${DEBIAN_CHROMIUM} and apt-get is not available to install it. The browser test ` +
        "drives Debian's chromium: install it, or set CHROMIUM_PATH to a Chromium binary.",
    };
  }
  if (!facts.root && !facts.passwordlessSudo) {
    return {
      action: 'fail',
      message:
        `Chromium not found at ${DEBIAN_CHROMIUM}. The browser test drives Debian's chromium; install it as ` +
        `root: ${manual} (or set CHROMIUM_PATH to a Chromium binary).`,
    };
  }
  const prefix = facts.root ? [] : ['sudo', '-n'];
  return {
    action: 'install',
    path: DEBIAN_CHROMIUM,
    commands: [APT_UPDATE, APT_INSTALL_CHROMIUM].map((command) => [...prefix, ...command]),
  };
}
