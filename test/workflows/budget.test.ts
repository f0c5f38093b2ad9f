import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessages, maxCompletionTokens } from '../../domain/prompt.js';
import type { JobPlan } from '../../domain/job.js';
import { estimateRequestTokens, tokenCounter } from '../../activities/tokens.js';
import type { StoredBatch, StoredResult } from '../../activities/stored.js';
import type { ClassifyJobResult } from '../../workflows/definitions.js';
import { progressQuery } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startWorkerProcess, waitForPollers } from '../helpers/processes.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { CATEGORIES, cellText, expected, makeAnswers, readOutput, writeSurvey } from '../helpers/survey.js';

let h: Harness;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 20, jitterMs: 10 } });
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await h?.close();
});

/**
 * True when no window of arrivals holds more requests than a bucket of `capacity`, refilled at
 * capacity per `windowMs`, could have let through: the budget OpenAI enforces.
 */
function withinBudget(
  arrivals: readonly number[],
  capacity: number,
  windowMs: number,
): { ok: boolean; worst: number } {
  let worst = -Infinity;
  for (let i = 0; i < arrivals.length; i += 1) {
    for (let j = i; j < arrivals.length; j += 1) {
      const allowed = capacity + ((arrivals[j] ?? 0) - (arrivals[i] ?? 0)) * (capacity / windowMs);
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return { ok: worst <= 1, worst };
}

async function resultsOf(jobId: string): Promise<StoredResult[]> {
  const dir = path.join(h.store.dir(jobId), 'results');
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json'));
  return Promise.all(
    files.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as StoredResult),
  );
}

describe('request budget, adaptive window and auto batch size', () => {
  it('holds one request budget across two worker processes sharing a task queue', async () => {
    // Time scaled 20×: a budget "minute" lasts 3 s. The simulator enforces the same budget as OpenAI would.
    const rpm = 24;
    const windowMs = 3_000;
    h.sim.configure({ rpm, timeScale: windowMs / 60_000, latency: { meanMs: 20, jitterMs: 10 } });
    h.sim.resetStats();
    const taskQueue = uniqueTaskQueue('budget');
    const env = {
      TEMPORAL_ADDRESS: h.env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATA_DIR: h.dataDir,
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: h.sim.baseURL,
      OPENAI_RPM: String(rpm),
      OPENAI_BUDGET_WINDOW: String(windowMs / 1000),
      PARALLEL_MAX_WORKERS: '5',
    };
    processes.push(startWorkerProcess(env), startWorkerProcess(env));
    await waitForPollers(h.env.client, taskQueue, 2);
    try {
      const answers = makeAnswers(300);
      const file = path.join(h.dataDir, 'budget.xlsx');
      const survey = await writeSurvey(file, answers);
      const started = await h.jobs(taskQueue).create({
        fileName: 'budget.xlsx',
        source: { path: file },
        column: 'E2',
        categories: CATEGORIES,
        options: testOptions({ maxWorkers: 10, batchSize: 5 }),
        idFrom: 'random',
      });
      const result = (await started.handle.result()) as ClassifyJobResult;
      const stats = h.sim.stats();
      expect(result.progress.batches.total).toBeGreaterThan(rpm * 2); // the job spans several budget windows
      expect(stats.byStatus['429'] ?? 0).toBe(0);
      const check = withinBudget(stats.arrivals, rpm, windowMs);
      expect(check.ok, `${check.worst} requests over the budget`).toBe(true);

      const workers = new Set(
        (await resultsOf(started.jobId)).map((r) => (r.fallback ? undefined : r.worker)),
      );
      expect(workers.size).toBe(2); // both processes coded batches
      const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
      const sheet = output.getWorksheet('Data');
      answers.forEach((a, i) => expect(sheet && cellText(sheet, survey.rows[i] ?? 0, 'G')).toBe(expected(a)));
    } finally {
      for (const p of processes.splice(0)) await p.kill('SIGTERM');
      h.sim.configure({ rpm: undefined, timeScale: 1 });
    }
  }, 240_000);

  it('narrows the window on 429s and widens it again after sustained success', async () => {
    h.sim.configure({ latency: { meanMs: 30 }, faults: [{ kind: 'rate_limit', count: 6 }] });
    h.sim.resetStats();
    const workers = await h.startWorkers({ slots: 8 });
    try {
      const file = path.join(h.dataDir, 'aimd.xlsx');
      await writeSurvey(file, makeAnswers(800));
      const started = await h.jobs(workers.taskQueue).create({
        fileName: 'aimd.xlsx',
        source: { path: file },
        column: 'E2',
        categories: CATEGORIES,
        options: testOptions({ maxWorkers: 8 }),
        idFrom: 'random',
      });
      const sizes: number[] = [];
      const done = started.handle.result() as Promise<ClassifyJobResult>;
      let finished = false;
      void done.finally(() => (finished = true));
      while (!finished) {
        const p = await started.handle.query(progressQuery).catch(() => undefined);
        if (p?.phase === 'classifying') sizes.push(p.window.size);
        await new Promise((r) => setTimeout(r, 25));
      }
      const result = await done;
      expect(result.progress.rateLimited).toBeGreaterThanOrEqual(1);
      expect(Math.min(...sizes)).toBeLessThanOrEqual(4); // halved at least once
      expect(result.progress.window.size).toBe(8); // grew back to PARALLEL_MAX_WORKERS
      expect(result.stats.fallbackBatches).toBe(0);
    } finally {
      h.sim.configure({ faults: [], latency: { meanMs: 20, jitterMs: 10 } });
      await workers.stop();
    }
  }, 240_000);

  it('BATCH_SIZE=auto packs batches up to the token target, each answer exactly once', async () => {
    h.sim.resetStats();
    const workers = await h.startWorkers();
    try {
      const answers = makeAnswers(400).map((a, i) =>
        a && i % 7 === 0 ? `${a} ${'and some more detail '.repeat(i % 5)}` : a,
      );
      const file = path.join(h.dataDir, 'auto.xlsx');
      const survey = await writeSurvey(file, answers);
      const tokenTarget = 1_500;
      const started = await h.jobs(workers.taskQueue).create({
        fileName: 'auto.xlsx',
        source: { path: file },
        column: 'E2',
        categories: CATEGORIES,
        options: testOptions({ batchSize: 'auto', batchTokenTarget: tokenTarget }),
        idFrom: 'random',
      });
      const result = (await started.handle.result()) as ClassifyJobResult;
      const plan = JSON.parse(await fs.readFile(h.store.file(started.jobId, 'plan.json'), 'utf8')) as JobPlan;
      const count = await tokenCounter('gpt-4o-mini');
      const seen = new Set<number>();
      for (let i = 0; i < plan.batches; i += 1) {
        const batch = JSON.parse(
          await fs.readFile(h.store.batchFile(started.jobId, i), 'utf8'),
        ) as StoredBatch;
        const estimate = estimateRequestTokens(
          count,
          buildMessages(plan.question, CATEGORIES, batch.items),
          maxCompletionTokens(CATEGORIES, batch.items.length),
        );
        expect(estimate, `batch ${i}`).toBeLessThanOrEqual(tokenTarget);
        for (const id of batch.answerIds) {
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
      }
      expect(seen.size).toBe(plan.uniqueAnswers);
      expect(plan.batches).toBeLessThan(Math.ceil(plan.uniqueAnswers / 10)); // fewer calls than BATCH_SIZE=10
      expect(h.sim.stats().answered).toBe(plan.batches);
      const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
      const sheet = output.getWorksheet('Data');
      answers.forEach((a, i) => expect(sheet && cellText(sheet, survey.rows[i] ?? 0, 'G')).toBe(expected(a)));
    } finally {
      await workers.stop();
    }
  }, 240_000);
});
