import type { JobOptions } from '../../domain/job.js';

/** Job options for tests: quick retries, a short heartbeat timeout, no pause between requests. */
export function testOptions(overrides: Partial<JobOptions> = {}): JobOptions {
  return {
    model: 'gpt-4o-mini',
    temperature: 0.1,
    batchSize: 10,
    batchTokenTarget: 3_000,
    parallel: true,
    maxWorkers: 5,
    minResponsesForParallel: 100,
    rateLimitDelayMs: 0,
    retry: { maximumAttempts: 4, initialIntervalMs: 50, maximumIntervalMs: 400, heartbeatTimeoutMs: 5_000 },
    ...overrides,
  };
}
