/**
 * A million answers in one job (`npm run bench -- million [--rows 100000,1000000]`): a generated workbook
 * (bench/rich-survey.ts: shared strings, styles, merges, hyperlinks, a validation, a note, defined names,
 * a second sheet) coded end to end against the simulator with no latency, by a `verbatim worker` process on
 * the bench's dev server. Prints rows per second, the peak RSS of the worker, the dev server and this
 * process (simulator and client), and the history of every run; checks every row coded once, in place,
 * with its own values, and every part the coded sheet does not touch kept byte for byte.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { parse } from 'csv-parse';

import { columnIndex } from '../domain/columns.js';
import type { Category } from '../domain/categories.js';
import type { JobOptions, JobPlan } from '../domain/job.js';
import { createJobService } from '../jobs/service.js';
import { inspectColumn } from '../sheets/index.js';
import type { SpanRecord } from '../activities/stored.js';
import type { ClassifyJobResult } from '../workflows/definitions.js';
import type { Bench } from './harness.js';
import { startWorker } from './harness.js';
import { checkKeptParts } from './parts.js';
import { peakRssKb, resetPeakRss } from './proc.js';
import { EDITED_PARTS, richRow, writeRichSurvey } from './rich-survey.js';
import { expectedLabels, makeAnswers } from './survey.js';

export const MILLION = {
  sizes: [100_000, 1_000_000],
  /** The upper end of the README's advice for batches with no budget binding (10–20). */
  batchSize: 20,
  window: 50,
} as const;

export interface RunHistory {
  readonly events: number;
  /** prepareJob or writeOutput, when the run holds it: scheduled to completed, ms. */
  readonly prepareMs?: number;
  readonly writeOutputMs?: number;
}

export interface MillionRun {
  readonly rows: number;
  readonly jobId: string;
  readonly inputMiB: number;
  readonly outputMiB: number;
  /** Job created to result. */
  readonly wallMs: number;
  readonly rowsPerSecond: number;
  /** Kernel peak RSS (VmHWM, reset at the job's start) of each process, MiB. */
  readonly peakRssMiB: { readonly worker?: number; readonly temporal?: number; readonly bench?: number };
  readonly runs: readonly RunHistory[];
  readonly batches: number;
  readonly check: { readonly ok: boolean; readonly problems: readonly string[]; readonly partsKept: number };
}

function jobOptions(): JobOptions {
  return {
    model: 'gpt-4o-mini',
    temperature: 0.1,
    batchSize: MILLION.batchSize,
    batchTokenTarget: 3_000,
    parallel: true,
    maxWorkers: MILLION.window,
    minResponsesForParallel: 100,
    rateLimitDelayMs: 0,
    retry: {
      maximumAttempts: 10,
      initialIntervalMs: 200,
      maximumIntervalMs: 5_000,
      heartbeatTimeoutMs: 30_000,
    },
  };
}

export async function millionRows(
  bench: Bench,
  categories: readonly Category[],
  sizes: readonly number[],
  log: (line: string) => void,
): Promise<MillionRun[]> {
  const runs: MillionRun[] = [];
  for (const rows of sizes) {
    log(`million: writing a ${rows.toLocaleString('en')}-row workbook…`);
    const texts = makeAnswers(rows);
    const file = path.join(bench.dataDir, `rich-${rows}.xlsx`);
    await writeRichSurvey(file, rows, (i) => texts[i - 1] ?? '');
    const taskQueue = `bench-million-${randomBytes(3).toString('hex')}`;
    const worker = await startWorker(bench, { taskQueue, slots: MILLION.window, rateLimitDelayMs: 0 });
    try {
      bench.sim.configure({
        rpm: undefined,
        tpm: undefined,
        timeScale: 1,
        faults: [],
        latency: { meanMs: 0 },
        rateLimitHeaders: true,
      });
      for (const pid of [worker.pid, bench.temporalPid, process.pid]) resetPeakRss(pid);
      log(`million: coding ${rows.toLocaleString('en')} rows…`);
      const jobs = createJobService({
        client: bench.client,
        store: bench.store,
        taskQueue,
        searchAttributes: true,
        inspect: inspectColumn,
      });
      const startedAt = performance.now();
      const started = await jobs.create({
        fileName: path.basename(file),
        source: { path: file },
        column: 'E2',
        categories,
        options: jobOptions(),
        idFrom: 'random',
      });
      const result = await started.handle.result();
      const wallMs = performance.now() - startedAt;
      const mib = (kb: number | undefined) => (kb === undefined ? undefined : kb / 1024);
      const peakRss = {
        worker: mib(peakRssKb(worker.pid)),
        temporal: mib(peakRssKb(bench.temporalPid)),
        bench: mib(peakRssKb(process.pid)),
      };
      log(`million: ${rows.toLocaleString('en')} rows coded in ${(wallMs / 1000).toFixed(1)} s; checking…`);
      const history = await runHistories(bench.client, started.jobId);
      const output = bench.store.file(started.jobId, result.output.xlsx);
      const check = await checkJob(bench, started.jobId, result, texts, categories);
      const parts = await checkKeptParts(
        bench.store.file(started.jobId, 'input.xlsx'),
        output,
        EDITED_PARTS,
        'xl/worksheets/sheet1.xml',
      );
      const plan = JSON.parse(
        await fs.readFile(bench.store.file(started.jobId, 'plan.json'), 'utf8'),
      ) as JobPlan;
      // The targets, as problems the run reports: the worker under 1 GiB, every run's history under 10,000 events.
      const targets = [
        ...((peakRss.worker ?? 0) >= 1024
          ? [`worker peak RSS ${Math.round(peakRss.worker ?? 0)} MiB ≥ 1 GiB`]
          : []),
        ...history.flatMap((run, i) =>
          run.events >= 10_000 ? [`run ${i + 1}: ${run.events} events ≥ 10,000`] : [],
        ),
      ];
      runs.push({
        rows,
        jobId: started.jobId,
        inputMiB: (await fs.stat(file)).size / 2 ** 20,
        outputMiB: (await fs.stat(output)).size / 2 ** 20,
        wallMs,
        rowsPerSecond: rows / (wallMs / 1000),
        peakRssMiB: peakRss,
        runs: history,
        batches: plan.batches,
        check: {
          ok: check.length === 0 && parts.problems.length === 0 && targets.length === 0,
          problems: [...targets, ...check, ...parts.problems].slice(0, 20),
          partsKept: parts.identical.length,
        },
      });
      await fs.rm(bench.store.dir(started.jobId), { recursive: true, force: true });
      await fs.rm(file, { force: true });
    } finally {
      await worker.stop();
    }
  }
  return runs;
}

/** Events of every run, continue-as-new followed one run at a time (a million rows: ~100 runs). */
async function runHistories(client: Client, jobId: string): Promise<RunHistory[]> {
  const description = await client.workflow.getHandle(jobId).describe();
  const out: RunHistory[] = [];
  for (let runId = description.raw.workflowExecutionInfo?.firstRunId ?? undefined; runId;) {
    const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
    const events = history.events ?? [];
    const span = (name: string): number | undefined => {
      const scheduled = events.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name,
      );
      const id = scheduled ? String(scheduled.eventId) : undefined;
      const done = events.find(
        (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id,
      );
      return scheduled && done ? ms(done.eventTime) - ms(scheduled.eventTime) : undefined;
    };
    const prepareMs = span('prepareJob');
    const writeOutputMs = span('writeOutput');
    out.push({
      events: events.length,
      ...(prepareMs !== undefined ? { prepareMs } : {}),
      ...(writeOutputMs !== undefined ? { writeOutputMs } : {}),
    });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

function ms(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return ts ? Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6) : 0;
}

/**
 * Every row coded once, in place, with its values: one stored result per batch, the batches' answers
 * contiguous and covering every unique answer once, and in the output CSV (streamed) one line per sheet row,
 * in order, with its ID, answer and score as written and the simulator's label for its answer.
 */
async function checkJob(
  bench: Bench,
  jobId: string,
  result: ClassifyJobResult,
  texts: readonly string[],
  categories: readonly Category[],
): Promise<string[]> {
  const problems: string[] = [];
  const { store } = bench;
  const plan = JSON.parse(await fs.readFile(store.file(jobId, 'plan.json'), 'utf8')) as JobPlan;
  const results = (await fs.readdir(path.join(store.dir(jobId), 'results'))).filter((f) =>
    f.endsWith('.json'),
  );
  if (results.length !== plan.batches)
    problems.push(`${results.length} stored results for ${plan.batches} batches`);
  const spans = JSON.parse(await fs.readFile(store.file(jobId, 'spans.json'), 'utf8')) as SpanRecord[];
  let next = 0;
  for (const [, , , answers, first] of spans) {
    if (first !== next) problems.push(`a batch starts at answer ${first}, expected ${next}`);
    next = first + answers;
  }
  if (next !== plan.uniqueAnswers) problems.push(`${next} answers batched of ${plan.uniqueAnswers}`);
  if (result.partial) problems.push('the result is partial');
  if (result.stats.fallbackRows > 0) problems.push(`${result.stats.fallbackRows} rows fell back`);

  const labels = expectedLabels(texts, categories);
  const label = (columnIndex(plan.categoryColumn) ?? 0) - 1;
  const parser = createReadStream(store.file(jobId, result.output.csv)).pipe(
    parse({ bom: true, relax_column_count: true }),
  );
  let line = 0;
  for await (const fields of parser as AsyncIterable<string[]>) {
    line += 1;
    if (line === 1) {
      if (fields[label] !== 'E2 category') problems.push(`header: ${JSON.stringify(fields)}`);
      continue;
    }
    const i = line - 1;
    const row = richRow(i);
    const want = [String(row.id), row.blank ? '' : (texts[i - 1] ?? ''), String(row.score)];
    const wantLabel = row.blank ? '' : (labels[i - 1] ?? '');
    if (fields.slice(0, 3).join('\u0001') !== want.join('\u0001') || (fields[label] ?? '') !== wantLabel) {
      if (problems.length < 20) problems.push(`sheet row ${i + 1}: ${JSON.stringify(fields)}`);
    }
  }
  if (line !== texts.length + 1)
    problems.push(`${line} lines in the output CSV, expected ${texts.length + 1}`);
  return problems;
}

export function millionTableText(runs: readonly MillionRun[]): string {
  const head = [
    'rows',
    'in MiB',
    'wall s',
    'rows/s',
    'prepare s',
    'write s',
    'worker MiB',
    'dev server MiB',
    'bench MiB',
    'runs',
    'events/run (max)',
    'check',
  ];
  const lines = runs.map((r) => {
    const prepare = r.runs.find((h) => h.prepareMs !== undefined)?.prepareMs;
    const write = r.runs.find((h) => h.writeOutputMs !== undefined)?.writeOutputMs;
    const events = r.runs.map((h) => h.events);
    const f = (n: number | undefined, d = 0) => (n === undefined ? '–' : n.toFixed(d));
    return [
      r.rows.toLocaleString('en'),
      f(r.inputMiB, 1),
      f(r.wallMs / 1000, 1),
      Math.round(r.rowsPerSecond).toLocaleString('en'),
      f(prepare === undefined ? undefined : prepare / 1000, 1),
      f(write === undefined ? undefined : write / 1000, 1),
      f(r.peakRssMiB.worker),
      f(r.peakRssMiB.temporal),
      f(r.peakRssMiB.bench),
      String(r.runs.length),
      `${Math.round(events.reduce((a, b) => a + b, 0) / Math.max(1, events.length))} (${Math.max(0, ...events)})`,
      r.check.ok ? `ok, ${r.check.partsKept} parts kept` : `FAIL: ${r.check.problems.join('; ')}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: readonly string[]) =>
    `   ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ')}`;
  return [row(head), ...lines.map(row)].join('\n');
}
