import type { JobStore } from '../lib/store.js';
import type { RateLimitedNotice } from '../workflows/definitions.js';
import type { Budget } from '../worker/budget.js';
import type { LlmEndpoint } from './llm.js';

/** What every activity is given by the worker that runs it (tests hand in the simulator's endpoint). */
export interface ActivityDeps {
  readonly store: JobStore;
  readonly llm: LlmEndpoint;
  /** Shared request and token budget (OPENAI_RPM / OPENAI_TPM); absent when none is configured. */
  readonly budget?: Budget;
  /** Tells the job's workflow about a 429 at once, so it narrows its window (a signal). */
  readonly notifyRateLimited?: (jobId: string, notice: RateLimitedNotice) => Promise<void>;
  /** The worker's identity, recorded with each batch result (which worker coded what). */
  readonly identity?: string;
}
