/** The LLM call: one request per batch, validated, stored under the batch's index. */
import { Context } from '@temporalio/activity';
import OpenAI from 'openai';
import type { BatchOutcome } from '../domain/job.js';
import { buildLabelSchema, buildMessages, codingMode, maxCompletionTokens } from '../domain/prompt.js';
import { isLowRemaining } from '../domain/rate.js';
import { validateLabels } from '../domain/validate.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { requestLabels, retryDelayMs, toActivityFailure } from './llm.js';
import type { StoredBatch, StoredResult } from './stored.js';
import { loadJob, readBatch, readResult } from './stored.js';
import { arrivalCharge, estimateRequestTokens, tokenCounter } from './tokens.js';

export interface ClassifyBatchInput {
  readonly jobId: string;
  readonly index: number;
}

export function classifyActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  return {
    /** One LLM request for one batch; the validated labels are stored under the batch's index. */
    classifyBatch: async ({ jobId, index }: ClassifyBatchInput): Promise<BatchOutcome> => {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const batch = await readBatch(store, jobId, index);
      const previous = await readResult(store, jobId, index);
      if (previous && !previous.fallback) {
        // An earlier attempt got the answer but its worker died before reporting it: nothing is sent again.
        return outcome(batch, previous, 0, true);
      }
      const job = await loadJob(store, jobId);
      const { options, categories } = job.spec;
      const mode = codingMode(options);
      const messages = buildMessages(job.plan.question, categories, batch.items, mode);
      const maxTokens = maxCompletionTokens(categories, batch.items.length, mode);
      return withHeartbeat(async () => {
        let reserved = 0;
        if (deps.budget) {
          reserved = estimateRequestTokens(await tokenCounter(options.model), messages, maxTokens);
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
          const response = await requestLabels(llm, {
            model: options.model,
            temperature: options.temperature,
            messages,
            schema: buildLabelSchema(categories, mode),
            maxCompletionTokens: maxTokens,
            signal: ctx.cancellationSignal,
          });
          deps.budget?.observe(response.rateLimit);
          // Settle the estimate: the API took its arrival charge (~4 characters a token), which counted
          // prompt tokens only raise (our tokenizer missed some); never less, or the budget would overspend.
          if (reserved > 0) {
            const counted = response.usage.prompt + maxTokens;
            deps.budget?.settle(reserved, Math.max(counted, arrivalCharge(messages, maxTokens)));
          }
          const check = validateLabels(response.content, batch.items, categories, mode);
          const result: StoredResult = {
            index,
            labels: batch.items.map((item) => check.labels.get(item.id) ?? []),
            ...(check.cut.length > 0 ? { cut: check.cut.length } : {}),
            usage: response.usage,
            latencyMs: Math.round(response.latencyMs),
            attempt,
            model: options.model,
            ...(deps.identity ? { worker: deps.identity } : {}),
            ...(response.simulated ? { simulated: true as const } : {}),
          };
          await store.writeJson(store.resultFile(jobId, index), result);
          if (options.rateLimitDelayMs > 0) await ctx.sleep(options.rateLimitDelayMs);
          const done = outcome(batch, result, attempt, false);
          return isLowRemaining(response.rateLimit, deps.budget?.paced) ? { ...done, nearLimit: true } : done;
        } catch (error) {
          if (ctx.cancellationSignal.aborted) throw error;
          if (error instanceof OpenAI.RateLimitError) {
            // No refund: OpenAI says failed requests count against the limits too (the simulator does
            // not charge a rejection; keeping the charge errs on the safe side).
            await deps
              .notifyRateLimited?.(jobId, { batch: index, retryAfterMs: retryDelayMs(error) })
              .catch(() => {});
          }
          throw toActivityFailure(error, { attempt, batch: index });
        }
      });
    },
  };
}

function outcome(batch: StoredBatch, result: StoredResult, apiCalls: number, reused: boolean): BatchOutcome {
  return {
    index: batch.index,
    answers: batch.items.length,
    rows: batch.rows,
    usage: result.fallback ? { prompt: 0, completion: 0, cached: 0 } : result.usage,
    apiCalls,
    latencyMs: result.fallback ? 0 : result.latencyMs,
    reused,
    ...(!result.fallback && result.simulated ? { simulated: true } : {}),
    ...(!result.fallback && result.cut ? { cut: result.cut } : {}),
  };
}
