/**
 * The second opinion (REVIEW_MODEL): the answers the first model was unsure of, coded again by the review
 * model. Planned once (which answers, in which requests) and stored; each request's answer stored under its
 * index, first write wins, so a retried or re-delivered request never sends an answer that is stored.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { billedPromptTokens } from '../domain/cost.js';
import { promptId } from '../domain/plan.js';
import { codingMode } from '../domain/prompt.js';
import { DEFAULT_REVIEW_BELOW } from '../domain/quality.js';
import type { ReviewOutcome } from '../domain/job.js';
import type { ReviewPlan } from '../domain/review.js';
import { REVIEW_BATCH_SIZE, answersToReview, cutReviewBatches } from '../domain/review.js';
import { checkLabels } from '../domain/validate.js';
import { readJsonFile } from '../lib/store.js';
import { answerTexts, loadCodedOutput } from './coded-output.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { tokenCounter } from './tokens.js';
import { codingRequest } from './classify.js';
import { callModel } from './model-call.js';
import type { StoredReviewBatch, StoredReviewResult } from './stored.js';
import { loadJob, reviewBatchFile, reviewPlanFile, reviewResultFile } from './stored.js';

export interface ReviewRef {
  readonly jobId: string;
}
export interface ReviewBatchInput {
  readonly jobId: string;
  readonly index: number;
}

/** Review planning: file work on the main task queue. */
export function reviewFileActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /**
     * Chooses the answers to code again (a confidence under REVIEW_BELOW) and stores their requests, the plan
     * last; a plan on disk is returned as it is, so a retry or a later run never plans differently.
     */
    planReview: async ({ jobId }: ReviewRef): Promise<ReviewPlan> => {
      const stored = await store.readJsonIfExists<ReviewPlan>(reviewPlanFile(store, jobId));
      if (stored) return stored;
      return withHeartbeat(async () => {
        const job = await loadJob(store, jobId);
        const { spec } = job;
        const model = spec.options.reviewModel;
        if (!model) {
          throw ApplicationFailure.create({
            type: 'ReviewNotAskedError',
            message: 'the job has no review model',
            nonRetryable: true,
          });
        }
        const below = spec.options.reviewBelow ?? DEFAULT_REVIEW_BELOW;
        const { outcomes, confidences, spans } = await loadCodedOutput(store, jobId);
        const size = spec.options.batchSize === 'auto' ? REVIEW_BATCH_SIZE : spec.options.batchSize;
        const batches = cutReviewBatches(answersToReview(outcomes, confidences, below), size);
        const texts = answerTexts(store, jobId, spans);
        const count = await tokenCounter(model);
        let answers = 0;
        const ceiling = { promptTokens: 0, maxTokens: 0 };
        for (const [index, batch] of batches.entries()) {
          const items = await Promise.all(
            batch.map(async (a, position) => ({ id: promptId(position), text: await texts(a) })),
          );
          const request: StoredReviewBatch = { index, answers: batch, items };
          await store.writeJson(reviewBatchFile(store, jobId, index), request);
          answers += batch.length;
          // What the request can cost at most, as the review model bills it: for the spending cap.
          const sent = codingRequest(jobId, index, job, items);
          const prompt = billedPromptTokens(count, sent.messages, sent.schema.schema);
          ceiling.promptTokens = Math.max(ceiling.promptTokens, prompt);
          ceiling.maxTokens = Math.max(ceiling.maxTokens, sent.maxCompletionTokens);
        }
        const plan: ReviewPlan = { model, below, answers, size, batches: batches.length, ceiling };
        await store.writeJson(reviewPlanFile(store, jobId), plan);
        return plan;
      });
    },
  };
}

/** The review request: the LLM task queue. */
export function reviewLlmActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** One request to the review model; its answer stored once, and read back by any later attempt. */
    reviewBatch: async ({ jobId, index }: ReviewBatchInput): Promise<ReviewOutcome> => {
      const file = reviewResultFile(store, jobId, index);
      const previous = await store.readJsonIfExists<StoredReviewResult>(file);
      if (previous) return reviewOutcome(previous, true);
      const batch = await readJsonFile<StoredReviewBatch>(reviewBatchFile(store, jobId, index), jobId);
      const job = await loadJob(store, jobId);
      const { options, categories } = job.spec;
      const model = options.reviewModel ?? options.model;
      const mode = codingMode(options);
      const { items } = batch;
      // The first pass's request, to another model under its own cache key.
      const request = {
        ...codingRequest(jobId, index, job, items),
        model,
        promptCacheKey: `${jobId}-review`,
      };
      return callModel(deps, { jobId, index, request }, async (response) => {
        // Not JSON of the schema's shape: thrown, and retried. An id it got wrong keeps the first label.
        const check = checkLabels(response.content, items, categories, mode);
        const bad = new Set(check.problems.filter((p) => p.problem !== 'extra_ids').map((p) => p.id));
        const result: StoredReviewResult = {
          index,
          labels: items.map((item) => (bad.has(item.id) ? [] : (check.labels.get(item.id) ?? []))),
          usage: response.usage,
          latencyMs: Math.round(response.latencyMs),
          attempt: Context.current().info.attempt,
          model,
          ...(deps.identity ? { worker: deps.identity } : {}),
          ...(response.simulated ? { simulated: true as const } : {}),
        };
        if (await store.writeJsonOnce(file, result)) return reviewOutcome(result, false);
        // Another attempt stored its answer first: that one stands.
        const winner = await store.readJsonIfExists<StoredReviewResult>(file);
        return reviewOutcome(winner ?? result, true);
      });
    },
  };
}

function reviewOutcome(result: StoredReviewResult, reused: boolean): ReviewOutcome {
  return {
    index: result.index,
    answers: result.labels.length,
    recoded: result.labels.filter((l) => l.length > 0).length,
    usage: result.usage,
    apiCalls: result.attempt,
    reused,
    ...(result.simulated ? { simulated: true } : {}),
  };
}
