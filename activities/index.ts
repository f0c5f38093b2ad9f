/**
 * The job's activities, in two lists by what they run: file work on the main task queue, the LLM call on
 * its own queue (see `llmTaskQueue`). The workflow proxies each list with its queue and the worker registers
 * each list on its queue, so a new activity cannot land on the wrong one.
 */
import { batchApiActivities, batchApiFileActivities } from './batch-api.js';
import { classifyActivities } from './classify.js';
import { codeframeFileActivities, codeframeLlmActivities } from './codeframe.js';
import type { ActivityDeps } from './deps.js';
import { outputActivities } from './output.js';
import { prepareActivities } from './prepare.js';
import { reviewFileActivities, reviewLlmActivities } from './review.js';
import { salvageActivities } from './salvage.js';

export type { ActivityDeps } from './deps.js';
export type { ClassifyBatchInput, ReclassifyAnswersInput } from './classify.js';
export type { BatchPartRef, BatchView, SubmitBatchRoundInput, SubmittedRound } from './batch-api.js';
export type { MergeBatchInput } from './salvage.js';
export type { ReviewBatchInput, ReviewRef } from './review.js';
export type {
  CodeframeRef,
  ExtractOutcome,
  MergeGroupRef,
  MergeOutcome,
  MergeRoundRef,
  MergeRoundStart,
  PreparedMeasure,
  WriteCodeframeInput,
  WrittenCodeframe,
} from './codeframe.js';
export type { RecordFallbackInput, WriteOutputInput, WriteOutputResult } from './output.js';
export type { LoadBatchSpansInput, PrepareJobInput, PreparedJob } from './prepare.js';

/** Reading and writing the job's files: the main task queue. */
export function createFileActivities(deps: ActivityDeps) {
  return {
    ...prepareActivities(deps),
    ...outputActivities(deps),
    ...salvageActivities(deps),
    ...batchApiFileActivities(deps),
    ...codeframeFileActivities(deps),
    ...reviewFileActivities(deps),
  };
}

/** Calling the model: the LLM task queue, whose slots are PARALLEL_MAX_WORKERS. */
export function createLlmActivities(deps: ActivityDeps) {
  return {
    ...classifyActivities(deps),
    ...batchApiActivities(deps),
    ...codeframeLlmActivities(deps),
    ...reviewLlmActivities(deps),
  };
}

export type FileActivities = ReturnType<typeof createFileActivities>;
export type LlmActivities = ReturnType<typeof createLlmActivities>;
