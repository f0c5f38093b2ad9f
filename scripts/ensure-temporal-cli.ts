/**
 * Finds the Temporal CLI (TEMPORAL_CLI_PATH, PATH, Go's bin folder) or builds it once with `go install`, so a
 * fresh clone needs no step by hand. Prints the path it found.
 *
 * npm runs it before the tests (`pretest`: no CLI fails) and after `npm ci` (`postinstall`, through
 * scripts/postinstall.mjs, with `--postinstall`: when the CLI cannot be found or built it only warns, since
 * it can still be given with TEMPORAL_CLI_PATH or built later, and the install goes on).
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TemporalCliNotFoundError, ensureTemporalCli, findTemporalCli } from '../lib/temporal-cli.js';

const postinstall = process.argv.includes('--postinstall');
const explicit = process.env.TEMPORAL_CLI_PATH?.trim() || undefined;

try {
  if (postinstall && !(await findTemporalCli(explicit)) && !(await goInstalled())) {
    process.stderr.write(
      'verbatim postinstall: the Temporal CLI was not found (TEMPORAL_CLI_PATH, PATH, Go bin folder) and Go is ' +
        'not installed to build it. The install goes on, but `npx verbatim` will need TEMPORAL_CLI_PATH set to ' +
        'a temporal binary (or TEMPORAL_ADDRESS set to a running server), and `npm test` will fail until then.\n',
    );
  } else {
    const cli = await ensureTemporalCli({ explicit });
    process.stdout.write(`Temporal CLI: ${cli}\n`);
  }
} catch (error) {
  if (!(error instanceof TemporalCliNotFoundError)) throw error;
  process.stderr.write(`${error.message}\n`);
  if (postinstall) {
    // The install itself is fine: `npx verbatim` tries the build again, or takes TEMPORAL_CLI_PATH.
    process.stderr.write(
      'verbatim postinstall: the install goes on without the Temporal CLI; `npx verbatim` will try again.\n',
    );
  } else {
    process.exitCode = 1;
  }
}

/** Where lib/temporal-cli.ts looks for Go: the PATH, then /usr/local/go/bin. */
async function goInstalled(): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/go/bin'].filter(Boolean);
  for (const dir of dirs) {
    try {
      await fs.access(path.join(dir, 'go'), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}
