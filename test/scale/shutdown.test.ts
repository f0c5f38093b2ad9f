import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassifyJobResult } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startApiProcess, startWorkerProcess, waitFor, waitForPollers } from '../helpers/processes.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { CATEGORIES, makeAnswers, writeSurvey } from '../helpers/survey.js';

let h: Harness;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 1_500 } });
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await h?.close();
});

function workerEnv(taskQueue: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATA_DIR: h.dataDir,
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: h.sim.baseURL,
    PARALLEL_MAX_WORKERS: '3',
    SHUTDOWN_GRACE: '20',
  };
}

describe('graceful shutdown', () => {
  it('SIGTERM lets a worker finish its running batches: none is lost, none is sent twice', async () => {
    const taskQueue = uniqueTaskQueue('term');
    const first = startWorkerProcess(workerEnv(taskQueue));
    processes.push(first);
    await waitForPollers(h.env.client, taskQueue, 1);
    const file = path.join(h.dataDir, 'term.xlsx');
    await writeSurvey(file, makeAnswers(120));
    h.sim.resetStats();
    const started = await h.jobs(taskQueue).create({
      fileName: 'term.xlsx',
      source: { path: file },
      column: 'E2',
      categories: CATEGORIES,
      options: testOptions({ maxWorkers: 3 }),
      idFrom: 'random',
    });
    await waitFor(() => (h.sim.stats().inFlight === 3 ? true : undefined), 60_000, 'three batches in flight');
    const answeredBefore = h.sim.stats().answered;
    const sentBefore = h.sim.stats().requests;
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // It waited for its batches (~1.5 s each), well within the grace time.
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(h.sim.stats().answered).toBeGreaterThanOrEqual(answeredBefore + 3);
    const stored = (await fs.readdir(path.join(h.store.dir(started.jobId), 'results'))).length;
    expect(stored).toBeGreaterThanOrEqual(3);
    expect(h.sim.stats().requests).toBe(sentBefore); // nothing new taken on after SIGTERM

    const second = startWorkerProcess(workerEnv(taskQueue));
    processes.push(second);
    const result = (await started.handle.result()) as ClassifyJobResult;
    await second.kill('SIGTERM');
    expect(result.stats.fallbackBatches).toBe(0);
    expect(h.sim.stats().requests).toBe(result.progress.batches.total); // each batch sent exactly once
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
