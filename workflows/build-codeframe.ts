import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { CallKind, CodeframeCounters, CodeframePhase, CodeframePlan } from '../domain/codeframe-job.js';
import {
  ZERO_CODEFRAME_COUNTERS,
  addCall,
  addFailure,
  describeCodeframeProgress,
} from '../domain/codeframe-job.js';
import type { AdaptiveWindow } from '../domain/rate.js';
import { initialWindow, windowOnRateLimited, windowOnSuccess } from '../domain/rate.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import type { BuildCodeframeInput, BuildCodeframeResult } from './codeframe-definitions.js';
import { codeframeProgressQuery } from './codeframe-definitions.js';
import { rateLimitedSignal } from './definitions.js';
import { jobActivities } from './job-activities.js';

const sa = {
  fileName: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fileName.name, 'KEYWORD'),
  column: defineSearchAttributeKey(SEARCH_ATTRIBUTES.column.name, 'KEYWORD'),
  rows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rows.name, 'INT'),
  phase: defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase.name, 'KEYWORD'),
};

/**
 * Drafts a codeframe from one column's answers: read and cut them into chunks → extract themes from the
 * chunks, a window of requests at a time → merge rounds until at most max-codes remain, the last naming,
 * describing and grouping them → measure the draft by coding a sample of answers with it → write the files.
 * Every step's output is in the store under its index, so a killed worker's step is redone elsewhere and a
 * step done before is not sent again. The workflow holds counters only.
 */
export async function buildCodeframeWorkflow(input: BuildCodeframeInput): Promise<BuildCodeframeResult> {
  const { codeframeId, options } = input;
  const retry = options.retry;
  const adaptive = options.adaptiveWindow !== false;
  const ref = { codeframeId };

  const { io, llm } = jobActivities(retry);

  let phase: CodeframePhase = 'reading';
  let plan: CodeframePlan | undefined;
  let counters: CodeframeCounters = ZERO_CODEFRAME_COUNTERS;
  let themes = 0;
  let mergeRound = 0;
  let measureBatches = 0;
  let window: AdaptiveWindow = initialWindow(options.parallel ? options.maxWorkers : 1);
  let inFlight = 0;
  const startedAt = Date.now();

  const progress = () =>
    describeCodeframeProgress({
      codeframeId,
      fileName: input.fileName,
      column: input.column,
      phase,
      plan,
      counters,
      themes,
      mergeRound,
      measureBatches,
      inFlight,
      window: { size: window.size, max: window.max },
      startedAt,
      now: Date.now(),
    });
  setHandler(codeframeProgressQuery, progress);
  setHandler(rateLimitedSignal, () => {
    counters = { ...counters, rateLimited: counters.rateLimited + 1 };
    if (adaptive) window = windowOnRateLimited(window);
  });

  const upsert = (pairs: SearchAttributeUpdatePair[]) => {
    if (input.searchAttributes) upsertSearchAttributes(pairs);
  };
  const setPhase = (next: CodeframePhase) => {
    phase = next;
    upsert([{ key: sa.phase, value: next }]);
  };
  upsert([
    { key: sa.fileName, value: input.fileName.slice(0, 200) },
    { key: sa.column, value: input.column.slice(0, 200) },
    { key: sa.phase, value: phase },
  ]);

  /** Runs `task(0 … count-1)`, at most the window in flight; the first unexpected failure stops it. */
  const runWindow = async (count: number, task: (i: number) => Promise<void>): Promise<void> => {
    let failure: { error: unknown } | undefined;
    let next = 0;
    while (next < count) {
      await condition(() => failure !== undefined || inFlight < window.size);
      if (failure) break;
      const i = next;
      next += 1;
      inFlight += 1;
      void task(i)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => (inFlight -= 1));
    }
    await condition(() => inFlight === 0);
    if (failure) throw failure.error;
  };

  /** One model step: its outcome counted, or, once its retries ran out, its failure (the run goes on). */
  const step = async <T extends { apiCalls: number; nearLimit?: boolean }>(
    kind: CallKind,
    run: () => Promise<T>,
    done: (o: T) => void,
    failed: (attempts: number, reason: string) => void,
  ): Promise<void> => {
    try {
      const outcome = await run();
      done(outcome);
      if (adaptive) window = windowOnSuccess(window, outcome.nearLimit === true);
    } catch (error) {
      if (isCancellation(error)) throw error;
      const { attempts, reason } = describeFailure(error, retry.maximumAttempts);
      failed(attempts, reason);
      log.warn(`${kind} request failed after its retries`, { reason });
    }
  };

  try {
    plan = await io.prepareCodeframe(ref);
    const prepared = plan;
    upsert([{ key: sa.rows, value: prepared.rows.total }]);
    log.info('codeframe prepared', { chosen: prepared.chosen, chunks: prepared.chunks });

    setPhase('extracting');
    await runWindow(prepared.chunks, (index) =>
      step(
        'extract',
        () =>
          llm.extractThemes.executeWithOptions(
            { summary: `themes of chunk ${index + 1}/${prepared.chunks}` },
            [{ codeframeId, index }],
          ),
        (o) => {
          counters = addCall(counters, 'extract', o, 'chunksDone');
          counters = { ...counters, themesExtracted: counters.themesExtracted + o.themes };
        },
        (attempts) => (counters = addFailure(counters, 'extract', attempts, 'chunksFailed')),
      ),
    );
    themes = counters.themesExtracted;
    if (prepared.chunks > 0 && counters.chunksDone === 0) {
      throw ApplicationFailure.create({
        type: 'NoThemesError',
        message: `every one of the ${prepared.chunks} theme-extraction requests failed: see the workers' logs`,
        nonRetryable: true,
      });
    }

    setPhase('merging');
    for (let round = 0; ; round += 1) {
      const start = await io.startMergeRound({ codeframeId, round });
      themes = start.themes;
      if (start.kind === 'done') break;
      mergeRound = round + 1;
      setPhase(start.kind === 'final' ? 'describing' : 'merging');
      await runWindow(start.groups, (group) =>
        step(
          'merge',
          () =>
            llm.mergeThemes.executeWithOptions(
              { summary: `merge round ${round + 1}, request ${group + 1}/${start.groups}` },
              [{ codeframeId, round, group }],
            ),
          (o) => (counters = addCall(counters, 'merge', o, 'mergeCalls')),
          // Its themes are carried into the next round unmerged: nothing is lost.
          (attempts) => (counters = addFailure(counters, 'merge', attempts, 'mergeFailed')),
        ),
      );
    }

    setPhase('measuring');
    const measure = await io.prepareMeasure(ref);
    measureBatches = measure.batches;
    await runWindow(measure.batches, (index) =>
      step(
        'measure',
        () =>
          llm.classifyBatch.executeWithOptions(
            { summary: `measuring, batch ${index + 1}/${measure.batches}` },
            [{ jobId: codeframeId, index }],
          ),
        (o) => (counters = addCall(counters, 'measure', o, 'measureDone')),
        // Its answers are left out of the base of the shares.
        (attempts) => (counters = addFailure(counters, 'measure', attempts, 'measureFailed')),
      ),
    );

    setPhase('writing');
    const written = await io.writeCodeframe({
      codeframeId,
      simulated: progress().simulated,
      measureFailed: counters.measureFailed,
    });
    themes = written.codes.length;
    setPhase('done');
    return { ...written, progress: progress() };
  } catch (error) {
    // Nothing to keep on a cancel: what each step stored stays in the store, for a run started again.
    setPhase(isCancellation(error) ? 'cancelled' : 'failed');
    throw error;
  }
}

/** The calls a failed step cost and a short reason, for the log. */
function describeFailure(error: unknown, maximumAttempts: number): { attempts: number; reason: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const detail = (cause.details?.[0] ?? {}) as { attempt?: number };
    return {
      attempts: detail.attempt ?? maximumAttempts,
      reason: `${cause.type ?? 'Error'}: ${cause.message}`,
    };
  }
  return { attempts: maximumAttempts, reason: cause instanceof Error ? cause.message : String(cause) };
}
