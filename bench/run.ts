/**
 * `npm run bench [-- original rate ceiling multi cost] [--temporal-store file|memory] [--dynamic-config KEY=VALUE]…`
 * `npm run bench -- million [--rows 100000,1000000]`: a million answers in one job (bench/million.ts), only
 * when named (about an hour on 2 busy cores).
 *
 * verbatim's throughput against the OpenAI-compatible simulator over HTTP, on one Temporal dev server, a
 * worker process per scenario. Prints the tables and PASS/FAIL per target; writes
 * bench/results/<time>.json and points latest.json at it (a partial run or an experiment: <time>-<what>.json only).
 * Exits 1 when a scenario broke (rows lost, an error).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startBench } from './harness.js';
import type { Target } from './report.js';
import { loadConfig } from '../lib/config.js';
import {
  ceilingFigures,
  ceilingTableText,
  costFigures,
  costTableText,
  multiFigures,
  multiTableText,
  originalFigures,
  originalTableText,
  rateFigures,
  rateTableText,
  targets,
  othersText,
  timelineTableText,
} from './report.js';
import {
  CEILING,
  CEILING_BUDGET,
  COST,
  LIMITS,
  MULTI_CODE,
  ORIGINAL_ANSWERS,
  RATE_WINDOW,
  SCALE_DIVISOR,
  SCALING,
  WARMUP_ANSWERS,
  ceiling,
  costComparison,
  makeRepeatsSurvey,
  makeSurvey,
  multiCode,
  originalTable,
  rateLimited,
} from './scenarios.js';
import { REPEATS, loadCategories } from './survey.js';
import type { MillionRun } from './million.js';
import { MILLION, millionRows, millionTableText } from './million.js';

const SCENARIOS = ['original', 'rate', 'ceiling', 'multi', 'cost', 'million'] as const;
/** BATCH_SIZE's default, as a job without the variable gets it: the cost table marks its row. */
const DEFAULT_BATCH_SIZE = loadConfig({}).job.batchSize;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'temporal-store': { type: 'string', default: 'file' },
    /** `KEY=VALUE`, passed to the dev server as --dynamic-config-value (repeatable), for experiments. */
    'dynamic-config': { type: 'string', multiple: true, default: [] },
    /** Sizes of the million scenario, comma-separated. */
    rows: { type: 'string' },
  },
});
const dynamicConfig = values['dynamic-config'];
const store = values['temporal-store'];
if (store !== 'file' && store !== 'memory') throw new Error('--temporal-store must be file or memory');
/** Anything but the embedded server as verbatim starts it is an experiment, and says so. */
const experiment = store === 'memory' || dynamicConfig.length > 0;
const unknown = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
if (unknown.length > 0)
  throw new Error(`unknown scenario ${unknown.join(', ')}: choose from ${SCENARIOS.join(', ')}`);
const wanted = (name: (typeof SCENARIOS)[number]) =>
  positionals.includes(name) || (positionals.length === 0 && name !== 'million');
const millionSizes = values.rows ? values.rows.split(',').map(Number) : [...MILLION.sizes];
if (millionSizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--rows takes whole numbers');

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const startedAt = new Date();
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  os: `${os.type()} ${os.release()}`,
  loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  commit: git(['rev-parse', '--short', 'HEAD']),
  uncommittedChanges: git(['status', '--porcelain']) !== '',
};
const setup = {
  scale: `1/${SCALE_DIVISOR} (every duration and budget window; budgets per scaled minute)`,
  ...SCALING,
  temporal: experiment
    ? `EXPERIMENT: temporal server start-dev, SQLite ${store === 'memory' ? 'in memory' : 'in a file'}${dynamicConfig.map((kv) => `, ${kv}`).join('')}`
    : 'the embedded dev server as `verbatim classify` starts it (lib/dev-server.ts, SQLite in a file)',
  worker:
    '`verbatim worker` (bin/verbatim.js) as a child process per scenario, on a fresh task queue, warmed up by a ' +
    `${WARMUP_ANSWERS}-answer job first (not measured)`,
  llm: 'the openai client (createLlmEndpoint) over HTTP to the simulator in the bench process',
  original: { answers: ORIGINAL_ANSWERS, batchSize: 10, workers: [1, 5, 10] },
  rateLimited: {
    ...LIMITS,
    window: RATE_WINDOW,
    floor:
      'floor = (S_N − C)·W/C + one latency; C the simulator limit, W its scaled minute, S_N the requests it admitted ' +
      '(RPM) or the sum of the tokens it charged them, ceil(chars/4) + max_completion_tokens each (TPM: stats.chargedTokens)',
  },
  ceiling: { ...CEILING, latencyMs: 0, rateLimitDelayMs: 0, budget: CEILING_BUDGET },
  million: { ...MILLION, latencyMs: 0, rateLimitDelayMs: 0, workbook: 'bench/rich-survey.ts' },
  multiCode: {
    ...MULTI_CODE,
    answers: ORIGINAL_ANSWERS,
    batchSize: 10,
    latency: 'fixedLatencyMs ± jitterMs + perOutputTokenMs × completion tokens (chars/4), both codings',
  },
  cost: {
    ...COST,
    workbooks: {
      repeats: `bench/survey.ts makeRepeatsAnswers: ${REPEATS.rows} rows, ${REPEATS.toCode} answers to code, ${REPEATS.unique} distinct (every batch size)`,
      distinct: `bench/survey.ts makeAnswers: ${ORIGINAL_ANSWERS} rows, every answer distinct (the default batch size)`,
    },
    defaultBatchSize: DEFAULT_BATCH_SIZE,
    prices:
      'gpt-4o-mini, synchronous: $0.15 input, $0.075 cached input, $0.60 output per million (domain/prices.ts)',
    original:
      'bench/original-layout.ts: ten answers a request as JSON, {"labels":[{"id","category"}]} back; sent straight to the simulator, 10 at a time',
    latency:
      'fixedLatencyMs ± jitterMs + perRealOutputTokenMs × tokenRatio × completion tokens (chars/4): tokenRatio = o200k tokens / chars-4 tokens of a compact answer',
    billedEstimate:
      'o200k tokens of the messages (+4 a message, +3) and of the schema without required/additionalProperties (+9), as openai-cookbook#2140 measured; the completion rebuilt from the stored labels',
  },
};

log(`machine: ${machine.cpus} cpus, ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);
const bench = await startBench(
  experiment ? { experiment: { inMemory: store === 'memory', dynamicConfig } } : {},
);
const results: Record<string, unknown> = {};
const errors: string[] = [];
let original: ReturnType<typeof originalFigures> | undefined;
let rate: ReturnType<typeof rateFigures> | undefined;
let ceil: Array<ReturnType<typeof ceilingFigures>> | undefined;
let multi: ReturnType<typeof multiFigures> | undefined;
let cost: ReturnType<typeof costFigures> | undefined;
let tokenRatio: number | undefined;
let million: MillionRun[] | undefined;
try {
  const categories = await loadCategories(ROOT);
  const survey = await makeSurvey(bench, categories, ORIGINAL_ANSWERS);
  const ctx = { bench, categories, warmup: await makeSurvey(bench, categories, WARMUP_ANSWERS), log };
  const attempt = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
      errors.push(message);
      log(`FAILED ${message}`);
    }
  };
  if (wanted('original'))
    await attempt('original', async () => {
      original = originalFigures(await originalTable(ctx, survey));
    });
  if (wanted('rate'))
    await attempt('rate', async () => {
      rate = rateFigures(await rateLimited(ctx, survey));
    });
  if (wanted('multi'))
    await attempt('multi', async () => {
      multi = multiFigures(await multiCode(ctx, survey));
    });
  if (wanted('cost'))
    await attempt('cost', async () => {
      const repeats = await makeRepeatsSurvey(bench, categories);
      const compared = await costComparison(ctx, { repeats, distinct: survey }, DEFAULT_BATCH_SIZE);
      tokenRatio = compared.tokenRatio;
      cost = costFigures(compared.runs, DEFAULT_BATCH_SIZE);
    });
  if (wanted('million'))
    await attempt('million', async () => {
      million = await millionRows(bench, categories, millionSizes, log);
      const broken = million.filter((r) => !r.check.ok);
      if (broken.length > 0)
        throw new Error(broken.map((r) => `${r.rows} rows: ${r.check.problems.join('; ')}`).join('\n'));
    });
  if (wanted('ceiling'))
    await attempt('ceiling', async () => {
      const big = await makeSurvey(bench, categories, CEILING.answers);
      ceil = [];
      for (const which of ['no budget', 'budget'] as const)
        ceil.push(ceilingFigures(await ceiling(ctx, big, which), which));
    });
} finally {
  await bench.close();
}

const verdicts: Target[] = targets(original, rate, cost);
const out: string[] = [
  '',
  `verbatim bench · ${startedAt.toISOString()} · ${machine.cpus} cpus · node ${machine.node} · load average at start ${machine.loadAverageAtStart.join(' ')}`,
  `time scaled 1/${SCALE_DIVISOR}: latency ${SCALING.latencyMs} ms ± ${SCALING.jitterMs} ms (the original's 4 s), RATE_LIMIT_DELAY ${SCALING.rateLimitDelayMs} ms (0.1 s), budget minute ${SCALING.budgetWindowMs} ms, retries ${SCALING.retryInitialMs} ms…${SCALING.retryMaxMs} ms`,
  `Temporal: ${setup.temporal}`,
];
if (original) {
  out.push(
    '',
    `1. The original table: ${ORIGINAL_ANSWERS} distinct answers, 10 a request (×${SCALE_DIVISOR} wall: the unscaled equivalent)`,
  );
  out.push(originalTableText(original));
  out.push(
    `   * projected at the real 4 s: the requests' time × ${SCALE_DIVISOR}, orchestration, prepare and write as measured (a model)`,
  );
  details(original.map((f) => ({ label: `${f.workers} worker(s)`, f })));
}
if (rate) {
  out.push(
    '',
    `2. Rate-limited: simulator at ${LIMITS.rpm} RPM, then ${LIMITS.tpm} TPM, per scaled minute (${SCALING.budgetWindowMs} ms); window ${RATE_WINDOW}`,
    `   floor = (S_N − C)·W/C + ${SCALING.latencyMs} ms, S_N from what the simulator admitted (RPM: requests; TPM: stats.chargedTokens = Σ ceil(chars/4) + max_completion_tokens)`,
  );
  out.push(rateTableText(rate));
  details(rate.map((f) => ({ label: `${f.limit} ${f.budget}`, f })));
}
if (ceil) {
  out.push(
    '',
    `3. Orchestration ceiling: no latency, RATE_LIMIT_DELAY 0 (CPU over first to last request; 100% = one core)`,
  );
  out.push(ceilingTableText(ceil));
  details(ceil.map((f) => ({ label: `ceiling, ${f.budget}`, f })));
}
if (multi) {
  out.push(
    '',
    `4. Multi-code: the original table's ${ORIGINAL_ANSWERS} answers at ${MULTI_CODE.workers} workers, single-label then multi-code (MAX_CODES ${MULTI_CODE.maxCodes})`,
    `   latency ${MULTI_CODE.fixedLatencyMs} ms ± ${SCALING.jitterMs} ms + ${Math.round(MULTI_CODE.perOutputTokenMs * 10) / 10} ms a completion token (70 tokens/s at scale 1/${SCALE_DIVISOR})`,
  );
  out.push(multiTableText(multi));
  details(multi.map((f) => ({ label: f.coding, f })));
}
if (cost) {
  out.push(
    '',
    `5. Cost: a workbook like the original table's (${REPEATS.rows} rows, ${REPEATS.toCode} answers to code, ${REPEATS.unique} distinct) and one of ${ORIGINAL_ANSWERS} distinct answers; the original tool's layout (10 a request, every answer sent) and verbatim's, ${COST.workers} workers; gpt-4o-mini prices; $ per answer coded`,
    `   tokens as the simulator counts them (4 characters a token), and as OpenAI would bill them (o200k, the schema in the prompt: an estimate); latency ${COST.fixedLatencyMs} ms + ${Math.round(COST.perRealOutputTokenMs * 10) / 10} ms a real output token (×${Math.round((tokenRatio ?? 1) * 100) / 100} a simulator token)`,
  );
  out.push(costTableText(cost));
  details(
    cost.flatMap((c) =>
      c.job
        ? [{ label: `cost, ${c.workbook}, batch ${c.batchSize}${c.batchApi ? ', Batch API' : ''}`, f: c.job }]
        : [],
    ),
  );
}
if (million) {
  out.push(
    '',
    `6. A million answers in one job: no latency, BATCH_SIZE ${MILLION.batchSize}, window ${MILLION.window}; peak RSS is each process's VmHWM over the job`,
  );
  out.push(millionTableText(million));
}
out.push('', 'Targets');
for (const t of verdicts) out.push(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.measured}`);
for (const e of errors) out.push(`  FAIL  ${e}`);
process.stdout.write(`${out.join('\n')}\n`);

Object.assign(results, {
  ...(original ? { original } : {}),
  ...(rate ? { rateLimited: rate } : {}),
  ...(ceil ? { ceiling: ceil } : {}),
  ...(multi ? { multiCode: multi } : {}),
  ...(cost ? { cost: { tokenRatio, runs: cost } } : {}),
  ...(million ? { million } : {}),
});
const report = {
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
  setup,
  results,
  targets: verdicts,
  errors,
};
const dir = path.join(ROOT, 'bench/results');
await fs.mkdir(dir, { recursive: true });
const json = `${JSON.stringify(report, null, 1)}\n`;
// latest.json is a full run on the server as verbatim starts it; a partial run or an experiment (another
// server configuration) is kept beside the others under a name that says what it is.
const suffix = [...(experiment ? ['experiment'] : []), ...positionals].join('-');
const file = path.join(
  dir,
  `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}Z${suffix ? `-${suffix}` : ''}.json`,
);
await fs.writeFile(file, json);
// latest.json points at the run rather than copying it: one file per run, and git keeps one copy.
if (!suffix) {
  const pointer = { run: path.basename(file), date: report.date, commit: machine.commit };
  await fs.writeFile(path.join(dir, 'latest.json'), `${JSON.stringify(pointer, null, 1)}\n`);
}
log(
  `wrote ${path.relative(ROOT, file)}${suffix ? '' : ' and bench/results/latest.json'} (${report.durationS} s)`,
);
process.exitCode = errors.length > 0 ? 1 : 0;

/** Where each job's time went, and what else was using the CPU meanwhile. */
function details(rows: Parameters<typeof timelineTableText>[0]): void {
  out.push('   where the time went, ms (from the workflow history; per-batch columns are averages):');
  out.push(timelineTableText(rows));
  out.push('   busiest other processes during each job (100% = one core):');
  out.push(othersText(rows));
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}
