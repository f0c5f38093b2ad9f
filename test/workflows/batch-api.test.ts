import fs from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import type { SpanRecord, StoredResult } from '../../activities/stored.js';
import { requestCeiling } from '../../domain/cost.js';
import { priceFor } from '../../domain/prices.js';
import { progressQuery } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { waitFor } from '../helpers/processes.js';
import { workflowBundle } from '../helpers/temporal.js';
import { cellText, expectEveryRowCoded, expected, makeAnswers, readOutput } from '../helpers/survey.js';

let h: Harness;

// A simulated day lasts 86.4 s: validating and finalizing take 5 ms, a line 0.1 ms, unless a test says otherwise.
beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 5 }, timeScale: 0.001 });
});
afterAll(async () => {
  await h?.close();
});

const batchOptions = (overrides: Parameters<typeof testOptions>[0] = {}) =>
  testOptions({ batchApi: true, batchSize: 5, batchPoll: { initialMs: 50, maxMs: 200 }, ...overrides });

async function storedResults(jobId: string): Promise<StoredResult[]> {
  const dir = path.join(h.store.dir(jobId), 'results');
  const names = (await fs.readdir(dir)).filter((f) => f.endsWith('.json'));
  return Promise.all(
    names.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as StoredResult),
  );
}

describe('Batch API mode on a real Temporal server', () => {
  it('codes 1,200 answers through batches with shuffled output, 2 % failed lines and an expired batch: every row once, as the simulator meant', async () => {
    const answers = makeAnswers(1_200, { duplicates: 0.05, blanks: 0.02, placeholders: 0.02 });
    h.sim.resetStats();
    h.sim.configure({
      batch: {
        faults: [
          { kind: 'server_error', rate: 0.02 },
          // Partly wrong answers (salvaged synchronously) and an unusable one (asked again).
          { kind: 'bad_category', count: 2 },
          { kind: 'malformed_json', count: 1 },
        ],
        expire: { count: 1 },
      },
    });
    const workers = await h.startWorkers();
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'batch-api.xlsx',
        answers,
        batchOptions(),
        // Several files a round, and a hand-over to a fresh run every few looks at the batches.
        { batchApiLinesPerFile: 50, batchApiPollsPerRun: 3 },
      );
      const result = await started.handle.result();
      const stats = h.sim.stats();

      // What was asked for happened: an expired batch, lines failed with 500, shuffled files (the simulator's
      // way), faults; and a second round or the synchronous path took the rest.
      expect(stats.batch.byStatus.expired).toBe(1);
      expect(stats.batch.lines.batch_expired ?? 0).toBeGreaterThan(0);
      expect(stats.batch.lines['500'] ?? 0).toBeGreaterThan(0);
      expect(stats.batch.faults.bad_category).toBe(2);
      const plan = result.progress.batches.total;
      expect(plan).toBeGreaterThan(200);
      expect(stats.batch.batchesCreated).toBeGreaterThan(Math.ceil(plan / 50));

      // Every row coded exactly once with the label the simulator meant, no fallback.
      const sheet = (await readOutput(h.store.file(started.jobId, result.output.xlsx))).getWorksheet('Data');
      if (!sheet) throw new Error('no Data sheet');
      expect(sheet.actualRowCount).toBe(2 + answers.length);
      answers.forEach((answer, i) => {
        const row = survey.rows[i] ?? 0;
        expect(cellText(sheet, row, 'E')).toBe(answer ?? '');
        expect(cellText(sheet, row, 'G'), `row ${row}: ${answer}`).toBe(
          answer === null ? '' : expected(answer),
        );
      });
      expect(result.stats.fallbackRows).toBe(0);
      const results = await storedResults(started.jobId);
      expect(results).toHaveLength(plan);
      expect(new Set(results.map((r) => r.index)).size).toBe(plan);

      // Lines left by the rounds were asked directly, and only those (a few, plus the salvages' halves).
      const leftover = plan - (result.progress.batchApi?.linesCoded ?? plan);
      expect(leftover).toBeGreaterThan(0);
      expect(stats.requests).toBeGreaterThanOrEqual(leftover);
      expect(stats.requests).toBeLessThan(leftover + 10);
      expect(result.progress.batchApi).toMatchObject({ stage: 'synchronous' });
      expect(result.progress.batches.done).toBe(plan);
      // Tokens counted once each: every batch line's and every direct request's, none twice.
      expect(result.progress.tokens.prompt).toBe(stats.batch.promptTokens + stats.promptTokens);
      expect(result.progress.tokens.completion).toBe(stats.batch.completionTokens + stats.completionTokens);
    } finally {
      h.sim.configure({ batch: {} });
      await workers.stop();
    }
  }, 120_000);

  it('a model that refuses logprobs: every line of the first round is refused, the Run sheet counts them, the next round does not ask', async () => {
    const answers = makeAnswers(60);
    h.sim.resetStats();
    const workers = await h.startWorkers();
    try {
      const { started } = await h.startSurvey(
        workers.taskQueue,
        'batch-refuses.xlsx',
        answers,
        batchOptions({ model: 'gpt-5-mini' }),
      );
      const result = await started.handle.result();
      expect(result.stats.fallbackRows).toBe(0);
      const lines = result.progress.batches.total;
      expect(lines).toBeGreaterThan(1);
      expect(h.sim.stats().batch.lines['400']).toBe(lines);
      const run = (await readOutput(h.store.file(started.jobId, result.output.xlsx))).getWorksheet('Run');
      let said = '';
      run?.eachRow((row) => {
        if (row.getCell(1).text === 'Confidence') said = row.getCell(2).text;
      });
      expect(said).toMatch(new RegExp(`; refused by ${lines} requests, then not asked again$`));
    } finally {
      await workers.stop();
    }
  });

  it('a line of one answer answered wrong is asked once more directly, as synchronous salvage asks an answer alone, before it falls back', async () => {
    // One answer a request: each line asks an answer alone, as the last step of a synchronous salvage does.
    const answers = makeAnswers(12);
    const slip = 3; // labelled off the list by its batch line only: the second try codes it
    const always = 8; // left out every time it is asked: falls back after its second try
    answers[slip] = 'the price was too high LONESLIP';
    answers[always] = `${answers[always] ?? ''} LONEALWAYS`;
    expect(expected(answers[slip] ?? '')).not.toBe('Other');
    h.sim.resetStats();
    h.sim.configure({
      batch: {
        faults: [
          { kind: 'bad_category', match: 'loneslip' },
          { kind: 'missing_id', match: 'lonealways' },
        ],
      },
      faults: [{ kind: 'missing_id', match: 'lonealways' }],
    });
    const workers = await h.startWorkers();
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'batch-lone.xlsx',
        answers,
        batchOptions({ batchSize: 1 }),
      );
      const result = await started.handle.result();
      const stats = h.sim.stats();
      expect(stats.batch.faults).toEqual({ bad_category: 1, missing_id: 1 });
      const sheet = (await readOutput(h.store.file(started.jobId, result.output.xlsx))).getWorksheet('Data');
      if (!sheet) throw new Error('no Data sheet');
      answers.forEach((answer, i) => {
        const row = survey.rows[i] ?? 0;
        expect(cellText(sheet, row, 'G'), `row ${row}: ${answer}`).toBe(
          i === always ? 'Other' : expected(answer ?? ''),
        );
      });
      // Each of the two asked once more directly, alone; the one wrong every time then fell back with its reason.
      expect(stats.requests).toBe(2);
      expect(stats.faults).toEqual({ missing_id: 1 });
      expect(result.stats.fallbackRows).toBe(1);
      const fallbacks = (await storedResults(started.jobId)).flatMap((r) =>
        'fallbacks' in r ? (r.fallbacks ?? []) : [],
      );
      expect(fallbacks.map((f) => f.reason)).toEqual(['fell back alone: the model left this answer out']);
    } finally {
      h.sim.configure({ batch: {}, faults: [] });
      await workers.stop();
    }
  }, 120_000);

  it('lines of one answer wrong in more than a few lines go into a second round, whose line is their second ask', async () => {
    const answers = makeAnswers(60);
    const wrong = new Set(Array.from({ length: 25 }, (_, k) => 2 * k));
    for (const i of wrong) answers[i] = `${answers[i] ?? ''} LONEALWAYS`;
    h.sim.resetStats();
    h.sim.configure({ batch: { faults: [{ kind: 'bad_category', match: 'lonealways' }] } });
    const workers = await h.startWorkers();
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'batch-lone-rounds.xlsx',
        answers,
        batchOptions({ batchSize: 1 }),
      );
      const result = await started.handle.result();
      const stats = h.sim.stats();
      // 25 lines (more than 20) asked again in round 2, wrong again: two asks each, then "Other", none directly.
      expect(result.progress.batchApi?.round).toBe(2);
      expect(stats.batch.faults).toEqual({ bad_category: 50 });
      expect(stats.requests).toBe(0);
      expect(result.stats.fallbackRows).toBe(25);
      const sheet = (await readOutput(h.store.file(started.jobId, result.output.xlsx))).getWorksheet('Data');
      if (!sheet) throw new Error('no Data sheet');
      answers.forEach((answer, i) => {
        const row = survey.rows[i] ?? 0;
        expect(cellText(sheet, row, 'G'), `row ${row}: ${answer}`).toBe(
          wrong.has(i) ? 'Other' : expected(answer ?? ''),
        );
      });
    } finally {
      h.sim.configure({ batch: {} });
      await workers.stop();
    }
  }, 120_000);

  it('waits out a full queue (token_limit_exceeded): the refused batch is created again later', async () => {
    const answers = makeAnswers(300);
    h.sim.resetStats();
    // Room for one file at a time (a file of these 20 lines is charged about 4,800 tokens): the others are
    // refused until it is done.
    h.sim.configure({ batch: { lineMs: 20_000, enqueuedTokenLimit: 7_000 } });
    const workers = await h.startWorkers();
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'queue.xlsx',
        answers,
        batchOptions(),
        {
          batchApiLinesPerFile: 20,
        },
      );
      const notes = new Set<string>();
      const seen = (async () => {
        for (;;) {
          const p = await started.handle.query(progressQuery).catch(() => undefined);
          if (p?.batchApi?.note) notes.add(p.batchApi.note);
          if (!p || p.phase === 'done') return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const result = await started.handle.result();
      await seen;
      const stats = h.sim.stats();
      expect(stats.batch.byStatus.failed ?? 0).toBeGreaterThan(0);
      expect([...notes].some((n) => n.includes('token_limit_exceeded'))).toBe(true);
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
      // Nothing was left to the synchronous path: the refused batches ran once the queue had room.
      expect(stats.requests).toBe(0);
    } finally {
      h.sim.configure({ batch: {} });
      await workers.stop();
    }
  }, 120_000);

  it('holds a file at the cost cap before sending it, sends it once the cap is raised, and one file at a time', async () => {
    const answers = makeAnswers(100);
    h.sim.resetStats();
    // Lines of 0.2 s: the first batch is open for about 2 s once sent.
    h.sim.configure({ batch: { lineMs: 200_000 } });
    const workers = await h.startWorkers();
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'batch-cap.xlsx',
        answers,
        batchOptions({ maxCost: 0.000001 }),
        { batchApiLinesPerFile: 10 },
      );
      const { handle, jobId } = started;
      const progress = () => handle.query(progressQuery).catch(() => undefined);
      const held = await waitFor(
        async () => {
          const p = await progress();
          return p?.cost?.capReached ? p : undefined;
        },
        30_000,
        'the first file held at the cap',
      );
      // The cap is below the first file's most (its lines' prompts uncached, all their output, at Batch API
      // prices): nothing was uploaded, no batch made, and the job says so.
      const files = await fileCeilings(jobId, 10);
      expect(files.length).toBeGreaterThan(1);
      expect(held.cost?.nextRequest).toBeCloseTo(files[0] ?? 0, 12);
      expect(held.batchApi?.batches.map((b) => b.status)).toEqual(files.map(() => 'not_sent'));
      await sleep(300);
      expect(h.sim.stats().batch.batchesCreated).toBe(0);
      expect((await progress())?.cost?.capReached).toBe(true);

      // Raised to exactly the first file's most: it goes; the second waits while the first may cost that much.
      await h.jobs(workers.taskQueue).setMaxCost(jobId, files[0] ?? 0);
      const one = await waitFor(
        async () => {
          const p = await progress();
          return p?.cost?.capReached && p.batchApi?.batches[0]?.status !== 'not_sent' ? p : undefined;
        },
        30_000,
        'the first file sent and the second held',
      );
      expect(one.cost?.nextRequest).toBeCloseTo(files[1] ?? 0, 12);
      expect(one.batchApi?.batches.slice(1).every((b) => b.status === 'not_sent')).toBe(true);
      expect(h.sim.stats().batch.batchesCreated).toBe(1);

      await h.jobs(workers.taskQueue).setMaxCost(jobId, null);
      const result = await handle.result();
      expect(result.partial).toBe(false);
      expect(h.sim.stats().batch.batchesCreated).toBe(files.length);
      expect(result.progress.cost?.batch?.total ?? 0).toBeGreaterThan(0);
      expectEveryRowCoded(await readOutput(h.store.file(jobId, result.output.xlsx)), answers, survey);
      for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) {
        const history = await h.env.client.workflow.getHandle(jobId, run.runId).fetchHistory();
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, jobId);
      }
    } finally {
      h.sim.configure({ batch: {} });
      await workers.stop();
    }
  }, 120_000);

  it('cancelled while a file waits at the cost cap: nothing sent, the partial result written', async () => {
    const answers = makeAnswers(60);
    h.sim.resetStats();
    const workers = await h.startWorkers();
    try {
      const { started } = await h.startSurvey(
        workers.taskQueue,
        'batch-cap-cancel.xlsx',
        answers,
        batchOptions({ maxCost: 0.000001 }),
      );
      await waitFor(
        async () => ((await started.handle.query(progressQuery))?.cost?.capReached ? true : undefined),
        30_000,
        'the file held at the cap',
      );
      await started.handle.cancel();
      await expect(started.handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      const stored = await h.store.readJson<{ partial: boolean }>(started.jobId, 'result.json');
      expect(stored.partial).toBe(true);
      expect(h.sim.stats().batch.batchesCreated).toBe(0);
      expect(h.sim.stats().batch.cancels).toBe(0);
    } finally {
      await workers.stop();
    }
  }, 120_000);

  it('cancelled while its batches run: cancels them at OpenAI and writes the partial result', async () => {
    const answers = makeAnswers(400);
    h.sim.resetStats();
    // Lines of 10 simulated seconds: the batches are still in progress when the job is cancelled.
    h.sim.configure({ batch: { lineMs: 1_000_000 } });
    const workers = await h.startWorkers();
    try {
      const { started } = await h.startSurvey(workers.taskQueue, 'cancel.xlsx', answers, batchOptions(), {
        batchApiLinesPerFile: 30,
      });
      const waiting = await waitFor(
        async () => {
          const p = await started.handle.query(progressQuery);
          const running = p.batchApi?.batches.filter((b) => b.status === 'in_progress') ?? [];
          return running.length > 0 && running.some((b) => b.completed > 0) ? p : undefined;
        },
        30_000,
        'batches in progress',
      );
      const ids = waiting.batchApi?.batches.map((b) => b.id) ?? [];
      expect(ids.length).toBeGreaterThan(1);
      await started.handle.cancel();
      const error: unknown = await started.handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);

      const client = new OpenAI({ apiKey: 'x', baseURL: h.sim.baseURL, maxRetries: 0 });
      for (const id of ids) {
        expect(['cancelling', 'cancelled']).toContain((await client.batches.retrieve(id)).status);
      }
      expect(h.sim.stats().batch.cancels).toBe(ids.length);
      const final = await started.handle.query(progressQuery);
      expect(final.phase).toBe('cancelled');
      expect(final.batchApi?.batches.map((b) => b.status)).toEqual(ids.map(() => 'cancelling'));
      // The partial result is written: the rows coded so far (the instant ones at least), the rest blank.
      await expect(fs.access(h.store.file(started.jobId, 'output.xlsx'))).resolves.toBeUndefined();
    } finally {
      h.sim.configure({ batch: {} });
      await workers.stop();
    }
  }, 120_000);
});

/** The most each file of the first round can cost (`perFile` lines each, in order), as the cap counts it. */
async function fileCeilings(jobId: string, perFile: number): Promise<number[]> {
  const spans = await h.store.readJson<SpanRecord[]>(jobId, 'spans.json');
  const price = priceFor('gpt-4o-mini');
  if (!price) throw new Error('no price');
  const files: number[] = [];
  spans.forEach((span, i) => {
    const file = Math.floor(i / perFile);
    files[file] = (files[file] ?? 0) + requestCeiling(span[5] ?? 0, span[6] ?? 0, price, 'batch');
  });
  return files;
}
