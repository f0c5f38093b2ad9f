import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createFileActivities, createLlmActivities } from '../../activities/index.js';
import { createLlmEndpoint } from '../../activities/llm.js';
import { llmTaskQueue } from '../../domain/task-queues.js';
import type { Harness } from './harness.js';
import { TEST_API_KEY } from './harness.js';
import { uniqueTaskQueue, workflowBundle } from './temporal.js';

/**
 * Workers on a queue of their own whose jobs fail part-way: batches before `codedBatches` are coded by the
 * simulator as usual, each later one fails for good and recording its fallback fails too (a full disk,
 * say), so the job fails after coding those batches. Stop them and start ordinary workers on the same
 * queue to retry the job.
 */
export async function failingWorkers(
  h: Harness,
  codedBatches: number,
): Promise<{ taskQueue: string; stop(): Promise<void> }> {
  const taskQueue = uniqueTaskQueue('failing');
  const deps = {
    store: h.store,
    llm: createLlmEndpoint({ apiKey: TEST_API_KEY, baseURL: h.sim.baseURL, timeoutMs: 2_000 }),
  };
  const real = createLlmActivities(deps);
  const llm: typeof real = {
    ...real,
    classifyBatch: (input) =>
      input.index < codedBatches
        ? real.classifyBatch(input)
        : Promise.reject(ApplicationFailure.nonRetryable('quota exhausted', 'InsufficientQuotaError')),
  };
  const files = {
    ...createFileActivities(deps),
    recordFallback: () =>
      Promise.reject(ApplicationFailure.nonRetryable('no space left on device', 'StoreError')),
  };
  const connection = h.env.nativeConnection;
  const workers = [
    await Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities: files }),
    await Worker.create({ connection, taskQueue: llmTaskQueue(taskQueue), activities: llm }),
  ];
  const running = workers.map((w) => w.run());
  return {
    taskQueue,
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    },
  };
}
