import fs from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createFileActivities } from '../../activities/index.js';
import { createLlmEndpoint } from '../../activities/llm.js';
import { llmTaskQueue } from '../../domain/task-queues.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery, setConcurrencyUpdate } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { TEST_API_KEY, createHarness, testOptions } from '../helpers/harness.js';
import { cellText, expectEveryRowCoded, expected, makeAnswers, readOutput } from '../helpers/survey.js';
import { uniqueTaskQueue, workflowBundle } from '../helpers/temporal.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 5, jitterMs: 3 } });
});
afterAll(async () => {
  await h?.close();
});

async function runJob(
  name: string,
  answers: Array<string | null>,
  options = testOptions(),
  extra: { coded?: Map<number, string>; batchesPerRun?: number } = {},
) {
  const workers = await h.startWorkers({ slots: options.maxWorkers, llmTimeoutMs: 1_000 });
  try {
    const { started, survey } = await h.startSurvey(
      workers.taskQueue,
      `${name}.xlsx`,
      answers,
      options,
      extra,
    );
    const result = await started.handle.result();
    const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
    return { jobId: started.jobId, result, output, survey, handle: started.handle };
  } finally {
    await workers.stop();
  }
}

/** Every byte string (payload data, metadata) anywhere in a history event. */
function byteStrings(value: unknown): Uint8Array[] {
  if (value instanceof Uint8Array) return [value];
  if (!value || typeof value !== 'object') return [];
  return Object.values(value).flatMap(byteStrings);
}

describe('classifyJobWorkflow on a real Temporal server', () => {
  it('codes 1,200 answers through injected faults: every row once, an answer failing alone "Other" with its reason', async () => {
    const answers = makeAnswers(1_200, { duplicates: 0.1, blanks: 0.03, placeholders: 0.03 });
    const poisonIndex = 457;
    answers[poisonIndex] = 'POISON answer the model always refuses';
    const skippedIndex = 901;
    answers[skippedIndex] = 'SKIPME an answer the model always leaves out';
    h.sim.resetStats();
    h.sim.configure({
      faults: [
        { kind: 'refusal', match: 'poison' },
        { kind: 'missing_id', match: 'skipme' },
        { kind: 'drop', count: 2 },
        { kind: 'hang', count: 1 },
        { kind: 'rate_limit', count: 5 },
        { kind: 'server_error', rate: 0.04 },
        // By count as well as by rate, so that each kind surely happens.
        { kind: 'overloaded', count: 2 },
        { kind: 'overloaded', rate: 0.02 },
        { kind: 'malformed_json', rate: 0.02 },
        // Once each: a single answer the model got wrong by chance is asked again alone and recovers. (Asked
        // alone and wrong, it is asked once more before it falls back: validation failures mostly repeat.)
        { kind: 'missing_id', count: 1 },
        { kind: 'extra_id', count: 2 },
        { kind: 'bad_category', count: 1 },
      ],
    });
    const options = testOptions({
      retry: { maximumAttempts: 6, initialIntervalMs: 20, maximumIntervalMs: 200, heartbeatTimeoutMs: 5_000 },
    });
    const { result, output, survey, jobId, handle } = await runJob('faults', answers, options);
    h.sim.configure({ faults: [] });
    const stats = h.sim.stats();

    // The faults really happened.
    for (const kind of [
      'refusal',
      'drop',
      'hang',
      'rate_limit',
      'server_error',
      'overloaded',
      'malformed_json',
      'missing_id',
      'extra_id',
      'bad_category',
    ]) {
      expect(stats.faults[kind], kind).toBeGreaterThan(0);
    }

    const sheet = output.getWorksheet('Data');
    if (!sheet) throw new Error('no Data sheet');
    expect(cellText(sheet, 2, 'G')).toBe('E2 category');
    expect(sheet.actualRowCount).toBe(1 + 1 + answers.length); // title + header + every answer row, no more

    // The refused answer and the answer always left out fell back alone, each with its reason: the rest of
    // their batches kept their labels. Their batches count among the fallback batches.
    expect(result.stats.fallbackBatches).toBe(2);
    expect(result.stats.fallbackRows).toBe(2);
    const run = output.getWorksheet('Run');
    if (!run) throw new Error('no Run sheet');
    const runText = run.getSheetValues().flat().map(String).join('\n');
    expect(runText).toMatch(/fell back alone: the model refused/);
    const fallbackRows = new Map<number, string>();
    run.eachRow((row) => {
      const reason = row.getCell(3).text;
      if (reason.includes('fell back alone')) {
        for (const part of row.getCell(2).text.split(', ')) {
          const [from, to] = part.split('–').map(Number);
          for (let r = from ?? 0; r <= (to ?? from ?? 0); r += 1) fallbackRows.set(r, reason);
        }
      }
    });
    expect([...fallbackRows.keys()].sort()).toEqual(
      [survey.rows[poisonIndex] ?? -1, survey.rows[skippedIndex] ?? -1].sort(),
    );
    expect(fallbackRows.get(survey.rows[poisonIndex] ?? -1)).toMatch(/the model refused/);
    expect(fallbackRows.get(survey.rows[skippedIndex] ?? -1)).toMatch(/left this answer out/);
    const runValue = (setting: string) => {
      let value: unknown;
      run.eachRow((row) => {
        if (row.getCell(1).text === setting) value = row.getCell(2).value;
      });
      return value;
    };
    expect(runValue('Answers fallen back alone')).toBe(2);
    // The refused answer's batch and the skipped answer's, at least: a by-count fault adds a batch of its
    // own only when it lands on a batch's first request, not on a request of a salvage already under way.
    expect(
      runValue('Salvaged batches (answered partly wrong, bad answers asked again)'),
    ).toBeGreaterThanOrEqual(2);

    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      // Original values kept in place.
      expect(cellText(sheet, row, 'A')).toBe(`R${1000 + i}`);
      expect(cellText(sheet, row, 'E')).toBe(answer ?? '');
      const label = cellText(sheet, row, 'G');
      if (answer === null) expect(label, `row ${row}`).toBe('');
      else if (['-', 'n/a', '#N/A', '?'].includes(answer)) expect(label, `row ${row}`).toBe('Other');
      else if (fallbackRows.has(row)) expect(label, `row ${row}`).toBe('Other');
      else expect(label, `row ${row}: ${answer}`).toBe(expected(answer));
    });

    // The workflow holds references and counters: every payload in its history is small, and the API
    // key appears nowhere in history, in the job's files or in the workbook.
    const history = await handle.fetchHistory();
    const bytes = (history.events ?? []).flatMap(byteStrings);
    const largest = Math.max(...bytes.map((b) => b.length));
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(256 * 1024);
    const text = bytes.map((b) => Buffer.from(b).toString('utf8')).join('\n');
    expect(text).toContain(jobId); // the payloads are read as text: the check below could see a key
    expect(text).not.toContain(TEST_API_KEY);
    for (const file of await fs.readdir(h.store.dir(jobId), { recursive: true })) {
      const full = path.join(h.store.dir(jobId), file);
      if ((await fs.stat(full)).isFile())
        expect((await fs.readFile(full)).includes(TEST_API_KEY), file).toBe(false);
    }

    // One stored result per batch: retries overwrote, never added (a salvage's pieces are kept apart).
    const results = await fs.readdir(path.join(h.store.dir(jobId), 'results'));
    expect(results.filter((f) => f.endsWith('.json'))).toHaveLength(result.progress.batches.total);
    expect(result.progress.rows.total).toBe(answers.length);
    expect(result.progress.rows.done).toBe(answers.length);
    expect(result.progress.apiCalls).toBeGreaterThan(result.progress.batches.total);
  }, 120_000);

  it('runs one batch at a time below PARALLEL_MIN_RESPONSES or with parallel processing off, else a window of PARALLEL_MAX_WORKERS', async () => {
    h.sim.configure({ latency: { meanMs: 40 } });
    try {
      h.sim.resetStats();
      await runJob('small', makeAnswers(60), testOptions({ maxWorkers: 5 }));
      expect(h.sim.stats().maxInFlight).toBe(1);

      h.sim.resetStats();
      await runJob('off', makeAnswers(200), testOptions({ maxWorkers: 5, parallel: false }));
      expect(h.sim.stats().maxInFlight).toBe(1);

      h.sim.resetStats();
      const { result } = await runJob('parallel', makeAnswers(200), testOptions({ maxWorkers: 4 }));
      expect(h.sim.stats().maxInFlight).toBe(4);
      expect(result.progress.window.max).toBe(4);
    } finally {
      h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
    }
  });

  it('asks for the model and temperature of the job (OPENAI_MODEL, OPENAI_TEMPERATURE) in every request', async () => {
    h.sim.resetStats();
    const { result } = await runJob(
      'settings',
      makeAnswers(30),
      testOptions({ model: 'gpt-4.1-mini', temperature: 0.35 }),
    );
    expect(h.sim.stats().bySettings).toEqual({ 'gpt-4.1-mini @ 0.35': result.progress.batches.total });
  });

  it('sends only the uncoded rows of a half-coded file and keeps the codes already there', async () => {
    const answers = makeAnswers(200);
    const coded = new Map<number, string>();
    for (let i = 0; i < 120; i += 1) coded.set(i, i % 2 ? 'Price' : 'Hand-coded');
    h.sim.resetStats();
    const { output, survey, result } = await runJob('half', answers, testOptions(), { coded });
    const uncoded = answers.slice(120).filter((a): a is string => a !== null);
    expect(h.sim.stats().answersLabelled).toBe(new Set(uncoded.map((a) => a.trim().toLowerCase())).size);
    expect(result.progress.rows.alreadyCoded).toBe(120);
    const sheet = output.getWorksheet('Data');
    if (!sheet) throw new Error('no Data sheet');
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      expect(cellText(sheet, row, 'G')).toBe(i < 120 ? (coded.get(i) ?? '') : expected(answer));
    });
    const summary = output.getWorksheet('Summary');
    const summaryText = summary?.getSheetValues().flat().map(String).join('|') ?? '';
    expect(summaryText).toContain('Hand-coded');
  });

  it('continues as new in long jobs without losing or repeating a batch', async () => {
    h.sim.resetStats();
    const answers = makeAnswers(150);
    const { result, handle, output, survey } = await runJob('long', answers, testOptions({ maxWorkers: 3 }), {
      batchesPerRun: 4,
    });
    const runs: string[] = [];
    for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
      runs.push(run.status.name);
    const boundaries = runs.filter((s) => s === 'CONTINUED_AS_NEW').length;
    expect(boundaries).toBeGreaterThanOrEqual(2);
    // Every batch answered; a batch in flight at a hand-over may be asked again by the next run, at most a
    // window of them per boundary (its stored answer is reused when it is there first).
    const answered = h.sim.stats().answered;
    expect(answered).toBeGreaterThanOrEqual(result.progress.batches.total);
    expect(answered).toBeLessThanOrEqual(result.progress.batches.total + 3 * boundaries);
    expect(result.progress.batches.done).toBe(result.progress.batches.total);
    expectEveryRowCoded(output, answers, survey);
  });

  it('rejects a concurrency update out of range and applies one in range', async () => {
    h.sim.configure({ latency: { meanMs: 60 } });
    const workers = await h.startWorkers({ slots: 6 });
    try {
      const { started } = await h.startSurvey(
        workers.taskQueue,
        'update.xlsx',
        makeAnswers(300),
        testOptions({ maxWorkers: 2 }),
      );
      await expect(started.handle.executeUpdate(setConcurrencyUpdate, { args: [0] })).rejects.toBeInstanceOf(
        WorkflowUpdateFailedError,
      );
      const window = await started.handle.executeUpdate(setConcurrencyUpdate, { args: [6] });
      expect(window).toEqual({ size: 6, max: 6 });
      h.sim.resetStats();
      const result = await started.handle.result();
      expect(h.sim.stats().maxInFlight).toBeGreaterThan(2);
      expect(result.progress.window.max).toBe(6);
    } finally {
      h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
      await workers.stop();
    }
  });
});

describe('a fallback that cannot be recorded', () => {
  it('fails the job with the reason, instead of retrying its workflow task forever', async () => {
    const taskQueue = uniqueTaskQueue();
    const deps = {
      store: h.store,
      llm: createLlmEndpoint({ apiKey: TEST_API_KEY, baseURL: h.sim.baseURL, timeoutMs: 1_000 }),
    };
    // Every batch fails for good, and recording its fallback fails too (a full disk, say).
    const files = {
      ...createFileActivities(deps),
      recordFallback: () =>
        Promise.reject(ApplicationFailure.nonRetryable('no space left on device', 'StoreError')),
    };
    const llm = {
      classifyBatch: () =>
        Promise.reject(ApplicationFailure.nonRetryable('quota exhausted', 'InsufficientQuotaError')),
    };
    const connection = h.env.nativeConnection;
    const main = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: files,
    });
    const llmWorker = await Worker.create({
      connection,
      taskQueue: llmTaskQueue(taskQueue),
      activities: llm,
    });
    await main.runUntil(
      llmWorker.runUntil(async () => {
        const { started } = await h.startSurvey(
          taskQueue,
          'unrecordable.xlsx',
          makeAnswers(30),
          testOptions(),
        );
        const failure = await started.handle.result().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        const cause = (failure as WorkflowFailedError).cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect((cause as ApplicationFailure).type).toBe('FallbackNotRecordedError');
        expect(cause?.message).toMatch(
          /^batch \d+: .*fallback could not be recorded: no space left on device$/,
        );
        expect((await started.handle.query(progressQuery)).phase).toBe('failed');
      }),
    );
  });
});
