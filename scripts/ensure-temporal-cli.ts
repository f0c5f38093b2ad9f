/**
 * Run by npm before the tests: finds the Temporal CLI (TEMPORAL_CLI_PATH, PATH, Go's bin folder) or builds
 * it once with `go install`, so a fresh clone needs no step by hand. Prints the path it found.
 */
import { ensureTemporalCli } from '../lib/temporal-cli.js';

const cli = await ensureTemporalCli({ explicit: process.env.TEMPORAL_CLI_PATH?.trim() || undefined });
process.stdout.write(`Temporal CLI: ${cli}\n`);
