/** Preparing a job: reading the sheet, sorting its rows, cutting and storing the batches. */
import type { BatchSpan, JobPlan, JobSpec } from '../domain/job.js';
import { SPAN_PAGE } from '../domain/job.js';
import type { RowPlan } from '../domain/plan.js';
import { priceFor } from '../domain/prices.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import type { SheetPlan } from './plan-job.js';
import { batchRequest, planSheet, requestTokens } from './plan-job.js';
import type { SpanRecord, StoredBatch, StoredRows } from './stored.js';
import { EXAMPLES, KIND_LETTERS, mapLimit, writePlanFiles } from './stored.js';
import { estimateRequestTokens } from './tokens.js';

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

/** A span's request tokens, when its plan counted them (plans before the spending cap did not). */
function billedOf(
  tokens: readonly [number, number] | undefined,
): Pick<BatchSpan, 'promptTokens' | 'maxTokens'> {
  return tokens ? { promptTokens: tokens[0], maxTokens: tokens[1] } : {};
}

export function prepareActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  return {
    /** Reads the sheet (streaming), sorts and de-duplicates its rows, cuts and stores the batches. */
    prepareJob: async ({ jobId }: PrepareJobInput): Promise<PreparedJob> => {
      return withHeartbeat(async () => {
        const spec = await store.readJson<JobSpec>(jobId, 'job.json');
        let sheet: SheetPlan | undefined = await planSheet({ ...spec, path: store.file(jobId, spec.input) });
        const { column, question, mode, count, batches, codedLabels, examples } = sheet;
        let rowPlan: RowPlan | undefined = sheet.rowPlan;
        sheet = undefined;
        // Columns, not a tuple a row: a million rows are three arrays in memory and a small file.
        const rows: StoredRows = {
          rows: rowPlan.assignments.map((a) => a.row),
          kinds: rowPlan.assignments.map((a) => KIND_LETTERS[a.kind]).join(''),
          answers: rowPlan.assignments.map((a) => a.answer ?? -1),
          codedLabels,
          ...(column.gold ? { gold: column.gold.cells } : {}),
        };
        // Rows per unique answer, so that a salvage can count the rows of an answer that fell back alone.
        const rowsOfAnswer = new Uint32Array(rowPlan.answers.length);
        for (const a of rowPlan.assignments) {
          if (a.answer !== undefined) rowsOfAnswer[a.answer] = (rowsOfAnswer[a.answer] ?? 0) + 1;
        }
        const { answers, counts } = rowPlan;
        rowPlan = undefined;
        // Each batch file is written as its prompt is counted, so the prompts are never all in memory.
        let estimatedTokens = 0;
        const billed = new Array<readonly [number, number]>(batches.length);
        await mapLimit(batches.length, 16, async (i) => {
          const b = batches[i];
          if (!b) return;
          const request = batchRequest({ answers, question, mode, examples }, spec.categories, b);
          const itemRows = b.answerIds.map((id) => rowsOfAnswer[id] ?? 0);
          estimatedTokens += estimateRequestTokens(count, request.messages, request.maxTokens);
          // What the request can cost at most, for the spending cap: its billed prompt and output ceiling.
          billed[i] = [requestTokens(count, spec.categories, mode, request).prompt, request.maxTokens];
          const stored: StoredBatch = { ...b, items: request.items, itemRows };
          await store.writeJson(store.batchFile(jobId, b.index), stored);
        });
        const price = priceFor(spec.options.model, spec.options.prices);
        const { reviewModel } = spec.options;
        const reviewPrice = reviewModel ? priceFor(reviewModel) : undefined;
        const plan: JobPlan = {
          sheet: column.sheet,
          header: column.header,
          headerRow: column.headerRow,
          column: column.column,
          categoryColumn: column.categoryColumn,
          categoryHeader: column.categoryHeader,
          ...(column.codeColumn !== undefined ? { codeColumn: column.codeColumn } : {}),
          confidenceColumn: column.confidenceColumn,
          question,
          rows: counts,
          uniqueAnswers: answers.length,
          batches: batches.length,
          estimatedTokens,
          simulated: llm.simulated,
          ...(price ? { price } : {}),
          ...(reviewPrice ? { reviewPrice } : {}),
          ...(examples ? { examples: examples.answers.length } : {}),
          ...(column.gold
            ? {
                gold: {
                  column: column.gold.column,
                  header: column.gold.header,
                  cells: column.gold.cells.length,
                },
              }
            : {}),
          // Kept for the Run sheet: the person opening the result is the one to check them.
          ...(column.warnings.length > 0 ? { warnings: column.warnings } : {}),
        };
        const spans = batches.map((b, i): SpanRecord => [
          b.firstRow,
          b.lastRow,
          b.rows,
          b.answers,
          b.answerIds[0] ?? 0,
          ...(billed[i] ?? [0, 0]),
        ]);
        // Before the plan: a plan on disk means every file the batches read is there.
        if (examples) await store.writeJson(store.file(jobId, EXAMPLES), examples);
        await writePlanFiles(store, jobId, spans, rows, plan);
        // The first page of spans comes along, saving the workflow a round trip before its first batch.
        return {
          plan,
          spans: batches.slice(0, SPAN_PAGE).map(({ index, firstRow, lastRow, rows: n, answers }) => ({
            index,
            firstRow,
            lastRow,
            rows: n,
            answers,
            ...billedOf(billed[index]),
          })),
        };
      });
    },

    /** Where a run of batches sits in the sheet, for activity summaries. */
    loadBatchSpans: async ({ jobId, from, count }: LoadBatchSpansInput): Promise<BatchSpan[]> => {
      const spans = await store.readJson<SpanRecord[]>(jobId, 'spans.json');
      return spans
        .slice(from, from + count)
        .map(([firstRow, lastRow, rows, answers, , promptTokens, maxTokens], i) => ({
          index: from + i,
          firstRow,
          lastRow,
          rows,
          answers,
          ...billedOf(
            promptTokens !== undefined && maxTokens !== undefined ? [promptTokens, maxTokens] : undefined,
          ),
        }));
    },
  };
}
