/**
 * `npx tsx bench/soak.ts [--answers 10000]`
 *
 * The soak under faults (issue 16, point 6; bench/soak-scenario.ts): one job on the embedded Temporal server
 * as verbatim starts it, two `verbatim worker` processes, one SIGKILLed and restarted twice, a simulated model
 * failing as SOAK_FAULTS says. Prints the figures and whether each invariant held; writes
 * bench/results/<date>-soak.json. Exits 1 when an invariant broke.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startBench } from './harness.js';
import { SOAK_FAULTS, SOAK_SETUP, runSoak } from './soak-scenario.js';

const { values } = parseArgs({
  options: { answers: { type: 'string', default: String(SOAK_SETUP.answers) } },
});
const answers = Number(values.answers);
if (!Number.isInteger(answers) || answers < 100) throw new Error('--answers must be a whole number ≥ 100');

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const startedAt = new Date();
const machine = {
  cpus: os.cpus().length,
  node: process.version,
  loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  commit: git(['rev-parse', '--short', 'HEAD']),
  uncommittedChanges: git(['status', '--porcelain']) !== '',
};

const bench = await startBench();
let outcome: Awaited<ReturnType<typeof runSoak>>;
try {
  outcome = await runSoak(
    {
      client: bench.client,
      temporalAddress: bench.temporalAddress,
      sim: bench.sim,
      dataDir: bench.dataDir,
      store: bench.store,
      searchAttributes: true,
      log,
    },
    { ...SOAK_SETUP, answers },
  );
} finally {
  await bench.close();
}

const { figures: f } = outcome;
const checks = Object.entries(outcome.checks) as Array<[string, readonly number[]]>;
const broken = checks.filter(([, list]) => list.length > 0);
const out = [
  `Soak under faults: ${f.answers} answers (${f.distinctAnswers} distinct), ${f.batches} batches, two workers, one SIGKILLed twice`,
  `  faults asked for (share of requests): ${Object.entries(SOAK_FAULTS)
    .map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`)
    .join(', ')}`,
  `  faults met: ${Object.entries(f.faults)
    .map(([k, v]) => `${k} ${v} (${((v / f.requests) * 100).toFixed(1)} %)`)
    .join(', ')}`,
  `  requests ${f.requests}: ${f.batches} batches + ${f.extraCalls} extra calls (${((f.extraCalls / f.batches) * 100).toFixed(1)} % more)`,
  `  salvage: ${f.salvagedBatches} batches, ${f.salvageRequests} requests, ${f.answersFallenBackAlone} answers fell back alone`,
  `  rows Other: ${f.rowsOther}, of which ${f.rowsOtherAfterFailure} after failing alone (the rest say nothing codable)`,
  `  kills: ${f.kills.map((k) => `at ${k.batchesDone} batches holding ${k.held}`).join('; ')}`,
  `  workflow runs: ${f.runs}; wall ${f.wallSeconds} s, ${f.rowsPerSecond} rows/s`,
  '',
  ...checks.map(
    ([name, list]) =>
      `  ${list.length === 0 ? 'PASS' : 'FAIL'}  ${name}${list.length ? `: ${list.slice(0, 10).join(', ')}` : ''}`,
  ),
];
process.stdout.write(`${out.join('\n')}\n`);

const report = {
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
  setup: {
    ...outcome.setup,
    faults: SOAK_FAULTS,
    temporal:
      'the embedded dev server as `verbatim classify` starts it (lib/dev-server.ts, SQLite in a file)',
    workers:
      'two `verbatim worker` processes; the second SIGKILLed while holding batches, past 1/4 and then past 1/2 of them, restarted each time',
  },
  figures: f,
  checks: outcome.checks,
};
const dir = path.join(ROOT, 'bench/results');
await fs.mkdir(dir, { recursive: true });
const file = path.join(dir, `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}Z-soak.json`);
await fs.writeFile(file, `${JSON.stringify(report, null, 1)}\n`);
log(`wrote ${path.relative(ROOT, file)} (${report.durationS} s)`);
process.exitCode = broken.length > 0 ? 1 : 0;

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}
