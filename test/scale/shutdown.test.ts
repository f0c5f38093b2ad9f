import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startApiProcess, startWorkerProcess, waitFor, waitForPollers } from '../helpers/processes.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { CATEGORIES, expectEveryRowCoded, makeAnswers, readOutput, writeSurvey } from '../helpers/survey.js';

/** The simulator's answer time: a batch is still running for a while after the test sees it start. */
const LATENCY = { meanMs: 1_500 };

let h: Harness;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: LATENCY });
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await h?.close();
});

function workerEnv(taskQueue: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATA_DIR: h.dataDir,
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: h.sim.baseURL,
    PARALLEL_MAX_WORKERS: '3',
    // Ten answers a request (the default is 50): enough batches to be mid-job when a signal comes.
    BATCH_SIZE: '10',
    SHUTDOWN_GRACE: '20',
    ...overrides,
  };
}

/**
 * The exit code (or signal) of a process that must end by itself. The bound is no target: it only turns
 * a process that never ends into a failure rather than a hang.
 */
async function exitOnItsOwn(p: WorkerProcess, what: string): Promise<number | NodeJS.Signals | null> {
  return waitFor(() => p.child.exitCode ?? p.child.signalCode ?? undefined, 120_000, what);
}

describe('graceful shutdown', () => {
  it('SIGTERM lets a worker finish its running batches: none is lost, none is sent twice', async () => {
    const taskQueue = uniqueTaskQueue('term');
    // A grace far longer than the test may run: the worker can only exit because its batches finished.
    const env = workerEnv(taskQueue, { SHUTDOWN_GRACE: '3600' });
    const first = startWorkerProcess(env);
    processes.push(first);
    await waitForPollers(h.env.client, taskQueue, 1);
    h.sim.resetStats();
    const { started } = await h.startSurvey(
      taskQueue,
      'term.xlsx',
      makeAnswers(120),
      testOptions({ maxWorkers: 3 }),
    );
    await waitFor(() => (h.sim.stats().inFlight === 3 ? true : undefined), 60_000, 'three batches in flight');
    const answeredBefore = h.sim.stats().answered;
    const sentBefore = h.sim.stats().requests;
    first.child.kill('SIGTERM');
    expect(await exitOnItsOwn(first, 'the worker to exit after SIGTERM')).toBe(0);
    // It waited for its batches: all three were answered, none was cut short.
    expect(h.sim.stats().answered).toBeGreaterThanOrEqual(answeredBefore + 3);
    expect(h.sim.stats().byStatus.aborted ?? 0).toBe(0);
    const stored = (await fs.readdir(path.join(h.store.dir(started.jobId), 'results'))).length;
    expect(stored).toBeGreaterThanOrEqual(3);
    expect(h.sim.stats().requests).toBe(sentBefore); // nothing new taken on after SIGTERM

    const second = startWorkerProcess(env);
    processes.push(second);
    const result = await started.handle.result();
    await second.kill('SIGTERM');
    expect(result.stats.fallbackBatches).toBe(0);
    expect(h.sim.stats().requests).toBe(result.progress.batches.total); // each batch sent exactly once
  }, 240_000);

  it('SIGTERM with a grace shorter than a batch cancels the running batches, exits, and hands them to another worker', async () => {
    const slots = 3;
    const taskQueue = uniqueTaskQueue('handback');
    // Batches take 3 s, the grace is 0.3 s: whatever runs at SIGTERM cannot finish in time.
    h.sim.configure({ latency: { meanMs: 3_000 } });
    try {
      const env = workerEnv(taskQueue, { PARALLEL_MAX_WORKERS: String(slots), SHUTDOWN_GRACE: '0.3' });
      const leaving = startWorkerProcess(env);
      const staying = startWorkerProcess(env);
      processes.push(leaving, staying);
      await waitForPollers(h.env.client, taskQueue, 2);
      const answers = makeAnswers(120);
      h.sim.resetStats();
      const { started, survey } = await h.startSurvey(
        taskQueue,
        'handback.xlsx',
        answers,
        testOptions({ maxWorkers: 2 * slots }),
      );
      // Each process runs at most `slots` batches: with twice that in flight, each runs `slots` of them.
      await waitFor(
        () => (h.sim.stats().inFlight === 2 * slots ? true : undefined),
        60_000,
        'both workers running batches',
      );
      leaving.child.kill('SIGTERM');
      expect(await exitOnItsOwn(leaving, 'the worker to exit after its grace')).toBe(0);
      // Its batches were cancelled (their requests left unanswered), not waited for.
      const cancelled = h.sim.stats().byStatus.aborted ?? 0;
      expect(cancelled).toBeGreaterThanOrEqual(1);
      expect(cancelled).toBeLessThanOrEqual(slots);

      const result = await started.handle.result();
      await staying.kill('SIGTERM');
      const batches = result.progress.batches.total;
      const stats = h.sim.stats();
      expect(result.stats.fallbackBatches).toBe(0);
      expect(stats.answered).toBe(batches); // each batch answered once
      expect(stats.byStatus.aborted ?? 0).toBe(cancelled); // the other worker cut nothing short
      // The cancelled batches were sent again, nothing else.
      expect(stats.requests).toBe(batches + cancelled);
      expect(stats.requests).toBeLessThanOrEqual(batches + slots);

      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
    } finally {
      h.sim.configure({ latency: LATENCY });
    }
  }, 240_000);

  it('SIGTERM on the API ends open event streams with a shutdown event, then the process exits', async () => {
    const taskQueue = uniqueTaskQueue('drain');
    const worker = startWorkerProcess(workerEnv(taskQueue));
    const api = await startApiProcess(workerEnv(taskQueue));
    processes.push(worker, api);
    const form = new FormData();
    const file = path.join(h.dataDir, 'drain.xlsx');
    await writeSurvey(file, makeAnswers(300));
    form.append('file', new File([await fs.readFile(file)], 'drain.xlsx'));
    form.append('column', 'E2');
    form.append('categories', CATEGORIES.map((c) => c.name).join('\n'));
    const started = await fetch(`${api.url}/jobs`, { method: 'POST', body: form });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };

    const events = await fetch(`${api.url}/jobs/${jobId}/events`);
    expect(events.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = events.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (!reader) throw new Error('no stream');
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('event: progress')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    api.child.kill('SIGTERM');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toMatch(/event: shutdown/);
    expect(text).toMatch(/retry: \d+/);
    expect(await api.exited).toBe(0);
    await worker.kill('SIGTERM');
  }, 240_000);
});
