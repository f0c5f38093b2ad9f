/**
 * The LLM activity's task queue beside a job's main queue: its own queue, so that the worker's LLM slots
 * (PARALLEL_MAX_WORKERS) and any task-queue rate limit touch only the API calls.
 */
export function llmTaskQueue(taskQueue: string): string {
  return `${taskQueue}-llm`;
}
