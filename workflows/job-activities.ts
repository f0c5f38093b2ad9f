/**
 * The activity proxies a job's workflow calls: the file work on the workflow's own task queue, the LLM
 * call on the LLM queue with the job's retry policy. The classify and the codeframe workflow share them.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { FileActivities, LlmActivities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import type { RetryOptions } from '../domain/job.js';
import { llmTaskQueue } from '../domain/task-queues.js';

export interface JobActivities {
  readonly io: ActivityInterfaceFor<FileActivities>;
  readonly llm: ActivityInterfaceFor<LlmActivities>;
}

/** Builds the two proxies; call it inside the workflow function (the LLM queue follows the workflow's). */
export function jobActivities(retry: RetryOptions): JobActivities {
  const io = proxyActivities<FileActivities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  const llm = proxyActivities<LlmActivities>({
    taskQueue: llmTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: retry.heartbeatTimeoutMs,
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: retry.initialIntervalMs,
      maximumInterval: retry.maximumIntervalMs,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
  return { io, llm };
}
