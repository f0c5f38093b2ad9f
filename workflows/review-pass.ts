/**
 * The second opinion, driven by the job's workflow after the first pass and before the output: plan the
 * review (a file activity), then send its requests to the review model, at most the job's window at a time.
 * Each request's answer is stored by its activity; a request whose result is in history is never sent
 * again, and one out of retries leaves its answers with the first model's labels.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { FileActivities, LlmActivities } from '../activities/index.js';
import type { CostCap } from '../domain/cost.js';
import { requestCeiling, withinCap } from '../domain/cost.js';
import type { ReviewPlan, ReviewState } from '../domain/review.js';

/** Marks runs whose review requests are held at the cost cap (older runs sent them whatever the cap). */
const REVIEW_CAP_PATCH = 'review-cost-cap';

export interface ReviewPassInput {
  readonly jobId: string;
  readonly io: ActivityInterfaceFor<FileActivities>;
  readonly llm: ActivityInterfaceFor<LlmActivities>;
  /** Where a continued run left off; absent: plan first. */
  readonly carried?: ReviewState;
  readonly classifyEndedAt: number;
  /** Requests this run sends at most before it continues as new. */
  readonly requestsPerRun: number;
  /** Requests in flight allowed now (the job's window), and whether the job is paused. */
  readonly window: () => number;
  readonly paused: () => boolean;
  /** The review model's price and the job's cap: the same rule as the first pass's requests. */
  readonly cap: CostCap;
  readonly onOutcome: (outcome: Awaited<ReturnType<LlmActivities['reviewBatch']>>) => void;
  readonly onFailure: (answers: number, apiCalls: number, reason: string) => void;
}

/** Runs the review; returns the state to carry when the run should continue as new, else undefined. */
export async function reviewPass(input: ReviewPassInput): Promise<ReviewState | undefined> {
  const { jobId, io, llm } = input;
  const plan = input.carried?.plan ?? (await io.planReview({ jobId }));
  if (!input.carried) {
    log.info('review planned', { model: plan.model, answers: plan.answers, requests: plan.batches });
  }
  let next = input.carried?.next ?? 0;
  const last = Math.min(plan.batches, next + input.requestsPerRun);
  let inFlight = 0;
  const run = async (index: number) => {
    try {
      input.onOutcome(
        await llm.reviewBatch.executeWithOptions(
          { summary: `review ${index + 1}/${plan.batches} · ${plan.model}` },
          [{ jobId, index }],
        ),
      );
    } catch (error) {
      // Cancelled: the job writes what is stored; this request's answers keep their first labels.
      if (isCancellation(error)) return;
      const cause = error instanceof ActivityFailure ? error.cause : error;
      const attempts =
        cause instanceof ApplicationFailure
          ? ((cause.details?.[0] as { attempt?: number } | undefined)?.attempt ?? 1)
          : 1;
      const reason = cause instanceof Error ? cause.message : String(cause);
      // The answers keep the first model's labels: nothing is lost, the Run sheet counts them.
      input.onFailure(answersOf(plan, index), attempts, reason);
      log.warn('review request failed: the first labels stay', { request: index, reason });
    } finally {
      inFlight -= 1;
    }
  };
  // Every review request is held as if it were the plan's largest; without a price (or a plan from before
  // review costs) nothing is held.
  const { cap } = input;
  const ceiling =
    cap.price && plan.ceiling
      ? requestCeiling(plan.ceiling.promptTokens, plan.ceiling.maxTokens, cap.price)
      : undefined;
  const fits = (price: number) => withinCap(cap.spent(), inFlight * price, price, cap.maxCost());
  let dispatched = 0;
  while (next < last && (dispatched === 0 || !workflowInfo().continueAsNewSuggested)) {
    await condition(() => !input.paused() && inFlight < Math.max(1, input.window()));
    // The cap, as for the first pass: what was spent, plus the most the requests in flight can cost, plus
    // this one's most; held until in-flight costs settle under it, the cap is raised or lifted, or a cancel.
    if (ceiling !== undefined && !fits(ceiling) && patched(REVIEW_CAP_PATCH)) {
      cap.onHeld(ceiling);
      log.info('holding a review request at the cost cap', { request: next, maxCost: cap.maxCost() });
      await condition(() => fits(ceiling));
      cap.onHeld(undefined);
      continue;
    }
    inFlight += 1;
    dispatched += 1;
    void run(next);
    next += 1;
  }
  // The requests are short: the run waits for them rather than handing them over.
  await condition(() => inFlight === 0);
  return next < plan.batches ? { plan, next, classifyEndedAt: input.classifyEndedAt } : undefined;
}

/** Answers of review request `index`: every request is full but the last. */
function answersOf(plan: ReviewPlan, index: number): number {
  return Math.max(0, Math.min(plan.size, plan.answers - index * plan.size));
}
