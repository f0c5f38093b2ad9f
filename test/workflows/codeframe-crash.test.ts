import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateThemedAnswers, themeOfLabel } from '../../simulator/themes.js';
import { codeframeService, storedFiles, surveyAnswers } from '../helpers/codeframes.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions, workerEnv } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startWorkerProcess, waitFor } from '../helpers/processes.js';
import { writeSurvey } from '../helpers/survey.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

let h: Harness;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 300, jitterMs: 50 }, themes: { spuriousRate: 0 } });
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await h?.close();
});

describe('a worker killed with SIGKILL while a codeframe is drafted', () => {
  it('loses nothing: another worker finishes it, and no chunk stored before the kill is sent again', async () => {
    const slots = 2;
    const taskQueue = uniqueTaskQueue('cf-crash');
    const env = workerEnv(h, taskQueue, slots);
    const answers = surveyAnswers(generateThemedAnswers(1_500, 21));
    const file = path.join(h.dataDir, 'crash.xlsx');
    await writeSurvey(file, answers);
    h.sim.resetStats();

    const first = startWorkerProcess(env);
    workers.push(first);
    const service = codeframeService(h.env.client, h.store, taskQueue);
    const started = await service.create({
      fileName: 'crash.xlsx',
      source: { path: file },
      column: 'E2',
      // Chunks of 60 answers: twenty or so extraction requests, two at a time.
      settings: { chunkMaxAnswers: 60 },
      options: testOptions({
        maxWorkers: slots,
        retry: {
          maximumAttempts: 5,
          initialIntervalMs: 100,
          maximumIntervalMs: 1_000,
          heartbeatTimeoutMs: 3_000,
        },
      }),
      idFrom: 'random',
    });
    const id = started.codeframeId;
    await waitFor(
      async () => ((await storedFiles(h.store, id, 'themes')).size >= 4 ? true : undefined),
      90_000,
      'four chunks stored by the first worker',
    );
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const before = await storedFiles(h.store, id, 'themes');
    const sentBefore = h.sim.stats().byTask.extract ?? 0;
    const progress = await service.progress(id).catch(() => undefined);
    if (progress) expect(progress.chunks.done).toBeLessThan(progress.chunks.total);

    const second = startWorkerProcess(env);
    workers.push(second);
    const result = await started.handle.result();
    await second.kill('SIGTERM');

    const chunks = result.progress.chunks.total;
    expect(chunks).toBeGreaterThan(before.size + slots);
    expect(result.progress.chunks).toMatchObject({ done: chunks, failed: 0 });
    // Every chunk stored before the kill is as it was: not asked again, not rewritten.
    const after = await storedFiles(h.store, id, 'themes');
    expect(after.size).toBe(chunks);
    for (const [name, content] of before) expect(after.get(name), name).toBe(content);
    // The simulator saw each chunk once, but for those in flight at the kill (at most the slots).
    const sent = h.sim.stats().byTask.extract ?? 0;
    expect(sent).toBeGreaterThanOrEqual(chunks);
    expect(sent).toBeLessThanOrEqual(chunks + slots);
    expect(sent - sentBefore).toBeLessThanOrEqual(chunks - before.size + slots);
    // And the draft is whole.
    expect(result.codes.every((c) => themeOfLabel(c.label) !== undefined)).toBe(true);
    expect(result.codes.length).toBeGreaterThanOrEqual(11);
  }, 240_000);
});
