import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFileActivities, createLlmActivities } from '../../activities/index.js';
import { createLlmEndpoint } from '../../activities/llm.js';
import type { StoredBatch, StoredResult } from '../../activities/stored.js';
import type { JobSpec } from '../../domain/job.js';
import { JobStore } from '../../lib/store.js';
import type { Simulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { testOptions } from '../helpers/harness.js';
import { CATEGORIES, expected, writeSurvey } from '../helpers/survey.js';

let sim: Simulator;
let dataDir: string;
let store: JobStore;
let files: ReturnType<typeof createFileActivities>;
let llm: ReturnType<typeof createLlmActivities>;

/** Ten answers, one batch: the fourth is always left out by the model, the seventh sits on three rows. */
const ANSWERS = [
  'the price was too high',
  'delivery came late',
  'staff were rude',
  'SKIPME the model always leaves this out',
  'the app keeps crashing',
  'quality is great',
  'cheap and cheerful',
  'CHEAP AND CHEERFUL',
  ' cheap and cheerful ',
  'login never works on the website',
  'arrived broken',
  'nothing to add really',
];

beforeAll(async () => {
  sim = await startSimulator({ latency: { meanMs: 5 } });
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-salvage-'));
  store = new JobStore(dataDir);
  const deps = {
    store,
    llm: createLlmEndpoint({ apiKey: 'test', baseURL: sim.baseURL, timeoutMs: 2_000 }),
  };
  files = createFileActivities(deps);
  llm = createLlmActivities(deps);
});
afterAll(async () => {
  await sim?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
  sim.configure({ faults: [{ kind: 'missing_id', match: 'skipme' }] });
  sim.resetStats();
});

let jobs = 0;
/** A prepared job of the answers above in one batch (size 10 here: 10 distinct answers). */
async function prepared(): Promise<string> {
  jobs += 1;
  const jobId = `salvage-job-${jobs}`;
  await fs.mkdir(store.dir(jobId), { recursive: true });
  await writeSurvey(store.file(jobId, 'input.xlsx'), ANSWERS);
  const spec: JobSpec = {
    jobId,
    fileName: 'survey.xlsx',
    format: 'xlsx',
    input: 'input.xlsx',
    column: 'E2',
    categories: CATEGORIES,
    options: testOptions(),
    createdAt: new Date().toISOString(),
  };
  await store.writeJson(store.file(jobId, 'job.json'), spec);
  await new MockActivityEnvironment().run(files.prepareJob, { jobId });
  return jobId;
}

function run<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  attempt: number,
  ...args: A
): Promise<R> {
  return new MockActivityEnvironment({ attempt }).run<A, R, typeof fn>(fn, ...args);
}

describe('salvage activities', () => {
  it('store what validated, ask the bad answer alone, fall back alone, and assemble the batch once', async () => {
    const jobId = await prepared();
    const batch = await store.readJson<StoredBatch>(jobId, 'batches/000000.json');
    expect(batch.items).toHaveLength(10);
    expect(batch.itemRows).toEqual([1, 1, 1, 1, 1, 1, 3, 1, 1, 1]);

    const first = await run(llm.classifyBatch, 1, { jobId, index: 0 });
    expect(first.salvage).toEqual({ unresolved: ['4'] });
    expect(first.apiCalls).toBe(1);
    // Nothing under the batch's index yet: the output never sees a batch half done.
    expect(await store.readJsonIfExists(store.resultFile(jobId, 0))).toBeUndefined();
    // Re-delivered (a worker died before reporting): the stored piece answers, nothing is sent.
    const again = await run(llm.classifyBatch, 2, { jobId, index: 0 });
    expect(again).toMatchObject({ salvage: { unresolved: ['4'] }, reused: true, apiCalls: 1 });
    expect(sim.stats().requests).toBe(1);

    // Left out alone too: asked again (the retry policy's next attempt) before it falls back.
    const failure = await run(llm.reclassifyAnswers, 1, { jobId, index: 0, ids: ['4'] }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('LoneAnswerError');
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect((failure as Error).message).toMatch(/the model left this answer out/);
    expect(await fs.readdir(store.piecesDir(jobId, 0))).toHaveLength(1);
    const alone = await run(llm.reclassifyAnswers, 2, { jobId, index: 0, ids: ['4'] });
    expect(alone).toMatchObject({ unresolved: [], fellBack: 1, apiCalls: 2 });
    expect(await run(llm.reclassifyAnswers, 1, { jobId, index: 0, ids: ['4'] })).toEqual(alone);
    expect(sim.stats().requests).toBe(3);

    const merged = await run(files.mergeBatch, 1, { jobId, index: 0 });
    expect(merged).toEqual({
      index: 0,
      rows: 12,
      answersFallback: 1,
      rowsFallback: 1,
      fallbackKey: 'AnswerFellBackAlone',
    });
    const result = await store.readJsonIfExists<StoredResult>(store.resultFile(jobId, 0));
    if (!result || result.fallback) throw new Error('no coded result');
    const distinct = ANSWERS.filter((a, i) => i < 7 || i > 8);
    expect(result.labels).toEqual(distinct.map((a, i) => (i === 3 ? [] : [expected(a)])));
    expect(result.fallbacks).toEqual([
      { position: 3, reason: 'fell back alone: the model left this answer out' },
    ]);
    expect(result.salvaged).toBe(true);
    // Idempotent: assembled again, the same result.
    await run(files.mergeBatch, 2, { jobId, index: 0 });
    expect(await store.readJsonIfExists(store.resultFile(jobId, 0))).toEqual(result);
    // And the batch, asked again (a new run after a hand-over), follows the same pieces without a request.
    expect(await run(llm.classifyBatch, 1, { jobId, index: 0 })).toMatchObject({
      salvage: { unresolved: ['4'] },
      reused: true,
    });
    expect(sim.stats().requests).toBe(3);
  });

  it('two attempts racing on the same answers keep one piece, and both report it', async () => {
    const jobId = await prepared();
    await run(llm.classifyBatch, 1, { jobId, index: 0 });
    // Left out once alone already, so both racers make the last ask an answer alone gets, where a wrong one
    // falls back rather than trying again.
    await expect(run(llm.reclassifyAnswers, 1, { jobId, index: 0, ids: ['4'] })).rejects.toMatchObject({
      type: 'LoneAnswerError',
    });
    // The first request asked alone comes back wrong, the second right: whichever stores first wins.
    sim.configure({ latency: { meanMs: 5, jitterMs: 4 }, faults: [{ kind: 'bad_category', count: 1 }] });
    const [a, b] = await Promise.all([
      run(llm.reclassifyAnswers, 2, { jobId, index: 0, ids: ['4'] }),
      run(llm.reclassifyAnswers, 2, { jobId, index: 0, ids: ['4'] }),
    ]);
    sim.configure({ latency: { meanMs: 5 } });
    expect(a).toEqual(b);
    expect(sim.stats().requests).toBe(4);
    const pieces = await fs.readdir(store.piecesDir(jobId, 0));
    expect(pieces.filter((f) => f.endsWith('.json'))).toHaveLength(2);
    expect(pieces.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('ask an answer alone again after a one-off slip: coded, not fallen back', async () => {
    const jobId = await prepared();
    await run(llm.classifyBatch, 1, { jobId, index: 0 });
    // Asked alone, the answer is labelled off the list once, then right.
    sim.configure({ faults: [{ kind: 'bad_category', match: 'skipme', count: 1 }] });
    await expect(run(llm.reclassifyAnswers, 1, { jobId, index: 0, ids: ['4'] })).rejects.toMatchObject({
      type: 'LoneAnswerError',
    });
    expect(await run(llm.reclassifyAnswers, 2, { jobId, index: 0, ids: ['4'] })).toMatchObject({
      unresolved: [],
      fellBack: 0,
      apiCalls: 2,
    });
    const merged = await run(files.mergeBatch, 1, { jobId, index: 0 });
    expect(merged.answersFallback).toBe(0);
    const result = await store.readJsonIfExists<StoredResult>(store.resultFile(jobId, 0));
    if (!result || result.fallback) throw new Error('no coded result');
    expect(result.labels[3]).toEqual([expected(ANSWERS[3] ?? '')]);
    expect(sim.stats().requests).toBe(3);
  });

  it('does not count a 500 or a timeout as an ask: a 500, then a slip, then right is coded', async () => {
    const jobId = await prepared();
    await run(llm.classifyBatch, 1, { jobId, index: 0 });
    sim.configure({
      faults: [
        { kind: 'server_error', match: 'skipme', count: 1 },
        { kind: 'bad_category', match: 'skipme', count: 1 },
      ],
    });
    // Attempt 1: a 500, the retry policy's. Attempt 2: the model's first wrong answer, asked again.
    await expect(run(llm.reclassifyAnswers, 1, { jobId, index: 0, ids: ['4'] })).rejects.toMatchObject({
      type: 'InternalServerError',
    });
    await expect(run(llm.reclassifyAnswers, 2, { jobId, index: 0, ids: ['4'] })).rejects.toMatchObject({
      type: 'LoneAnswerError',
    });
    expect(await run(llm.reclassifyAnswers, 3, { jobId, index: 0, ids: ['4'] })).toMatchObject({
      unresolved: [],
      fellBack: 0,
    });
    await run(files.mergeBatch, 1, { jobId, index: 0 });
    const result = await store.readJsonIfExists<StoredResult>(store.resultFile(jobId, 0));
    if (!result || result.fallback) throw new Error('no coded result');
    expect(result.labels[3]).toEqual([expected(ANSWERS[3] ?? '')]);
    expect(sim.stats().requests).toBe(4);
  });

  it('counts the wrong answers to an answer alone over the runs: two, in two runs, make it fall back', async () => {
    const jobId = await prepared();
    await run(llm.classifyBatch, 1, { jobId, index: 0 });
    const inRun = (runId: string, attempt: number) =>
      new MockActivityEnvironment({ attempt, workflowExecution: { workflowId: 'job', runId } }).run(
        llm.reclassifyAnswers,
        { jobId, index: 0, ids: ['4'] },
      );
    await expect(inRun('run-1', 1)).rejects.toMatchObject({ type: 'LoneAnswerError' });
    // Handed over: the next run's attempt 1 is the answer's second wrong ask, and the last.
    expect(await inRun('run-2', 1)).toMatchObject({ fellBack: 1, apiCalls: 2 });
    expect(sim.stats().requests).toBe(3);
  });

  it('a job that allows one attempt lets an answer alone fall back at once', async () => {
    const jobId = await prepared();
    const spec = await store.readJson<JobSpec>(jobId, 'job.json');
    const retry = { ...spec.options.retry, maximumAttempts: 1 };
    await store.writeJson(store.file(jobId, 'job.json'), { ...spec, options: { ...spec.options, retry } });
    await run(llm.classifyBatch, 1, { jobId, index: 0 });
    expect(await run(llm.reclassifyAnswers, 1, { jobId, index: 0, ids: ['4'] })).toMatchObject({
      fellBack: 1,
      apiCalls: 1,
    });
  });

  it('retry an answer unusable as a whole, then halve it at its third unusable answer', async () => {
    const jobId = await prepared();
    sim.configure({ faults: [{ kind: 'malformed_json', match: 'skipme' }] });
    for (const attempt of [1, 2]) {
      const failure = await run(llm.classifyBatch, attempt, { jobId, index: 0 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect((failure as ApplicationFailure).type).toBe('ModelOutputError');
    }
    const third = await run(llm.classifyBatch, 3, { jobId, index: 0 });
    expect(third.salvage?.unresolved).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    // Alone, the culprit fails as a whole too: at its third unusable answer it falls back with its reason.
    for (const attempt of [1, 2])
      await expect(run(llm.reclassifyAnswers, attempt, { jobId, index: 0, ids: ['4'] })).rejects.toThrow(
        /not JSON/,
      );
    expect(await run(llm.reclassifyAnswers, 3, { jobId, index: 0, ids: ['4'] })).toMatchObject({
      fellBack: 1,
      unresolved: [],
    });
    expect(sim.stats().requests).toBe(6);
  });

  it("halves an answer unusable as a whole on the retry policy's last attempt, whatever the count", async () => {
    const jobId = await prepared();
    const { maximumAttempts } = testOptions().retry;
    sim.configure({
      faults: [
        { kind: 'server_error', count: maximumAttempts - 1 },
        { kind: 'malformed_json', match: 'skipme', count: 1 },
      ],
    });
    for (let attempt = 1; attempt < maximumAttempts; attempt += 1)
      await expect(run(llm.classifyBatch, attempt, { jobId, index: 0 })).rejects.toMatchObject({
        type: 'InternalServerError',
      });
    // The first unusable answer, on the last attempt: halved, not the batch's retries run out (all Other).
    const last = await run(llm.classifyBatch, maximumAttempts, { jobId, index: 0 });
    expect(last.salvage?.unresolved).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  });

  it('does not count a 500 as an unusable answer: two 500s, then one unusable answer, is asked again', async () => {
    const jobId = await prepared();
    await run(llm.classifyBatch, 1, { jobId, index: 0 });
    sim.configure({
      faults: [
        { kind: 'server_error', match: 'skipme', count: 2 },
        { kind: 'malformed_json', match: 'skipme', count: 1 },
      ],
    });
    for (const attempt of [1, 2])
      await expect(
        run(llm.reclassifyAnswers, attempt, { jobId, index: 0, ids: ['4'] }),
      ).rejects.toMatchObject({
        type: 'InternalServerError',
      });
    // The third attempt's answer is the first unusable one: asked again, not fallen back.
    await expect(run(llm.reclassifyAnswers, 3, { jobId, index: 0, ids: ['4'] })).rejects.toMatchObject({
      type: 'ModelOutputError',
    });
    expect(await run(llm.reclassifyAnswers, 4, { jobId, index: 0, ids: ['4'] })).toMatchObject({
      fellBack: 0,
      unresolved: [],
    });
    await run(files.mergeBatch, 1, { jobId, index: 0 });
    const result = await store.readJsonIfExists<StoredResult>(store.resultFile(jobId, 0));
    if (!result || result.fallback) throw new Error('no coded result');
    expect(result.labels[3]).toEqual([expected(ANSWERS[3] ?? '')]);
  });
});

describe('attempts over the runs of a job', () => {
  /** An attempt of an activity started by run `runId` of the job's workflow (a hand-over starts a new run). */
  function inRun<A extends unknown[], R>(
    runId: string,
    fn: (...args: A) => Promise<R>,
    attempt: number,
    ...args: A
  ): Promise<ApplicationFailure> {
    const env = new MockActivityEnvironment({ attempt, workflowExecution: { workflowId: 'job', runId } });
    return env.run<A, R, typeof fn>(fn, ...args).then(
      () => {
        throw new Error('expected the attempt to fail');
      },
      (error: unknown) => error as ApplicationFailure,
    );
  }
  const detail = (failure: ApplicationFailure) => failure.details?.[0] as { attempt: number };

  it('go on counting in the next run, and the attempt that reaches the maximum is the last', async () => {
    const jobId = await prepared();
    sim.configure({ faults: [{ kind: 'server_error', match: 'too high' }] });
    const maximum = testOptions().retry.maximumAttempts;
    expect(maximum).toBe(4);

    const first = await inRun('run-1', llm.classifyBatch, 1, { jobId, index: 0 });
    expect([first.nonRetryable, detail(first).attempt]).toEqual([false, 1]);
    // Handed over while in backoff: the next run's activity starts at Temporal's attempt 1 again.
    const second = await inRun('run-2', llm.classifyBatch, 1, { jobId, index: 0 });
    expect([second.nonRetryable, detail(second).attempt]).toEqual([false, 2]);
    const third = await inRun('run-2', llm.classifyBatch, 2, { jobId, index: 0 });
    expect([third.nonRetryable, detail(third).attempt]).toEqual([false, 3]);
    const last = await inRun('run-3', llm.classifyBatch, 1, { jobId, index: 0 });
    expect(last.nonRetryable).toBe(true);
    expect(last.type).toBe('InternalServerError');
    expect(last.details?.[0]).toEqual({ attempt: 4, outOfRetries: true });
    expect(sim.stats().requests).toBe(maximum);

    // A run that takes it over after its last attempt failed sends nothing, and falls back with that reason.
    const spent = await inRun('run-4', llm.classifyBatch, 1, { jobId, index: 0 });
    expect([spent.nonRetryable, spent.type, spent.message]).toEqual([true, last.type, last.message]);
    expect(spent.details?.[0]).toEqual({ attempt: 4, outOfRetries: true });
    expect(sim.stats().requests).toBe(maximum);
  });
});
