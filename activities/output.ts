/** The end of a job: fallbacks recorded, the coded workbook and CSV written from the stored results. */
import { log } from '@temporalio/activity';
import type { BannerTable } from '../domain/banner-tables.js';
import { tablesRows } from '../domain/banner-tables.js';
import type { AnswerOutcome } from '../domain/coded-rows.js';
import { DomainError } from '../domain/errors.js';
import type { FallbackOutcome, JobCounters, JobStats } from '../domain/job.js';
import { ZERO_COUNTERS, isSimulated } from '../domain/job.js';
import { jobCost, jobTokens } from '../domain/cost.js';
import { LabelIndex } from '../domain/codeframe.js';
import type { NotCodedGold, QualityRow, QualitySummary } from '../domain/quality.js';
import { DEFAULT_REVIEW_BELOW, NO_GOLD_LEFT_OUT, qualityReport } from '../domain/quality.js';
import type { FallbackEntry } from '../domain/report.js';
import { runRows, summaryRows } from '../domain/report.js';
import { writeCodedCsv, writeCodedWorkbook } from '../sheets/index.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import type { CodedOutput, Reviewed } from './coded-output.js';
import { answerTexts, loadCodedOutput } from './coded-output.js';
import { SUMMARY_JSON, summarizeOutput } from './summary.js';
import { tablesOf } from './tables.js';
import type { LogprobsOff, StoredExamples, StoredResult } from './stored.js';
import {
  EXAMPLES,
  KIND_LETTERS,
  LOGPROBS_OFF,
  assignmentsOf,
  countLogprobsRefusals,
  OUTPUT_CSV,
  OUTPUT_XLSX,
  readBatch,
  readResult,
} from './stored.js';

export interface RecordFallbackInput {
  readonly jobId: string;
  readonly index: number;
  readonly reason: string;
  readonly attempts: number;
}
export interface WriteOutputInput {
  readonly jobId: string;
  readonly partial: boolean;
  /** A partial output written because the job failed (not cancelled). */
  readonly failed?: boolean;
  readonly stats: JobStats;
  readonly counters: JobCounters;
  readonly concurrency: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The job's cost cap when it ended, for the Run sheet (absent: none). */
  readonly maxCost?: number;
}
export interface WriteOutputResult {
  readonly xlsx: string;
  readonly csv: string;
  /** Agreement with the human-coded column, when the job has one. */
  readonly quality?: QualitySummary;
}

export function outputActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  return {
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

    /** The original workbook with the category column (and in multi-code mode the 0/1 columns) filled, plus the Summary and Run sheets. */
    writeOutput: async (input: WriteOutputInput): Promise<WriteOutputResult> => {
      return withHeartbeat(async () => {
        const { jobId } = input;
        const loaded = await loadCodedOutput(store, jobId);
        const { spec, plan, mode, codeframe, rows, coded, fallbackBatches, spans, confidences, reviewed } =
          loaded;
        const answerOutcomes = loaded.outcomes;
        // The answers' texts, for the Review sheet and the summary's examples: read from the batch files.
        const answerText = answerTexts(store, jobId, spans);
        const gold = new Map(rows.gold ?? []);
        const reviewBelow = spec.options.reviewBelow ?? DEFAULT_REVIEW_BELOW;
        const withConfidence = confidences.some((c) => c !== undefined);
        const examples = await store.readJsonIfExists<StoredExamples>(store.file(jobId, EXAMPLES));
        const reviewModel = spec.options.reviewModel;
        const modelCoded =
          plan.gold || withConfidence
            ? await modelRows(assignmentsOf(rows), answerOutcomes, {
                confidences: withConfidence ? confidences : undefined,
                index: new LabelIndex(codeframe),
                fallback: codeframe.fallback.name,
                gold,
                reviewBelow,
                answerText: (a) => answerText(a),
                reviewed,
                examples: new Set(examples?.answers ?? []),
              })
            : undefined;
        const report = modelCoded
          ? qualityReport({
              codeframe,
              multi: mode.multi,
              goldHeader: plan.gold?.header,
              rows: modelCoded.rows,
              notCoded: modelCoded.notCoded,
              reviewBelow,
              ...(reviewModel ? { models: { first: spec.options.model, review: reviewModel } } : {}),
            })
          : undefined;
        const logprobsOff = await store.readJsonIfExists<LogprobsOff>(store.file(jobId, LOGPROBS_OFF));
        const logprobsRefused = logprobsOff ? await countLogprobsRefusals(store, jobId) : 0;
        // Marked by what answered each batch (the simulator says so), not by this worker's configuration.
        const simulatedBatches = input.counters.batchesSimulated;
        const simulated = isSimulated(plan, input.counters);
        const fallbacks: FallbackEntry[] = fallbackBatches.map((f) => ({
          batch: f.batch,
          reason: f.reason,
          rows: rows.rows.filter((_, i) => {
            const a = rows.answers[i] ?? -1;
            return rows.kinds[i] === KIND_LETTERS.classify && a >= f.first && a < f.first + f.answers;
          }),
        }));
        const failed = input.partial && input.failed === true;
        const summary = summaryRows({
          codeframe,
          multi: mode.multi,
          tally: coded.tally,
          partial: input.partial,
          ...(failed ? { failed } : {}),
          simulated,
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
          cachedTokens: input.counters.cachedTokens,
          completionTokens: input.counters.completionTokens,
          cost: jobCost(jobTokens({ ...ZERO_COUNTERS, ...input.counters }), plan, {
            maxCost: input.maxCost,
            capReached: false,
            nextRequest: undefined,
          }),
          partial: input.partial,
          ...(failed ? { failed } : {}),
          fallbacks,
          ...(input.counters.batchesSalvaged > 0
            ? {
                salvage: {
                  batches: input.counters.batchesSalvaged,
                  calls: input.counters.salvageCalls,
                  answersFallback: input.counters.answersFallback,
                },
              }
            : {}),
          ...(mode.multi
            ? { multiCode: { maxCodes: mode.maxCodes, answersCut: input.counters.answersCut ?? 0 } }
            : {}),
          ...(reviewModel
            ? {
                review: {
                  model: reviewModel,
                  below: loaded.review?.below ?? reviewBelow,
                  answers: input.counters.reviewAnswers,
                  recoded: input.counters.reviewRecoded,
                  changed: [...reviewed.values()].length - unchangedReviews(reviewed, answerOutcomes),
                  failed: input.counters.reviewFailed,
                  calls: input.counters.reviewCalls,
                  promptTokens: input.counters.reviewPromptTokens,
                  cachedTokens: input.counters.reviewCachedTokens,
                  completionTokens: input.counters.reviewCompletionTokens,
                },
              }
            : {}),
          unknownLabels: coded.unknownLabels,
          confidence: logprobsOff
            ? `off: the model refused log-probabilities (batch ${logprobsOff.batch + 1}: ${logprobsOff.reason}); ${refusedRequests(logprobsRefused)}, then not asked again`
            : withConfidence
              ? `from the model's log-probabilities, in the "${plan.header} confidence" column; under ${reviewBelow} listed on the Review sheet` +
                (reviewed.size > 0
                  ? `; blank there for the rows ${reviewModel ?? 'the review model'} coded again (the Review sheet gives the first model's confidence)`
                  : '')
              : 'none: the answers came without log-probabilities',
          ...(plan.warnings ? { warnings: plan.warnings } : {}),
        });
        // The workbook, and the data alone as CSV with formula-like cells made safe for spreadsheet apps.
        const tables = await bannerTables(loaded);
        const extraSheets = [
          ...(report?.quality ? [{ name: 'Quality', rows: report.quality }] : []),
          ...(report?.review ? [{ name: 'Review', rows: report.review }] : []),
          ...(tables.length > 0 ? [{ name: 'Tables', rows: tablesRows(tables, plan.header) }] : []),
        ];
        await Promise.all([
          writeCodedWorkbook({
            ...loaded.sheet,
            summary,
            run,
            moreSheets: extraSheets,
            outPath: store.file(jobId, OUTPUT_XLSX),
          }),
          writeCodedCsv({ ...loaded.sheet, outPath: store.file(jobId, OUTPUT_CSV), escapeFormulas: true }),
        ]);
        const facts = {
          partial: input.partial,
          ...(failed ? { failed } : {}),
          simulated,
          ...(report?.summary ? { quality: report.summary } : {}),
        };
        // Before result.json, which says the output is there: a summary is never older than it.
        await store.writeJson(
          store.file(jobId, SUMMARY_JSON),
          await summarizeOutput(store, loaded, facts, answerText),
        );
        await store.writeJson(store.file(jobId, 'result.json'), {
          ...facts,
          stats: input.stats,
          output: OUTPUT_XLSX,
        });
        return {
          xlsx: OUTPUT_XLSX,
          csv: OUTPUT_CSV,
          ...(report?.summary ? { quality: report.summary } : {}),
        };
      });
    },
  };
}

/**
 * The tables by the banners the job was started with. A banner that cannot be read now (the column was
 * checked at the start) costs its table, not the job's output: the sheet says why in its place.
 */
async function bannerTables(loaded: CodedOutput): Promise<BannerTable[]> {
  const by = loaded.spec.by ?? [];
  try {
    return await tablesOf(loaded, by);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    log.warn('banner tables not made', { jobId: loaded.spec.jobId, error: error.message });
    return [{ banner: by.join(' | '), column: '', header: by.join(', '), refused: error.message }];
  }
}

/**
 * The rows the model coded in this job (the fallback included), with their labels, gold cell and answer;
 * and the rows with a gold cell it did not code, counted by why. The answer's text is fetched only for
 * rows the Review sheet may list: those with a gold cell.
 */
async function modelRows(
  assignments: Iterable<readonly [number, string, number]>,
  outcomes: readonly AnswerOutcome[],
  how: {
    readonly confidences: ReadonlyArray<number | null | undefined> | undefined;
    readonly index: LabelIndex;
    readonly fallback: string;
    readonly gold: ReadonlyMap<number, string>;
    readonly reviewBelow: number;
    readonly answerText: (answer: number) => Promise<string>;
    readonly reviewed: ReadonlyMap<number, Reviewed>;
    readonly examples: ReadonlySet<number>;
  },
): Promise<{ rows: QualityRow[]; notCoded: NotCodedGold }> {
  const { confidences, index, fallback, gold, reviewBelow, answerText, reviewed, examples } = how;
  const out: QualityRow[] = [];
  const notCoded = { ...NO_GOLD_LEFT_OUT };
  for (const [row, kind, answer] of assignments) {
    const outcome = kind === 'classify' ? outcomes[answer] : undefined;
    if (outcome === undefined) {
      if (gold.has(row)) {
        if (kind === 'invalid') notCoded.invalid += 1;
        else if (kind === 'empty') notCoded.empty += 1;
        else if (kind === 'coded') notCoded.alreadyCoded += 1;
        else notCoded.uncoded += 1;
      }
      continue;
    }
    const model = outcome === 'fallback' ? [fallback] : index.order(outcome).labels;
    const cell = gold.get(row);
    // A fallen-back row has no confidence of the model's; a batch without log-probabilities none either.
    const confidence = confidences
      ? outcome === 'fallback'
        ? null
        : (confidences[answer] ?? null)
      : undefined;
    const listed = cell !== undefined || (typeof confidence === 'number' && confidence < reviewBelow);
    const first = reviewed.get(answer)?.first;
    out.push({
      row,
      model,
      gold: cell,
      ...(confidence !== undefined ? { confidence } : {}),
      ...(first ? { first: index.order(first).labels } : {}),
      ...(examples.has(answer) ? { example: true } : {}),
      answer: listed ? await answerText(answer) : '',
    });
  }
  return { rows: out, notCoded };
}

/**
 * `refused by 5 requests`: the requests sent with `logprobs` before the switch was stored (parallel workers
 * each had one in flight). Jobs from before they were counted say only that they were refused.
 */
function refusedRequests(count: number): string {
  return count > 0 ? `refused by ${count} request${count === 1 ? '' : 's'}` : 'refused';
}

/** Reviewed answers whose review gave the first model's labels back. */
function unchangedReviews(
  reviewed: ReadonlyMap<number, Reviewed>,
  outcomes: readonly AnswerOutcome[],
): number {
  let same = 0;
  for (const [a, r] of reviewed) {
    const now = outcomes[a];
    if (
      now !== undefined &&
      now !== 'fallback' &&
      now.length === r.first.length &&
      now.every((l) => r.first.includes(l))
    )
      same += 1;
  }
  return same;
}
