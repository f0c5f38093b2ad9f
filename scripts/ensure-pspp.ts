/**
 * Run by npm before the tests (`pretest`): makes sure the SPSS file tests find `pspp` on the PATH, installing
 * Debian's package with apt-get when it is missing and this user is root or has passwordless sudo; otherwise
 * says the command to run. It never stops the other tests: without pspp only the SPSS file tests fail, saying
 * why. `--dry-run` prints the plan only.
 */
import { ensureAptPackage } from './apt-install.js';
import { PSPP_PACKAGE, findPspp, planPspp } from './pspp.js';

await ensureAptPackage({
  pkg: PSPP_PACKAGE,
  find: findPspp,
  plan: planPspp,
  dryRun: process.argv.includes('--dry-run'),
});
