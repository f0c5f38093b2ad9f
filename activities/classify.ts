/**
 * The LLM calls: a batch's request, and the requests of its salvage when the answer was partly wrong. What
 * validates is stored (the whole batch under its index, or a piece under the batch and the ids it asked).
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import type { AnswersOutcome, BatchOutcome, JobOptions, TokenUsage } from '../domain/job.js';
import type { Category } from '../domain/categories.js';
import type { CodingMode, PromptItem } from '../domain/prompt.js';
import {
  buildLabelSchema,
  buildMessages,
  codingMode,
  maxCompletionTokens,
  promptCacheKey,
  promptCacheKeys,
} from '../domain/prompt.js';
import { isLowRemaining } from '../domain/rate.js';
import type { PieceResult } from '../domain/salvage.js';
import { LONE_ANSWER_ATTEMPTS, WHOLE_ANSWER_ATTEMPTS, aloneReason } from '../domain/salvage.js';
import { truncate } from '../domain/text.js';
import type { LabelCheck } from '../domain/validate.js';
import { ModelOutputError, checkLabels } from '../domain/validate.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import type { CompletionReading, FailureDetails, LabelRequest, LabelResponse } from './llm.js';
import {
  MODEL_OUTPUT_FAILURE,
  refusesLogprobs,
  requestLabels,
  retryDelayMs,
  toActivityFailure,
} from './llm.js';
import type {
  AttemptCount,
  LoadedJob,
  LogprobsOff,
  StoredBatch,
  StoredPiece,
  StoredResult,
} from './stored.js';
import {
  LOGPROBS_OFF,
  attemptsSoFar,
  loadJob,
  loneAsksInBatches,
  readBatch,
  readPiece,
  readResult,
  recordFailedAttempt,
  recordLogprobsRefusals,
  storePiece,
} from './stored.js';
import type { JobStore } from '../lib/store.js';
import { batchConfidences } from '../domain/confidence.js';
import { arrivalCharge, estimateRequestTokens, tokenCounter } from './tokens.js';

export interface ClassifyBatchInput {
  readonly jobId: string;
  readonly index: number;
}

export interface ReclassifyAnswersInput {
  readonly jobId: string;
  readonly index: number;
  /** Prompt ids of the batch's answers to ask again (a half of the bad ones of an earlier request). */
  readonly ids: readonly string[];
}

const NO_USAGE: TokenUsage = { prompt: 0, completion: 0, cached: 0 };

/** The failure of an answer asked alone that the model got wrong, to be asked again. */
const LONE_ANSWER_ERROR = 'LoneAnswerError';

/** What one request settled: the whole batch validated, or a piece (some answers good, the rest not). */
type Settled =
  | {
      readonly whole: true;
      readonly check: LabelCheck;
      readonly response: LabelResponse;
      /** Each answer's confidence, when the model gave log-probabilities. */
      readonly confidence?: ReadonlyArray<number | null>;
    }
  | {
      readonly whole: false;
      readonly piece: PieceResult;
      readonly response?: LabelResponse;
      /** Answers of the piece whose list of codes was cut to the maximum (multi-code). */
      readonly cut?: number;
    };

export function classifyActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  /**
   * One request for `items` of batch `index`: the budget reserved first, the model's answer checked id by id.
   * Transport errors are thrown as Temporal failures (the retry policy handles them); an answer unusable as a
   * whole is thrown too until it has been unusable `WHOLE_ANSWER_ATTEMPTS` times (transport failures aside),
   * or on the policy's last attempt, then it becomes a piece whose answers are all to ask again (or, for a
   * single answer, one that fell back alone). A single answer that fails validation is thrown while
   * `asksAloneAgain` says so, counting only the asks the model got wrong (`count.lone`, and `askedBefore`:
   * the batch lines that asked it alone and got it wrong), never a transport failure, and while the retry
   * policy has an attempt left; then it falls back alone. `count`: the attempt over every run of the job (see
   * `attemptsSoFar`); a failure is recorded there, and the one that reaches the policy's maximum is final.
   */
  async function ask(
    jobId: string,
    index: number,
    items: readonly PromptItem[],
    count: AttemptCount,
    askedBefore = 0,
  ): Promise<Settled> {
    const ctx = Context.current();
    const { attempt } = count;
    const job = await loadJob(store, jobId);
    const { options, categories } = job.spec;
    const maximum = options.retry.maximumAttempts;
    if (attempt > maximum && count.last) {
      // An earlier run's last attempt failed as it handed the request over: no retry is left.
      throw outOfRetries(count.last.type, count.last.message, attempt - 1);
    }
    /** Counts the failure across runs; the one that spends the last attempt is not retried. */
    const failed = async (failure: ApplicationFailure): Promise<ApplicationFailure> => {
      if (failure.nonRetryable) return failure;
      const type = failure.type ?? 'Error';
      await recordFailedAttempt(store, jobId, index, ids(items), {
        ...runAttempt(ctx),
        before: count.before,
        type,
        message: failure.message,
        lone: count.lone + (type === LONE_ANSWER_ERROR ? 1 : 0),
        unusable: count.unusable + (type === MODEL_OUTPUT_FAILURE ? 1 : 0),
      });
      return attempt >= maximum ? outOfRetries(type, failure.message, attempt) : failure;
    };
    const mode = codingMode(options);
    const request = { ...codingRequest(jobId, index, job, items), signal: ctx.cancellationSignal };
    const { messages, maxCompletionTokens: maxTokens } = request;
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
    let response: LabelResponse | undefined;
    try {
      const logprobs = !(await logprobsOff(store, jobId));
      response = await requestLabels(llm, { ...request, logprobs }).catch(async (error: unknown) => {
        if (!logprobs || !refusesLogprobs(error)) throw error;
        // The model refuses log-probabilities: this request is counted (the others in flight, sent before
        // the switch below was stored, are refused too and count themselves), the first refusal is kept in
        // the job's folder (the Run sheet reads both), and this request is sent again at once without them.
        const runId = runAttempt(ctx).runId || randomUUID();
        await recordLogprobsRefusals(store, jobId, `${runId}-${ctx.info.activityId}-${attempt}`, 1);
        const off: LogprobsOff = { reason: (error as Error).message.split('\n')[0] ?? '', batch: index };
        await store.writeJsonOnce(store.file(jobId, LOGPROBS_OFF), off);
        offJobs.add(`${store.root}\u0000${jobId}`);
        return requestLabels(llm, request);
      });
      deps.budget?.observe(response.rateLimit);
      // Settle the estimate: the API took its arrival charge (~4 characters a token), which counted
      // prompt tokens only raise (our tokenizer missed some); never less, or the budget would overspend.
      if (reserved > 0) {
        const counted = response.usage.prompt + maxTokens;
        deps.budget?.settle(reserved, Math.max(counted, arrivalCharge(messages, maxTokens)));
      }
      const settled = settleAnswer(response, items, categories, mode);
      const alone = settled.whole ? undefined : Object.values(settled.piece.fallbacks)[0];
      if (alone !== undefined && asksAloneAgain(askedBefore + count.lone + 1, options) && attempt < maximum) {
        // One answer asked alone came back wrong: asked again (after the policy's retry interval) before
        // it falls back, so that a slip of the model's once does not code it `Other`. Only the model's
        // wrong answers count here: a 500 or a timeout before it left the answer unasked.
        throw ApplicationFailure.create({
          type: LONE_ANSWER_ERROR,
          message: `${alone.replace(/^fell back alone: /, '')} (asked alone: asked again before it falls back)`,
          details: [{ attempt }],
        });
      }
      return { ...settled, response };
    } catch (error) {
      if (ctx.cancellationSignal.aborted) throw error;
      if (
        error instanceof ModelOutputError &&
        (count.unusable + 1 >= attemptsAllowed(WHOLE_ANSWER_ATTEMPTS, options) || attempt >= maximum)
      ) {
        // Unusable as a whole again and again (a 500 or a timeout between does not count): halve it rather
        // than spend the batch's retries; on the policy's last attempt, halve it whatever the count.
        const piece: PieceResult =
          items.length === 1
            ? {
                ids: ids(items),
                labels: {},
                fallbacks: { [items[0]?.id ?? '']: aloneReason(error.problem, truncate(error.message, 120)) },
                unresolved: [],
              }
            : { ids: ids(items), labels: {}, fallbacks: {}, unresolved: ids(items) };
        return { whole: false, piece, ...(response ? { response } : {}) };
      }
      if (error instanceof OpenAI.RateLimitError) {
        // No refund: OpenAI says failed requests count against the limits too (the simulator does
        // not charge a rejection; keeping the charge errs on the safe side).
        await deps
          .notifyRateLimited?.(jobId, { batch: index, retryAfterMs: retryDelayMs(error) })
          .catch(() => {});
      }
      throw await failed(toActivityFailure(error, { attempt, batch: index }));
    }
  }

  /** The stored piece of a request's outcome; the earlier one if another attempt or run stored it first. */
  async function keep(
    jobId: string,
    index: number,
    settled: Extract<Settled, { whole: false }>,
    model: string,
    attempt: number,
  ): Promise<StoredPiece> {
    const { response } = settled;
    return storePiece(store, jobId, {
      ...settled.piece,
      index,
      usage: response?.usage ?? NO_USAGE,
      latencyMs: Math.round(response?.latencyMs ?? 0),
      attempt,
      model,
      ...(deps.identity ? { worker: deps.identity } : {}),
      ...(response?.simulated ? { simulated: true as const } : {}),
      ...(settled.cut ? { cut: settled.cut } : {}),
    });
  }

  return {
    /**
     * One LLM request for one batch. All valid: the labels are stored under the batch's index. Partly wrong:
     * the valid labels are stored as the salvage's first piece and the bad ids reported, to be asked again.
     */
    classifyBatch: async ({ jobId, index }: ClassifyBatchInput): Promise<BatchOutcome> => {
      const ctx = Context.current();
      const batch = await readBatch(store, jobId, index);
      const previous = await readResult(store, jobId, index);
      if (previous && !previous.fallback && !previous.salvaged) {
        // An earlier attempt (or run) got the answer but did not report it: nothing is sent again.
        return outcome(batch, previous, previous.attempt, true);
      }
      // A salvage under way (or done): its first piece stands for the answer, the rest follows from it.
      const first = await readPiece(store, jobId, index, ids(batch.items));
      if (first) return pieceOutcome(batch, first, first.attempt, true);
      const { options } = (await loadJob(store, jobId)).spec;
      // A batch of one answer that Batch API lines got wrong: those asks count towards its attempts alone.
      const askedBefore =
        options.batchApi && batch.items.length === 1 ? await loneAsksInBatches(store, jobId, index) : 0;
      const count = await attemptsSoFar(store, jobId, index, ids(batch.items), runAttempt(ctx));
      const { attempt } = count;
      return withHeartbeat(async () => {
        const settled = await ask(jobId, index, batch.items, count, askedBefore);
        if (!settled.whole) {
          const piece = await keep(jobId, index, settled, options.model, attempt);
          const done = pieceOutcome(batch, piece, attempt, false);
          return settled.response && isLowRemaining(settled.response.rateLimit, deps.budget?.paced)
            ? { ...done, nearLimit: true }
            : done;
        }
        const { response } = settled;
        const result = wholeResult(batch, settled, response, attempt, options.model, deps.identity);
        await store.writeJson(store.resultFile(jobId, index), result);
        if (options.rateLimitDelayMs > 0) await ctx.sleep(options.rateLimitDelayMs);
        const done = outcome(batch, result, attempt, false);
        return isLowRemaining(response.rateLimit, deps.budget?.paced) ? { ...done, nearLimit: true } : done;
      });
    },

    /**
     * A salvage's request: some answers of a batch asked again. What validates is stored as a piece under the
     * batch and these ids; an answer asked alone that fails is asked once more, then falls back with its reason.
     */
    reclassifyAnswers: async ({
      jobId,
      index,
      ids: asked,
    }: ReclassifyAnswersInput): Promise<AnswersOutcome> => {
      const ctx = Context.current();
      const stored = await readPiece(store, jobId, index, asked);
      if (stored) return answersOutcome(stored, stored.attempt);
      const batch = await readBatch(store, jobId, index);
      const wanted = new Set(asked);
      const items = batch.items.filter((item) => wanted.has(item.id));
      if (items.length !== wanted.size || items.length === 0) {
        throw ApplicationFailure.create({
          type: 'SalvageIdsError',
          message: `batch ${index + 1} has no answers ${asked.filter((id) => !batch.items.some((i) => i.id === id)).join(', ')}`,
          nonRetryable: true,
        });
      }
      const { options } = (await loadJob(store, jobId)).spec;
      const count = await attemptsSoFar(store, jobId, index, asked, runAttempt(ctx));
      return withHeartbeat(async () => {
        const settled = await ask(jobId, index, items, count);
        const piece = await keep(
          jobId,
          index,
          settled.whole
            ? {
                whole: false,
                piece: pieceOf(items, settled.check, new Set()),
                response: settled.response,
                ...cutOf(settled.check),
              }
            : settled,
          options.model,
          count.attempt,
        );
        if (options.rateLimitDelayMs > 0) await ctx.sleep(options.rateLimitDelayMs);
        return answersOutcome(piece, count.attempt);
      });
    },
  };
}

/** A batch's coding request (or some of its answers'): what the synchronous call and a Batch API line send. */
export function codingRequest(
  jobId: string,
  index: number,
  job: LoadedJob,
  items: readonly PromptItem[],
): Omit<LabelRequest, 'signal' | 'logprobs'> {
  const { options, categories } = job.spec;
  const mode = codingMode(options);
  return {
    model: options.model,
    temperature: options.temperature,
    messages: buildMessages(job.plan.question, categories, items, mode, job.examples),
    schema: buildLabelSchema(categories, items, mode),
    maxCompletionTokens: maxCompletionTokens(categories, items.length, mode),
    promptCacheKey: promptCacheKey(jobId, index, promptCacheKeys(options)),
  };
}

/** An answer for `items` checked id by id: all valid (with confidences when given), or the piece that is. */
export function settleAnswer(
  reading: CompletionReading,
  items: readonly PromptItem[],
  categories: readonly Category[],
  mode: CodingMode,
):
  | { readonly whole: true; readonly check: LabelCheck; readonly confidence?: ReadonlyArray<number | null> }
  | { readonly whole: false; readonly piece: PieceResult; readonly cut?: number } {
  const check = checkLabels(reading.content, items, categories, mode);
  const bad = badIds(check, items);
  if (bad.size > 0) return { whole: false, piece: pieceOf(items, check, bad), ...cutOf(check) };
  const confidence = reading.logprobs
    ? batchConfidences({
        content: reading.content,
        tokens: reading.logprobs,
        items,
        categories,
        labels: check.labels,
      })
    : undefined;
  return { whole: true, check, ...(confidence ? { confidence } : {}) };
}

/** What a batch's valid answer stores under its index. */
export function wholeResult(
  batch: StoredBatch,
  settled: { readonly check: LabelCheck; readonly confidence?: ReadonlyArray<number | null> },
  answer: { readonly usage: TokenUsage; readonly latencyMs: number; readonly simulated?: boolean },
  attempt: number,
  model: string,
  worker: string | undefined,
): StoredResult {
  const { check, confidence } = settled;
  return {
    index: batch.index,
    labels: batch.items.map((item) => check.labels.get(item.id) ?? []),
    ...(check.cut.length > 0 ? { cut: check.cut.length } : {}),
    usage: answer.usage,
    latencyMs: Math.round(answer.latencyMs),
    attempt,
    model,
    ...(worker ? { worker } : {}),
    ...(answer.simulated ? { simulated: true as const } : {}),
    ...(confidence ? { confidence } : {}),
  };
}

/** This activity's run and its attempt in Temporal's count (which starts again in each run). */
function runAttempt(ctx: Context): { runId: string; attempt: number } {
  return { runId: ctx.info.workflowExecution?.runId ?? '', attempt: ctx.info.attempt };
}

/**
 * The failure that spends a request's last attempt, over every run: not retried, and read by the workflow as
 * retries run out (`outOfRetries`), not as an error that could never succeed.
 */
function outOfRetries(type: string, message: string, attempt: number): ApplicationFailure {
  const details: FailureDetails[] = [{ attempt, outOfRetries: true }];
  return ApplicationFailure.create({ type, message, nonRetryable: true, details });
}

function ids(items: readonly PromptItem[]): string[] {
  return items.map((item) => item.id);
}

/**
 * The ids of the batch the answer got wrong: left out, given twice, labelled outside the list. Ids the model
 * made up (extra ids) spoil none of the batch's answers: they are ignored.
 */
function badIds(check: LabelCheck, items: readonly PromptItem[]): Set<string> {
  const bad = new Set(check.problems.filter((p) => p.problem !== 'extra_ids').map((p) => p.id));
  return new Set(items.map((i) => i.id).filter((id) => bad.has(id)));
}

/** The valid labels of a partly wrong answer; the bad ids to ask again, or, asked alone, fallen back. */
function pieceOf(items: readonly PromptItem[], check: LabelCheck, bad: ReadonlySet<string>): PieceResult {
  const labels: Record<string, readonly string[]> = {};
  for (const item of items) {
    const l = check.labels.get(item.id);
    if (l && !bad.has(item.id)) labels[item.id] = l;
  }
  const unresolved = items.map((i) => i.id).filter((id) => bad.has(id));
  if (items.length === 1 && unresolved.length === 1) {
    const id = unresolved[0] ?? '';
    const problem = check.problems.find((p) => p.id === id);
    const detail = problem?.label !== undefined ? `gave ${JSON.stringify(truncate(problem.label, 40))}` : '';
    return {
      ids: ids(items),
      labels,
      fallbacks: { [id]: aloneReason(problem?.problem ?? 'missing_ids', detail) },
      unresolved: [],
    };
  }
  return { ids: ids(items), labels, fallbacks: {}, unresolved };
}

function cutOf(check: LabelCheck): { cut?: number } {
  return check.cut.length > 0 ? { cut: check.cut.length } : {};
}

/**
 * The one rule for an answer asked alone that failed validation, after `asked` asks in all (this one
 * included; synchronous attempts and Batch API lines alike): true while it is to be asked again, false
 * once it falls back with its reason.
 */
export function asksAloneAgain(asked: number, options: JobOptions): boolean {
  return asked < attemptsAllowed(LONE_ANSWER_ATTEMPTS, options);
}

/**
 * `wanted` attempts, never more than the job's retry policy allows: WHOLE_ANSWER_ATTEMPTS for an answer
 * unusable as a whole before it is halved, LONE_ANSWER_ATTEMPTS for an answer asked alone before it falls back.
 */
function attemptsAllowed(wanted: number, options: JobOptions): number {
  return Math.max(1, Math.min(wanted, options.retry.maximumAttempts));
}

/** Jobs whose model refused `logprobs`, known to this process (the file says so to the others). */
const offJobs = new Set<string>();

export async function logprobsOff(store: JobStore, jobId: string): Promise<boolean> {
  const key = `${store.root}\u0000${jobId}`;
  if (offJobs.has(key)) return true;
  const off = await store.readJsonIfExists<LogprobsOff>(store.file(jobId, LOGPROBS_OFF));
  if (off) offJobs.add(key);
  return off !== undefined;
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

function pieceOutcome(
  batch: StoredBatch,
  piece: StoredPiece,
  apiCalls: number,
  reused: boolean,
): BatchOutcome {
  return {
    index: batch.index,
    answers: batch.items.length,
    rows: batch.rows,
    usage: piece.usage,
    apiCalls,
    latencyMs: piece.latencyMs,
    reused,
    ...(piece.simulated ? { simulated: true } : {}),
    ...(piece.cut ? { cut: piece.cut } : {}),
    salvage: { unresolved: piece.unresolved },
  };
}

function answersOutcome(piece: StoredPiece, apiCalls: number): AnswersOutcome {
  return {
    usage: piece.usage,
    apiCalls,
    latencyMs: piece.latencyMs,
    unresolved: piece.unresolved,
    fellBack: Object.keys(piece.fallbacks).length,
    ...(piece.simulated ? { simulated: true } : {}),
    ...(piece.cut ? { cut: piece.cut } : {}),
  };
}
