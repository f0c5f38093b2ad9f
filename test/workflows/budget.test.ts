import { llmTaskQueue as llmTaskQueueOf } from '../../domain/task-queues.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessages, maxCompletionTokens } from '../../domain/prompt.js';
import type { JobPlan } from '../../domain/job.js';
import { createBudget } from '../../worker/budget.js';
import { estimateRequestTokens, tokenCounter } from '../../activities/tokens.js';
import type { StoredBatch, StoredResult } from '../../activities/stored.js';
import type { BudgetLimits } from '../../workflows/definitions.js';
import { budgetQuery, budgetWorkflowId, progressQuery } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startWorkerProcess, waitForPollers } from '../helpers/processes.js';
import { withinBudget } from '../helpers/budget.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { CATEGORIES, expectEveryRowCoded, makeAnswers, readOutput } from '../helpers/survey.js';

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
 * Workers on a fresh task queue whose LLM requests reserve from a budget of `limits` (none when undefined);
 * `budgetState()` queries the budget workflow of that queue.
 */
async function workersWithBudget(prefix: string, limits: BudgetLimits | undefined, slots = 5) {
  const taskQueue = uniqueTaskQueue(prefix);
  const llmTaskQueue = llmTaskQueueOf(taskQueue);
  const budget = limits && createBudget({ client: h.env.client, limits, taskQueue, llmTaskQueue });
  const workers = await h.startWorkers({ taskQueue, slots, ...(budget ? { budget } : {}) });
  const budgetState = () =>
    h.env.client.workflow.getHandle(budgetWorkflowId(llmTaskQueue)).query(budgetQuery);
  return { workers, taskQueue, llmTaskQueue, budget, budgetState };
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
      const { started, survey } = await h.startSurvey(
        taskQueue,
        'budget.xlsx',
        answers,
        testOptions({ maxWorkers: 10, batchSize: 5 }),
      );
      const result = await started.handle.result();
      const stats = h.sim.stats();
      expect(result.progress.batches.total).toBeGreaterThan(rpm * 2); // the job spans several budget windows
      expect(stats.byStatus['429'] ?? 0).toBe(0);
      const check = withinBudget(stats.arrivals, rpm, windowMs);
      expect(check.ok, `${check.worst} requests over the budget`).toBe(true);

      const workers = new Set(
        (await resultsOf(started.jobId)).map((r) => (r.fallback ? undefined : r.worker)),
      );
      expect(workers.size).toBe(2); // both processes coded batches
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
    } finally {
      for (const p of processes.splice(0)) await p.kill('SIGTERM');
      h.sim.configure({ rpm: undefined, timeScale: 1 });
    }
  }, 240_000);

  it('survives a budget set to twice the real limit: the API limit in the headers takes over, or without headers the 429s and their waits catch it', async () => {
    const rpm = 20;
    const windowMs = 3_000; // time scaled 20×: a budget "minute" lasts 3 s
    const run = async (rateLimitHeaders: boolean) => {
      h.sim.configure({ rpm, timeScale: windowMs / 60_000, rateLimitHeaders });
      h.sim.resetStats();
      const { workers, taskQueue } = await workersWithBudget(
        rateLimitHeaders ? 'double' : 'double-blind',
        { rpm: rpm * 2, windowMs },
        8,
      );
      try {
        const answers = makeAnswers(400);
        const { started, survey } = await h.startSurvey(
          taskQueue,
          'double.xlsx',
          answers,
          testOptions({ maxWorkers: 8, batchSize: 5 }),
        );
        const result = await started.handle.result();
        expect(result.progress.batches.total).toBeGreaterThan(rpm * 3); // several budget windows
        expect(result.stats.fallbackBatches).toBe(0);
        expectEveryRowCoded(
          await readOutput(h.store.file(started.jobId, result.output.xlsx)),
          answers,
          survey,
        );
        return { result, stats: h.sim.stats() };
      } finally {
        await workers.stop();
      }
    };
    try {
      // The first answers say the limit is 20: the budget paces by that, and the API never refuses.
      const told = await run(true);
      expect(told.stats.byStatus['429'] ?? 0).toBe(0);
      expect(withinBudget(told.stats.arrivals, rpm, windowMs).ok).toBe(true);
      // Nothing tells it: the API refuses what the budget lets through, the window narrows, the retries
      // wait as long as each 429 says, and no batch runs out of attempts.
      const blind = await run(false);
      expect(blind.stats.byStatus['429'] ?? 0).toBeGreaterThan(0);
      expect(blind.result.progress.rateLimited).toBeGreaterThan(0);
      expect(blind.stats.admitted.length).toBe(blind.result.progress.batches.total);
    } finally {
      h.sim.configure({ rpm: undefined, timeScale: 1, rateLimitHeaders: true });
    }
  }, 240_000);

  it('narrows the window on 429s and widens it again after sustained success', async () => {
    h.sim.configure({ latency: { meanMs: 30 }, faults: [{ kind: 'rate_limit', count: 6 }] });
    h.sim.resetStats();
    const workers = await h.startWorkers({ slots: 8 });
    try {
      const { started } = await h.startSurvey(
        workers.taskQueue,
        'aimd.xlsx',
        makeAnswers(800),
        testOptions({ maxWorkers: 8 }),
      );
      const sizes: number[] = [];
      const done = started.handle.result();
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

  it('narrows the window when the API reports little remaining, before any 429, unless a budget paces that limit or ADAPTIVE_WINDOW=false', async () => {
    // A bucket of 100 requests that barely refills (a "minute" of 10 min) and 95 batches: no 429 can
    // happen, and the last answers report fewer than 10 requests remaining.
    const rpm = 100;
    const run = async (variant: 'adaptive' | 'budget' | 'fixed') => {
      h.sim.configure({ rpm, timeScale: 10, latency: { meanMs: 5 } });
      h.sim.resetStats();
      const limits = variant === 'budget' ? { rpm, windowMs: 600_000 } : undefined;
      const { workers } = await workersWithBudget(`low-${variant}`, limits, 8);
      try {
        const { started } = await h.startSurvey(
          workers.taskQueue,
          `low-${variant}.xlsx`,
          makeAnswers(475),
          testOptions({ maxWorkers: 8, batchSize: 5, adaptiveWindow: variant !== 'fixed' }),
        );
        const result = await started.handle.result();
        expect(result.progress.batches.total).toBe(95);
        expect(h.sim.stats().byStatus['429'] ?? 0).toBe(0);
        expect(result.progress.rateLimited).toBe(0);
        expect(result.stats.fallbackBatches).toBe(0);
        return result.progress.window;
      } finally {
        await workers.stop();
      }
    };
    try {
      // Few successes follow the first low report, so the window cannot have grown back by the end.
      expect((await run('adaptive')).size).toBeLessThanOrEqual(4);
      // A budget spends exactly what refills, so a paced limit runs near empty by design: no narrowing.
      expect((await run('budget')).size).toBe(8);
      expect((await run('fixed')).size).toBe(8);
    } finally {
      h.sim.configure({ rpm: undefined, timeScale: 1, latency: { meanMs: 20, jitterMs: 10 } });
    }
  }, 240_000);

  it('keeps a token budget (OPENAI_TPM): estimates before sending, settles with the usage reported', async () => {
    // Time scaled 20×: a budget "minute" lasts 3 s; the job needs several of them.
    const tpm = 6_000;
    const windowMs = 3_000;
    h.sim.configure({ tpm, timeScale: windowMs / 60_000, latency: { meanMs: 20, jitterMs: 10 } });
    h.sim.resetStats();
    const { workers, taskQueue, budgetState } = await workersWithBudget('tpm', { tpm, windowMs }, 8);
    try {
      const answers = makeAnswers(300);
      const { started, survey } = await h.startSurvey(
        taskQueue,
        'tpm.xlsx',
        answers,
        testOptions({ maxWorkers: 8, batchSize: 5 }),
      );
      const result = await started.handle.result();
      const stats = h.sim.stats();
      expect(stats.chargedTokens).toBeGreaterThan(tpm * 2); // several budget windows
      expect(stats.byStatus['429'] ?? 0).toBe(0);
      expect(result.stats.fallbackBatches).toBe(0);
      // The budget workflow saw one reservation per request, and what it holds never exceeds a minute's.
      const held = await budgetState();
      expect(held.reservations).toBe(stats.requests);
      expect(held.tokens).toBeLessThanOrEqual(tpm);
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
    } finally {
      await workers.stop();
      h.sim.configure({ tpm: undefined, timeScale: 1 });
    }
  }, 240_000);

  it('settles each request to what the API charged: the tokenizer reserves more, the rest comes back', async () => {
    // Japanese takes far more tokens than OpenAI's ~4 characters a token at arrival: the reservation (by the
    // tokenizer) is well above the charge, and the difference must go back once the answer is in.
    const tpm = 1_000_000;
    const limits = { tpm, windowMs: 1e12 }; // no refill to speak of: the sums are exact
    const { workers, taskQueue, budget, budgetState } = await workersWithBudget('settle', limits, 4);
    h.sim.resetStats();
    try {
      const answers = makeAnswers(60).map((a) => a && `${a} 配送がとても遅くて、箱も少し潰れていました。`);
      const { started } = await h.startSurvey(taskQueue, 'settle.xlsx', answers, testOptions());
      const result = await started.handle.result();
      expect(result.stats.fallbackBatches).toBe(0);
      const plan = JSON.parse(await fs.readFile(h.store.file(started.jobId, 'plan.json'), 'utf8')) as JobPlan;
      const count = await tokenCounter('gpt-4o-mini');
      let reserved = 0;
      for (let i = 0; i < plan.batches; i += 1) {
        const batch = JSON.parse(
          await fs.readFile(h.store.batchFile(started.jobId, i), 'utf8'),
        ) as StoredBatch;
        reserved += estimateRequestTokens(
          count,
          buildMessages(plan.question, CATEGORIES, batch.items),
          maxCompletionTokens(CATEGORIES, batch.items.length),
        );
      }
      const charged = h.sim.stats().chargedTokens;
      expect(h.sim.stats().requests).toBe(plan.batches);
      expect(reserved).toBeGreaterThan(charged * 1.1);
      // The last settlement travels with the next reservation: one more request brings it in.
      await budget?.reserve(0);
      expect((await budgetState()).tokens).toBeCloseTo(tpm - charged, -1);
    } finally {
      await workers.stop();
    }
  }, 120_000);

  it('settles reservations: unused tokens go back to the budget, overdrafts come out of it', async () => {
    // The budget workflow runs on the main task queue: a worker must poll it.
    const limits = { tpm: 100_000, windowMs: 1e9 }; // refills a token every 10 s: the sums below are exact
    const { workers, taskQueue, llmTaskQueue, budget, budgetState } = await workersWithBudget(
      'reserve',
      limits,
    );
    if (!budget) throw new Error('a TPM limit makes a budget');
    expect(budget.paced).toEqual({ requests: false, tokens: true });
    const held = async () => (await budgetState()).tokens ?? NaN;
    expect(await budget.reserve(40_000)).toBe(0);
    const afterFirst = await held();
    expect(afterFirst).toBeCloseTo(60_000, -2);
    // Charged 10,000 of the 40,000 reserved: 30,000 come back with the next reservation (of 5,000).
    budget.settle(40_000, 10_000);
    await budget.reserve(5_000);
    expect(await held()).toBeCloseTo(afterFirst + 30_000 - 5_000, -2);
    // Charged beyond the reservation (and one cancelled before it was sent refunds it all): netted the same way.
    budget.settle(5_000, 8_000);
    budget.settle(2_000, 0);
    const before = await held();
    await budget.reserve(1_000);
    expect(await held()).toBeCloseTo(before - 3_000 + 2_000 - 1_000, -2);
    // Many requests at once from one process: one update in flight at a time (the server allows 10 per
    // workflow), the others waiting together for the next one, each told its own wait, in order.
    const { reservations, updates } = await budgetState();
    const delays = await Promise.all(Array.from({ length: 120 }, () => budget.reserve(1_000)));
    const after = await budgetState();
    expect(after.reservations - reservations).toBe(120);
    expect(after.updates - updates).toBeLessThan(120);
    expect(after.updates - updates).toBeGreaterThanOrEqual(1);
    // Some 83,000 tokens are left for 120,000 asked: the first go at once, the last wait for the refill.
    expect(delays.slice(0, 20).every((d) => d === 0)).toBe(true);
    expect(delays.at(-1)).toBeGreaterThan(0);
    expect(delays).toEqual([...delays].sort((a, b) => a - b));

    // A budget that paces nothing is no budget.
    expect(createBudget({ client: h.env.client, limits: {}, taskQueue, llmTaskQueue })).toBe(undefined);
    await workers.stop();
  });

  it('pauses each worker slot for RATE_LIMIT_DELAY after a request, as the original tool did', async () => {
    h.sim.resetStats();
    const workers = await h.startWorkers({ slots: 1 });
    try {
      const delayMs = 300;
      const { started } = await h.startSurvey(
        workers.taskQueue,
        'delay.xlsx',
        makeAnswers(60),
        testOptions({ batchSize: 5, parallel: false, rateLimitDelayMs: delayMs }),
      );
      await started.handle.result();
      const { arrivals } = h.sim.stats();
      expect(arrivals).toHaveLength(12);
      // One slot: each request leaves only after the previous answer and the pause after it.
      const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(delayMs);
    } finally {
      await workers.stop();
    }
  }, 120_000);

  it('BATCH_SIZE=auto packs batches up to the token target, each answer exactly once', async () => {
    h.sim.resetStats();
    const workers = await h.startWorkers();
    try {
      const answers = makeAnswers(400).map((a, i) =>
        a && i % 7 === 0 ? `${a} ${'and some more detail '.repeat(i % 5)}` : a,
      );
      const tokenTarget = 1_500;
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'auto.xlsx',
        answers,
        testOptions({ batchSize: 'auto', batchTokenTarget: tokenTarget }),
      );
      const result = await started.handle.result();
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
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
    } finally {
      await workers.stop();
    }
  }, 240_000);
});
