/**
 * The Batch API stage of a classify job: rounds of batches, each sent, waited on with durable timers (no
 * activity held open while OpenAI works, for minutes or a day) and read back; what they leave goes to the
 * synchronous window of classify-job.ts. Holds ids and counts only, so it continues as new like the rest.
 */
import { condition, log, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { LlmActivities } from '../activities/index.js';
import type { BatchApiState, BatchPart, BatchPartOutcome, BatchPoll } from '../domain/batch-api.js';
import { NOT_SENT, QUEUE_FULL_CODE, afterRound, isEndedStatus, nextPollMs } from '../domain/batch-api.js';
import type { CostCap } from '../domain/cost.js';
import { requestCeiling, withinCap } from '../domain/cost.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import type { RetryOptions } from '../domain/job.js';
import { llmTaskQueue } from '../domain/task-queues.js';

export interface BatchApiRun {
  readonly jobId: string;
  /** Planned batches: one line each in the first round. */
  readonly totalLines: number;
  readonly poll: BatchPoll;
  readonly retry: RetryOptions;
  readonly linesPerFile?: number;
  /** Looks at the batches at most this many times before handing over to a fresh run (tests set it low). */
  readonly pollsPerRun?: number;
  readonly state: BatchApiState;
  /** Told every change, for the progress query and the hand-over. */
  readonly onState: (state: BatchApiState) => void;
  /** Told what each ended batch coded, for the job's counters. */
  readonly onCollected: (outcome: BatchPartOutcome) => void;
  /** The job's price and cap: the same rule as synchronous requests, each file priced at Batch API prices. */
  readonly cap: CostCap;
}

/**
 * Marks runs that write a round's files first and send them one at a time, each only when the most it can
 * cost fits under the cap (older runs sent a round whole in one activity, `submitBatchRound`).
 */
const BATCH_CAP_PATCH = 'batch-api-cost-cap';

/** A day's polls at the longest interval, with room: a run's history stays far under the limits. */
const DEFAULT_POLLS_PER_RUN = 500;

function batchActivities(retry: RetryOptions) {
  return proxyActivities<LlmActivities>({
    taskQueue: llmTaskQueue(workflowInfo().taskQueue),
    // An upload of 200 MB or the read of a large output file takes minutes; they heartbeat meanwhile.
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: Math.max(retry.heartbeatTimeoutMs, 10_000),
    retry: {
      maximumAttempts: 10,
      initialInterval: retry.initialIntervalMs,
      maximumInterval: Math.max(retry.maximumIntervalMs, 60_000),
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

/**
 * Runs rounds until what is left goes synchronous (`sync`), or until this run has looked often enough and
 * hands its state to a fresh one (`handover`). Every step's result is in the state before the next step, so
 * a hand-over, a worker's death or a server restart resumes exactly there.
 */
export async function runBatchApiRounds(run: BatchApiRun): Promise<'sync' | 'handover'> {
  const api = batchActivities(run.retry);
  let state = run.state;
  const set = (next: BatchApiState) => {
    state = next;
    run.onState(next);
  };
  let polls = 0;
  const { cap } = run;
  // The most the batches sent and not yet read back can cost: spent only once their usage is counted.
  const committed = () =>
    state.parts.reduce((sum, p) => sum + (p.status === NOT_SENT || p.collected ? 0 : (p.ceiling ?? 0)), 0);
  const fits = (ceiling: number) => withinCap(cap.spent(), committed(), ceiling, cap.maxCost());
  /** Sends the round's unsent files in order while each fits under the cap; the held one's ceiling, if any. */
  const sendWhatFits = async (): Promise<number | undefined> => {
    for (const p of state.parts) {
      if (p.status !== NOT_SENT) continue;
      const ceiling = p.ceiling ?? 0;
      if (!fits(ceiling)) return ceiling;
      const batchId = await api.sendBatchPart({ jobId: run.jobId, round: state.round, part: p.part });
      set({
        ...state,
        parts: state.parts.map((q) => (q.part === p.part ? { ...q, batchId, status: 'validating' } : q)),
        linesSent: state.linesSent + p.lines,
      });
      log.info('batch sent', { round: state.round, part: p.part, lines: p.lines });
    }
    return undefined;
  };
  for (;;) {
    if (state.stage === 'sync') return 'sync';
    if (state.stage === 'submit' && patched(BATCH_CAP_PATCH)) {
      // Written first, sent one file at a time below: a file that would take the cost over the cap waits.
      const round = state.round + 1;
      const written = await api.writeBatchRound({
        jobId: run.jobId,
        round,
        ...(run.linesPerFile ? { linesPerFile: run.linesPerFile } : {}),
      });
      log.info('batch round written', { round, lines: written.lines, files: written.parts.length });
      if (written.lines === 0) {
        set({ ...state, stage: 'sync', parts: [] });
        continue;
      }
      const { price } = cap;
      const parts = written.parts.map((p): BatchPart => ({
        part: p.part,
        batchId: '',
        lines: p.lines,
        status: NOT_SENT,
        completed: 0,
        failed: 0,
        collected: false,
        ceiling: price ? requestCeiling(p.promptTokens, p.maxTokens, price, 'batch') : 0,
      }));
      const { note: _note, ...rest } = state;
      set({ ...rest, round, stage: 'wait', parts, pollMs: run.poll.initialMs });
    }
    if (state.stage === 'submit') {
      const round = state.round + 1;
      const sent = await api.submitBatchRound({
        jobId: run.jobId,
        round,
        ...(run.linesPerFile ? { linesPerFile: run.linesPerFile } : {}),
      });
      log.info('batch round sent', { round, lines: sent.lines, batches: sent.parts.length });
      if (sent.lines === 0) {
        set({ ...state, stage: 'sync', parts: [] });
        continue;
      }
      const parts = sent.parts.map((p): BatchPart => ({
        part: p.part,
        batchId: p.batchId,
        lines: p.lines,
        status: 'validating',
        completed: 0,
        failed: 0,
        collected: false,
      }));
      const { note: _note, ...rest } = state;
      set({
        ...rest,
        round,
        stage: 'wait',
        parts,
        pollMs: run.poll.initialMs,
        linesSent: state.linesSent + sent.lines,
      });
    }
    // Rounds sent whole by older runs have no file left to send: then no command changes here.
    const held = await sendWhatFits();
    cap.onHeld(held);
    const open = state.parts.some((p) => p.status !== NOT_SENT && !p.collected);
    if (held !== undefined && !open) {
      // Nothing runs that could free room under the cap: wait for it to be raised or lifted (or a cancel).
      log.info('holding a batch file at the cost cap', { round: state.round, maxCost: cap.maxCost() });
      await condition(() => fits(held));
      continue;
    }
    if (polls >= (run.pollsPerRun ?? DEFAULT_POLLS_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      return 'handover';
    }
    // The durable wait: a timer in history, nothing running meanwhile. A file held at the cap is sent as
    // soon as the cap is raised, or when a batch read back leaves room under it.
    if (held === undefined) await sleep(state.pollMs);
    else await condition(() => fits(held), state.pollMs);
    polls += 1;
    set({ ...state, pollMs: nextPollMs(state.pollMs, run.poll) });
    await look(api, run, state, set);
  }
}

/** One look at the round's batches: a full queue's batch made again, ended ones read, the next step decided. */
async function look(
  api: ReturnType<typeof batchActivities>,
  run: BatchApiRun,
  start: BatchApiState,
  set: (state: BatchApiState) => void,
): Promise<void> {
  let state = start;
  const update = (part: number, change: Partial<BatchPart>) => {
    state = { ...state, parts: state.parts.map((p) => (p.part === part ? { ...p, ...change } : p)) };
    set(state);
  };
  // A batch refused for a full queue is created again (same file) once the wait has passed.
  for (const p of state.parts) {
    if (p.status === 'failed' && p.error?.code === QUEUE_FULL_CODE) {
      const batchId = await api.resubmitBatchPart({ jobId: run.jobId, round: state.round, part: p.part });
      update(p.part, { batchId, status: 'validating', completed: 0, failed: 0, error: undefined });
    }
  }
  const open = state.parts.filter((p) => !p.collected && p.status !== NOT_SENT);
  const views = await api.checkBatches({ batchIds: open.map((p) => p.batchId) });
  let queueFull: string | undefined;
  for (const [i, view] of views.entries()) {
    const part = open[i];
    if (!part) continue;
    update(part.part, {
      status: view.status,
      completed: view.completed,
      failed: view.failed,
      ...(view.error ? { error: view.error } : {}),
    });
    if (view.status === 'failed' && view.error?.code === QUEUE_FULL_CODE) {
      queueFull = `queue full (${QUEUE_FULL_CODE}): sent again later. ${view.error.message}`;
      continue;
    }
    if (!isEndedStatus(view.status)) continue;
    const outcome = await api.collectBatchPart({ jobId: run.jobId, round: state.round, part: part.part });
    run.onCollected(outcome);
    update(part.part, { collected: true, coded: outcome.coded, retry: outcome.retry });
    state = { ...state, linesCoded: state.linesCoded + outcome.coded };
    set(state);
    log.info('batch read', { round: state.round, part: part.part, status: view.status, ...outcome.reasons });
  }
  if (queueFull) {
    state = { ...state, note: queueFull };
    set(state);
  }
  if (!state.parts.every((p) => p.collected)) return;
  const remaining = state.parts.reduce((n, p) => n + (p.retry ?? 0), 0);
  const codedThisRound = state.parts.reduce((n, p) => n + (p.coded ?? 0), 0);
  const next = afterRound({ round: state.round, remaining, codedThisRound, totalLines: run.totalLines });
  const { note: _note, ...rest } = state;
  set(
    next === 'batch'
      ? {
          ...rest,
          stage: 'submit',
          note: `${remaining} lines without an answer go into round ${state.round + 1}`,
        }
      : {
          ...rest,
          stage: 'sync',
          cursor: 0,
          ...(remaining > 0 ? { note: `${remaining} lines without an answer asked directly` } : {}),
        },
  );
}

/** Cancels the round's batches still running (the job was cancelled); their state shows what OpenAI said. */
export async function cancelOpenBatches(state: BatchApiState, retry: RetryOptions): Promise<BatchApiState> {
  // A file never sent has no batch to cancel.
  const open = state.parts.filter((p) => !p.collected && p.status !== NOT_SENT && !isEndedStatus(p.status));
  if (state.stage !== 'wait' || open.length === 0) return state;
  const statuses = await batchActivities(retry).cancelBatches({ batchIds: open.map((p) => p.batchId) });
  const byId = new Map(open.map((p, i) => [p.batchId, statuses[i] ?? p.status]));
  return {
    ...state,
    parts: state.parts.map((p) => {
      const status = byId.get(p.batchId);
      return status && status !== 'ended' ? { ...p, status: status as BatchPart['status'] } : p;
    }),
  };
}
