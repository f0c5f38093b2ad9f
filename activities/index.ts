import { Context } from '@temporalio/activity';
import OpenAI from 'openai';
import { fallbackLabel } from '../domain/categories.js';
import type {
  BatchOutcome,
  BatchSpan,
  FallbackOutcome,
  JobCounters,
  JobPlan,
  JobSpec,
  JobStats,
} from '../domain/job.js';
import { SPAN_PAGE, isSimulated } from '../domain/job.js';
import type { BatchingChoice } from '../domain/plan.js';
import { planBatches, planRows, promptId } from '../domain/plan.js';
import { buildInstructions, buildLabelSchema, buildMessages, maxCompletionTokens } from '../domain/prompt.js';
import { isLowRemaining } from '../domain/rate.js';
import type { FallbackEntry } from '../domain/report.js';
import { runRows, summaryRows } from '../domain/report.js';
import { validateLabels } from '../domain/validate.js';
import type { JobStore } from '../lib/store.js';
import type { RateLimitedNotice } from '../workflows/definitions.js';
import type { Budget } from './budget.js';
import type { LlmEndpoint } from './llm.js';
import { requestLabels, retryDelayMs, toActivityFailure } from './llm.js';
import { readAnswerColumn, writeCodedCsv, writeCodedWorkbook } from './sheets/index.js';
import type { SpanRecord, StoredBatch, StoredResult, StoredRows } from './stored.js';
import {
  OUTPUT_CSV,
  OUTPUT_XLSX,
  loadJob,
  readBatch,
  readResult,
  readRows,
  mapLimit,
  writeBatchFiles,
} from './stored.js';
import { arrivalCharge, estimateRequestTokens, tokenCounter } from './tokens.js';

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

export interface PrepareJobInput {
  readonly jobId: string;
}
export interface PreparedJob {
  readonly plan: JobPlan;
  /** Spans of the first SPAN_PAGE batches. */
  readonly spans: readonly BatchSpan[];
}

export interface LoadBatchSpansInput {
  readonly jobId: string;
  readonly from: number;
  readonly count: number;
}
export interface ClassifyBatchInput {
  readonly jobId: string;
  readonly index: number;
}
export interface RecordFallbackInput {
  readonly jobId: string;
  readonly index: number;
  readonly reason: string;
  readonly attempts: number;
}
export interface WriteOutputInput {
  readonly jobId: string;
  readonly partial: boolean;
  readonly stats: JobStats;
  readonly counters: JobCounters;
  readonly concurrency: number;
  readonly startedAt: number;
  readonly endedAt: number;
}
export interface WriteOutputResult {
  readonly xlsx: string;
  readonly csv: string;
}

/** How often a running activity tells the server it is alive (the heartbeat timeout is seconds). */
const HEARTBEAT_MS = 1_000;

export function createActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  return {
    /** Reads the sheet (streaming), sorts and de-duplicates its rows, cuts and stores the batches. */
    prepareJob: async ({ jobId }: PrepareJobInput): Promise<PreparedJob> => {
      return withHeartbeat(async () => {
        const spec = await store.readJson<JobSpec>(jobId, 'job.json');
        const column = await readAnswerColumn({
          path: store.file(jobId, spec.input),
          displayName: spec.fileName,
          format: spec.format,
          ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
          column: spec.column,
        });
        const question = spec.question ?? column.question;
        const rowPlan = planRows(column.rows);
        const tokenize = await tokenCounter(spec.options.model);
        const instructions = buildInstructions(question, spec.categories);
        // Every request repeats the instructions: count them once.
        const instructionTokens = tokenize(instructions);
        const count = (text: string) => (text === instructions ? instructionTokens : tokenize(text));
        const schema = buildLabelSchema(spec.categories);
        const fixedTokens = count(instructions) + count(JSON.stringify(schema)) + 16;
        const perItemCompletion =
          maxCompletionTokens(spec.categories, 1) - maxCompletionTokens(spec.categories, 0);
        const batching: BatchingChoice =
          spec.options.batchSize === 'auto'
            ? {
                size: 'auto',
                auto: {
                  tokenTarget: spec.options.batchTokenTarget,
                  fixedTokens,
                  completionTokensPerItem: perItemCompletion,
                  maxItems: 200,
                  countTokens: count,
                },
              }
            : { size: spec.options.batchSize };
        const batches = planBatches(rowPlan, batching);
        const codedLabels: Array<[number, string]> = column.rows
          .filter((r) => r.category.trim() !== '')
          .map((r) => [r.row, r.category.trim()]);
        const rows: StoredRows = {
          assignments: rowPlan.assignments.map((a) => [a.row, a.kind, a.answer ?? -1]),
          codedLabels,
        };
        let estimatedTokens = 0;
        const stored: StoredBatch[] = batches.map((b) => {
          const items = b.answerIds.map((id, position) => ({
            id: promptId(position),
            text: rowPlan.answers[id]?.text ?? '',
          }));
          estimatedTokens += estimateRequestTokens(
            count,
            buildMessages(question, spec.categories, items),
            maxCompletionTokens(spec.categories, items.length),
          );
          return { ...b, items };
        });
        const plan: JobPlan = {
          sheet: column.sheet,
          header: column.header,
          headerRow: column.headerRow,
          column: column.column,
          categoryColumn: column.categoryColumn,
          categoryHeader: column.categoryHeader,
          question,
          rows: rowPlan.counts,
          uniqueAnswers: rowPlan.answers.length,
          batches: batches.length,
          estimatedTokens,
          simulated: llm.simulated,
        };
        await writeBatchFiles(store, jobId, stored, rows, plan);
        // The first page of spans comes along, saving the workflow a round trip before its first batch.
        return {
          plan,
          spans: stored.slice(0, SPAN_PAGE).map(({ index, firstRow, lastRow, rows: n, answers }) => ({
            index,
            firstRow,
            lastRow,
            rows: n,
            answers,
          })),
        };
      });
    },

    /** Where a run of batches sits in the sheet, for activity summaries. */
    loadBatchSpans: async ({ jobId, from, count }: LoadBatchSpansInput): Promise<BatchSpan[]> => {
      const spans = await store.readJson<SpanRecord[]>(jobId, 'spans.json');
      return spans.slice(from, from + count).map(([firstRow, lastRow, rows, answers], i) => ({
        index: from + i,
        firstRow,
        lastRow,
        rows,
        answers,
      }));
    },

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
      const messages = buildMessages(job.plan.question, categories, batch.items);
      const maxTokens = maxCompletionTokens(categories, batch.items.length);
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
            schema: buildLabelSchema(categories),
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
          const labels = validateLabels(response.content, batch.items, categories);
          const result: StoredResult = {
            index,
            labels: batch.items.map((item) => labels.get(item.id) ?? ''),
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

    /** Retries ran out: the batch's rows will be coded with the fallback label, and why is recorded. */
    recordFallback: async ({
      jobId,
      index,
      reason,
      attempts,
    }: RecordFallbackInput): Promise<FallbackOutcome & { coded: boolean }> => {
      const batch = await readBatch(store, jobId, index);
      const previous = await readResult(store, jobId, index);
      if (previous && !previous.fallback) return { index, rows: batch.rows, coded: true };
      const result: StoredResult = { index, fallback: { reason, attempts } };
      await store.writeJson(store.resultFile(jobId, index), result);
      return { index, rows: batch.rows, coded: false };
    },

    /** The original workbook with the category column filled, plus the Summary and Run sheets. */
    writeOutput: async (input: WriteOutputInput): Promise<WriteOutputResult> => {
      return withHeartbeat(async () => {
        const { jobId } = input;
        const job = await loadJob(store, jobId);
        const { spec, plan } = job;
        const rows = await readRows(store, jobId);
        const fallback = fallbackLabel(spec.categories);
        const answerLabels: Array<string | undefined> = new Array<string | undefined>(plan.uniqueAnswers);
        const fallbackBatches: Array<{ batch: number; reason: string; first: number; answers: number }> = [];
        const [spans, results] = await Promise.all([
          store.readJson<SpanRecord[]>(jobId, 'spans.json'),
          mapLimit(plan.batches, 32, (i) => readResult(store, jobId, i)),
        ]);
        for (const [i, result] of results.entries()) {
          const [, , , answers = 0, first = 0] = spans[i] ?? [];
          if (!result) continue; // not reached before a cancel: left blank
          if (result.fallback) {
            for (let a = first; a < first + answers; a += 1) answerLabels[a] = fallback;
            fallbackBatches.push({ batch: i, reason: result.fallback.reason, first, answers });
          } else {
            for (let p = 0; p < answers; p += 1) answerLabels[first + p] = result.labels[p];
          }
        }
        const labels = new Map<number, string>();
        for (const [row, kind, answer] of rows.assignments) {
          if (kind === 'invalid') labels.set(row, fallback);
          else if (kind === 'classify') {
            const label = answerLabels[answer];
            if (label) labels.set(row, label);
          }
        }
        // Marked by what answered each batch (the simulator says so), not by this worker's configuration.
        const simulatedBatches = input.counters.batchesSimulated;
        const simulated = isSimulated(plan, input.counters);
        const fallbacks: FallbackEntry[] = fallbackBatches.map((f) => ({
          batch: f.batch,
          reason: f.reason,
          rows: rows.assignments
            .filter(([, kind, a]) => kind === 'classify' && a >= f.first && a < f.first + f.answers)
            .map(([row]) => row),
        }));
        const summary = summaryRows({
          categories: spec.categories,
          fallbackLabel: fallback,
          labels: [...labels.values(), ...rows.codedLabels.map(([, label]) => label)],
          rows: plan.rows,
          fallbackRows: input.counters.rowsFallback,
        });
        const run = runRows({
          jobId,
          fileName: spec.fileName,
          sheet: plan.sheet,
          column: plan.column,
          header: plan.header,
          question: plan.question,
          model: spec.options.model,
          temperature: spec.options.temperature,
          batchSize: spec.options.batchSize,
          concurrency: input.concurrency,
          parallel: spec.options.parallel,
          simulated,
          ...(simulatedBatches > 0
            ? { simulatedBatches: { answered: simulatedBatches, of: plan.batches } }
            : {}),
          endpoint: llm.endpoint,
          startedAt: new Date(input.startedAt).toISOString(),
          endedAt: new Date(input.endedAt).toISOString(),
          stats: input.stats,
          promptTokens: input.counters.promptTokens,
          completionTokens: input.counters.completionTokens,
          partial: input.partial,
          fallbacks,
        });
        const where = {
          inputPath: store.file(jobId, spec.input),
          format: spec.format,
          displayName: spec.fileName,
          sheet: plan.sheet,
          headerRow: plan.headerRow,
          categoryColumn: plan.categoryColumn,
          categoryHeader: plan.categoryHeader,
          labels,
        };
        // The workbook, and the data alone as CSV with formula-like cells made safe for spreadsheet apps.
        await Promise.all([
          writeCodedWorkbook({ ...where, summary, run, outPath: store.file(jobId, OUTPUT_XLSX) }),
          writeCodedCsv({ ...where, outPath: store.file(jobId, OUTPUT_CSV), escapeFormulas: true }),
        ]);
        await store.writeJson(store.file(jobId, 'result.json'), {
          partial: input.partial,
          stats: input.stats,
          simulated,
          output: OUTPUT_XLSX,
        });
        return { xlsx: OUTPUT_XLSX, csv: OUTPUT_CSV };
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

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
  };
}

/** Runs `fn` while heartbeating, so a killed worker's activity is handed to another within seconds. */
async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  // No heartbeat at the start: the heartbeat timeout already counts from the start, and a batch that
  // answers within the first second then costs the server no heartbeat write at all.
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
