/**
 * Where the SPSS file tests (test/sheets/sav.test.ts) find GNU PSPP, which reads every written `.sav` back,
 * and what to do when it is missing. scripts/ensure-pspp.ts runs the plan before the tests.
 */
import { findOnPath } from '../lib/executables.js';
import type { AptFacts, AptPackage, AptPlan } from './apt-package.js';
import { planAptPackage } from './apt-package.js';

export const PSPP_PACKAGE: AptPackage = {
  title: 'pspp',
  package: 'pspp',
  lookedFor: 'on the PATH',
  installedPath: '/usr/bin/pspp',
  neededBy: "The SPSS file tests read every written .sav back with Debian's pspp",
  usedBy: 'the SPSS file tests',
};

/** The `pspp` the tests run: the first on the PATH. */
export function findPspp(): Promise<string | undefined> {
  return findOnPath('pspp');
}

export function planPspp(facts: AptFacts): AptPlan {
  return planAptPackage(PSPP_PACKAGE, facts);
}
