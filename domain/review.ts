/**
 * The second opinion (REVIEW_MODEL): which answers a stronger model codes again, and how they are cut into
 * requests. Pure: the review activities hand in what the store holds.
 */
import type { AnswerOutcome } from './coded-rows.js';

/** Answers per review request when the job's batch size is `auto`. */
export const REVIEW_BATCH_SIZE = 50;

/**
 * The unique answers to code again: those the first model labelled with a confidence under `below`. A
 * fallen-back answer has no label to doubt, and one without a confidence cannot be said to be unsure.
 */
export function answersToReview(
  outcomes: readonly AnswerOutcome[],
  confidences: ReadonlyArray<number | null | undefined>,
  below: number,
): number[] {
  const out: number[] = [];
  for (let a = 0; a < outcomes.length; a += 1) {
    const outcome = outcomes[a];
    const confidence = confidences[a];
    if (
      outcome !== undefined &&
      outcome !== 'fallback' &&
      typeof confidence === 'number' &&
      confidence < below
    )
      out.push(a);
  }
  return out;
}

/** The answers cut into requests of `size`, in order. */
export function cutReviewBatches(answers: readonly number[], size: number): number[][] {
  const step = Math.max(1, Math.floor(size));
  const out: number[][] = [];
  for (let i = 0; i < answers.length; i += step) out.push(answers.slice(i, i + step));
  return out;
}

/** What the review's planning stored, small enough for history: the workflow walks `batches` requests. */
export interface ReviewPlan {
  readonly model: string;
  readonly below: number;
  readonly answers: number;
  /** Answers per request (the last may hold fewer). */
  readonly size: number;
  readonly batches: number;
  /**
   * The largest request's billed prompt tokens and output ceiling (the review model's tokenizer): the cap
   * holds every review request as if it were that one. Absent in plans from before review costs.
   */
  readonly ceiling?: { readonly promptTokens: number; readonly maxTokens: number };
}

/** The review's progress carried over a continue-as-new: its plan and the next request to send. */
export interface ReviewState {
  readonly plan: ReviewPlan;
  readonly next: number;
  readonly classifyEndedAt: number;
}
