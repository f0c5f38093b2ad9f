import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type {
  AnswersOutcome,
  BatchOutcome,
  BatchSpan,
  JobCounters,
  JobPhase,
  JobPlan,
  JobProgress,
} from '../domain/job.js';
import {
  SPAN_PAGE,
  ZERO_COUNTERS,
  addBatchPart,
  addFallback,
  addOutcome,
  addReview,
  addReviewFailure,
  addSalvage,
  computeStats,
  describeProgress,
  effectiveWindow,
} from '../domain/job.js';
import type { BatchApiState } from '../domain/batch-api.js';
import { DEFAULT_BATCH_POLL, describeBatchApi, initialBatchApiState } from '../domain/batch-api.js';
import type { FailedGroup } from '../domain/salvage.js';
import { splitForRetry } from '../domain/salvage.js';
import type { AdaptiveWindow } from '../domain/rate.js';
import {
  initialWindow,
  isLowRemaining,
  windowHeldWhenLow,
  windowOnRateLimited,
  windowOnSuccess,
  windowWithMax,
} from '../domain/rate.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import {
  formatCost,
  jobTokens,
  maxCostProblem,
  requestCeiling,
  spentSoFar,
  withinCap,
} from '../domain/cost.js';
import type { ReviewState } from '../domain/review.js';
import { jobActivities } from './job-activities.js';
import { reviewPass } from './review-pass.js';
import { cancelOpenBatches, runBatchApiRounds } from './batch-api.js';
import type { CarriedState, ClassifyJobInput, ClassifyJobResult } from './definitions.js';
import {
  MAX_CONCURRENCY,
  pauseUpdate,
  progressQuery,
  rateLimitedSignal,
  resumeUpdate,
  setConcurrencyUpdate,
  setMaxCostUpdate,
} from './definitions.js';

/** Batches a run handles before it continues as new: ~5 history events each keeps a run near 5,000. */
const DEFAULT_BATCHES_PER_RUN = 1_000;

const sa = {
  fileName: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fileName.name, 'KEYWORD'),
  column: defineSearchAttributeKey(SEARCH_ATTRIBUTES.column.name, 'KEYWORD'),
  rows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rows.name, 'INT'),
  phase: defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase.name, 'KEYWORD'),
  fallbacks: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fallbacks.name, 'INT'),
};

/** Marks jobs started on code where a low `remaining` narrows the window (it only held it before). */
const NEAR_LIMIT_PATCH = 'near-limit-window';

/**
 * Marks runs that hand their in-flight batches to the next run instead of waiting for them (older runs
 * drained their window first, and replay that way).
 */
const CARRY_IN_FLIGHT_PATCH = 'carry-in-flight';

/** Marks runs that write the rows coded so far when the job fails (older runs wrote nothing). */
const FAILED_OUTPUT_PATCH = 'failed-partial-output';

/**
 * Marks runs whose continue-as-new leaves the phase attribute as it is (older runs upserted it as `failed`,
 * and the next run inherited that until it wrote its output).
 */
const HAND_OVER_PHASE_PATCH = 'hand-over-keeps-phase';

/**
 * Codes one sheet's answers: prepare → a sliding window of batch activities (at most `window.size` in
 * flight) → write the output. It holds counters and references only; answers live in the job store.
 */
export async function classifyJobWorkflow(input: ClassifyJobInput): Promise<ClassifyJobResult> {
  const { jobId, options } = input;
  const carry = input.carry;
  const retry = options.retry;
  // ADAPTIVE_WINDOW=false: the window stays where it is set, whatever the API answers.
  const adaptive = options.adaptiveWindow !== false;

  const { io, llm } = jobActivities(retry);

  let phase: JobPhase = carry ? 'classifying' : 'preparing';
  let plan: JobPlan | undefined = carry?.plan;
  // Counters from a run of older code may lack the newer ones: they start at zero.
  let counters: JobCounters = { ...ZERO_COUNTERS, ...carry?.counters };
  let window: AdaptiveWindow = carry?.window ?? initialWindow(1);
  /** Set by a concurrency update; wins over the job's options even when it arrives before the plan. */
  let requestedConcurrency: number | undefined;
  let paused = carry?.paused ?? false;
  let inFlight = 0;
  /** The batches in flight, by index: what a hand-over carries to the next run. */
  const running = new Set<number>();
  /** Batches in a file step (recording a fallback, assembling a salvage): a hand-over lets them finish. */
  let fileSteps = 0;
  /** Set when the run hands over: from then on no batch starts another activity (the next run takes them). */
  let handingOver = false;
  const fallbackReasons: Record<string, number> = { ...carry?.fallbackReasons };
  // Batch API mode is chosen at the start and kept: a job's runs all take the same path, so either replays.
  const batchPoll = options.batchPoll ?? DEFAULT_BATCH_POLL;
  let batchApi: BatchApiState | undefined =
    carry?.batchApi ?? (options.batchApi ? initialBatchApiState(batchPoll) : undefined);
  const startedAt = carry?.startedAt ?? Date.now();
  let classifyStartedAt = carry?.classifyStartedAt;
  /** The cost cap (USD): the job's option until an update sets or lifts it. */
  let maxCost: number | undefined =
    carry?.maxCost === undefined ? options.maxCost : (carry.maxCost ?? undefined);
  let capChanged = carry?.maxCost !== undefined;
  /** The most the batches in flight can still cost, by index: spent only once their usage is counted. */
  const committed = new Map<number, number>();
  /** The ceiling of the request held at the cap, while one is. */
  let held: number | undefined;
  /**
   * Dollars spent so far at the job's prices (the review's at its model's); 0 without one (a cap then cannot
   * apply: see the start).
   */
  const spent = () => spentSoFar(jobTokens(counters), plan);

  const progress = (): JobProgress =>
    describeProgress({
      jobId,
      fileName: input.fileName,
      column: input.column,
      phase,
      paused,
      plan,
      counters,
      inFlight,
      window,
      fallbackReasons,
      startedAt,
      classifyStartedAt,
      now: Date.now(),
      cap: { maxCost, capReached: held !== undefined, nextRequest: held },
      ...(batchApi ? { batchApi: describeBatchApi(batchApi) } : {}),
    });

  setHandler(progressQuery, progress);
  setHandler(
    setMaxCostUpdate,
    (cap) => {
      maxCost = cap ?? undefined;
      capChanged = true;
      log.info('cost cap set', { maxCost: cap });
      return progress();
    },
    {
      validator: (cap: number | null) => {
        if (cap === null) return;
        const problem = maxCostProblem(cap);
        if (problem) throw new Error(problem);
        if (plan && !plan.price) {
          throw new Error(
            `the model ${options.model} has no price (set OPENAI_PRICE_INPUT and OPENAI_PRICE_OUTPUT): a cost cap cannot be checked`,
          );
        }
        if (plan && options.reviewModel && !plan.reviewPrice) {
          throw new Error(
            `the review model ${options.reviewModel} has no price: a cost cap cannot hold its requests`,
          );
        }
        if (cap < spent()) {
          throw new Error(
            `maxCost ${formatCost(cap)} is below what the job has spent already, ${formatCost(spent())}`,
          );
        }
      },
    },
  );
  setHandler(
    setConcurrencyUpdate,
    (concurrency) => {
      requestedConcurrency = concurrency;
      window = windowWithMax(window, concurrency);
      log.info('concurrency set', { concurrency });
      return { size: window.size, max: window.max };
    },
    {
      validator: (concurrency) => {
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
          throw new Error(
            `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`,
          );
        }
      },
    },
  );
  setHandler(pauseUpdate, () => {
    paused = true;
    return progress();
  });
  setHandler(resumeUpdate, () => {
    paused = false;
    return progress();
  });
  setHandler(rateLimitedSignal, (notice) => {
    counters = { ...counters, rateLimited: counters.rateLimited + 1 };
    if (!adaptive) return;
    window = windowOnRateLimited(window);
    log.info('rate limited: window narrowed', { batch: notice.batch, window: window.size });
  });

  const upsert = (pairs: SearchAttributeUpdatePair[]) => {
    if (input.searchAttributes) upsertSearchAttributes(pairs);
  };
  const setPhase = (next: JobPhase) => {
    phase = next;
    upsert([{ key: sa.phase, value: next }]);
  };

  if (!carry) {
    upsert([
      { key: sa.fileName, value: input.fileName.slice(0, 200) },
      { key: sa.column, value: input.column.slice(0, 200) },
      { key: sa.phase, value: phase },
      { key: sa.fallbacks, value: 0 },
    ]);
  }

  /** Spans of one page of batches (for activity summaries), and where that page starts. */
  let spans: readonly BatchSpan[] = [];
  let spansFrom = -1;

  /**
   * A batch's prompt tokens and output ceiling, from its span; plans from before the cap counted none: then
   * the average request's tokens, all priced as output (the dearer kind), so the cap still errs on the safe side.
   */
  const spanTokens = (index: number): [number, number] => {
    const span = spans[index % SPAN_PAGE];
    if (span?.promptTokens !== undefined && span.maxTokens !== undefined)
      return [span.promptTokens, span.maxTokens];
    return [0, Math.ceil((plan?.estimatedTokens ?? 0) / Math.max(1, plan?.batches ?? 1))];
  };

  try {
    if (!plan) {
      const prepared = await io.prepareJob({ jobId });
      plan = prepared.plan;
      spans = prepared.spans;
      spansFrom = 0;
      classifyStartedAt = Date.now();
      window = initialWindow(requestedConcurrency ?? effectiveWindow(options, plan.rows.classify));
      upsert([{ key: sa.rows, value: plan.rows.total }]);
      log.info('job prepared', {
        rows: plan.rows.total,
        toClassify: plan.rows.classify,
        batches: plan.batches,
        window: window.size,
      });
      setPhase('classifying');
    }
    const preparedPlan = plan;
    if (batchApi && batchApi.stage !== 'sync') {
      const step = await runBatchApiRounds({
        jobId,
        totalLines: preparedPlan.batches,
        poll: batchPoll,
        retry,
        ...(input.batchApiLinesPerFile ? { linesPerFile: input.batchApiLinesPerFile } : {}),
        ...(input.batchApiPollsPerRun ? { pollsPerRun: input.batchApiPollsPerRun } : {}),
        state: batchApi,
        onState: (state) => (batchApi = state),
        onCollected: (outcome) => (counters = addBatchPart(counters, outcome)),
        cap: {
          price: preparedPlan.price,
          spent,
          maxCost: () => maxCost,
          onHeld: (next) => (held = next),
        },
      });
      if (step === 'handover') return await handOver(preparedPlan, preparedPlan.batches, []);
    }
    // In Batch API mode the synchronous window takes only what the rounds left, a page at a time.
    const firstBatch = batchApi ? preparedPlan.batches : (carry?.nextBatch ?? 0);
    const lastBatch = Math.min(
      preparedPlan.batches,
      firstBatch + (input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN),
    );
    const runBatch = async (index: number): Promise<void> => {
      const span = spans[index % SPAN_PAGE];
      const summary = span
        ? `batch ${index + 1}/${preparedPlan.batches} · rows ${span.firstRow}–${span.lastRow} (${span.answers} answers)`
        : `batch ${index + 1}/${preparedPlan.batches}`;
      try {
        const outcome: BatchOutcome = await llm.classifyBatch.executeWithOptions({ summary }, [
          { jobId, index },
        ]);
        // A salvaged batch is counted once it is assembled: a hand-over in between counts it in the next run.
        if (!outcome.salvage) counters = addOutcome(counters, outcome);
        if (adaptive) {
          // Jobs that ran on code from before the window narrowed on a low remaining replay with its rule.
          window = patched(NEAR_LIMIT_PATCH)
            ? windowOnSuccess(window, outcome.nearLimit === true)
            : windowHeldWhenLow(window, isLowRemaining(outcome.rateLimit));
        }
        if (outcome.salvage) await salvage(index, outcome, summary);
      } catch (error) {
        if (isCancellation(error)) return;
        // Awaited only when handing over: a run of older code replays with no step added before the fallback.
        if (handingOver) await parked();
        const { reason, key, attempts } = describeFailure(error, retry.maximumAttempts);
        fileSteps += 1;
        let fallback: Awaited<ReturnType<typeof io.recordFallback>>;
        try {
          fallback = await io.recordFallback({ jobId, index, reason, attempts });
        } finally {
          fileSteps -= 1;
        }
        if (fallback.coded) {
          // The answer was stored after all (the worker died after the call): not a fallback.
          counters = {
            ...counters,
            batchesDone: counters.batchesDone + 1,
            rowsClassified: counters.rowsClassified + fallback.rows,
          };
          return;
        }
        counters = addFallback(counters, fallback, attempts);
        fallbackReasons[key] = (fallbackReasons[key] ?? 0) + 1;
        upsert([{ key: sa.fallbacks, value: counters.batchesFallback }]);
        log.warn('batch fell back', { batch: index, reason });
      }
    };

    /**
     * The answer was partly wrong and its valid labels are stored: the bad answers are asked again in halves,
     * one request at a time (the batch keeps its one place in the window), until each has its labels or has
     * failed alone (stored as fallen back, with its reason); then the batch's result is assembled from the
     * pieces. Every step reads what an earlier attempt or run stored, so a hand-over or a crash repeats none.
     */
    const salvage = async (index: number, first: BatchOutcome, summary: string): Promise<void> => {
      let total = first;
      let calls = 0;
      const failed: FailedGroup[] = [];
      const queue = splitForRetry(first.salvage?.unresolved ?? []);
      for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
        if (handingOver) await parked();
        try {
          const piece: AnswersOutcome = await llm.reclassifyAnswers.executeWithOptions(
            { summary: `${summary} · ${group.length} answer${group.length === 1 ? '' : 's'} asked again` },
            [{ jobId, index, ids: group }],
          );
          calls += piece.apiCalls;
          total = withPiece(total, piece);
          queue.unshift(...splitForRetry(piece.unresolved));
        } catch (error) {
          if (isCancellation(error)) throw error;
          // Out of retries (a transport failure) or not retryable: these answers fall back with the reason.
          const { reason, attempts } = describeFailure(error, retry.maximumAttempts);
          calls += attempts;
          failed.push({ ids: group, reason });
        }
      }
      if (handingOver) await parked();
      fileSteps += 1;
      let merged: Awaited<ReturnType<typeof io.mergeBatch>>;
      try {
        merged = await io.mergeBatch({ jobId, index, failed });
      } finally {
        fileSteps -= 1;
      }
      counters = addSalvage(
        addOutcome(counters, { ...total, apiCalls: total.apiCalls + calls }),
        merged,
        calls,
      );
      if (merged.answersFallback > 0) {
        const key = merged.fallbackKey ?? 'AnswerFellBackAlone';
        fallbackReasons[key] = (fallbackReasons[key] ?? 0) + 1;
        upsert([{ key: sa.fallbacks, value: counters.batchesFallback }]);
        log.warn('answers fell back alone', { batch: index, answers: merged.answersFallback });
      }
    };

    /** Once the run hands over, a batch starts no other activity: it waits here, and the next run takes it. */
    const parked = (): Promise<never> => new Promise<never>(() => {});

    /**
     * A batch whose fallback could not be recorded (the store failing, say): its rows would be lost, so the
     * job stops dispatching and fails with the reason. Caught here, not left to reject unhandled, which
     * the SDK would turn into a workflow task failure retried forever: a job hung instead of failed.
     */
    let broken: { index: number; error: unknown } | undefined;
    let next = firstBatch;
    // The batches the previous run handed over while they waited on the model go first.
    const carried = [...(carry?.inFlight ?? [])];
    let dispatched = 0;
    const pagesLeft = () => batchApi?.stage === 'sync' && (batchApi.cursor ?? 0) < preparedPlan.batches;
    for (;;) {
      if (carried.length === 0 && pagesLeft() && batchApi) {
        const page = await io.pendingBatches({ jobId, from: batchApi.cursor ?? 0, count: SPAN_PAGE });
        carried.push(...page.indexes);
        batchApi = { ...batchApi, cursor: page.next };
      }
      if (!(
        (carried.length > 0 || next < lastBatch) &&
        (dispatched === 0 || !workflowInfo().continueAsNewSuggested)
      ))
        break;
      await condition(() => broken !== undefined || (!paused && inFlight < window.size));
      if (broken) break;
      const index = carried[0] ?? next;
      const pageStart = index - (index % SPAN_PAGE);
      if (pageStart !== spansFrom) {
        spans = await io.loadBatchSpans({ jobId, from: pageStart, count: SPAN_PAGE });
        spansFrom = pageStart;
      }
      // The cap: hold a request that could take the cost over it (what was spent, plus the most the
      // requests in flight can cost, plus its own ceiling), until in-flight costs settle under it, the cap
      // is raised or lifted, or the job is cancelled. Without a cap no command changes (older histories).
      const price = preparedPlan.price;
      const ceiling = price ? requestCeiling(...spanTokens(index), price) : 0;
      const committedNow = () => [...committed.values()].reduce((a, b) => a + b, 0);
      if (price && !withinCap(spent(), committedNow(), ceiling, maxCost)) {
        held = ceiling;
        log.info('holding a request at the cost cap', { batch: index, maxCost, spent: spent() });
        await condition(() => broken !== undefined || withinCap(spent(), committedNow(), ceiling, maxCost));
        held = undefined;
        continue;
      }
      committed.set(index, ceiling);
      if (carried.length > 0) carried.shift();
      else next += 1;
      dispatched += 1;
      inFlight += 1;
      running.add(index);
      void runBatch(index)
        .catch((error: unknown) => {
          broken ??= { index, error };
        })
        .finally(() => {
          inFlight -= 1;
          running.delete(index);
          committed.delete(index);
        });
    }
    const more = carried.length > 0 || next < preparedPlan.batches || pagesLeft();
    if (more && !broken && inFlight > 0 && patched(CARRY_IN_FLIGHT_PATCH)) {
      // Hand over without waiting for the slowest batch (one in retry backoff may take minutes): the
      // batches in a file step finish (milliseconds), those waiting on the model go to the next run, which
      // starts them first. Their activities here are abandoned with this run (the server drops their
      // retries; a running one is cancelled at its next heartbeat) and what they stored is reused.
      handingOver = true;
      await condition(() => fileSteps === 0 || broken !== undefined);
    } else {
      await condition(() => inFlight === 0);
    }
    if (broken) {
      const cause = broken.error instanceof ActivityFailure ? broken.error.cause : broken.error;
      const why = cause instanceof Error ? cause.message : String(cause);
      throw ApplicationFailure.create({
        type: 'FallbackNotRecordedError',
        message: `batch ${broken.index + 1}: its retries ran out and its fallback could not be recorded: ${why}`,
        nonRetryable: true,
      });
    }

    if (more) {
      // Batch API mode pages its batches in: those paged but not started go to the next run as well.
      const inFlightNow = [...running, ...(batchApi ? carried : [])].sort((a, b) => a - b);
      if (inFlightNow.length > 0) log.info('handing over batches in flight', { batches: inFlightNow.length });
      return await handOver(preparedPlan, next, inFlightNow);
    }

    const classifyEndedAt = carry?.review?.classifyEndedAt ?? Date.now();
    // The second opinion runs only for jobs that ask for one: histories without it replay unchanged.
    if (options.reviewModel) {
      setPhase('reviewing');
      const review = await reviewPass({
        jobId,
        io,
        llm,
        ...(carry?.review ? { carried: carry.review } : {}),
        classifyEndedAt,
        requestsPerRun: input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN,
        window: () => window.size,
        paused: () => paused,
        cap: {
          price: preparedPlan.reviewPrice,
          spent,
          maxCost: () => maxCost,
          onHeld: (next) => (held = next),
        },
        onOutcome: (outcome) => {
          counters = addReview(counters, outcome);
        },
        onFailure: (answers, calls, reason) => {
          counters = addReviewFailure(counters, answers, calls);
          log.warn('review request out of retries', { answers, reason });
        },
      });
      if (review) return await handOver(preparedPlan, preparedPlan.batches, [], review);
    }
    setPhase('writing');
    const result = await finish(false, classifyEndedAt);
    setPhase('done');
    return { ...result, progress: progress() };
  } catch (error) {
    if (isCancellation(error) && plan) {
      // Keep what was coded: write a partial result, then end as cancelled.
      await CancellationScope.nonCancellable(async () => {
        // Batches OpenAI still runs for the job are cancelled; what they answered by then is not read.
        if (batchApi) batchApi = await cancelOpenBatches(batchApi, retry);
        // Batches parked by a hand-over never finish here: what they stored is in the partial result.
        await condition(() => inFlight === 0 || (handingOver && fileSteps === 0));
        setPhase('writing');
        await finish(true, Date.now());
        setPhase('cancelled');
      });
    } else {
      // Failed while coding, after the model coded some rows in this run: those rows are worth a file.
      const failedWithRows =
        !isCancellation(error) &&
        !(error instanceof ContinueAsNew) &&
        plan &&
        phase === 'classifying' &&
        counters.rowsClassified > counters.rowsFallback;
      if (failedWithRows && patched(FAILED_OUTPUT_PATCH)) {
        // Keep what was coded, as a cancel does; the job still fails with its own error.
        try {
          setPhase('writing');
          await finish(true, Date.now(), true);
        } catch (writeError) {
          log.warn('the rows coded so far could not be written', { error: String(writeError) });
        }
      }
      // A hand-over is not an end: the next run inherits the phase attribute and carries on in that phase.
      if (error instanceof ContinueAsNew && patched(HAND_OVER_PHASE_PATCH)) throw error;
      // Cancelled before the plan existed there is nothing to write; say so in the phase all the same.
      setPhase(isCancellation(error) ? 'cancelled' : 'failed');
    }
    throw error;
  }

  /** Keeps each run's history small: counters, the cursor and the batches in flight go to a fresh run. */
  async function handOver(
    preparedPlan: JobPlan,
    nextBatch: number,
    inFlightNow: readonly number[],
    review?: ReviewState,
  ): Promise<never> {
    await condition(allHandlersFinished);
    const state: CarriedState = {
      plan: preparedPlan,
      nextBatch,
      counters,
      window,
      paused,
      fallbackReasons,
      startedAt,
      classifyStartedAt: classifyStartedAt ?? startedAt,
      runs: (carry?.runs ?? 1) + 1,
      ...(inFlightNow.length > 0 ? { inFlight: inFlightNow } : {}),
      ...(capChanged ? { maxCost: maxCost ?? null } : {}),
      ...(batchApi ? { batchApi } : {}),
      ...(review ? { review } : {}),
    };
    return continueAsNew<typeof classifyJobWorkflow>({ ...input, carry: state });
  }

  async function finish(
    partial: boolean,
    classifyEndedAt: number,
    failed = false,
  ): Promise<Omit<ClassifyJobResult, 'progress'>> {
    const endedAt = Date.now();
    const stats = computeStats(counters, startedAt, classifyStartedAt ?? startedAt, classifyEndedAt, endedAt);
    const output = await io.writeOutput({
      jobId,
      partial,
      ...(failed ? { failed } : {}),
      stats,
      counters,
      concurrency: window.max,
      startedAt,
      endedAt,
      ...(maxCost !== undefined ? { maxCost } : {}),
    });
    const { quality, ...files } = output;
    return { jobId, output: files, partial, stats, ...(quality ? { quality } : {}) };
  }
}

/** A short reason for the Run sheet, a key to count reasons by, and the calls the batch cost. */
function describeFailure(
  error: unknown,
  maximumAttempts: number,
): { reason: string; key: string; attempts: number } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const detail = (cause.details?.[0] ?? {}) as { attempt?: number; outOfRetries?: boolean };
    const attempts = detail.attempt ?? maximumAttempts;
    const key = cause.type ?? 'Error';
    const why = cause.nonRetryable && !detail.outOfRetries ? 'not retryable' : `after ${attempts} attempts`;
    return { reason: `${key}: ${cause.message} (${why})`, key, attempts };
  }
  if (cause instanceof TimeoutFailure) {
    return {
      reason: `timed out (${cause.timeoutType}) after ${maximumAttempts} attempts`,
      key: 'Timeout',
      attempts: maximumAttempts,
    };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { reason: message, key: 'Error', attempts: maximumAttempts };
}

/** A batch's outcome with a salvage request's added: tokens, latency, cut answers (its calls are counted apart). */
function withPiece(total: BatchOutcome, piece: AnswersOutcome): BatchOutcome {
  const cut = (total.cut ?? 0) + (piece.cut ?? 0);
  return {
    ...total,
    usage: {
      prompt: total.usage.prompt + piece.usage.prompt,
      completion: total.usage.completion + piece.usage.completion,
      cached: total.usage.cached + piece.usage.cached,
    },
    latencyMs: total.latencyMs + piece.latencyMs,
    ...(piece.simulated ? { simulated: true } : {}),
    ...(cut > 0 ? { cut } : {}),
  };
}
