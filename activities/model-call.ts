/** One model request as every LLM activity sends it: under the shared budget, heartbeating, failures mapped. */
import { Context } from '@temporalio/activity';
import OpenAI from 'openai';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import type { LabelRequest, LabelResponse } from './llm.js';
import { requestLabels, retryDelayMs, toActivityFailure } from './llm.js';
import { arrivalCharge, estimateRequestTokens, tokenCounter } from './tokens.js';

export interface ModelCall {
  /** The workflow told at once about a 429 (the job's or the codeframe's id, which is its workflow id). */
  readonly jobId: string;
  /** The batch or chunk index, for the 429 notice and the failure's details. */
  readonly index: number;
  readonly request: Omit<LabelRequest, 'signal'>;
}

/**
 * Reserves the request's share of the RPM/TPM budget (waiting the delay it is given), sends it, settles the
 * reservation with what the API charged, and hands the response to `use` (validate, store). Any failure,
 * `use`'s included, becomes the Temporal failure `toActivityFailure` maps it to; a 429 is also told to the
 * workflow, which narrows its window.
 */
export async function callModel<T>(
  deps: ActivityDeps,
  call: ModelCall,
  use: (response: LabelResponse) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  const { attempt } = ctx.info;
  const { messages, maxCompletionTokens: maxTokens, model } = call.request;
  return withHeartbeat(async () => {
    let reserved = 0;
    if (deps.budget) {
      reserved = estimateRequestTokens(await tokenCounter(model), messages, maxTokens);
      const wait = await deps.budget.reserve(reserved);
      if (wait > 0) {
        await ctx.sleep(wait).catch((error: unknown) => {
          // Cancelled (a pause, a cancel, a shutdown) before sending: the tokens go back.
          deps.budget?.settle(reserved, 0);
          throw error;
        });
      }
    }
    try {
      const response = await requestLabels(deps.llm, { ...call.request, signal: ctx.cancellationSignal });
      deps.budget?.observe(response.rateLimit);
      // Settle the estimate: the API took its arrival charge (~4 characters a token), which counted
      // prompt tokens only raise (our tokenizer missed some); never less, or the budget would overspend.
      if (reserved > 0) {
        const counted = response.usage.prompt + maxTokens;
        deps.budget?.settle(reserved, Math.max(counted, arrivalCharge(messages, maxTokens)));
      }
      return await use(response);
    } catch (error) {
      if (ctx.cancellationSignal.aborted) throw error;
      if (error instanceof OpenAI.RateLimitError) {
        // No refund: OpenAI says failed requests count against the limits too (the simulator does
        // not charge a rejection; keeping the charge errs on the safe side).
        await deps
          .notifyRateLimited?.(call.jobId, { batch: call.index, retryAfterMs: retryDelayMs(error) })
          .catch(() => {});
      }
      throw toActivityFailure(error, { attempt, batch: call.index });
    }
  });
}
