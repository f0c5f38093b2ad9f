import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressQuery } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions, workerEnv } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startWorkerProcess, waitFor } from '../helpers/processes.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { expectEveryRowCoded, makeAnswers, readOutput } from '../helpers/survey.js';

let h: Harness;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 150, jitterMs: 50 } });
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await h?.close();
});

describe('a worker killed with SIGKILL in the middle of a job', () => {
  it('loses nothing: a new worker completes the job, every row once, at most batches + concurrency calls', async () => {
    const concurrency = 4;
    const taskQueue = uniqueTaskQueue('crash');
    const env = workerEnv(h, taskQueue, concurrency);
    const answers = makeAnswers(400);
    h.sim.resetStats();

    const first = startWorkerProcess(env);
    workers.push(first);
    const { started, survey } = await h.startSurvey(
      taskQueue,
      'crash.xlsx',
      answers,
      testOptions({
        maxWorkers: concurrency,
        retry: {
          maximumAttempts: 5,
          initialIntervalMs: 100,
          maximumIntervalMs: 1_000,
          heartbeatTimeoutMs: 3_000,
        },
      }),
    );
    const before = await waitFor(
      async () => {
        const p = await started.handle.query(progressQuery).catch(() => undefined);
        return p && p.batches.done >= 10 ? p : undefined;
      },
      60_000,
      'ten batches done by the first worker',
    );
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    expect(before.batches.done).toBeLessThan(before.batches.total);

    const second = startWorkerProcess(env);
    workers.push(second);
    const result = await started.handle.result();
    await second.kill('SIGTERM');

    const batches = result.progress.batches.total;
    const stats = h.sim.stats();
    expect(stats.requests).toBeLessThanOrEqual(batches + concurrency);
    expect(stats.answered).toBeGreaterThanOrEqual(batches);
    expect(result.stats.fallbackBatches).toBe(0);

    expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
  }, 240_000);
});
