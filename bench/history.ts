import type { Client, WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/**
 * Where a job's time went, read from its workflow history (every run, continue-as-new followed): the
 * phases before and after the batches, and the costs each batch pays on top of its request.
 */
export interface Timeline {
  /** First to last event of the job's workflow (all runs). */
  readonly workflowMs: number;
  /** Workflow start to prepareJob scheduled: the first workflow task. */
  readonly firstTaskMs: number;
  /** prepareJob scheduled to completed (read the sheet, cut and store the batches). */
  readonly prepareMs: number;
  /** prepareJob completed to the first batch scheduled (a workflow task and loadBatchSpans). */
  readonly toFirstBatchMs: number;
  /** First batch scheduled to last batch completed. */
  readonly batchesMs: number;
  /** Last batch completed to the workflow's end: writeOutput and two workflow tasks. */
  readonly finishMs: number;
  readonly writeOutputMs: number;
  /** Per batch, averages: scheduled → started (activity dispatch), started → completed (the activity). */
  readonly batchDispatchMs: number;
  readonly batchRunMs: number;
  /** A batch completed → the batch that takes its place scheduled: the workflow's turnaround for one slot. */
  readonly turnaroundMs: number;
  /** Attempts beyond the first, over all batches (a 429 is one). */
  readonly retries: number;
  readonly workflowTasks: number;
  /** Workflow tasks, averages: scheduled → started, started → completed. */
  readonly workflowTaskDispatchMs: number;
  readonly workflowTaskRunMs: number;
  readonly events: number;
  readonly runs: number;
}

export async function jobTimeline(client: Client, jobId: string, window: number): Promise<Timeline> {
  const events = await allRuns(client, jobId);
  const at = (e: HistoryEvent) => toMs(e.eventTime);
  const names = new Map<string, string>();
  const scheduled = new Map<string, number>();
  const started = new Map<string, number>();
  const batchSchedules: number[] = [];
  const batchCompletions: number[] = [];
  const dispatch: number[] = [];
  const run: number[] = [];
  const wtDispatch: number[] = [];
  const wtRun: number[] = [];
  const phase: Record<string, { scheduled?: number; completed?: number }> = {};
  let retries = 0;
  let wtScheduled = 0;
  let wtStarted = 0;
  let runs = 0;
  for (const e of events) {
    const t = at(e);
    const id = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) runs += 1;
    if (e.workflowTaskScheduledEventAttributes) wtScheduled = t;
    if (e.workflowTaskStartedEventAttributes) {
      wtStarted = t;
      wtDispatch.push(t - wtScheduled);
    }
    if (e.workflowTaskCompletedEventAttributes) wtRun.push(t - wtStarted);
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) {
      const name = sched.activityType?.name ?? '';
      names.set(id, name);
      scheduled.set(id, t);
      if (name === 'classifyBatch') batchSchedules.push(t);
      else (phase[name] ??= {}).scheduled ??= t;
    }
    const start = e.activityTaskStartedEventAttributes;
    if (start) {
      const key = String(start.scheduledEventId);
      started.set(key, t);
      retries += Math.max(0, (start.attempt ?? 1) - 1);
      if (names.get(key) === 'classifyBatch') dispatch.push(t - (scheduled.get(key) ?? t));
    }
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (done) {
      const key = String(done.scheduledEventId);
      const name = names.get(key) ?? '';
      if (name === 'classifyBatch') {
        batchCompletions.push(t);
        run.push(t - (started.get(key) ?? t));
      } else (phase[name] ??= {}).completed = t;
    }
  }
  const first = events[0] ? at(events[0]) : 0;
  const last = events.at(-1) ? at(events.at(-1) as HistoryEvent) : 0;
  const prepare = phase.prepareJob ?? {};
  const write = phase.writeOutput ?? {};
  const firstBatch = batchSchedules[0] ?? 0;
  const lastBatch = Math.max(...batchCompletions);
  // With a full window, the k-th completion frees the slot the (window + k)-th batch takes.
  const turnaround = batchCompletions
    .map((c, k) => (batchSchedules[window + k] ?? Number.NaN) - c)
    .filter((d) => Number.isFinite(d) && d >= 0);
  return {
    workflowMs: last - first,
    firstTaskMs: (prepare.scheduled ?? first) - first,
    prepareMs: (prepare.completed ?? 0) - (prepare.scheduled ?? 0),
    toFirstBatchMs: firstBatch - (prepare.completed ?? firstBatch),
    batchesMs: lastBatch - firstBatch,
    finishMs: last - lastBatch,
    writeOutputMs: (write.completed ?? 0) - (write.scheduled ?? 0),
    batchDispatchMs: mean(dispatch),
    batchRunMs: mean(run),
    turnaroundMs: mean(turnaround),
    retries,
    workflowTasks: wtRun.length,
    workflowTaskDispatchMs: mean(wtDispatch),
    workflowTaskRunMs: mean(wtRun),
    events: events.length,
    runs,
  };
}

/** The events of every run of the job, in order, following continue-as-new. */
async function allRuns(client: Client, jobId: string): Promise<HistoryEvent[]> {
  const description = await client.workflow.getHandle(jobId).describe();
  const firstRunId = description.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  const out: HistoryEvent[] = [];
  for (let runId = firstRunId; ;) {
    const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
    const events = history.events ?? [];
    out.push(...events);
    const next = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return out;
    runId = next;
  }
}

function toMs(ts: HistoryEvent['eventTime']): number {
  if (!ts) return 0;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}
