/** Preparing a job: reading the sheet, sorting its rows, cutting and storing the batches. */
import type { BatchSpan, JobPlan, JobSpec } from '../domain/job.js';
import { SPAN_PAGE } from '../domain/job.js';
import type { ColumnarRowPlan, PlannedBatch } from '../domain/plan.js';
import { ROW_KINDS } from '../domain/plan.js';
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
        let rowPlan: ColumnarRowPlan | undefined = sheet.rowPlan;
        sheet = undefined;
        const treated = rowPlan.rows;
        // Rows per unique answer, so that a salvage can count the rows of an answer that fell back alone.
        const rowsOfAnswer = new Uint32Array(rowPlan.answers.length);
        for (const a of treated.answers) if (a >= 0) rowsOfAnswer[a] = (rowsOfAnswer[a] ?? 0) + 1;
        const { answers, counts } = rowPlan;
        rowPlan = undefined;
        // Each batch file is written as its prompt is counted, so the prompts are never all in memory.
        let estimatedTokens = 0;
        const billed = new Array<readonly [number, number]>(batches.length);
        // The request is built and counted in a plain function, so that only the stored batch waits for the
        // disk: a request held across the write (16 in flight) outlived young-generation collections, and its
        // kilobytes of instructions, 50,000 times over, filled the old generation with garbage.
        const counted = (b: PlannedBatch): StoredBatch => {
          const request = batchRequest({ answers, question, mode, examples }, spec.categories, b);
          estimatedTokens += estimateRequestTokens(count, request.messages, request.maxTokens);
          // What the request can cost at most, for the spending cap: its billed prompt and output ceiling.
          billed[b.index] = [requestTokens(count, spec.categories, mode, request).prompt, request.maxTokens];
          return { ...b, items: request.items, itemRows: b.answerIds.map((id) => rowsOfAnswer[id] ?? 0) };
        };
        await mapLimit(batches.length, 16, async (i) => {
          const b = batches[i];
          if (b) await store.writeJson(store.batchFile(jobId, b.index), counted(b));
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
        // Columns, not a tuple a row: a small file, built from the typed columns only to be written.
        const letters = ROW_KINDS.map((kind) => KIND_LETTERS[kind].charCodeAt(0));
        const rows: StoredRows = {
          rows: Array.from(treated.rows),
          kinds: Buffer.from(treated.kinds.map((k) => letters[k] ?? 0)).toString('latin1'),
          answers: Array.from(treated.answers),
          codedLabels,
          ...(column.gold ? { gold: column.gold.cells } : {}),
        };
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
