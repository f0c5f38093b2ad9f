import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredResult } from '../../activities/stored.js';
import type { ClassifyJobInput } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { cellText, expected, makeAnswers, readOutput } from '../helpers/survey.js';
import { workflowBundle } from '../helpers/temporal.js';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 40, jitterMs: 10 } });
});
afterAll(async () => {
  await h?.close();
});

/** Every run of a workflow, oldest first, with the state it was started with and its history's length. */
async function runsOf(workflowId: string) {
  const runs: Array<{ runId: string; status: string; start: Date }> = [];
  for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push({ runId: run.runId, status: run.status.name, start: run.startTime });
  runs.sort((a, b) => a.start.getTime() - b.start.getTime());
  return Promise.all(
    runs.map(async (run) => {
      const history = await h.env.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const events = history.events ?? [];
      const payload = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const input = defaultPayloadConverter.fromPayload<ClassifyJobInput>(payload as Payload);
      return { ...run, history, events: events.length, carriedInFlight: input.carry?.inFlight ?? [] };
    }),
  );
}

describe('a continue-as-new with a batch stuck in retry backoff', () => {
  it('hands the stuck batch to the next run and keeps the others flowing: no stall at any boundary', async () => {
    const answers = makeAnswers(300);
    const stuck = 15; // batch 2 (index 1): its server fails every time
    answers[stuck] = 'STUCK the server fails every request with this answer';
    h.sim.resetStats();
    h.sim.configure({ faults: [{ kind: 'server_error', match: 'stuck' }] });
    const options = testOptions({
      maxWorkers: 3,
      // Waits of seconds between the stuck batch's attempts: longer than a hand-over takes on a busy machine
      // (two cores running other test files), so a pause that long in other requests means a stall, not load.
      retry: {
        maximumAttempts: 3,
        initialIntervalMs: 4_000,
        maximumIntervalMs: 5_000,
        heartbeatTimeoutMs: 5_000,
      },
    });
    const workers = await h.startWorkers({ slots: 3, llmTimeoutMs: 2_000 });
    try {
      const { started, survey } = await h.startSurvey(workers.taskQueue, 'stuck.xlsx', answers, options, {
        batchesPerRun: 4,
      });
      const result = await started.handle.result();
      h.sim.configure({ faults: [] });
      const stats = h.sim.stats();
      const batches = result.progress.batches.total;

      // The stuck batch's requests, told apart by their fault, and everyone else's.
      const stuckAt = [...(stats.faultArrivals.server_error ?? [])].sort((a, b) => a - b);
      const others = [...stats.arrivals].sort((a, b) => a - b);
      for (const at of stuckAt) others.splice(others.indexOf(at), 1);
      const lastOther = Math.max(...others);
      // Its retries are counted over the runs: a run that takes it over goes on from the attempts spent.
      expect(stuckAt.length, 'requests for the stuck batch').toBe(options.retry.maximumAttempts);
      // While other batches remained they kept flowing: no pause between two of their requests as long as
      // the stuck batch's retry backoff, which is what a run waiting for it before handing over would show.
      // (Its last waits, alone at the end of the job, are its retries running out.) A pause of about a second
      // at each hand-over is the server's: a run shorter than history.workflowIdReuseMinimalInterval (1 s)
      // continues as new after a backoff that makes up the difference.
      const backoff = 0.8 * options.retry.initialIntervalMs;
      const pauses = others.slice(1).map((at, i) => at - (others[i] ?? 0));
      const longest = Math.round(Math.max(...pauses));
      expect(longest, `the longest pause between other batches' requests, ms`).toBeLessThan(backoff);
      // Requests of other batches between each two of the stuck batch's while others remained.
      const waits = stuckAt.slice(1).flatMap((to, i) => {
        const from = stuckAt[i] ?? 0;
        return to > lastOther ? [] : [others.filter((at) => at > from && at < to).length];
      });
      expect(waits.length).toBeGreaterThanOrEqual(2);
      // The batch was in flight at several hand-overs, and every run stayed small.
      const runs = await runsOf(started.jobId);
      const carriedIt = runs.filter((r) => r.carriedInFlight.includes(1)).length;
      expect(carriedIt).toBeGreaterThanOrEqual(2);
      for (const run of runs) expect(run.events).toBeLessThan(10_000);
      // And each run replays on this code: parking the batches handed over is deterministic.
      for (const run of runs) {
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, run.history, started.jobId);
      }

      // Every row coded once: the stuck batch's ten fell back with the reason, the rest have their labels.
      const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
      const data = output.getWorksheet('Data');
      if (!data) throw new Error('no Data sheet');
      expect(data.actualRowCount).toBe(2 + answers.length);
      answers.forEach((answer, i) => {
        const row = survey.rows[i] ?? 0;
        const inStuck = i >= 10 && i < 20;
        expect(cellText(data, row, 'G'), `row ${row}`).toBe(inStuck ? 'Other' : expected(answer));
      });
      expect(result.stats.fallbackBatches).toBe(1);
      const fellBack = await h.store.readJsonIfExists<StoredResult>(h.store.resultFile(started.jobId, 1));
      expect(fellBack?.fallback).toMatchObject({ attempts: options.retry.maximumAttempts });
      expect(fellBack?.fallback?.reason).toMatch(/^InternalServerError: .* \(after 3 attempts\)$/);
      expect(result.stats.fallbackRows).toBe(10);
      expect(result.progress.batches.done).toBe(batches);

      const repeated = others.length - (batches - 1);
      process.stderr.write(
        `hand-over: ${runs.length} runs, the stuck batch carried over ${carriedIt} boundaries; ` +
          `other batches' requests during its waits: ${waits.join(', ')}; ${stuckAt.length} requests for it, ` +
          `${others.length} for the ${batches - 1} others (${repeated} repeated at hand-overs), ` +
          `their longest pause ${longest} ms\n`,
      );
    } finally {
      h.sim.configure({ faults: [] });
      await workers.stop();
    }
  }, 120_000);
});

describe('the phase search attribute across hand-overs', () => {
  it('stays the running phase at every continue-as-new: no run ends with the job shown as failed', async () => {
    const answers = makeAnswers(80);
    const options = testOptions({ maxWorkers: 2, batchSize: 7 });
    const workers = await h.startWorkers({ slots: 2 });
    try {
      const { started } = await h.startSurvey(workers.taskQueue, 'phase-hand-over.xlsx', answers, options, {
        batchesPerRun: 3,
      });
      const result = await started.handle.result();
      expect(result.progress.phase).toBe('done');
      const runs = await runsOf(started.jobId);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      // The phase each run upserted, in order; a run that upserts none keeps what it inherited.
      const phases = runs.map((run) =>
        (run.history.events ?? []).flatMap((event) => {
          const payload =
            event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[
              SEARCH_ATTRIBUTES.phase.name
            ];
          return payload ? [defaultPayloadConverter.fromPayload<string>(payload)] : [];
        }),
      );
      expect(phases.flat(), `phases upserted run by run: ${JSON.stringify(phases)}`).not.toContain('failed');
      let shown: string | undefined;
      for (const [i, run] of runs.entries()) {
        shown = phases[i]?.at(-1) ?? shown;
        expect(shown, `the phase shown when run ${i + 1} ended (${run.status})`).toBe(
          i < runs.length - 1 ? 'classifying' : 'done',
        );
      }
      // And a list filtered by phase finds none of the job's runs failed.
      const failed = [];
      for await (const run of h.env.client.workflow.list({
        query: `WorkflowId = '${started.jobId}' AND ${SEARCH_ATTRIBUTES.phase.name} = 'failed'`,
      }))
        failed.push(run.runId);
      expect(failed).toEqual([]);
      for (const run of runs) {
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, run.history, started.jobId);
      }
    } finally {
      await workers.stop();
    }
  }, 120_000);
});
