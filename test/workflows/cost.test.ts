import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateJob } from '../../activities/plan-job.js';
import type { SpanRecord } from '../../activities/stored.js';
import { requestCeiling } from '../../domain/cost.js';
import type { JobProgress } from '../../domain/job.js';
import { priceFor } from '../../domain/prices.js';
import { JobChangeRejectedError } from '../../jobs/service.js';
import type { JobHandle } from '../../jobs/service.js';
import { progressQuery } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { workflowBundle } from '../helpers/temporal.js';
import { CATEGORIES, expectEveryRowCoded, makeAnswers, readOutput, writeSurvey } from '../helpers/survey.js';

let h: Harness;

beforeAll(async () => {
  // Usage counted as OpenAI bills it (its tokenizer, message framing, the schema): what the estimate predicts.
  h = await createHarness({ latency: { meanMs: 5, jitterMs: 3 }, usage: 'tokenizer' });
});
afterAll(async () => {
  await h?.close();
});

const price = priceFor('gpt-4o-mini');

/** Polls the job's progress until `done` says so (the job holds at its cap, say). */
async function progressUntil(handle: JobHandle, done: (p: JobProgress) => boolean): Promise<JobProgress> {
  for (let i = 0; i < 600; i += 1) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && done(p)) return p;
    await sleep(100);
  }
  throw new Error('the job never reached the expected state');
}

/** The most batch `index` can cost, from the tokens its plan stored: what the cap checks it by. */
async function ceilingOf(jobId: string, index: number): Promise<number> {
  const spans = await h.store.readJson<SpanRecord[]>(jobId, 'spans.json');
  const span = spans[index];
  if (!span || span[5] === undefined || span[6] === undefined || !price) throw new Error('no tokens stored');
  return requestCeiling(span[5], span[6], price);
}

describe('the estimate', () => {
  it('predicts the tokens a real run then reports, within 10 %', async () => {
    const answers = makeAnswers(400, { duplicates: 0.1, placeholders: 0.03 });
    const workers = await h.startWorkers();
    try {
      const options = testOptions();
      const { started, survey } = await h.startSurvey(workers.taskQueue, 'estimate.xlsx', answers, options);
      const estimate = await estimateJob({
        path: path.join(h.dataDir, 'estimate.xlsx'),
        fileName: 'estimate.xlsx',
        format: 'xlsx',
        column: 'E2',
        categories: CATEGORIES,
        options,
      });
      const result = await started.handle.result();
      const run = result.progress;
      expect(estimate.requests).toBe(run.batches.total);
      expect(estimate.answers).toBe(run.uniqueAnswers);
      expect(run.apiCalls).toBe(run.batches.total);
      expect(Math.abs(estimate.inputTokens / run.tokens.prompt - 1)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(estimate.outputTokens / run.tokens.completion - 1)).toBeLessThanOrEqual(0.1);
      // Priced as the run's own cost is: the same table, so within the same 10 %.
      expect(estimate.cost.sync).not.toBeNull();
      expect(Math.abs((estimate.cost.sync ?? 0) / (run.cost?.total ?? 1) - 1)).toBeLessThanOrEqual(0.1);
      expect(estimate.cost.batch).toBeCloseTo((estimate.cost.sync ?? 0) / 2, 12);
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
    } finally {
      await workers.stop();
    }
  });
});

describe('the cost cap', () => {
  it('holds the request that would go over it, carries a raised cap to the next run, and finishes once lifted', async () => {
    const answers = makeAnswers(120);
    // One batch at a time, two batches a run: the job continues as new while held and raised.
    const options = testOptions({ maxWorkers: 1, minResponsesForParallel: 0 });
    const estimate = await estimateJob({
      path: await writeFile('cap-estimate.xlsx', answers),
      fileName: 'cap-estimate.xlsx',
      format: 'xlsx',
      column: 'E2',
      categories: CATEGORIES,
      options,
    });
    const perRequest = (estimate.cost.sync ?? 0) / estimate.requests;
    const cap = perRequest * 3.5;
    const workers = await h.startWorkers({ slots: 1 });
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'cap.xlsx',
        answers,
        { ...options, maxCost: cap },
        { batchesPerRun: 2 },
      );
      const { handle, jobId } = started;
      const held = await progressUntil(handle, (p) => p.cost?.capReached === true);
      const cost = held.cost;
      expect(cost?.maxCost).toBe(cap);
      expect(cost?.total ?? Infinity).toBeLessThanOrEqual(cap);
      // The next request, by the ceiling its plan stored, would have gone over: and it was not sent.
      const next = await ceilingOf(jobId, held.batches.done);
      expect(cost?.nextRequest).toBeCloseTo(next, 12);
      expect((cost?.total ?? 0) + next).toBeGreaterThan(cap);
      expect(held.batches.done).toBeGreaterThan(0);
      expect(held.batches.done).toBeLessThan(held.batches.total);
      expect(held.apiCalls).toBe(held.batches.done);
      expect(held.batches.inFlight).toBe(0);

      // Not below what was spent, not a negative number: the workflow's validator says no.
      await expect(h.jobs(workers.taskQueue).setMaxCost(jobId, (cost?.total ?? 0) / 2)).rejects.toThrow(
        JobChangeRejectedError,
      );
      await expect(h.jobs(workers.taskQueue).setMaxCost(jobId, -1)).rejects.toThrow(/maxCost must be/);

      // Raised (not lifted): the job goes on, continues as new, and holds again at the new cap.
      const raised = cap + perRequest * 3;
      await h.jobs(workers.taskQueue).setMaxCost(jobId, raised);
      const heldAgain = await progressUntil(
        handle,
        (p) => p.cost?.capReached === true && p.batches.done > held.batches.done,
      );
      expect(heldAgain.cost?.maxCost).toBe(raised);
      expect(heldAgain.cost?.total ?? Infinity).toBeLessThanOrEqual(raised);
      const nextAgain = await ceilingOf(jobId, heldAgain.batches.done);
      expect((heldAgain.cost?.total ?? 0) + nextAgain).toBeGreaterThan(raised);
      // Held again in a later run: the raised cap came through continue-as-new.
      let runs = 0;
      for await (const _ of h.env.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) runs += 1;
      expect(runs).toBeGreaterThan(1);

      await h.jobs(workers.taskQueue).setMaxCost(jobId, null);
      const result = await handle.result();
      expect(result.partial).toBe(false);
      expect(result.progress.apiCalls).toBe(result.progress.batches.total);
      expectEveryRowCoded(await readOutput(h.store.file(jobId, result.output.xlsx)), answers, survey);

      // Every run, holds and updates included, replays on this code: the cap decides deterministically.
      for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) {
        const history = await h.env.client.workflow.getHandle(jobId, run.runId).fetchHistory();
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, jobId);
      }
    } finally {
      await workers.stop();
    }
  });

  it('ends with a partial result when cancelled while held', async () => {
    const answers = makeAnswers(60);
    const options = testOptions({ maxWorkers: 1, minResponsesForParallel: 0 });
    const workers = await h.startWorkers({ slots: 1 });
    try {
      const { started } = await h.startSurvey(workers.taskQueue, 'cap-cancel.xlsx', answers, {
        ...options,
        maxCost: 0.0002,
      });
      const held = await progressUntil(started.handle, (p) => p.cost?.capReached === true);
      await started.handle.cancel();
      await expect(started.handle.result()).rejects.toThrow();
      const stored = await h.store.readJson<{ partial: boolean }>(started.jobId, 'result.json');
      expect(stored.partial).toBe(true);
      const final = await started.handle.query(progressQuery).catch(() => undefined);
      if (final) expect(final.batches.done).toBe(held.batches.done);
    } finally {
      await workers.stop();
    }
  });
});

async function writeFile(name: string, answers: ReadonlyArray<string | null>): Promise<string> {
  const file = path.join(h.dataDir, name);
  await writeSurvey(file, answers);
  return file;
}
