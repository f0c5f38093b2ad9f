import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredResult } from '../../activities/stored.js';
import { withinBudget } from '../helpers/budget.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startApiProcess, startWorkerProcess, waitFor, waitForPollers } from '../helpers/processes.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { CATEGORIES, expectEveryRowCoded, makeAnswers, writeSurvey } from '../helpers/survey.js';

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

let h: Harness;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 80, jitterMs: 30 } });
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await h?.close();
});

describe('scaling out: one Temporal server, the API and three worker processes on one task queue', () => {
  // Retried: in the full suite the chosen worker's batches sometimes end before the kill lands, and then
  // none is retried (seen twice on 2026-12-07, never when run alone); not yet understood.
  it(
    'spreads one job over all three workers, holds the budget, and loses nothing when one is killed',
    { timeout: 240_000, retry: 2 },
    async () => {
      const rpm = 40;
      const windowMs = 4_000;
      const slots = 4;
      h.sim.configure({ rpm, timeScale: windowMs / 60_000 });
      h.sim.resetStats();
      const env = {
        TEMPORAL_ADDRESS: h.env.address,
        TEMPORAL_TASK_QUEUE: uniqueTaskQueue('scale'),
        DATA_DIR: h.dataDir,
        OPENAI_API_KEY: 'test-key',
        OPENAI_BASE_URL: h.sim.baseURL,
        OPENAI_RPM: String(rpm),
        OPENAI_BUDGET_WINDOW: String(windowMs / 1000),
        PARALLEL_MAX_WORKERS: String(slots),
        // Ten answers a request (the default is 50): enough batches for every worker to hold some.
        BATCH_SIZE: '10',
        HEARTBEAT_TIMEOUT: '3',
        RETRY_INITIAL_INTERVAL: '0.2',
        SHUTDOWN_GRACE: '0',
      };
      const api = await startApiProcess(env);
      processes.push(api);
      const workers = [startWorkerProcess(env), startWorkerProcess(env), startWorkerProcess(env)];
      processes.push(...workers);
      await waitForPollers(h.env.client, env.TEMPORAL_TASK_QUEUE, 3);

      const answers = makeAnswers(480);
      const file = path.join(h.dataDir, 'scale.xlsx');
      const survey = await writeSurvey(file, answers);
      const form = new FormData();
      form.append('file', new File([await fs.readFile(file)], 'scale.xlsx'));
      form.append('column', 'E2');
      form.append('categories', CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`).join('\n'));
      form.append('batchSize', '5');
      // A fresh job on a retry too, not the identical one an earlier attempt started.
      form.append('force', 'true');
      form.append('concurrency', String(3 * slots));
      const started = await fetch(`${api.url}/jobs`, { method: 'POST', body: form });
      expect(started.status).toBe(202);
      const { jobId } = (await started.json()) as { jobId: string };

      const resultsDir = path.join(h.dataDir, 'jobs', jobId, 'results');
      const stored = async () => {
        const names = (await fs.readdir(resultsDir).catch(() => [])).filter((f) => f.endsWith('.json'));
        return Promise.all(
          names.map(
            async (f) => JSON.parse(await fs.readFile(path.join(resultsDir, f), 'utf8')) as StoredResult,
          ),
        );
      };
      const codedBy = async () =>
        new Set((await stored()).map((r) => (r.fallback ? undefined : r.worker)).filter(Boolean));
      // Every worker has coded batches before one of them is killed.
      await waitFor(
        async () => ((await codedBy()).size === 3 ? true : undefined),
        90_000,
        'all three workers to code batches',
      );
      // The one to kill holds batches right now: the server says which worker started each pending one.
      const handle = h.env.client.workflow.getHandle(jobId);
      const victim = await waitFor(
        async () => {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          const held = new Map<string, number>();
          for (const a of pending) {
            if (a.state !== STARTED || !a.lastWorkerIdentity) continue;
            held.set(a.lastWorkerIdentity, (held.get(a.lastWorkerIdentity) ?? 0) + 1);
          }
          const [identity] = [...held].sort((x, y) => y[1] - x[1])[0] ?? [];
          return workers.find((w) => identity === `verbatim-${w.child.pid}@${os.hostname()}`);
        },
        30_000,
        'a worker holding batches',
      );
      expect(await victim.kill('SIGKILL')).toBe('SIGKILL');
      // Killed mid-job: batches were still to come.
      const atKill = (await (await fetch(`${api.url}/jobs/${jobId}`)).json()) as {
        status: string;
        progress: { batches: { done: number; total: number } };
      };
      expect(atKill.status).toBe('RUNNING');
      expect(atKill.progress.batches.done).toBeLessThan(atKill.progress.batches.total);

      const job = await waitFor(
        async () => {
          const response = await fetch(`${api.url}/jobs/${jobId}`);
          const body = (await response.json()) as {
            status: string;
            progress: { batches: { total: number } };
            stats: { fallbackBatches: number };
          };
          return body.status === 'RUNNING' ? undefined : body;
        },
        180_000,
        'the job to finish',
      );
      expect(job.status).toBe('COMPLETED');
      expect(job.stats.fallbackBatches).toBe(0);
      expect((await codedBy()).size).toBe(3);

      // The budget held across the three processes: no 429, no window of arrivals over the bucket.
      const stats = h.sim.stats();
      expect(stats.byStatus['429'] ?? 0).toBe(0);
      const check = withinBudget(stats.arrivals, rpm, windowMs);
      expect(check.ok, `${check.worst} requests over the budget`).toBe(true);
      // The killed worker's batches went to the others on a later attempt; nothing else was sent twice.
      const history = await handle.fetchHistory();
      const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
      expect(Math.max(...attempts)).toBeGreaterThan(1);
      expect(stats.requests).toBeLessThanOrEqual(job.progress.batches.total + slots);

      const download = await fetch(`${api.url}/jobs/${jobId}/result`);
      expect(download.status).toBe(200);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(await download.arrayBuffer());
      expectEveryRowCoded(workbook, answers, survey);
    },
  );
});
