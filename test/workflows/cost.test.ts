import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateJob } from '../../activities/plan-job.js';
import type { SpanRecord } from '../../activities/stored.js';
import { reviewPlanFile } from '../../activities/stored.js';
import { requestCeiling } from '../../domain/cost.js';
import type { JobProgress } from '../../domain/job.js';
import { priceFor } from '../../domain/prices.js';
import type { ReviewPlan } from '../../domain/review.js';
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
/** A review model in the price table, dearer than the first. */
const REVIEW_MODEL = 'gpt-4.1-mini';

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

  it("holds the review model's requests at the cap too, prices them at its price, and goes on when raised", async () => {
    const answers = makeAnswers(100);
    // One request at a time; the first model is unsure of a quarter of the answers, which go to the review.
    const options = testOptions({
      maxWorkers: 1,
      minResponsesForParallel: 0,
      reviewModel: REVIEW_MODEL,
      maxCost: 0.000001,
    });
    h.sim.resetStats();
    h.sim.configure({ wrongRate: 0.25, modelWrongRates: { [REVIEW_MODEL]: 0 }, keepRequests: true });
    const reviewSent = () =>
      h.sim.requestBodies().filter((b) => (JSON.parse(b) as { model: string }).model === REVIEW_MODEL).length;
    const workers = await h.startWorkers({ slots: 1 });
    try {
      const { started, survey } = await h.startSurvey(workers.taskQueue, 'cap-review.xlsx', answers, options);
      const { handle, jobId } = started;
      // Each time it holds, the cap is raised by exactly the held request's most: that one request goes, and
      // the job holds again at the next, through the first pass and into the review.
      let cap = options.maxCost ?? 0;
      let spent = -1;
      let heldInReview: JobProgress | undefined;
      for (let round = 0; round < 40 && !heldInReview; round += 1) {
        const p = await progressUntil(
          handle,
          (q) => q.cost?.capReached === true && q.cost.maxCost === cap && (q.cost.total ?? Infinity) > spent,
        );
        const cost = p.cost;
        if (!cost || cost.total === null || cost.nextRequest === null) throw new Error('no cost while held');
        expect(cost.total + cost.nextRequest).toBeGreaterThan(cap);
        if (p.phase === 'reviewing' && (cost.review?.total ?? 0) > 0) heldInReview = p;
        else {
          spent = cost.total;
          cap = cost.total + cost.nextRequest;
          await h.jobs(workers.taskQueue).setMaxCost(jobId, cap);
        }
      }
      if (!heldInReview?.cost) throw new Error('the review was never held at the cap');
      // Held in the review, by the ceiling its plan stored, priced at the review model's price.
      const plan = await h.store.readJsonIfExists<ReviewPlan>(reviewPlanFile(h.store, jobId));
      const reviewPrice = priceFor(REVIEW_MODEL);
      if (!plan?.ceiling || !reviewPrice) throw new Error('no review ceiling');
      expect(plan.batches).toBeGreaterThan(1);
      const ceiling = requestCeiling(plan.ceiling.promptTokens, plan.ceiling.maxTokens, reviewPrice);
      expect(heldInReview.cost.nextRequest).toBeCloseTo(ceiling, 12);
      expect(heldInReview.cost.total ?? Infinity).toBeLessThanOrEqual(cap);
      const sentWhenHeld = reviewSent();
      expect(sentWhenHeld).toBeGreaterThan(0);
      expect(sentWhenHeld).toBeLessThan(plan.batches);
      await sleep(500);
      expect(reviewSent()).toBe(sentWhenHeld);
      expect((await handle.query(progressQuery)).cost?.capReached).toBe(true);

      await h.jobs(workers.taskQueue).setMaxCost(jobId, null);
      const result = await handle.result();
      expect(result.partial).toBe(false);
      expect(reviewSent()).toBe(plan.batches);
      const cost = result.progress.cost;
      if (!cost?.sync || !cost.review || cost.total === null) throw new Error('no cost in the result');
      expect(cost.review.total).toBeGreaterThan(heldInReview.cost.review?.total ?? 0);
      expect(cost.total).toBeCloseTo(cost.sync.total + cost.review.total, 12);
      const output = await readOutput(h.store.file(jobId, result.output.xlsx));
      expectEveryRowCoded(output, answers, survey);
      const run = output.getWorksheet('Run');
      const valueOf = (label: string) => {
        let value: unknown;
        run?.eachRow((row) => {
          if (row.getCell(1).text === label) value = row.getCell(2).value;
        });
        return value;
      };
      expect(valueOf('Cost (USD)')).toBeCloseTo(cost.total, 6);
      expect(valueOf('Cost of output tokens, review model (USD)')).toBeCloseTo(cost.review.output, 6);

      for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) {
        const history = await h.env.client.workflow.getHandle(jobId, run.runId).fetchHistory();
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, jobId);
      }
    } finally {
      h.sim.configure({ wrongRate: 0, modelWrongRates: {}, keepRequests: false });
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
