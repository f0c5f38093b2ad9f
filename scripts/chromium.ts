/**
 * Where the browser test (test/e2e/browser.test.ts) finds Chromium, and what to do when it is missing. Pure:
 * scripts/ensure-chromium.ts gathers the facts and runs the plan.
 */
import type { AptFacts, AptPackage } from './apt-package.js';
import { planAptPackage } from './apt-package.js';

/** Debian's package; the browser test's default when CHROMIUM_PATH is unset. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_PACKAGE: AptPackage = {
  title: 'Chromium',
  package: 'chromium',
  lookedFor: `at ${DEBIAN_CHROMIUM}`,
  installedPath: DEBIAN_CHROMIUM,
  neededBy: "The browser test drives Debian's chromium",
  usedBy: 'the browser test',
  alternative: 'set CHROMIUM_PATH to a Chromium binary',
};

export interface ChromiumFacts extends AptFacts {
  /** CHROMIUM_PATH as the environment holds it. */
  chromiumPath: string | undefined;
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
  if (facts.present) return { action: 'present', path: chromiumTarget(facts.chromiumPath) };
  if (facts.chromiumPath !== undefined) {
    // Installing Debian's would not help: the test would still launch the named file.
    return {
      action: 'fail',
      message:
        `CHROMIUM_PATH=${facts.chromiumPath}: no such file. The browser test launches that Chromium: ` +
        `fix the path, or unset CHROMIUM_PATH to use Debian's chromium at ${DEBIAN_CHROMIUM}.`,
    };
  }
  const plan = planAptPackage(CHROMIUM_PACKAGE, facts);
  return plan.action === 'present' ? { action: 'present', path: DEBIAN_CHROMIUM } : plan;
}
