/**
 * Finds the Temporal CLI (TEMPORAL_CLI_PATH, PATH, Go's bin folder) or builds it once with `go install`, so a
 * fresh clone needs no step by hand. Prints the path it found.
 *
 * npm runs it before the tests (`pretest`: no CLI fails) and after `npm ci` (`postinstall`, through
 * scripts/postinstall.mjs, with `--postinstall`: when the CLI cannot be found or built it only warns, since
 * it can still be given with TEMPORAL_CLI_PATH or built later, and the install goes on).
 */
import { TemporalCliNotFoundError, ensureTemporalCli } from '../lib/temporal-cli.js';

const postinstall = process.argv.includes('--postinstall');
const explicit = process.env.TEMPORAL_CLI_PATH?.trim() || undefined;

try {
  const cli = await ensureTemporalCli({ explicit });
  process.stdout.write(`Temporal CLI: ${cli}\n`);
} catch (error) {
  if (!(error instanceof TemporalCliNotFoundError)) throw error;
  // No CLI and no Go to build it, or the build failed: the library's message says which, and what to do.
  process.stderr.write(`${error.message}\n`);
  if (postinstall) {
    // The install itself is fine: `npx verbatim` tries the build again, or takes TEMPORAL_CLI_PATH.
    process.stderr.write(
      'verbatim postinstall: the install goes on without the Temporal CLI; `npx verbatim` will try again ' +
        '(or set TEMPORAL_CLI_PATH), and `npm test` fails until it is there.\n',
    );
  } else {
    process.exitCode = 1;
  }
}
