/** Preparing a job: reading the sheet, sorting its rows, cutting and storing the batches. */
import type { BatchSpan, JobPlan, JobSpec } from '../domain/job.js';
import { SPAN_PAGE } from '../domain/job.js';
import type { BatchingChoice } from '../domain/plan.js';
import type { RowPlan } from '../domain/plan.js';
import { RowPlanner, planBatches, promptId } from '../domain/plan.js';
import { codeColumnHeaders, codeframeOf } from '../domain/codeframe.js';
import {
  PROMPT_TOKENS_PER_ITEM,
  buildInstructions,
  buildLabelSchema,
  buildMessages,
  codingMode,
  maxCompletionTokens,
} from '../domain/prompt.js';
import { cleanForModel } from '../domain/text.js';
import { readAnswerColumn } from '../sheets/index.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import type { SpanRecord, StoredBatch, StoredRows } from './stored.js';
import { KIND_LETTERS, mapLimit, writePlanFiles } from './stored.js';
import { estimateRequestTokens, tokenCounter } from './tokens.js';

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

export function prepareActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  return {
    /** Reads the sheet (streaming), sorts and de-duplicates its rows, cuts and stores the batches. */
    prepareJob: async ({ jobId }: PrepareJobInput): Promise<PreparedJob> => {
      return withHeartbeat(async () => {
        const spec = await store.readJson<JobSpec>(jobId, 'job.json');
        const mode = codingMode(spec.options);
        const codeframe = codeframeOf(spec.categories);
        // Each row is planned as it is read: the sheet's rows (a million objects) are never all held.
        const planner = new RowPlanner();
        const codedLabels: Array<[number, string]> = [];
        const column = await readAnswerColumn({
          path: store.file(jobId, spec.input),
          displayName: spec.fileName,
          format: spec.format,
          ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
          column: spec.column,
          ...(mode.multi ? { codeHeaders: (header: string) => codeColumnHeaders(header, codeframe) } : {}),
          ...(spec.goldColumn !== undefined ? { goldColumn: spec.goldColumn } : {}),
          onRow: (r) => {
            planner.add(r);
            if (r.category.trim() !== '') codedLabels.push([r.row, r.category.trim()]);
          },
        });
        let rowPlan: RowPlan | undefined = planner.finish();
        // The model gets a cleaned copy of the question and answers (no control, bidi or zero-width
        // characters); the sheet, and so the coded workbook, keeps the text as it is.
        const question = cleanForModel(spec.question ?? column.question);
        const tokenize = await tokenCounter(spec.options.model);
        const instructions = buildInstructions(question, spec.categories, mode);
        // Every request repeats the instructions: count them once.
        const instructionTokens = tokenize(instructions);
        const count = (text: string) => (text === instructions ? instructionTokens : tokenize(text));
        // The schema's fixed part (its ids are counted with each answer, PROMPT_TOKENS_PER_ITEM).
        const schema = buildLabelSchema(spec.categories, [], mode);
        const fixedTokens = count(instructions) + count(JSON.stringify(schema)) + 16;
        const perItemCompletion =
          maxCompletionTokens(spec.categories, 1, mode) - maxCompletionTokens(spec.categories, 0, mode);
        const batching: BatchingChoice =
          spec.options.batchSize === 'auto'
            ? {
                size: 'auto',
                auto: {
                  tokenTarget: spec.options.batchTokenTarget,
                  fixedTokens,
                  completionTokensPerItem: perItemCompletion,
                  itemOverheadTokens: PROMPT_TOKENS_PER_ITEM,
                  maxItems: 200,
                  countTokens: count,
                },
              }
            : { size: spec.options.batchSize };
        const batches = planBatches(rowPlan, batching);
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
        await mapLimit(batches.length, 16, async (i) => {
          const b = batches[i];
          if (!b) return;
          const items = b.answerIds.map((id, position) => ({
            id: promptId(position),
            text: cleanForModel(answers[id]?.text ?? ''),
          }));
          const itemRows = b.answerIds.map((id) => rowsOfAnswer[id] ?? 0);
          estimatedTokens += estimateRequestTokens(
            count,
            buildMessages(question, spec.categories, items, mode),
            maxCompletionTokens(spec.categories, items.length, mode),
          );
          const stored: StoredBatch = { ...b, items, itemRows };
          await store.writeJson(store.batchFile(jobId, b.index), stored);
        });
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
        const spans = batches.map((b): SpanRecord => [
          b.firstRow,
          b.lastRow,
          b.rows,
          b.answers,
          b.answerIds[0] ?? 0,
        ]);
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
  };
}
